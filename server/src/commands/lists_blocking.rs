//! Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP. Each tries
//! its non-blocking form first (the list module's pop/move functions) and
//! otherwise blocks the client on its keys (`Ctx::block`), to be re-run when
//! one of them changes.

use super::ctx::{CmdError, CmdResult, Ctx};
use super::lists::{
    end_event, fill, list_ref, move_element, notify_list, notify_move, parse_end, parse_mpop,
    pop_elements, try_mpop,
};
use super::spec::{keys, CommandSpec};
use crate::blocking::{parse_timeout_secs, TimeoutReply};
use crate::types::list::End;

const BL: &str = "@write @list @slow @blocking";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("blpop", -3, "write noscript blocking", BL, keys(1, -2, 1), blpop)
        .doc("list", "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys."),
    CommandSpec::new("brpop", -3, "write noscript blocking", BL, keys(1, -2, 1), brpop)
        .doc("list", "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys."),
    CommandSpec::new("blmove", 6, "write denyoom noscript blocking", BL, keys(1, 2, 1), blmove)
        .doc("list", "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "O(1)"),
    CommandSpec::new("brpoplpush", 4, "write denyoom noscript blocking", BL, keys(1, 2, 1), brpoplpush)
        .doc("list", "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "O(1)"),
    CommandSpec::new("blmpop", -5, "write blocking movablekeys", BL, keys(0, 0, 0), blmpop)
        .doc("list", "7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N+M) where N is the number of provided keys and M is the number of elements returned."),
];

fn timeout_arg(arg: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    parse_timeout_secs(arg).map_err(CmdError::from)
}

/// BLPOP/BRPOP: the first non-empty list among the keys, in order.
/// Effect: `LPOP|RPOP key`.
fn bpop(ctx: &mut Ctx, end: End) -> CmdResult {
    let args = ctx.args;
    let timeout = timeout_arg(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    for key in keys {
        let ks = &mut ctx.srv.keyspace;
        match ks.lookup_write(db, key, now) {
            None => continue,
            Some(e) => {
                if list_ref(&e.value)?.is_empty() {
                    continue;
                }
            }
        }
        if let Some(items) = pop_elements(ks, db, key, now, end, 1, fill)? {
            if let Some(v) = items.first() {
                notify_list(ctx, end_event(end, false), key);
                if ctx.replicating() {
                    let cmd: &[u8] = match end {
                        End::Head => b"LPOP",
                        End::Tail => b"RPOP",
                    };
                    ctx.propagate_as(super::argv(&[cmd, key]));
                }
                ctx.array(2);
                ctx.bulk(key);
                ctx.bulk(v);
                return Ok(());
            }
        }
    }
    ctx.block(keys, timeout, TimeoutReply::NullArray);
    Ok(())
}

fn blpop(ctx: &mut Ctx) -> CmdResult {
    bpop(ctx, End::Head)
}

fn brpop(ctx: &mut Ctx) -> CmdResult {
    bpop(ctx, End::Tail)
}

/// Effect: `LMOVE src dst from to`.
fn bmove(ctx: &mut Ctx, from: End, to: End, timeout: Option<std::time::Duration>) -> CmdResult {
    let args = ctx.args;
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    match move_element(
        &mut ctx.srv.keyspace,
        db,
        &args[1],
        &args[2],
        now,
        from,
        to,
        fill,
    )? {
        Some(v) => {
            notify_move(ctx, from, to);
            if ctx.replicating() {
                // BLMOVE -> LMOVE src dst from to, BRPOPLPUSH -> RPOPLPUSH src dst.
                // Served after blocking, Redis 7.0 spells the ends in lower case.
                let rerun = ctx.srv.blocking.inherit_deadline.is_some();
                let v = if args.len() == 6 && rerun {
                    let end = |e: End| -> &'static [u8] {
                        match e {
                            End::Head => b"left",
                            End::Tail => b"right",
                        }
                    };
                    super::argv(&[b"LMOVE", &args[1], &args[2], end(from), end(to)])
                } else if args.len() == 6 {
                    super::argv(&[b"LMOVE", &args[1], &args[2], &args[3], &args[4]])
                } else {
                    super::argv(&[b"RPOPLPUSH", &args[1], &args[2]])
                };
                ctx.propagate_as(v);
            }
            ctx.bulk(&v)
        }
        None => ctx.block(&args[1..2], timeout, TimeoutReply::NullBulk),
    }
    Ok(())
}

fn blmove(ctx: &mut Ctx) -> CmdResult {
    let from = parse_end(&ctx.args[3])?;
    let to = parse_end(&ctx.args[4])?;
    let timeout = timeout_arg(&ctx.args[5])?;
    bmove(ctx, from, to, timeout)
}

fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    let timeout = timeout_arg(&ctx.args[3])?;
    bmove(ctx, End::Tail, End::Head, timeout)
}

/// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n].
fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let timeout = timeout_arg(&ctx.args[1])?;
    let (keys, end, count) = parse_mpop(ctx.args, 2)?;
    if !try_mpop(ctx, keys.clone(), end, count)? {
        let args = ctx.args;
        ctx.block(&args[keys], timeout, TimeoutReply::NullArray);
    }
    Ok(())
}
