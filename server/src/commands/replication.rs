//! Replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, FAILOVER, and the
//! internal PSYNC, SYNC and REPLCONF a replica sends. The work is in
//! `crate::repl`.

use super::ctx::{CmdResult, Ctx};
use super::spec::{CommandSpec, NO_KEYS};
use crate::repl::{failover, primary, replica};

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("replicaof", 3, "admin noscript stale no_async_loading", "@admin @slow @dangerous", NO_KEYS, replicaof)
        .doc("server", "5.0.0", "Configures a server as replica of another, or promotes it to a master.", "O(1)"),
    CommandSpec::new("slaveof", 3, "admin noscript stale no_async_loading", "@admin @slow @dangerous", NO_KEYS, replicaof)
        .doc("server", "1.0.0", "Sets a Redis server as a replica of another, or promotes it to being a master.", "O(1)"),
    CommandSpec::new("failover", -1, "admin noscript stale", "@admin @slow @dangerous", NO_KEYS, failover_cmd)
        .doc("server", "6.2.0", "Starts a coordinated failover from a server to one of its replicas.", "O(1)"),
    CommandSpec::new("role", 1, "noscript loading stale fast", "@admin @fast @dangerous", NO_KEYS, role)
        .doc("server", "2.8.12", "Returns the replication role.", "O(1)"),
    CommandSpec::new("wait", 3, "noscript", "@slow @connection", NO_KEYS, primary::wait)
        .tips("request_policy:all_shards response_policy:agg_min")
        .doc("generic", "3.0.0", "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.", "O(1)"),
    CommandSpec::new("psync", -3, "admin noscript no_async_loading no_multi", "@admin @slow @dangerous", NO_KEYS, primary::psync)
        .doc("server", "2.8.0", "An internal command used in replication.", "O(1)"),
    CommandSpec::new("sync", 1, "admin noscript no_async_loading no_multi", "@admin @slow @dangerous", NO_KEYS, primary::sync)
        .doc("server", "1.0.0", "An internal command used in replication.", "O(1)"),
    CommandSpec::new("replconf", -1, "admin noscript loading stale allow_busy", "@admin @slow @dangerous", NO_KEYS, primary::replconf)
        .doc("server", "3.0.0", "An internal command for configuring the replication stream.", "O(1)"),
];

/// REPLICAOF host port | NO ONE.
fn replicaof(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.repl.failover.active() {
        return Err("ERR REPLICAOF not allowed while failing over.".into());
    }
    if ctx.arg_is(1, "no") && ctx.arg_is(2, "one") {
        if ctx.srv.repl.is_replica() {
            let who = format!("id={} addr={}", ctx.client.id, ctx.client.addr);
            replica::promote(ctx.srv);
            log::info!("MASTER MODE enabled (user request from '{who}')");
        }
        ctx.ok();
        return Ok(());
    }
    let host = String::from_utf8_lossy(&ctx.args[1]).into_owned();
    let port = match super::ctx::parse_i64(&ctx.args[2]) {
        Ok(p) if (0..=65535).contains(&p) => p as u16,
        _ => return Err("ERR Invalid master port".into()),
    };
    if let Some(link) = &ctx.srv.repl.link {
        if link.host.eq_ignore_ascii_case(&host) && link.port == port {
            log::warn!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            ctx.simple(b"OK Already connected to specified master");
            return Ok(());
        }
    }
    let was_primary = !ctx.srv.repl.is_replica();
    ctx.srv.maint.demoted_by_failover = false;
    replica::set_primary(ctx.srv, host.clone(), port);
    if was_primary {
        replica::release_blocked_on_demotion(ctx.srv);
        // Maintenance-notification clients are told where the primary is
        // (after the fact: FAILOVER tells them before the switch).
        if ctx.srv.config.maint_notifications {
            crate::maint::send_moving(ctx.srv, &format!("{host}:{port}"));
        }
    }
    log::info!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        ctx.client.id,
        ctx.client.addr
    );
    ctx.ok();
    Ok(())
}

/// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT.
fn failover_cmd(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() == 2 && ctx.arg_is(1, "abort") {
        if !ctx.srv.repl.failover.active() {
            return Err("ERR No failover in progress.".into());
        }
        failover::abort(ctx.srv, "Failover manually aborted");
        ctx.ok();
        return Ok(());
    }
    let mut target: Option<(String, i64)> = None;
    let mut timeout: Option<i64> = None;
    let mut force = false;
    let mut i = 1;
    while i < ctx.args.len() {
        let left = ctx.args.len() - i - 1;
        if ctx.arg_is(i, "timeout") && left >= 1 && timeout.is_none() {
            let ms = super::ctx::parse_i64(&ctx.args[i + 1])
                .map_err(|_| super::CmdError::from(crate::errors::NOT_INTEGER))?;
            if ms <= 0 {
                return Err("ERR FAILOVER timeout must be greater than 0".into());
            }
            timeout = Some(ms);
            i += 2;
        } else if ctx.arg_is(i, "to") && left >= 2 && target.is_none() {
            let port = super::ctx::parse_i64(&ctx.args[i + 2])
                .map_err(|_| super::CmdError::from(crate::errors::NOT_INTEGER))?;
            target = Some((String::from_utf8_lossy(&ctx.args[i + 1]).into_owned(), port));
            i += 3;
        } else if ctx.arg_is(i, "force") && !force {
            force = true;
            i += 1;
        } else {
            return Err(crate::errors::SYNTAX.into());
        }
    }
    let req = failover::Request {
        // A port outside 0..65535 matches no replica.
        target: target.map(|(h, p)| (h, u16::try_from(p).unwrap_or(0))),
        timeout: timeout.map(|ms| std::time::Duration::from_millis(ms as u64)),
        force,
    };
    failover::check(ctx.srv, &req)?;
    failover::start(ctx.srv, req);
    ctx.ok();
    Ok(())
}

/// ROLE: `master offset [[ip port offset]...]` or `slave host port state offset`.
fn role(ctx: &mut Ctx) -> CmdResult {
    if let Some(link) = &ctx.srv.repl.link {
        let host = link.host.clone();
        let port = link.port as i64;
        let state = link.state.role_name();
        let offset = if ctx.srv.repl.link_up() {
            ctx.srv.repl.offset()
        } else {
            -1
        };
        ctx.array(5);
        ctx.bulk(b"slave");
        ctx.bulk(host.as_bytes());
        ctx.int(port);
        ctx.bulk(state.as_bytes());
        ctx.int(offset);
        return Ok(());
    }
    let offset = ctx.srv.repl.offset();
    let replicas: Vec<(String, u16, i64)> = primary::attached(ctx.srv)
        .filter(|(_, i)| i.state == primary::ReplicaState::Online)
        .map(|(c, i)| (i.ip(&c.addr), i.listening_port, i.ack_offset))
        .collect();
    ctx.array(3);
    ctx.bulk(b"master");
    ctx.int(offset);
    ctx.array(replicas.len());
    for (ip, port, off) in replicas {
        ctx.array(3);
        ctx.bulk(ip.as_bytes());
        ctx.bulk(port.to_string().as_bytes());
        ctx.bulk(off.to_string().as_bytes());
    }
    Ok(())
}
