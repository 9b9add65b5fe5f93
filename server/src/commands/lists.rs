//! List commands (non-blocking): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN
//! LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP.
//!
//! Replies, error texts and the order in which errors are detected follow
//! Redis 7.2, and so do encoding conversions (listpack before a list grows
//! past `list-max-listpack-size`, back to listpack when a shrinking write
//! leaves one node under half the limit). Each handler notes its keyspace
//! effect as "Effect:" so replication can later describe it as one command.
//!
//! [`pop_elements`] and [`move_element`] are the pop/move logic the blocking
//! variants (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) will reuse; those
//! commands are not declared here.

use bytes::{Bytes, BytesMut};
use handoff_protocol::encode;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use crate::errors;
use crate::keyspace::{Keyspace, Value};
use crate::pubsub::class;
use crate::types::list::{End, List};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, "write denyoom fast", "@write @list @fast", keys(1, 1, 1), lpush)
        .doc("list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    CommandSpec::new("rpush", -3, "write denyoom fast", "@write @list @fast", keys(1, 1, 1), rpush)
        .doc("list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    CommandSpec::new("lpushx", -3, "write denyoom fast", "@write @list @fast", keys(1, 1, 1), lpushx)
        .doc("list", "2.2.0", "Prepends one or more elements to a list only when the list exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    CommandSpec::new("rpushx", -3, "write denyoom fast", "@write @list @fast", keys(1, 1, 1), rpushx)
        .doc("list", "2.2.0", "Appends an element to a list only when the list exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    CommandSpec::new("lpop", -2, "write fast", "@write @list @fast", keys(1, 1, 1), lpop)
        .doc("list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned"),
    CommandSpec::new("rpop", -2, "write fast", "@write @list @fast", keys(1, 1, 1), rpop)
        .doc("list", "1.0.0", "Returns and removes the last elements of the list. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned"),
    CommandSpec::new("llen", 2, "readonly fast", "@read @list @fast", keys(1, 1, 1), llen)
        .doc("list", "1.0.0", "Returns the length of a list.", "O(1)"),
    CommandSpec::new("lrange", 4, "readonly", "@read @list @slow", keys(1, 1, 1), lrange)
        .doc("list", "1.0.0", "Returns a range of elements from a list.", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range."),
    CommandSpec::new("lindex", 3, "readonly", "@read @list @slow", keys(1, 1, 1), lindex)
        .doc("list", "1.0.0", "Returns an element from a list by its index.", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1)."),
    CommandSpec::new("lset", 4, "write denyoom", "@write @list @slow", keys(1, 1, 1), lset)
        .doc("list", "1.0.0", "Sets the value of an element in a list by its index.", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."),
    CommandSpec::new("linsert", 5, "write denyoom", "@write @list @slow", keys(1, 1, 1), linsert)
        .doc("list", "2.2.0", "Inserts an element before or after another element in a list.", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N)."),
    CommandSpec::new("lrem", 4, "write", "@write @list @slow", keys(1, 1, 1), lrem)
        .doc("list", "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed.", "O(N+M) where N is the length of the list and M is the number of elements removed."),
    CommandSpec::new("ltrim", 4, "write", "@write @list @slow", keys(1, 1, 1), ltrim)
        .doc("list", "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "O(N) where N is the number of elements to be removed by the operation."),
    CommandSpec::new("lpos", -3, "readonly", "@read @list @slow", keys(1, 1, 1), lpos)
        .doc("list", "6.0.6", "Returns the index of matching elements in a list.", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time."),
    CommandSpec::new("lmove", 5, "write denyoom", "@write @list @slow", keys(1, 2, 1), lmove)
        .doc("list", "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "O(1)"),
    CommandSpec::new("rpoplpush", 3, "write denyoom", "@write @list @slow", keys(1, 2, 1), rpoplpush)
        .doc("list", "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "O(1)"),
    CommandSpec::new("lmpop", -4, "write movablekeys", "@write @list @slow", keys(0, 0, 0), lmpop)
        .doc("list", "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "O(N+M) where N is the number of provided keys and M is the number of elements returned."),
];

const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const RANK_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
pub(crate) const NUMKEYS: &str = "ERR numkeys should be greater than 0";
pub(crate) const COUNT_POSITIVE: &str = "ERR count should be greater than 0";

// ---------------------------------------------------------------------------
// Helpers (also for the blocking variants).

pub(crate) fn fill(ctx: &Ctx) -> i64 {
    ctx.srv.config.list_max_listpack_size
}

/// The list held by `v`, or WRONGTYPE.
pub fn list_mut(v: &mut Value) -> Result<&mut List, CmdError> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

pub(crate) fn list_ref(v: &Value) -> Result<&List, CmdError> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

/// LEFT/RIGHT.
pub(crate) fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "left") {
        Ok(End::Head)
    } else if is(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(errors::SYNTAX.into())
    }
}

/// A non-negative count, with Redis's getPositiveLong errors.
fn parse_positive(arg: &[u8], msg: &'static str) -> Result<usize, CmdError> {
    match parse_i64(arg) {
        Ok(n) if n >= 0 => Ok(n as usize),
        _ => Err(msg.into()),
    }
}

/// The keyspace notification of a list change, plus `del` when the change
/// emptied (and so deleted) the list.
pub(crate) fn notify_list(ctx: &mut Ctx, event: &str, key: &[u8]) {
    ctx.notify(class::LIST, event, key);
    let db = ctx.db();
    if ctx.srv.keyspace.dbs[db].get_raw(key).is_none() {
        ctx.notify(class::GENERIC, "del", key);
    }
}

/// The event name of a pop or push at `end`.
pub(crate) fn end_event(end: End, push: bool) -> &'static str {
    match (end, push) {
        (End::Head, false) => "lpop",
        (End::Tail, false) => "rpop",
        (End::Head, true) => "lpush",
        (End::Tail, true) => "rpush",
    }
}

fn bulks(out: &mut BytesMut, items: &[Vec<u8>]) {
    encode::array_header(out, items.len());
    for i in items {
        encode::bulk(out, i);
    }
}

/// Pops up to `count` elements from `end` of the list at `key`: `Ok(None)`
/// when the key does not exist, WRONGTYPE for another type. Deletes the key
/// when it empties, otherwise tries the shrinking conversion; adds the
/// number popped to `dirty` (Redis's listElementsRemoved).
pub fn pop_elements(
    ks: &mut Keyspace,
    db: usize,
    key: &[u8],
    now: i64,
    end: End,
    count: usize,
    fill: i64,
) -> Result<Option<Vec<Vec<u8>>>, CmdError> {
    let Some(e) = ks.lookup_write(db, key, now) else {
        return Ok(None);
    };
    let l = list_mut(&mut e.value)?;
    let n = count.min(l.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match l.pop(end) {
            Some(v) => out.push(v),
            None => break,
        }
    }
    let empty = l.is_empty();
    if !empty {
        l.try_shrink(fill);
    }
    if empty {
        ks.delete(db, key, now);
    }
    ks.dirty += out.len() as u64;
    Ok(Some(out))
}

/// Pushes `items` one by one at `end` of the list at `key`, creating it
/// unless `only_existing`. Returns the new length (0 when `only_existing`
/// and the key is missing).
#[allow(clippy::too_many_arguments)]
pub fn push_elements<T: AsRef<[u8]>>(
    ks: &mut Keyspace,
    db: usize,
    key: &[u8],
    now: i64,
    end: End,
    items: &[T],
    only_existing: bool,
    fill: i64,
) -> Result<usize, CmdError> {
    let fresh = match ks.lookup_write(db, key, now) {
        Some(e) => {
            list_ref(&e.value)?;
            false
        }
        None if only_existing => return Ok(0),
        None => true,
    };
    if fresh {
        ks.set(db, key, Value::List(Box::default()));
    }
    let Some(e) = ks.lookup_write(db, key, now) else {
        return Ok(0);
    };
    let l = list_mut(&mut e.value)?;
    l.try_grow_for(fill, items);
    for i in items {
        l.push(end, i.as_ref(), fill);
    }
    let len = l.len();
    ks.dirty += items.len() as u64;
    Ok(len)
}

/// Moves one element from `from` of `src` to `to` of `dst` (which may be
/// the same key). `Ok(None)` when `src` does not exist; WRONGTYPE if either
/// key holds another type (checked before anything changes).
#[allow(clippy::too_many_arguments)]
pub fn move_element(
    ks: &mut Keyspace,
    db: usize,
    src: &[u8],
    dst: &[u8],
    now: i64,
    from: End,
    to: End,
    fill: i64,
) -> Result<Option<Vec<u8>>, CmdError> {
    match ks.lookup_write(db, src, now) {
        None => return Ok(None),
        Some(e) => {
            if list_ref(&e.value)?.is_empty() {
                return Ok(None);
            }
        }
    }
    if let Some(e) = ks.lookup_write(db, dst, now) {
        list_ref(&e.value)?;
    }
    let Some(e) = ks.lookup_write(db, src, now) else {
        return Ok(None);
    };
    let l = list_mut(&mut e.value)?;
    let Some(v) = l.pop(from) else {
        return Ok(None);
    };
    if src == dst {
        l.try_grow(fill, v.len(), 1);
        l.push(to, &v, fill);
        l.try_shrink(fill);
    } else {
        let empty = l.is_empty();
        if empty {
            ks.delete(db, src, now);
        } else {
            l.try_shrink(fill);
        }
        push_elements(ks, db, dst, now, to, &[&v[..]], false, fill)?;
        ks.dirty -= 1;
    }
    ks.dirty += 1;
    Ok(Some(v))
}

// ---------------------------------------------------------------------------
// Pushes.

/// Effect: `LPUSH key element...` (or nothing for LPUSHX on a missing key).
fn push_cmd(ctx: &mut Ctx, end: End, only_existing: bool) -> CmdResult {
    let args = ctx.args;
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    let len = push_elements(
        &mut ctx.srv.keyspace,
        db,
        &args[1],
        now,
        end,
        &args[2..],
        only_existing,
        fill,
    )?;
    if len > 0 {
        ctx.notify(class::LIST, end_event(end, true), &args[1]);
    }
    ctx.int(len as i64);
    Ok(())
}

fn lpush(ctx: &mut Ctx) -> CmdResult {
    push_cmd(ctx, End::Head, false)
}

fn rpush(ctx: &mut Ctx) -> CmdResult {
    push_cmd(ctx, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx) -> CmdResult {
    push_cmd(ctx, End::Head, true)
}

fn rpushx(ctx: &mut Ctx) -> CmdResult {
    push_cmd(ctx, End::Tail, true)
}

// ---------------------------------------------------------------------------
// Pops.

/// Effect: `LPOP key count` with the number actually popped (the key is
/// deleted when it empties).
fn pop_cmd(ctx: &mut Ctx, end: End) -> CmdResult {
    let args = ctx.args;
    if args.len() > 3 {
        let name = String::from_utf8_lossy(&args[0]).to_lowercase();
        return Err(format!("ERR wrong number of arguments for '{name}' command").into());
    }
    let count = match args.get(2) {
        Some(a) => Some(parse_positive(a, MUST_BE_POSITIVE)?),
        None => None,
    };
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = ks.lookup_write(db, &args[1], now) else {
        match count {
            Some(_) => ctx.null_array(),
            None => ctx.null(),
        }
        return Ok(());
    };
    list_ref(&e.value)?;
    if count == Some(0) {
        ctx.array(0);
        return Ok(());
    }
    let popped = pop_elements(ks, db, &args[1], now, end, count.unwrap_or(1), fill)?;
    let items = popped.unwrap_or_default();
    if !items.is_empty() {
        notify_list(ctx, end_event(end, false), &args[1]);
    }
    match count {
        Some(_) => bulks(&mut ctx.client.out, &items),
        None => match items.first() {
            Some(v) => ctx.bulk(v),
            None => ctx.null(),
        },
    }
    Ok(())
}

fn lpop(ctx: &mut Ctx) -> CmdResult {
    pop_cmd(ctx, End::Head)
}

fn rpop(ctx: &mut Ctx) -> CmdResult {
    pop_cmd(ctx, End::Tail)
}

/// Effect: `LPOP key count` / `RPOP key count` on the first non-empty key.
fn lmpop(ctx: &mut Ctx) -> CmdResult {
    let (keys, end, count) = parse_mpop(ctx.args, 1)?;
    if !try_mpop(ctx, keys, end, count)? {
        ctx.null_array();
    }
    Ok(())
}

/// Parses `numkeys key... LEFT|RIGHT [COUNT n]` starting at `args[first]`
/// (LMPOP and BLMPOP): the key index range, the end, and the count.
pub(crate) fn parse_mpop(
    args: &[Bytes],
    first: usize,
) -> Result<(std::ops::Range<usize>, End, usize), CmdError> {
    let numkeys = match parse_i64(&args[first]) {
        Ok(n) if n >= 1 => n as usize,
        _ => return Err(NUMKEYS.into()),
    };
    let where_idx = match numkeys.checked_add(first + 1) {
        Some(i) if i < args.len() => i,
        _ => return Err(errors::SYNTAX.into()),
    };
    let end = parse_end(&args[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "count") && j + 1 < args.len() {
            match parse_i64(&args[j + 1]) {
                Ok(n) if n >= 1 => count = Some(n as usize),
                _ => return Err(COUNT_POSITIVE.into()),
            }
            j += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok((first + 1..where_idx, end, count.unwrap_or(1)))
}

/// Pops from the first non-empty list among `args[keys]` and writes the
/// `[key, [elements]]` reply; false (nothing written) when all are empty.
/// Effect: `LPOP|RPOP key count` on the key popped from.
pub(crate) fn try_mpop(
    ctx: &mut Ctx,
    keys: std::ops::Range<usize>,
    end: End,
    count: usize,
) -> Result<bool, CmdError> {
    let args = ctx.args;
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    for key in &args[keys] {
        let ks = &mut ctx.srv.keyspace;
        match ks.lookup_write(db, key, now) {
            None => continue,
            Some(e) => {
                if list_ref(&e.value)?.is_empty() {
                    continue;
                }
            }
        }
        let items = pop_elements(ks, db, key, now, end, count, fill)?.unwrap_or_default();
        notify_list(ctx, end_event(end, false), key);
        if ctx.replicating() {
            // LMPOP/BLMPOP -> `LPOP|RPOP key <number popped>`, as Redis 7.0.
            let cmd: &[u8] = match end {
                End::Head => b"LPOP",
                End::Tail => b"RPOP",
            };
            let mut v = super::argv(&[cmd, key]);
            v.push(super::num_arg(items.len() as i64));
            ctx.propagate_as(v);
        }
        let out = &mut ctx.client.out;
        encode::array_header(out, 2);
        encode::bulk(out, key);
        bulks(out, &items);
        return Ok(true);
    }
    Ok(false)
}

/// Effect: `LMOVE src dst from to` (when an element moved).
fn lmove(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    move_cmd(ctx, from, to)
}

/// Effect: `RPOPLPUSH src dst` (when an element moved).
fn rpoplpush(ctx: &mut Ctx) -> CmdResult {
    move_cmd(ctx, End::Tail, End::Head)
}

/// Notifications of LMOVE and its relatives: a push on the destination, then
/// a pop on the source (and `del` if it emptied).
pub(crate) fn notify_move(ctx: &mut Ctx, from: End, to: End) {
    let args = ctx.args;
    // Redis's order: the push on the destination, then the pop on the source.
    ctx.notify(class::LIST, end_event(to, true), &args[2]);
    notify_list(ctx, end_event(from, false), &args[1]);
}

fn move_cmd(ctx: &mut Ctx, from: End, to: End) -> CmdResult {
    let args = ctx.args;
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    let moved = move_element(
        &mut ctx.srv.keyspace,
        db,
        &args[1],
        &args[2],
        now,
        from,
        to,
        fill,
    )?;
    match moved {
        Some(v) => {
            notify_move(ctx, from, to);
            ctx.bulk(&v)
        }
        None => ctx.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads.

fn llen(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (db, now, no_touch) = (ctx.db(), ctx.now_ms, ctx.client.no_touch);
    let n = match ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => list_ref(&e.value)?.len(),
        None => 0,
    };
    ctx.int(n as i64);
    Ok(())
}

fn lrange(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let (db, now, no_touch) = (ctx.db(), ctx.now_ms, ctx.client.no_touch);
    let Some(e) = ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) else {
        ctx.array(0);
        return Ok(());
    };
    let l = list_ref(&e.value)?;
    let out = &mut ctx.client.out;
    let llen = l.len() as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        encode::array_header(out, 0);
        return Ok(());
    }
    if end >= llen {
        end = llen - 1;
    }
    let n = (end - start + 1) as usize;
    encode::array_header(out, n);
    for v in l.iter_from(start, false).take(n) {
        encode::bulk(out, v);
    }
    Ok(())
}

fn lindex(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (db, now, no_touch) = (ctx.db(), ctx.now_ms, ctx.client.no_touch);
    let resp3 = ctx.resp3();
    let out = &mut ctx.client.out;
    let Some(e) = ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) else {
        encode::null_bulk(out, resp3);
        return Ok(());
    };
    let l = list_ref(&e.value)?;
    let index = parse_i64(&args[2])?;
    match l.get(index) {
        Some(v) => encode::bulk(out, v),
        None => encode::null_bulk(out, resp3),
    }
    Ok(())
}

/// Reply of LPOS; see Redis's lposCommand for the RANK/COUNT/MAXLEN rules.
fn lpos(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen = 0usize;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(&args[j], "rank") && more {
            rank = parse_i64(&args[j + 1])?;
            if rank == i64::MIN {
                return Err(RANK_RANGE.into());
            }
            if rank == 0 {
                return Err(RANK_ZERO.into());
            }
        } else if is(&args[j], "count") && more {
            count = Some(parse_positive(&args[j + 1], COUNT_NEGATIVE)?);
        } else if is(&args[j], "maxlen") && more {
            maxlen = parse_positive(&args[j + 1], MAXLEN_NEGATIVE)?;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 2;
    }
    let reverse = rank < 0;
    let rank = rank.unsigned_abs();
    let (db, now, no_touch) = (ctx.db(), ctx.now_ms, ctx.client.no_touch);
    let Some(e) = ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) else {
        match count {
            Some(_) => ctx.array(0),
            None => ctx.null(),
        }
        return Ok(());
    };
    let l = list_ref(&e.value)?;
    let mut matches = 0u64;
    let mut found: Vec<usize> = Vec::new();
    l.positions(&args[2], reverse, maxlen, |idx| {
        matches += 1;
        if matches < rank {
            return true;
        }
        found.push(idx);
        match count {
            None => false,
            Some(0) => true,
            Some(c) => found.len() < c,
        }
    });
    match count {
        Some(_) => {
            ctx.array(found.len());
            for i in found {
                ctx.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => ctx.int(i as i64),
            None => ctx.null(),
        },
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Edits.

/// Effect: `LSET key index element`.
fn lset(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = ks.lookup_write(db, &args[1], now) else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    let l = list_mut(&mut e.value)?;
    let index = parse_i64(&args[2])?;
    // Redis converts before knowing whether the index is in range.
    l.try_grow(fill, args[3].len(), 1);
    if !l.set(index, &args[3], fill) {
        return Err(INDEX_OUT_OF_RANGE.into());
    }
    l.try_shrink(fill);
    ks.dirty += 1;
    ctx.notify(class::LIST, "lset", &args[1]);
    ctx.ok();
    Ok(())
}

/// Effect: `LINSERT key BEFORE|AFTER pivot element` (when inserted).
fn linsert(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let after = if is(&args[2], "after") {
        true
    } else if is(&args[2], "before") {
        false
    } else {
        return Err(errors::SYNTAX.into());
    };
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = ks.lookup_write(db, &args[1], now) else {
        ctx.int(0);
        return Ok(());
    };
    let l = list_mut(&mut e.value)?;
    // Redis converts before knowing whether the pivot exists.
    l.try_grow(fill, args[4].len(), 1);
    if !l.insert(&args[3], &args[4], after, fill) {
        ctx.int(-1);
        return Ok(());
    }
    let len = l.len();
    ks.dirty += 1;
    ctx.notify(class::LIST, "linsert", &args[1]);
    ctx.int(len as i64);
    Ok(())
}

/// Effect: `LREM key count element` (when something was removed).
fn lrem(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let count = parse_i64(&args[2])?;
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = ks.lookup_write(db, &args[1], now) else {
        ctx.int(0);
        return Ok(());
    };
    let l = list_mut(&mut e.value)?;
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = l.remove_matching(&args[3], limit, count < 0);
    if removed > 0 {
        if l.is_empty() {
            ks.delete(db, &args[1], now);
        } else {
            l.try_shrink(fill);
        }
        ks.dirty += removed as u64;
        notify_list(ctx, "lrem", &args[1]);
    }
    ctx.int(removed as i64);
    Ok(())
}

/// Effect: `LTRIM key start stop` (`DEL key` when nothing is left).
fn ltrim(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let (db, now, fill) = (ctx.db(), ctx.now_ms, fill(ctx));
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = ks.lookup_write(db, &args[1], now) else {
        ctx.ok();
        return Ok(());
    };
    let l = list_mut(&mut e.value)?;
    let llen = l.len() as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    let (ltrim, rtrim) = if start > end || start >= llen {
        (llen, 0)
    } else {
        if end >= llen {
            end = llen - 1;
        }
        (start, llen - end - 1)
    };
    l.remove_range(0, ltrim as usize);
    let left = l.len();
    l.remove_range(left.saturating_sub(rtrim as usize), rtrim as usize);
    if l.is_empty() {
        ks.delete(db, &args[1], now);
    } else {
        l.try_shrink(fill);
    }
    ks.dirty += (ltrim + rtrim) as u64;
    notify_list(ctx, "ltrim", &args[1]);
    ctx.ok();
    Ok(())
}
