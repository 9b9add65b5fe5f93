//! Set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SPOP
//! SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
//! SDIFFSTORE SSCAN.
//!
//! Replies, error texts, the order in which errors are detected and the
//! encodings of stored sets follow Redis 7.2 (`types/set.rs` owns the
//! representation and its conversions). Random choices are ours: counts and
//! membership match Redis, the exact members picked do not. Each handler
//! notes its keyspace effect as "Effect:" so replication can describe it
//! later (SPOP as SREM of the popped members, or DEL when it empties the set).

use bytes::{Bytes, BytesMut};
use handoff_protocol::encode;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::scan_args;
use super::spec::{keys, CommandSpec};
use super::strings::lookup_write;
use crate::errors;
use crate::keyspace::value::itoa_buf;
use crate::keyspace::Value;
use crate::pubsub::class;
use crate::types::set::{Limits, Member, Rng, Set};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, "write denyoom fast", "@write @set @fast", keys(1, 1, 1), sadd_notified)
        .doc("set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    CommandSpec::new("srem", -3, "write fast", "@write @set @fast", keys(1, 1, 1), srem_notified)
        .doc("set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.", "O(N) where N is the number of members to be removed."),
    CommandSpec::new("scard", 2, "readonly fast", "@read @set @fast", keys(1, 1, 1), scard)
        .doc("set", "1.0.0", "Returns the number of members in a set.", "O(1)"),
    CommandSpec::new("sismember", 3, "readonly fast", "@read @set @fast", keys(1, 1, 1), sismember)
        .doc("set", "1.0.0", "Determines whether a member belongs to a set.", "O(1)"),
    CommandSpec::new("smismember", -3, "readonly fast", "@read @set @fast", keys(1, 1, 1), smismember)
        .doc("set", "6.2.0", "Determines whether multiple members belong to a set.", "O(N) where N is the number of elements being checked for membership"),
    CommandSpec::new("smembers", 2, "readonly", "@read @set @slow", keys(1, 1, 1), smembers)
        .doc("set", "1.0.0", "Returns all members of a set.", "O(N) where N is the set cardinality.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("spop", -2, "write fast", "@write @set @fast", keys(1, 1, 1), spop_notified)
        .doc("set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.")
        .tips("nondeterministic_output"),
    CommandSpec::new("srandmember", -2, "readonly", "@read @set @slow", keys(1, 1, 1), srandmember)
        .doc("set", "1.0.0", "Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.")
        .tips("nondeterministic_output"),
    CommandSpec::new("smove", 4, "write fast", "@write @set @fast", keys(1, 2, 1), smove_notified)
        .doc("set", "1.0.0", "Moves a member from one set to another.", "O(1)"),
    CommandSpec::new("sinter", -2, "readonly", "@read @set @slow", keys(1, -1, 1), sinter)
        .doc("set", "1.0.0", "Returns the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("sintercard", -3, "readonly movablekeys", "@read @set @slow", keys(0, 0, 0), sintercard)
        .doc("set", "7.0.0", "Returns the number of members of the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    CommandSpec::new("sinterstore", -3, "write denyoom", "@write @set @slow", keys(1, -1, 1), sinterstore_notified)
        .doc("set", "1.0.0", "Stores the intersect of multiple sets in a key.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    CommandSpec::new("sunion", -2, "readonly", "@read @set @slow", keys(1, -1, 1), sunion)
        .doc("set", "1.0.0", "Returns the union of multiple sets.", "O(N) where N is the total number of elements in all given sets.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("sunionstore", -3, "write denyoom", "@write @set @slow", keys(1, -1, 1), sunionstore_notified)
        .doc("set", "1.0.0", "Stores the union of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets."),
    CommandSpec::new("sdiff", -2, "readonly", "@read @set @slow", keys(1, -1, 1), sdiff)
        .doc("set", "1.0.0", "Returns the difference of multiple sets.", "O(N) where N is the total number of elements in all given sets.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("sdiffstore", -3, "write denyoom", "@write @set @slow", keys(1, -1, 1), sdiffstore_notified)
        .doc("set", "1.0.0", "Stores the difference of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets."),
    CommandSpec::new("sscan", -3, "readonly", "@read @set @slow", keys(1, 1, 1), sscan)
        .doc("set", "2.8.0", "Iterates over members of a set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..")
        .tips("nondeterministic_output"),
];

const POSITIVE: &str = "ERR value is out of range, must be positive";
const SRAND_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const NUMKEYS: &str = "ERR numkeys should be greater than 0";
const NUMKEYS_ARGS: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// Past this much pending output a reply of random members stops and the
/// client is closed, as Redis does when a client hits its output limit.
const REPLY_CAP: usize = 1 << 30;

// ---------------------------------------------------------------------------
// Helpers.

/// The encoding thresholds from the configuration.
fn limits(ctx: &Ctx) -> Limits {
    let c = &ctx.srv.config;
    let conv = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Limits {
        intset_entries: conv(c.set_max_intset_entries),
        lp_entries: conv(c.set_max_listpack_entries),
        lp_value: conv(c.set_max_listpack_value),
    }
}

#[allow(unreachable_patterns)]
fn set_ref(v: &Value) -> Result<&Set, CmdError> {
    match v {
        Value::Set(s) => Ok(s),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

#[allow(unreachable_patterns)]
fn set_mut(v: &mut Value) -> Result<&mut Set, CmdError> {
    match v {
        Value::Set(s) => Ok(s),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

fn bulk_member(out: &mut BytesMut, m: Member<'_>) {
    match m {
        Member::Int(n) => encode::bulk_integer(out, n),
        Member::Str(s) => encode::bulk(out, s),
    }
}

fn set_header(out: &mut BytesMut, resp3: bool, len: usize) {
    if resp3 {
        encode::set_header(out, len);
    } else {
        encode::array_header(out, len);
    }
}

/// A set reply with every member of `s` in storage order.
fn reply_whole_set(out: &mut BytesMut, resp3: bool, s: &Set) {
    set_header(out, resp3, s.len());
    for m in s.iter() {
        bulk_member(out, m);
    }
}

/// Looks every key up for reading (hit/miss accounting, lazy expiry) and
/// fails with WRONGTYPE on the first key that holds another type. Returns
/// which keys exist as sets.
fn check_sets(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<bool>, CmdError> {
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let mut found = Vec::with_capacity(keys.len());
    for key in keys {
        match ks.lookup_read(db, key, now, no_touch) {
            Some(e) => {
                set_ref(&e.value)?;
                found.push(true);
            }
            None => found.push(false),
        }
    }
    Ok(found)
}

/// Shared references to the sets `check_sets` found (None for missing keys).
fn collect_sets<'a>(
    ks: &'a crate::keyspace::Keyspace,
    db: usize,
    keys: &[Bytes],
    found: &[bool],
) -> Vec<Option<&'a Set>> {
    keys.iter()
        .zip(found)
        .map(|(k, &f)| {
            if !f {
                return None;
            }
            ks.dbs[db].get_raw(k).and_then(|e| set_ref(&e.value).ok())
        })
        .collect()
}

/// Stores `result` under `dst` (clearing any TTL) when non-empty, deletes
/// `dst` otherwise; replies with the stored cardinality.
/// Effect: `SET`-like overwrite of `dst` with the result, or `DEL dst`.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set) {
    let db = ctx.db();
    let now = ctx.now_ms;
    let ks = &mut ctx.srv.keyspace;
    if result.is_empty() {
        if ks.delete(db, dst, now) {
            ks.dirty += 1;
        }
        ctx.int(0);
    } else {
        let n = result.len();
        ks.store(db, dst, Value::Set(Box::new(result)), now);
        ks.dirty += 1;
        ctx.int(n as i64);
    }
}

// ---------------------------------------------------------------------------
// Single-key commands.

/// Effect: `SADD key member...` (only the members that were added).
fn sadd(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let args = ctx.args;
    let key = &args[1];
    let members = &args[2..];
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let mut added = 0;
    match lookup_write(ks, db, key, now, no_touch) {
        Some(e) => {
            let s = set_mut(&mut e.value)?;
            s.maybe_convert(members.len(), &lim);
            for m in members {
                added += s.add(m, &lim) as i64;
            }
        }
        None => {
            let mut s = Set::create_for(&members[0], members.len(), &lim);
            for m in members {
                added += s.add(m, &lim) as i64;
            }
            ks.set(db, key, Value::Set(Box::new(s)));
        }
    }
    ks.dirty += added as u64;
    ctx.int(added);
    Ok(())
}

/// Effect: `SREM key member...` (the members removed); the key is deleted
/// when it becomes empty.
fn srem(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let key = &args[1];
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = lookup_write(ks, db, key, now, no_touch) else {
        ctx.int(0);
        return Ok(());
    };
    let s = set_mut(&mut e.value)?;
    let mut deleted = 0i64;
    let mut emptied = false;
    for m in &args[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if emptied {
        ks.delete(db, key, now);
    }
    ks.dirty += deleted as u64;
    ctx.int(deleted);
    Ok(())
}

/// Effect: none.
fn scard(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let n = match ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => set_ref(&e.value)?.len(),
        None => 0,
    };
    ctx.int(n as i64);
    Ok(())
}

/// Effect: none.
fn sismember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let found = match ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => set_ref(&e.value)?.contains(&args[2]),
        None => false,
    };
    ctx.int(found as i64);
    Ok(())
}

/// Effect: none.
fn smismember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let Ctx { srv, client, .. } = ctx;
    let set = match srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => Some(set_ref(&e.value)?),
        None => None,
    };
    let out = &mut client.out;
    encode::array_header(out, args.len() - 2);
    for m in &args[2..] {
        encode::integer(out, set.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// Effect: none.
fn smembers(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let resp3 = ctx.resp3();
    let Ctx { srv, client, .. } = ctx;
    match srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => reply_whole_set(&mut client.out, resp3, set_ref(&e.value)?),
        None => set_header(&mut client.out, resp3, 0),
    }
    Ok(())
}

/// Effect: `SREM key member` (the popped member), or `DEL key` when SPOP
/// with a count empties the set.
fn spop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    if args.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let count = match args.get(2) {
        Some(a) => match parse_i64(a) {
            Ok(n) if n >= 0 => Some(n as u64),
            _ => return Err(POSITIVE.into()),
        },
        None => None,
    };
    let key = &args[1];
    let lim = limits(ctx);
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let resp3 = ctx.resp3();
    let Ctx { srv, client, .. } = ctx;
    let ks = &mut srv.keyspace;
    let mut rng = Rng::new(ks.random());
    let out = &mut client.out;
    let Some(e) = lookup_write(ks, db, key, now, no_touch) else {
        match count {
            Some(_) => set_header(out, resp3, 0),
            None => encode::null_bulk(out, resp3),
        }
        return Ok(());
    };
    let s = set_mut(&mut e.value)?;
    let Some(count) = count else {
        let popped = s.pop_random(&mut rng);
        let emptied = s.is_empty();
        if let Some(m) = &popped {
            encode::bulk(out, m);
            ks.dirty += 1;
        }
        if emptied {
            ks.delete(db, key, now);
        }
        // Redis 7.0 propagates `SREM key member` (even when the set emptied).
        if let Some(m) = popped {
            if ctx.replicating() {
                ctx.propagate_as(super::argv(&[b"SREM", key, &m]));
            }
        }
        return Ok(());
    };
    if count == 0 {
        set_header(out, resp3, 0);
        return Ok(());
    }
    let size = s.len();
    if count >= size as u64 {
        // The whole set, in the order a union of it would produce.
        let mut all = Set::new_intset();
        for m in s.iter() {
            all.add_member(m, &lim);
        }
        reply_whole_set(out, resp3, &all);
        ks.delete(db, key, now);
        ks.dirty += size as u64;
        // The whole set went: `DEL key`, as Redis 7.0.
        if ctx.replicating() {
            ctx.propagate_as(super::argv(&[b"DEL", key]));
        }
        return Ok(());
    }
    let popped = s.pop_many(count as usize, &mut rng);
    set_header(out, resp3, popped.len());
    for m in &popped {
        encode::bulk(out, m);
    }
    ks.dirty += popped.len() as u64;
    // One `SREM key member` per popped member (Redis 7.0 does not batch
    // them), wrapped in MULTI/EXEC when there are several.
    if ctx.replicating() {
        ctx.prevent_propagation();
        for m in &popped {
            ctx.also_propagate(super::argv(&[b"SREM", key, m]));
        }
    }
    Ok(())
}

/// Effect: none.
fn srandmember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    if args.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let count = match args.get(2) {
        Some(a) => {
            let n = parse_i64(a)?;
            if n == i64::MIN {
                return Err(SRAND_RANGE.into());
            }
            Some(n)
        }
        None => None,
    };
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let resp3 = ctx.resp3();
    let Ctx { srv, client, .. } = ctx;
    let ks = &mut srv.keyspace;
    let mut rng = Rng::new(ks.random());
    let Some(e) = ks.lookup_read(db, &args[1], now, no_touch) else {
        match count {
            Some(_) => encode::array_header(&mut client.out, 0),
            None => encode::null_bulk(&mut client.out, resp3),
        }
        return Ok(());
    };
    let s = set_ref(&e.value)?;
    let Some(count) = count else {
        match s.random_member(&mut rng) {
            Some(m) => bulk_member(&mut client.out, m),
            None => encode::null_bulk(&mut client.out, resp3),
        }
        return Ok(());
    };
    let out = &mut client.out;
    if count == 0 {
        encode::array_header(out, 0);
        return Ok(());
    }
    let size = s.len();
    if count < 0 || count == 1 {
        let n = count.unsigned_abs();
        encode::array_header(out, usize::try_from(n).unwrap_or(usize::MAX));
        let mut stopped = false;
        s.random_members_with_repeats(n, &mut rng, |m| {
            bulk_member(out, m);
            if out.len() > REPLY_CAP {
                stopped = true;
                return false;
            }
            true
        });
        if stopped {
            client.close_asap = true;
        }
        return Ok(());
    }
    if count as u64 >= size as u64 {
        encode::array_header(out, size);
        for m in s.iter() {
            bulk_member(out, m);
        }
        return Ok(());
    }
    let picked = s.random_distinct(count as usize, &mut rng);
    encode::array_header(out, picked.len());
    for m in picked {
        bulk_member(out, m);
    }
    Ok(())
}

/// Effect: `SMOVE src dst member` (SREM from src, deleting it when empty,
/// and SADD to dst).
fn smove(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let args = ctx.args;
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let src_is_set =
        lookup_write(ks, db, src, now, no_touch).map(|e| matches!(e.value, Value::Set(_)));
    let dst_is_set =
        lookup_write(ks, db, dst, now, no_touch).map(|e| matches!(e.value, Value::Set(_)));
    let Some(src_is_set) = src_is_set else {
        ctx.int(0);
        return Ok(());
    };
    if !src_is_set || dst_is_set == Some(false) {
        return Err(errors::WRONGTYPE.into());
    }
    if src == dst {
        let found = match ks.dbs[db].get_raw(src) {
            Some(e) => set_ref(&e.value)?.contains(member),
            None => false,
        };
        ctx.int(found as i64);
        return Ok(());
    }
    let (removed, emptied) = match ks.dbs[db].get_raw_mut(src) {
        Some(e) => {
            let s = set_mut(&mut e.value)?;
            (s.remove(member), s.is_empty())
        }
        None => (false, false),
    };
    if !removed {
        ctx.int(0);
        return Ok(());
    }
    if emptied {
        ks.delete(db, src, now);
    }
    ks.dirty += 1;
    let added = match ks.dbs[db].get_raw_mut(dst) {
        Some(e) => set_mut(&mut e.value)?.add(member, &lim),
        None => {
            let mut s = Set::create_for(member, 1, &lim);
            s.add(member, &lim);
            ks.set(db, dst, Value::Set(Box::new(s)));
            true
        }
    };
    if added {
        ks.dirty += 1;
    }
    ctx.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------
// Intersection.

/// What an intersection produces.
enum InterMode<'a> {
    Reply,
    Card(usize),
    Store(&'a [u8]),
}

fn inter_generic(ctx: &mut Ctx, keys: &[Bytes], mode: InterMode<'_>) -> CmdResult {
    let found = check_sets(ctx, keys)?;
    let lim = limits(ctx);
    let db = ctx.db();
    let resp3 = ctx.resp3();
    if found.iter().any(|f| !f) {
        // An empty set makes an empty intersection.
        match mode {
            InterMode::Store(dst) => store_result(ctx, dst, Set::new_intset()),
            InterMode::Card(_) => ctx.int(0),
            InterMode::Reply => ctx.set(0),
        }
        return Ok(());
    }
    let Ctx { srv, client, .. } = &mut *ctx;
    let sets = collect_sets(&srv.keyspace, db, keys, &found);
    let mut order: Vec<(usize, &Set)> = sets
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .collect();
    order.sort_by_key(|(_, s)| s.len());
    let Some(&(first_i, first)) = order.first() else {
        return Ok(());
    };
    let first_key = &keys[first_i];
    let others: Vec<&Set> = order[1..]
        .iter()
        .filter(|(i, _)| keys[*i] != *first_key)
        .map(|(_, s)| *s)
        .collect();
    let in_all = |m: Member<'_>| others.iter().all(|s| s.contains_member(m));
    let stored = match mode {
        InterMode::Card(limit) => {
            let mut n = 0usize;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if limit != 0 && n >= limit {
                        break;
                    }
                }
            }
            encode::integer(&mut client.out, n as i64);
            None
        }
        InterMode::Reply => {
            let members: Vec<Member<'_>> = first.iter().filter(|&m| in_all(m)).collect();
            set_header(&mut client.out, resp3, members.len());
            for m in members {
                bulk_member(&mut client.out, m);
            }
            None
        }
        InterMode::Store(dst) => {
            let mut result = if first.encoding() == "intset" {
                Set::new_intset()
            } else {
                Set::new_listpack()
            };
            let mut only_integers = true;
            for m in first.iter().filter(|&m| in_all(m)) {
                if let Member::Str(b) = m {
                    if crate::keyspace::value::parse_canonical_i64(b).is_none() {
                        only_integers = false;
                    }
                }
                result.add_member(m, &lim);
            }
            if only_integers {
                result.maybe_convert_to_intset(&lim);
            }
            Some((dst, result))
        }
    };
    if let Some((dst, result)) = stored {
        store_result(ctx, dst, result);
    }
    Ok(())
}

/// Effect: none.
fn sinter(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    inter_generic(ctx, &args[1..], InterMode::Reply)
}

/// Effect: none.
fn sintercard(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let numkeys = match parse_i64(&args[1]) {
        Ok(n) if n >= 1 => n,
        _ => return Err(NUMKEYS.into()),
    };
    if numkeys > (args.len() - 2) as i64 {
        return Err(NUMKEYS_ARGS.into());
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if is(&args[i], "limit") && i + 1 < args.len() {
            limit = match parse_i64(&args[i + 1]) {
                Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(LIMIT_NEGATIVE.into()),
            };
            i += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    inter_generic(ctx, &args[2..2 + numkeys], InterMode::Card(limit))
}

/// Effect: overwrite `dst` with the intersection (clearing its TTL), or
/// `DEL dst` when it is empty.
fn sinterstore(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    inter_generic(ctx, &args[2..], InterMode::Store(&args[1]))
}

// ---------------------------------------------------------------------------
// Union and difference.

/// Builds the union (or the difference of the first set minus the others)
/// the way Redis does: into a fresh set that starts as an intset and
/// converts as members arrive, so its encoding and order match.
fn union_diff(ctx: &mut Ctx, keys: &[Bytes], diff: bool) -> Result<Set, CmdError> {
    let found = check_sets(ctx, keys)?;
    let lim = limits(ctx);
    let db = ctx.db();
    let sets = collect_sets(&ctx.srv.keyspace, db, keys, &found);
    let mut result = Set::new_intset();
    if !diff {
        for s in sets.iter().flatten() {
            for m in s.iter() {
                result.add_member(m, &lim);
            }
        }
        return Ok(result);
    }
    let Some(first) = sets[0] else {
        return Ok(result);
    };
    if found[0] && keys[1..].iter().any(|k| *k == keys[0]) {
        // Subtracting the set from itself.
        return Ok(result);
    }
    let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
    // Redis's two algorithms give the same members; pick the cheaper one.
    let algo_one = first.len().saturating_mul(others.len() + 1) / 2;
    let algo_two = first.len() + others.iter().map(|s| s.len()).sum::<usize>();
    if algo_one <= algo_two {
        for m in first.iter() {
            if !others.iter().any(|s| s.contains_member(m)) {
                result.add_member(m, &lim);
            }
        }
    } else {
        for m in first.iter() {
            result.add_member(m, &lim);
        }
        let mut scratch = itoa_buf::Buf::new();
        for s in &others {
            for m in s.iter() {
                result.remove(m.as_bytes(&mut scratch));
            }
            if result.is_empty() {
                break;
            }
        }
    }
    Ok(result)
}

fn union_diff_reply(ctx: &mut Ctx, diff: bool) -> CmdResult {
    let args = ctx.args;
    let result = union_diff(ctx, &args[1..], diff)?;
    let resp3 = ctx.resp3();
    reply_whole_set(&mut ctx.client.out, resp3, &result);
    Ok(())
}

fn union_diff_store(ctx: &mut Ctx, diff: bool) -> CmdResult {
    let args = ctx.args;
    let result = union_diff(ctx, &args[2..], diff)?;
    store_result(ctx, &args[1], result);
    Ok(())
}

/// Effect: none.
fn sunion(ctx: &mut Ctx) -> CmdResult {
    union_diff_reply(ctx, false)
}

/// Effect: overwrite `dst` with the union (clearing its TTL), or `DEL dst`.
fn sunionstore(ctx: &mut Ctx) -> CmdResult {
    union_diff_store(ctx, false)
}

/// Effect: none.
fn sdiff(ctx: &mut Ctx) -> CmdResult {
    union_diff_reply(ctx, true)
}

/// Effect: overwrite `dst` with the difference (clearing its TTL), or `DEL dst`.
fn sdiffstore(ctx: &mut Ctx) -> CmdResult {
    union_diff_store(ctx, true)
}

// ---------------------------------------------------------------------------
// SSCAN.

/// Effect: none.
fn sscan(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let cursor = scan_args::cursor(&args[2])?;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let Ctx { srv, client, .. } = ctx;
    let out = &mut client.out;
    let Some(e) = srv.keyspace.lookup_read(db, &args[1], now, no_touch) else {
        out.extend_from_slice(scan_args::EMPTY_REPLY);
        return Ok(());
    };
    let s = set_ref(&e.value)?;
    // Options are parsed after the key lookup, as in Redis.
    let opts = scan_args::options(&args[3..], false)?;
    let mut found: Vec<Member<'_>> = Vec::new();
    let next = s.scan(cursor, opts.count, |m| found.push(m));
    if opts.pattern.is_some() {
        let mut scratch = itoa_buf::Buf::new();
        found.retain(|m| opts.matches(m.as_bytes(&mut scratch)));
    }
    scan_args::reply_header(out, next, found.len());
    for m in found {
        bulk_member(out, m);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Keyspace notifications: each write raises its event when it changed
// something (and `del` when the key is gone).

fn sadd_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(sadd, class::SET, "sadd", false)
}

fn srem_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(srem, class::SET, "srem", false)
}

fn spop_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(spop, class::SET, "spop", false)
}

fn sinterstore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(sinterstore, class::SET, "sinterstore", true)
}

fn sunionstore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(sunionstore, class::SET, "sunionstore", true)
}

fn sdiffstore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(sdiffstore, class::SET, "sdiffstore", true)
}

/// SMOVE raises `srem` on the source (`del` if it emptied) and `sadd` on
/// the destination when the member moved.
fn smove_notified(ctx: &mut Ctx) -> CmdResult {
    let before = ctx.srv.keyspace.dirty;
    smove(ctx)?;
    if ctx.srv.keyspace.dirty != before {
        let args = ctx.args;
        let db = ctx.db();
        let gone = ctx.srv.keyspace.dbs[db].get_raw(&args[1]).is_none();
        // Redis's order: srem (and del) on the source, then new and sadd on
        // the destination.
        ctx.notify_before_new(class::SET, "srem", &args[1]);
        if gone {
            ctx.notify_before_new(class::GENERIC, "del", &args[1]);
        }
        if args[1] != args[2] {
            ctx.notify(class::SET, "sadd", &args[2]);
        }
    }
    Ok(())
}
