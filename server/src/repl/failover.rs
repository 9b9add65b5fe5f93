//! FAILOVER on this node (switchover-spec.md §2): holding writes, asking
//! the replicas for their offset, demoting this node to the target's
//! replica with `PSYNC ... FAILOVER`, and ending it (success or abort).
//!
//! When to switch is decided by `handoff_replication::failover`; this
//! module carries the decisions out on the server. The event loop calls
//! [`tick`] every turn and connects the link when it returns a target.

use std::time::{Duration, Instant};

use handoff_replication::failover::{Offsets, Phase, ReplicaView, Step};

use super::primary::{self, ReplicaState};
use super::replica;
use crate::pause::{Actions, Purpose};
use crate::server::Server;

/// A FAILOVER request that passed its checks.
pub struct Request {
    pub target: Option<(String, u16)>,
    pub timeout: Option<Duration>,
    pub force: bool,
}

/// The replicas FAILOVER may hand over to, as the state machine sees them.
fn replica_views(srv: &Server) -> Vec<ReplicaView> {
    primary::attached(srv)
        .filter(|(_, i)| i.state == ReplicaState::Online)
        .map(|(c, i)| view(c, i))
        .collect()
}

fn view(c: &crate::client::Client, i: &primary::ReplicaInfo) -> ReplicaView {
    ReplicaView {
        host: i.ip(&c.addr),
        port: i.listening_port,
        ack: i.ack_offset,
    }
}

/// Checks FAILOVER's preconditions, in Redis's order, after the syntax.
pub fn check(srv: &Server, req: &Request) -> Result<(), &'static str> {
    if srv.repl.failover.active() {
        return Err("ERR FAILOVER already in progress.");
    }
    if srv.repl.is_replica() {
        return Err("ERR FAILOVER is not valid when server is a replica.");
    }
    if srv.repl.replicas.is_empty() {
        return Err("ERR FAILOVER requires connected replicas.");
    }
    if req.force && (req.timeout.is_none() || req.target.is_none()) {
        return Err(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        );
    }
    if let Some((host, port)) = &req.target {
        let found = primary::attached(srv).find(|(c, i)| view(c, i).is(host, *port));
        match found {
            None => return Err("ERR FAILOVER target HOST and PORT is not a replica."),
            Some((_, i)) if i.state != ReplicaState::Online => {
                return Err("ERR FAILOVER target replica is not online.")
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// An accepted FAILOVER. With maintenance-notification clients to move,
/// they are sent MOVING first (the target holds their commands until it is
/// promoted) and writes are held once they have drained; otherwise writes
/// are held from now on.
pub fn start(srv: &mut Server, req: Request) {
    let now = Instant::now();
    match &req.target {
        Some((h, p)) => log::info!("FAILOVER requested to {h}:{p}."),
        None => log::info!("FAILOVER requested to any replica."),
    }
    srv.stats.failovers += 1;
    let drain = crate::maint::has_movable(srv);
    // Clients are told where to go, so the target is chosen now: the most
    // up to date online replica unless TO named one.
    let target = match req.target {
        None if drain => replica_views(srv)
            .into_iter()
            .max_by_key(|r| r.ack)
            .map(|r| (r.host, r.port)),
        t => t,
    };
    srv.repl
        .failover
        .begin(now, target.clone(), req.timeout, req.force, drain);
    let Some((host, port)) = target.filter(|_| drain) else {
        hold_writes(srv, now);
        return;
    };
    let endpoint = format!("{host}:{port}");
    let hold_ms =
        srv.config.maint_drain_max + req.timeout.map_or(10_000, |t| t.as_millis() as u64) + 1000;
    super::propagate(
        srv,
        None,
        &[
            "REPLCONF",
            "handoff-prepare",
            &hold_ms.to_string(),
            "handoff-target",
            &endpoint,
        ],
    );
    let n = crate::maint::send_moving(srv, &endpoint);
    srv.maint.drain_since = Some(now);
    log::info!("failover: MOVING to {endpoint} sent to {n} connections, draining them");
}

/// The write pause of a failover (waiting-for-sync starts).
fn hold_writes(srv: &mut Server, now: Instant) {
    srv.repl.failover.drained(now);
    srv.pause(Purpose::Failover, Actions::Write, None);
    let secs = srv.repl.failover.timeout_secs();
    crate::maint::send_failing_over(srv, secs);
    log::info!("failover: writes held");
}

/// Advances a running failover; returns true when the link to the target
/// must be connected now (this node just became its replica).
pub fn tick(srv: &mut Server) -> bool {
    let now = Instant::now();
    if srv.repl.failover.phase() == Phase::Draining {
        let since = srv.maint.drain_since.unwrap_or(now);
        let waited = now.saturating_duration_since(since);
        let max = Duration::from_millis(srv.config.maint_drain_max);
        if !crate::maint::drained(srv, now) && waited < max {
            return false;
        }
        log::info!(
            "failover: moved connections drained after {} ms",
            waited.as_millis()
        );
        srv.maint.drain_since = None;
        hold_writes(srv, now);
    }
    if srv.repl.failover.phase() != Phase::WaitingForSync {
        return false;
    }
    let offsets = Offsets {
        master: srv.repl.offset(),
        data: srv.repl.data_offset,
    };
    let views = replica_views(srv);
    match srv.repl.failover.step(now, offsets, &views) {
        Step::Wait => false,
        Step::SendGetack => {
            srv.repl.failover.getack_sent(offsets.master, now);
            srv.repl.feeding_getack = true;
            primary::propagate_getack(srv);
            srv.repl.feeding_getack = false;
            false
        }
        Step::Switch {
            host,
            port,
            caught_up,
        } => {
            let ms = srv.repl.failover.elapsed(now).as_millis();
            if caught_up {
                log::info!(
                    "failover: target {host}:{port} caught up at offset {} after {ms} ms",
                    offsets.master
                );
            } else {
                log::warn!("FAILOVER to {host}:{port} time out exceeded, failing over.");
            }
            replica::set_primary(srv, host, port);
            if let Some(link) = srv.repl.link.as_mut() {
                link.failover = true;
            }
            log::info!("failover: demoted after {ms} ms, handing over with PSYNC FAILOVER");
            true
        }
        Step::Abort(reason) => {
            abort(srv, reason);
            false
        }
    }
}

/// The target accepted `PSYNC ... FAILOVER`: this node stays its replica,
/// and the clients held meanwhile run again (now redirected or refused as
/// on any replica).
pub fn succeeded(srv: &mut Server) {
    if srv.repl.failover.phase() != Phase::InProgress {
        return;
    }
    let ms = srv.repl.failover.elapsed(Instant::now()).as_millis();
    log::info!("failover: completed after {ms} ms; writes released");
    if let Some(link) = srv.repl.link.as_mut() {
        link.failover = false;
    }
    finish(srv);
    srv.maint.demoted_by_failover = true;
    replica::release_blocked_on_demotion(srv);
}

/// Ends a failover that cannot complete: the node is (again) a primary,
/// under a new replication id when it had already switched, so its
/// replicas resync partially from it.
pub fn abort(srv: &mut Server, reason: &str) {
    if !srv.repl.failover.active() {
        return;
    }
    match srv.repl.failover.target() {
        Some((h, p)) => log::warn!("FAILOVER to {h}:{p} aborted: {reason}"),
        None => log::warn!("FAILOVER to any replica aborted: {reason}"),
    }
    match srv.repl.failover.phase() {
        Phase::InProgress => replica::promote(srv),
        // The target holds the clients already sent there: release them
        // back (it sends them MOVING to this node).
        Phase::Draining => {
            if let Some((h, p)) = srv.repl.failover.target().cloned() {
                let endpoint = format!("{h}:{p}");
                super::propagate(
                    srv,
                    None,
                    &[
                        "REPLCONF",
                        "handoff-prepare",
                        "0",
                        "handoff-target",
                        &endpoint,
                    ],
                );
            }
        }
        _ => {}
    }
    finish(srv);
}

fn finish(srv: &mut Server) {
    crate::maint::send_failed_over(srv);
    srv.maint.drain_since = None;
    srv.repl.failover.clear();
    srv.unpause(Purpose::Failover);
}
