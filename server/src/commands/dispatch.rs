//! Dispatch: resolve a request to a command, apply the gatekeeping Redis does
//! before running it (arity, authentication), run it, and account for it
//! (commandstats, errorstats, slow log, CLIENT REPLY suppression).
//!
//! This is the one place where flags turn into decisions; handlers never check
//! roles or permissions themselves.

use std::time::Instant;

use bytes::Bytes;
use handoff_replication::failover::Phase;

use super::ctx::Ctx;
use super::gate;
use super::spec::flag;
use crate::client::{Client, ClientKind, ReplyMode};
use crate::clock::CmdClock;
use crate::errors;
use crate::server::Server;

/// Runs the request held in `client.args`. A command held by a pause keeps
/// its arguments in `client.args` (and `client.postponed` is set) to be
/// dispatched again when the pause ends.
pub fn execute(srv: &mut Server, client: &mut Client, clock: &mut CmdClock) {
    let args = std::mem::take(&mut client.args);
    if !args.is_empty() {
        let out_before = client.out.len();
        run(srv, client, &args, clock);
        if client.postponed {
            client.args = args;
            return;
        }
        client.postponed_since = None;
        apply_reply_mode(client, out_before);
    }
    client.args = args;
    client.args.clear();
}

/// Rejects a command before it runs: the error is counted for the command,
/// and an open transaction is flagged so that EXEC aborts. A rejected EXEC
/// discards the transaction: `-REDIRECT` as is, other errors wrapped in
/// EXECABORT, as Redis does.
fn reject(srv: &mut Server, client: &mut Client, id: Option<usize>, text: &str) {
    let is_exec = id.is_some_and(|i| srv.commands.entries[i].spec.name == "exec");
    let text = if is_exec && client.multi.take().is_some() {
        srv.unwatch_all(client);
        if text.starts_with("REDIRECT ") {
            text.to_string()
        } else {
            format!("EXECABORT Transaction discarded because of: {text}")
        }
    } else {
        if let Some(m) = client.multi.as_mut() {
            m.abort = true;
        }
        text.to_string()
    };
    srv.stats.count_error(&text);
    if let Some(id) = id {
        srv.stats.commands[id].rejected_calls += 1;
    }
    handoff_protocol::encode::error(&mut client.out, text.as_bytes());
}

/// Holds the client's command until the pause (or the failover) ends.
fn postpone(srv: &mut Server, client: &mut Client) {
    client.postponed = true;
    client.postponed_since.get_or_insert_with(Instant::now);
    srv.pause.postponed.push_back(client.slot);
    srv.stats.held_commands += 1;
}

fn run(srv: &mut Server, client: &mut Client, args: &[Bytes], clock: &mut CmdClock) {
    let Some(mut id) = srv.commands.lookup(&args[0]) else {
        let text = errors::unknown_command(&args[0], &args[1..]);
        reject(srv, client, None, &text);
        return;
    };
    // A container called alone runs itself when its arity allows it (COMMAND);
    // otherwise the arity check below rejects it (CONFIG).
    if srv.commands.has_subcommands(id) && args.len() >= 2 {
        match srv.commands.lookup_sub(id, &args[1]) {
            Some(sub) => id = sub,
            None => {
                let text =
                    errors::unknown_subcommand(&args[1], &srv.commands.entries[id].full_name);
                reject(srv, client, None, &text);
                return;
            }
        }
    }
    let spec = srv.commands.entries[id].spec;
    let argc = args.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || argc < -spec.arity {
        let text = errors::wrong_arity(&srv.commands.entries[id].full_name);
        reject(srv, client, Some(id), &text);
        return;
    }
    if !client.authenticated && !srv.config.requirepass.is_empty() && !spec.has(flag::NO_AUTH) {
        reject(srv, client, Some(id), errors::NOAUTH);
        return;
    }
    let queueing = client.multi.is_some() && !controls_transaction(spec.name);
    if queueing && spec.has(flag::NO_MULTI) {
        reject(
            srv,
            client,
            Some(id),
            "ERR Command not allowed inside a transaction",
        );
        return;
    }
    // The role and pause checks need the effective flags; a primary that
    // is not paused and has no transaction open skips computing them.
    let checks = client.multi.is_some()
        || srv.repl.is_replica()
        || srv.pause.active != crate::pause::Actions::None
        || srv.config.min_replicas_to_write > 0
        || srv.config.maxmemory > 0;
    let flags = if checks {
        gate::effective_flags(srv, client, srv.commands.entries[id].gate, args)
    } else {
        spec.flags
    };
    if checks && client.kind != ClientKind::PrimaryLink {
        if crate::maint::closes_moved(srv, client, flags) {
            // Told to move before the switch: not run here, the connection
            // closes and the client retries on the new primary.
            srv.maint.moved_closed += 1;
            client.close_after_reply = true;
            return;
        }
        if gate::held_incoming(srv, client, flags) {
            srv.maint.incoming_held += 1;
            postpone(srv, client);
            return;
        }
        if gate::redirects(srv, client, flags) {
            // Both nodes may be replicas for a moment: hold rather than send
            // the client back and forth.
            if srv.repl.failover.phase() == Phase::InProgress {
                postpone(srv, client);
            } else {
                let text = gate::redirect_error(srv);
                srv.stats.redirects += 1;
                reject(srv, client, Some(id), &text);
            }
            return;
        }
    }
    // maxmemory: evict, or refuse what may grow memory (after the redirect,
    // before READONLY, as Redis's processCommand).
    if srv.config.maxmemory > 0 {
        if let Some(text) = crate::evict::before_command(srv, client, spec.name, flags) {
            reject(srv, client, Some(id), text);
            return;
        }
    }
    if checks && client.kind != ClientKind::PrimaryLink {
        if let Some(text) = gate::write_gate(srv, flags) {
            reject(srv, client, Some(id), text);
            return;
        }
    }
    if client.resp == 2 && client.in_pubsub() && !allowed_while_subscribed(spec.name) {
        let text = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            srv.commands.entries[id].full_name
        );
        reject(srv, client, Some(id), &text);
        return;
    }
    if checks && client.kind != ClientKind::PrimaryLink {
        if let Some(text) = gate::stale_gate(srv, flags) {
            reject(srv, client, Some(id), text);
            return;
        }
    }
    // A script past busy-reply-threshold: only `allow_busy` commands run
    // (after the stale check, before the pause, as Redis's processCommand).
    if let Some(text) = srv.scripting.busy_error() {
        if !spec.has(flag::ALLOW_BUSY) {
            reject(srv, client, Some(id), text);
            return;
        }
    }
    if checks && gate::paused(srv, client, flags) {
        postpone(srv, client);
        return;
    }
    if queueing {
        if let Some(m) = client.multi.as_mut() {
            m.flags |= flags;
            m.queued.push((id, args.to_vec()));
        }
        client.out.extend_from_slice(b"+QUEUED\r\n");
        return;
    }
    call(srv, client, id, args, clock);
}

/// What a RESP2 client in subscribed mode may still send.
fn allowed_while_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Commands that run at once inside MULTI instead of being queued.
fn controls_transaction(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Runs command `id` (already checked) and accounts for it; EXEC uses this
/// for each queued command.
pub fn call(
    srv: &mut Server,
    client: &mut Client,
    id: usize,
    args: &[Bytes],
    clock: &mut CmdClock,
) {
    let spec = srv.commands.entries[id].spec;
    client.last_cmd = Some(id);
    srv.notify_classes();
    let dirty_before = srv.keyspace.dirty;
    let expired_before = srv.keyspace.stats.expired_keys;
    let errors_before = srv.stats.total_error_replies;
    let saved_frame = crate::repl::enter_call(srv);
    let started = clock.mark();
    let now_ms = clock.unix_ms();
    let mut ctx = Ctx {
        srv,
        client,
        args,
        now_ms,
        cmd: id,
        clock,
    };
    if let Err(e) = (spec.run)(&mut ctx) {
        ctx.error(&e.0);
    }
    let duration = ctx.clock.tick_since(started);
    let duration_us = duration.as_micros() as u64;
    let Ctx { srv, client, .. } = ctx;

    let st = &mut srv.stats.commands[id];
    st.calls += 1;
    st.usec += duration_us;
    if srv.repl.depth == 1 {
        srv.stats.eventloop.cmd_ns += duration.as_nanos() as u64;
    }
    // `>`: CONFIG RESETSTAT zeroes the counter while running.
    if srv.stats.total_error_replies > errors_before {
        st.failed_calls += 1;
    }
    srv.stats.total_commands_processed += 1;
    client.commands += 1;
    // Keys the command expired are not its changes (`dirty`), but WATCH
    // and blocked clients see them.
    let changed = srv.keyspace.dirty != dirty_before;
    if changed || srv.keyspace.stats.expired_keys != expired_before {
        srv.keys_changed(client);
    }
    // Expired keys, created keys and read misses not raised yet become
    // keyspace notifications (and expired keys DELs among the command's
    // effects, before its own).
    if changed || !srv.keyspace.expired.is_empty() || srv.keyspace.record_misses {
        crate::pubsub::drain_expired(srv, Some(client));
    }
    crate::repl::leave_call(
        srv,
        saved_frame,
        changed,
        client.db,
        args,
        client.kind == ClientKind::PrimaryLink,
    );

    let threshold = srv.config.slowlog_log_slower_than;
    if threshold >= 0 && duration_us >= threshold as u64 && !spec.has(flag::SKIP_SLOWLOG) {
        let max_len = srv.config.slowlog_max_len as usize;
        srv.slowlog.push(
            args,
            duration_us,
            now_ms / 1000,
            &client.addr,
            client.name.as_ref(),
            max_len,
        );
    }
}

/// CLIENT REPLY OFF|SKIP and the primary link: drop what the command wrote.
fn apply_reply_mode(client: &mut Client, out_before: usize) {
    let suppress = client.kind == ClientKind::PrimaryLink
        || matches!(client.reply_mode, ReplyMode::Off | ReplyMode::Skip);
    if suppress {
        client.out.truncate(out_before);
    }
    client.reply_mode = match client.reply_mode {
        ReplyMode::Skip => ReplyMode::On,
        // Set by this command: the next one is skipped.
        ReplyMode::SkipNext => ReplyMode::Skip,
        m => m,
    };
}
