//! Blocking sorted-set pops: BZPOPMIN BZPOPMAX BZMPOP. Each tries the
//! non-blocking pop first (the zset module's `pop_from`) and otherwise blocks
//! the client on its keys until one changes or the timeout passes.

use super::ctx::{CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use super::zsets::{parse_mpop, pop_from, propagate_zpop};
use crate::blocking::{parse_timeout_secs, TimeoutReply};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("bzpopmin", -3, "write noscript blocking fast", "@write @sortedset @fast @blocking", keys(1, -2, 1), bzpopmin)
        .doc("sorted_set", "5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "O(log(N)) with N being the number of elements in the sorted set."),
    CommandSpec::new("bzpopmax", -3, "write noscript blocking fast", "@write @sortedset @fast @blocking", keys(1, -2, 1), bzpopmax)
        .doc("sorted_set", "5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", "O(log(N)) with N being the number of elements in the sorted set."),
    CommandSpec::new("bzmpop", -5, "write blocking movablekeys", "@write @sortedset @slow @blocking", keys(0, 0, 0), bzmpop)
        .doc("sorted_set", "7.0.0", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."),
];

/// BZPOPMIN/BZPOPMAX: `[key, member, score]` from the first non-empty key.
/// Effect: `ZPOPMIN|ZPOPMAX key`.
fn bzpop(ctx: &mut Ctx, max: bool) -> CmdResult {
    let args = ctx.args;
    let timeout = parse_timeout_secs(&args[args.len() - 1]).map_err(CmdError::from)?;
    let keys = &args[1..args.len() - 1];
    let (db, now) = (ctx.db(), ctx.now_ms);
    for key in keys {
        if let Some(popped) = pop_from(&mut ctx.srv.keyspace, db, key, now, 1, max)? {
            if let Some((member, score)) = popped.first() {
                propagate_zpop(ctx, key, max, None);
                ctx.array(3);
                ctx.bulk(key);
                ctx.bulk(member);
                ctx.double(*score);
                return Ok(());
            }
        }
    }
    ctx.block(keys, timeout, TimeoutReply::NullArray);
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx) -> CmdResult {
    bzpop(ctx, false)
}

fn bzpopmax(ctx: &mut Ctx) -> CmdResult {
    bzpop(ctx, true)
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT n]: `[key, [[member, score]...]]`.
/// Effect: `ZPOPMIN|ZPOPMAX key count`.
fn bzmpop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let timeout = parse_timeout_secs(&args[1]).map_err(CmdError::from)?;
    let (keys, max, count) = parse_mpop(args, 2)?;
    let (db, now) = (ctx.db(), ctx.now_ms);
    for k in keys.clone() {
        let key = &args[k];
        if let Some(popped) = pop_from(&mut ctx.srv.keyspace, db, key, now, count, max)? {
            if popped.is_empty() {
                continue;
            }
            propagate_zpop(ctx, key, max, Some(popped.len()));
            ctx.array(2);
            ctx.bulk(key);
            ctx.array(popped.len());
            for (member, score) in &popped {
                ctx.array(2);
                ctx.bulk(member);
                ctx.double(*score);
            }
            return Ok(());
        }
    }
    ctx.block(&args[keys], timeout, TimeoutReply::NullArray);
    Ok(())
}
