//! SHUTDOWN, SIGTERM and SIGINT on the server, as Redis 7.0 does them: a
//! primary whose replicas lag holds writes (the shutdown pause slot, so held
//! clients wait and are never refused), asks the replicas for an ACK, keeps
//! the SHUTDOWN callers blocked, and finishes (final save, exit) once every
//! replica has everything or `shutdown-timeout` passed; SHUTDOWN ABORT or a
//! failed save cancels it (callers get Redis's error, held writes run).
//!
//! When to wait and when the wait is over is decided by
//! `handoff_replication::shutdown`; this module carries that out on the
//! server state (pause, GETACK, logs, save, replies to blocked callers) and
//! touches no socket: finishing sets `srv.shutdown`, and the event loop
//! then flushes, closes and returns.

use std::time::{Duration, Instant};

use handoff_replication::failover::Offsets;
use handoff_replication::shutdown::{Begin, ReplicaStatus, ShutdownWait};

use crate::blocking::TimeoutReply;
use crate::config::ShutdownFlags;
use crate::errors::SHUTDOWN_FAILED;
use crate::pause::{Actions, Purpose};
use crate::repl::primary::{self, ReplicaState};
use crate::server::{Server, ShutdownRequest, UnblockReply};

/// The shutdown in progress, if any.
#[derive(Default)]
pub struct State {
    pub wait: ShutdownWait,
    /// Its options (Redis's `shutdown_flags`).
    flags: ShutdownFlags,
    /// The signal that asked for it.
    by_signal: Option<&'static str>,
    /// "User requested shutdown..." was logged: the loop's final step does
    /// not log it again (the embedding handle's stop does not come here).
    pub requested: bool,
}

/// What a shutdown request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Saved (when due): the loop exits at the end of this turn.
    Exit,
    /// Waiting for replicas: the SHUTDOWN caller blocks until the outcome.
    Waiting,
    /// The final save failed and FORCE was not given: the server goes on.
    Failed,
}

/// SHUTDOWN (without ABORT) or a signal: finish now or wait for replicas.
pub fn request(srv: &mut Server, flags: ShutdownFlags, by_signal: Option<&'static str>) -> Outcome {
    if srv.shutdown_state.wait.waiting() {
        // Another SHUTDOWN (even NOW) joins the wait; its options are ignored.
        return Outcome::Waiting;
    }
    let mut flags = flags;
    if srv.repl.loading() {
        // A half-loaded dataset must not overwrite the dump.
        flags = ShutdownFlags((flags.0 & !ShutdownFlags::SAVE) | ShutdownFlags::NOSAVE);
    }
    let st = &mut srv.shutdown_state;
    st.flags = flags;
    st.by_signal = by_signal;
    st.requested = true;
    log::warn!("User requested shutdown...");
    let now = Instant::now();
    let timeout = Duration::from_secs(srv.config.shutdown_timeout);
    let paused = srv.pause.writes_paused();
    let offs = offsets(srv);
    let acks = acks(srv);
    let begin = srv.shutdown_state.wait.begin(
        now,
        timeout,
        flags.has(ShutdownFlags::NOW),
        paused,
        offs,
        &acks,
    );
    match begin {
        Begin::Finish => finish(srv),
        Begin::InProgress => Outcome::Waiting,
        Begin::Wait { getack } => {
            if getack && !srv.repl.is_replica() && srv.repl.recording() {
                srv.repl.feeding_getack = true;
                primary::propagate_getack(srv);
                srv.repl.feeding_getack = false;
                srv.shutdown_state.wait.getack_sent(offs.master);
            }
            srv.pause(Purpose::Shutdown, Actions::Write, None);
            log::info!("Waiting for replicas before shutting down.");
            Outcome::Waiting
        }
    }
}

/// A signal the loop picked up (`signals`): starts a shutdown with the
/// options `shutdown-on-sigint` / `shutdown-on-sigterm` give, unless one
/// is already waiting (the handler already logged it).
pub fn on_signal(srv: &mut Server, sig: &'static str) {
    if srv.shutdown_state.wait.waiting() || srv.shutdown.is_some() {
        return;
    }
    let flags = match sig {
        "SIGINT" => srv.config.shutdown_on_sigint,
        _ => srv.config.shutdown_on_sigterm,
    };
    request(srv, flags, Some(sig));
}

/// Every loop turn: finishes a waiting shutdown once the replicas have
/// everything or the timeout passed.
pub fn tick(srv: &mut Server) {
    if !srv.shutdown_state.wait.waiting() {
        return;
    }
    let offs = offsets(srv);
    let acks = acks(srv);
    if srv.shutdown_state.wait.step(Instant::now(), offs, &acks) {
        finish(srv);
    }
}

/// SHUTDOWN ABORT: true if a shutdown was waiting (or a signal had asked
/// for one the loop had not started yet), now cancelled.
pub fn abort(srv: &mut Server) -> bool {
    if srv.shutdown_state.wait.waiting() {
        cancel(srv);
    } else if crate::signals::pending() {
        crate::signals::clear();
    } else {
        return false;
    }
    log::info!("Shutdown manually aborted.");
    true
}

/// Redis's `finishShutdown`: the replicas still behind, the final save
/// (a failure cancels the shutdown unless FORCE), then the loop's exit.
fn finish(srv: &mut Server) -> Outcome {
    let report = srv.shutdown_state.wait.report(offsets(srv), &statuses(srv));
    for line in &report.lagging {
        log::warn!("{line}");
    }
    if let Some(line) = &report.summary {
        log::info!("{line}");
    }
    let flags = srv.shutdown_state.flags;
    let save = flags.has(ShutdownFlags::SAVE)
        || (!flags.has(ShutdownFlags::NOSAVE) && !srv.config.save.is_empty());
    if crate::persist::before_shutdown(srv, save).is_err() {
        if !flags.has(ShutdownFlags::FORCE) {
            log::warn!("Error trying to save the DB, can't exit.");
            log::warn!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            cancel(srv);
            return Outcome::Failed;
        }
        log::warn!("Error trying to save the DB. Exit anyway.");
    }
    // The shutdown pause stays: held writes never run (their clients see
    // the connection close), so nothing acknowledged misses the replicas.
    srv.shutdown = Some(ShutdownRequest {
        by_signal: srv.shutdown_state.by_signal,
    });
    Outcome::Exit
}

/// Redis's `cancelShutdown`: back to running; blocked SHUTDOWN callers get
/// the error, held writes run.
fn cancel(srv: &mut Server) {
    srv.shutdown_state.wait.cancel();
    srv.shutdown_state.flags = ShutdownFlags::default();
    srv.shutdown_state.by_signal = None;
    srv.shutdown_state.requested = false;
    crate::signals::clear();
    let callers: Vec<usize> = srv
        .clients
        .iter()
        .filter(|c| {
            c.blocked
                .as_ref()
                .is_some_and(|b| b.on_timeout == TimeoutReply::Shutdown)
        })
        .map(|c| c.slot)
        .collect();
    for slot in callers {
        if let Some(mut c) = srv.clients.take(slot) {
            srv.unblock(&mut c, Some(UnblockReply::Error(SHUTDOWN_FAILED)));
            srv.clients.put_back(c);
            srv.schedule_write(slot);
        }
    }
    srv.unpause(Purpose::Shutdown);
}

fn offsets(srv: &Server) -> Offsets {
    Offsets {
        master: srv.repl.offset(),
        data: srv.repl.data_offset,
    }
}

fn acks(srv: &Server) -> Vec<i64> {
    primary::attached(srv).map(|(_, i)| i.ack_offset).collect()
}

/// The replicas as the report names them: `ip:port` by the address they
/// announced (else their connection's) and their listening port, as
/// Redis's `replicationGetSlaveName`.
fn statuses(srv: &Server) -> Vec<ReplicaStatus> {
    primary::attached(srv)
        .map(|(c, i)| {
            let ip = i.ip(&c.addr);
            let name = match (i.listening_port, ip.contains(':')) {
                (0, _) => format!("{ip}:<unknown-replica-port>"),
                (p, true) => format!("[{ip}]:{p}"),
                (p, false) => format!("{ip}:{p}"),
            };
            ReplicaStatus {
                name,
                ack: i.ack_offset,
                state: i.state.info_name(),
                lag_secs: if i.state == ReplicaState::Online {
                    i.ack_time.elapsed().as_secs()
                } else {
                    0
                },
            }
        })
        .collect()
}
