//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH, with Redis's semantics:
//! errors while queueing abort EXEC (EXECABORT), runtime errors stay inside
//! EXEC's reply, and a change to a watched key makes EXEC return null.

use super::ctx::{CmdResult, Ctx};
use super::dispatch;
use super::spec::{keys, CommandSpec, NO_KEYS};
use crate::multi::MultiState;

const TX: &str = "@fast @transaction";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "multi",
        1,
        "noscript loading stale fast allow_busy",
        TX,
        NO_KEYS,
        multi,
    )
    .doc("transactions", "1.2.0", "Starts a transaction.", "O(1)"),
    CommandSpec::new(
        "exec",
        1,
        "noscript loading stale skip_slowlog",
        "@slow @transaction",
        NO_KEYS,
        exec,
    )
    .doc(
        "transactions",
        "1.2.0",
        "Executes all commands in a transaction.",
        "Depends on commands in the transaction",
    ),
    CommandSpec::new(
        "discard",
        1,
        "noscript loading stale fast allow_busy",
        TX,
        NO_KEYS,
        discard,
    )
    .doc(
        "transactions",
        "2.0.0",
        "Discards a transaction.",
        "O(N), when N is the number of queued commands",
    ),
    CommandSpec::new(
        "watch",
        -2,
        "noscript loading stale fast allow_busy",
        TX,
        keys(1, -1, 1),
        watch,
    )
    .doc(
        "transactions",
        "2.2.0",
        "Monitors changes to keys to determine the execution of a transaction.",
        "O(1) for every key.",
    ),
    CommandSpec::new(
        "unwatch",
        1,
        "noscript loading stale fast allow_busy",
        TX,
        NO_KEYS,
        unwatch,
    )
    .doc(
        "transactions",
        "2.2.0",
        "Forgets about watched keys of a transaction.",
        "O(1)",
    ),
];

fn multi(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err("ERR MULTI calls can not be nested".into());
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.ok();
    Ok(())
}

fn exec(ctx: &mut Ctx) -> CmdResult {
    // The queued commands propagate themselves, wrapped in MULTI/EXEC.
    ctx.prevent_propagation();
    let Some(m) = ctx.client.multi.take() else {
        return Err("ERR EXEC without MULTI".into());
    };
    let dirty = ctx.client.watch_dirty || watched_key_expired(ctx);
    ctx.srv.unwatch_all(ctx.client);
    if m.abort {
        return Err("EXECABORT Transaction discarded because of previous errors.".into());
    }
    if dirty {
        ctx.null_array();
        return Ok(());
    }
    ctx.array(m.queued.len());
    ctx.client.in_exec = true;
    for (id, args) in &m.queued {
        dispatch::call(ctx.srv, ctx.client, *id, args, ctx.clock);
    }
    ctx.client.in_exec = false;
    Ok(())
}

/// A watched key whose TTL ran out counts as changed even if nobody has
/// reclaimed it yet, as in Redis.
fn watched_key_expired(ctx: &Ctx) -> bool {
    let ks = &ctx.srv.keyspace;
    ctx.client.watched.iter().any(|(db, key)| {
        ks.dbs[*db]
            .get_raw(key)
            .is_some_and(|e| e.expire_at != crate::keyspace::NO_EXPIRE && e.expire_at <= ctx.now_ms)
    })
}

fn discard(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.take().is_none() {
        return Err("ERR DISCARD without MULTI".into());
    }
    ctx.srv.unwatch_all(ctx.client);
    ctx.ok();
    Ok(())
}

fn watch(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err("ERR WATCH inside MULTI is not allowed".into());
    }
    let db = ctx.db();
    let slot = ctx.client.slot;
    for key in &ctx.args[1..] {
        if ctx.srv.watches.add(slot, db, key) {
            ctx.client.watched.push((db, key[..].into()));
        }
    }
    ctx.srv.update_tracking();
    ctx.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.unwatch_all(ctx.client);
    ctx.ok();
    Ok(())
}
