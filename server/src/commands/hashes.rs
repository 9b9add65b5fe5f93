//! Hash commands: writes (HSET HMSET HSETNX HDEL HINCRBY HINCRBYFLOAT),
//! reads (HGET HMGET HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL), sampling
//! (HRANDFIELD) and iteration (HSCAN).
//!
//! Replies, error texts and the order in which errors are detected follow
//! Redis 7.2; the representation and its encoding changes live in
//! [`crate::types::hash`]. Every write notes its effect ("Effect:") so
//! replication can later describe it as a single command. A hash that
//! becomes empty deletes its key.

use bytes::{Bytes, BytesMut};
use handoff_protocol::encode;

use super::ctx::{is, parse_f64, parse_float, parse_i64, CmdError, CmdResult, Ctx};
use super::scan_args;
use super::spec::{keys, CommandSpec};
use super::strings::lookup_write;
use crate::errors;
use crate::keyspace::value::{itoa_buf, parse_canonical_i64};
use crate::keyspace::Value;
use crate::pubsub::class;
use crate::types::hash::{Hash, Limits};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, "write denyoom fast", "@write @hash @fast", keys(1, 1, 1), hset_notified)
        .doc("hash", "2.0.0", "Creates or modifies the value of a field in a hash.", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."),
    CommandSpec::new("hmset", -4, "write denyoom fast", "@write @hash @fast", keys(1, 1, 1), hmset_notified)
        .doc("hash", "2.0.0", "Sets the values of multiple fields.", "O(N) where N is the number of fields being set."),
    CommandSpec::new("hsetnx", 4, "write denyoom fast", "@write @hash @fast", keys(1, 1, 1), hsetnx_notified)
        .doc("hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", "O(1)"),
    CommandSpec::new("hget", 3, "readonly fast", "@read @hash @fast", keys(1, 1, 1), hget)
        .doc("hash", "2.0.0", "Returns the value of a field in a hash.", "O(1)"),
    CommandSpec::new("hmget", -3, "readonly fast", "@read @hash @fast", keys(1, 1, 1), hmget)
        .doc("hash", "2.0.0", "Returns the values of all fields in a hash.", "O(N) where N is the number of fields being requested."),
    CommandSpec::new("hdel", -3, "write fast", "@write @hash @fast", keys(1, 1, 1), hdel_notified)
        .doc("hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "O(N) where N is the number of fields to be removed."),
    CommandSpec::new("hlen", 2, "readonly fast", "@read @hash @fast", keys(1, 1, 1), hlen)
        .doc("hash", "2.0.0", "Returns the number of fields in a hash.", "O(1)"),
    CommandSpec::new("hstrlen", 3, "readonly fast", "@read @hash @fast", keys(1, 1, 1), hstrlen)
        .doc("hash", "3.2.0", "Returns the length of the value of a field.", "O(1)"),
    CommandSpec::new("hexists", 3, "readonly fast", "@read @hash @fast", keys(1, 1, 1), hexists)
        .doc("hash", "2.0.0", "Determines whether a field exists in a hash.", "O(1)"),
    CommandSpec::new("hkeys", 2, "readonly", "@read @hash @slow", keys(1, 1, 1), hkeys)
        .doc("hash", "2.0.0", "Returns all fields in a hash.", "O(N) where N is the size of the hash.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("hvals", 2, "readonly", "@read @hash @slow", keys(1, 1, 1), hvals)
        .doc("hash", "2.0.0", "Returns all values in a hash.", "O(N) where N is the size of the hash.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("hgetall", 2, "readonly", "@read @hash @slow", keys(1, 1, 1), hgetall)
        .doc("hash", "2.0.0", "Returns all fields and values in a hash.", "O(N) where N is the size of the hash.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("hincrby", 4, "write denyoom fast", "@write @hash @fast", keys(1, 1, 1), hincrby_notified)
        .doc("hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
    CommandSpec::new("hincrbyfloat", 4, "write denyoom fast", "@write @hash @fast", keys(1, 1, 1), hincrbyfloat_notified)
        .doc("hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
    CommandSpec::new("hrandfield", -2, "readonly", "@read @hash @slow", keys(1, 1, 1), hrandfield)
        .doc("hash", "6.2.0", "Returns one or more random fields from a hash.", "O(N) where N is the number of fields returned")
        .tips("nondeterministic_output"),
    CommandSpec::new("hscan", -3, "readonly", "@read @hash @slow", keys(1, 1, 1), hscan)
        .doc("hash", "2.8.0", "Iterates over fields and values of a hash.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")
        .tips("nondeterministic_output"),
];

const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const INCR_NAN_ARG: &str = "ERR value is NaN or Infinity";
const INCR_NAN: &str = "ERR increment would produce NaN or Infinity";
const COUNT_RANGE: &str = "ERR value is out of range";
const HRANDFIELD_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

// ---------------------------------------------------------------------------
// Helpers.

/// The hash held by `v`, or WRONGTYPE.
pub(crate) fn hash_ref(v: &Value) -> Result<&Hash, CmdError> {
    match v {
        Value::Hash(h) => Ok(h),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

/// The hash held by `v` (mutable), or WRONGTYPE.
pub(crate) fn hash_mut(v: &mut Value) -> Result<&mut Hash, CmdError> {
    match v {
        Value::Hash(h) => Ok(h),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

fn limits(ctx: &Ctx) -> Limits {
    Limits {
        max_entries: ctx.srv.config.hash_max_listpack_entries,
        max_value: ctx.srv.config.hash_max_listpack_value,
    }
}

/// Looks `key` up for reading; `None` when missing, WRONGTYPE when not a hash.
fn read_hash<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a Hash>, CmdError> {
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    match ctx.srv.keyspace.lookup_read(db, key, ctx.now_ms, no_touch) {
        Some(e) => hash_ref(&e.value).map(Some),
        None => Ok(None),
    }
}

/// Runs `f` on the hash at `key`, creating an empty one when the key is
/// missing (Redis's `hashTypeLookupWriteOrCreate`). A created hash is only
/// stored when `f` succeeds and leaves it non-empty. Spare capacity is given
/// back afterwards.
fn with_hash_or_create<T>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut Hash) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    match lookup_write(ks, db, key, now, no_touch) {
        Some(e) => {
            let h = hash_mut(&mut e.value)?;
            let r = f(h);
            h.compact();
            r
        }
        None => {
            let mut h = Hash::new();
            let r = f(&mut h)?;
            if !h.is_empty() {
                h.compact();
                ks.set(db, key, Value::Hash(h));
            }
            Ok(r)
        }
    }
}

fn arity_error(ctx: &Ctx) -> CmdError {
    let name = String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase();
    format!("ERR wrong number of arguments for '{name}' command").into()
}

/// Writes `pairs` as HRANDFIELD does: fields only, or with values as a flat
/// array (RESP2) or an array of [field, value] arrays (RESP3).
fn reply_pairs(out: &mut BytesMut, resp3: bool, withvalues: bool, pairs: &[(&[u8], &[u8])]) {
    let n = pairs.len();
    encode::array_header(out, if withvalues && !resp3 { n * 2 } else { n });
    for &(f, v) in pairs {
        if withvalues && resp3 {
            encode::array_header(out, 2);
        }
        encode::bulk(out, f);
        if withvalues {
            encode::bulk(out, v);
        }
    }
}

/// A small xorshift generator seeded from the keyspace's, so sampling can
/// run while the hash is borrowed.
fn rng(ctx: &mut Ctx) -> impl FnMut() -> u64 {
    let mut x = ctx.srv.keyspace.random() | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

// ---------------------------------------------------------------------------
// Writes.

/// HSET key field value [field value ...]: the number of fields created.
/// Effect: sets the given fields (HSET as received).
fn hset(ctx: &mut Ctx) -> CmdResult {
    let added = set_pairs(ctx)?;
    ctx.int(added as i64);
    Ok(())
}

/// HMSET: HSET replying +OK. Effect: as HSET.
fn hmset(ctx: &mut Ctx) -> CmdResult {
    set_pairs(ctx)?;
    ctx.ok();
    Ok(())
}

fn set_pairs(ctx: &mut Ctx) -> Result<usize, CmdError> {
    let args = ctx.args;
    if args.len() % 2 == 1 {
        return Err(arity_error(ctx));
    }
    let lim = limits(ctx);
    let pairs = &args[2..];
    let added = with_hash_or_create(ctx, &args[1], |h| {
        h.prepare_for(pairs, lim);
        let mut added = 0;
        for p in pairs.chunks_exact(2) {
            if h.set(&p[0], &p[1], lim) {
                added += 1;
            }
        }
        Ok(added)
    })?;
    ctx.srv.keyspace.dirty += (pairs.len() / 2) as u64;
    Ok(added)
}

/// HSETNX key field value: 1 when set, 0 when the field existed.
/// Effect: sets the field when it was missing (HSET key field value).
fn hsetnx(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let lim = limits(ctx);
    let set = with_hash_or_create(ctx, &args[1], |h| {
        if h.contains(&args[2]) {
            return Ok(false);
        }
        h.prepare_for(&args[2..4], lim);
        h.set(&args[2], &args[3], lim);
        Ok(true)
    })?;
    if set {
        ctx.srv.keyspace.dirty += 1;
    }
    ctx.int(set as i64);
    Ok(())
}

/// HDEL key field [field ...]: the number of fields removed.
/// Effect: removes the fields; deletes the key when none remain.
fn hdel(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = lookup_write(ks, db, &args[1], now, no_touch) else {
        ctx.int(0);
        return Ok(());
    };
    let h = hash_mut(&mut e.value)?;
    let mut deleted = 0usize;
    for f in &args[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let empty = h.is_empty();
    h.compact();
    if empty {
        ks.delete(db, &args[1], now);
    }
    ks.dirty += deleted as u64;
    ctx.int(deleted as i64);
    Ok(())
}

/// HINCRBY key field increment: the new value.
/// Effect: sets the field to the reply (HSET key field <value>).
fn hincrby(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let incr = parse_i64(&args[3])?;
    let lim = limits(ctx);
    let value = with_hash_or_create(ctx, &args[1], |h| {
        let current = match h.get(&args[2]) {
            Some(v) => parse_canonical_i64(v).ok_or(CmdError::from(HASH_NOT_INTEGER))?,
            None => 0,
        };
        let value = current
            .checked_add(incr)
            .ok_or(CmdError::from(errors::OVERFLOW))?;
        let mut buf = itoa_buf::Buf::new();
        h.set(&args[2], buf.format(value), lim);
        Ok(value)
    })?;
    ctx.srv.keyspace.dirty += 1;
    ctx.int(value);
    Ok(())
}

/// HINCRBYFLOAT key field increment: the new value as a bulk string.
/// Effect: sets the field to the reply (HSET key field <value>).
fn hincrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let incr = parse_f64(&args[3])?;
    if !incr.is_finite() {
        return Err(INCR_NAN_ARG.into());
    }
    let lim = limits(ctx);
    let text = with_hash_or_create(ctx, &args[1], |h| {
        let current = match h.get(&args[2]) {
            // A stored "inf" parses, then fails as a NaN/Infinity result.
            Some(v) => parse_float(v).ok_or(CmdError::from(HASH_NOT_FLOAT))?,
            None => 0.0,
        };
        let sum = current + incr;
        if !sum.is_finite() {
            return Err(INCR_NAN.into());
        }
        let text = encode::format_incrbyfloat(sum);
        h.set(&args[2], text.as_bytes(), lim);
        Ok(text)
    })?;
    ctx.srv.keyspace.dirty += 1;
    if ctx.replicating() {
        // The result, so replicas do not redo the float addition.
        ctx.propagate_as(super::argv(&[b"HSET", &args[1], &args[2], text.as_bytes()]));
    }
    ctx.bulk(text.as_bytes());
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads.

/// HGET key field: the value, or null.
fn hget(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let resp3 = ctx.resp3();
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let now = ctx.now_ms;
    let h = match ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => Some(hash_ref(&e.value)?),
        None => None,
    };
    let out = &mut ctx.client.out;
    match h.and_then(|h| h.get(&args[2])) {
        Some(v) => encode::bulk(out, v),
        None => encode::null_bulk(out, resp3),
    }
    Ok(())
}

/// HMGET key field [field ...]: an array of values and nulls.
fn hmget(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let resp3 = ctx.resp3();
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let now = ctx.now_ms;
    let h = match ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => Some(hash_ref(&e.value)?),
        None => None,
    };
    let out = &mut ctx.client.out;
    encode::array_header(out, args.len() - 2);
    for f in &args[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => encode::bulk(out, v),
            None => encode::null_bulk(out, resp3),
        }
    }
    Ok(())
}

/// HLEN key: the number of fields (0 when missing).
fn hlen(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let n = read_hash(ctx, &args[1])?.map_or(0, |h| h.len());
    ctx.int(n as i64);
    Ok(())
}

/// HSTRLEN key field: the value's length (0 when missing).
fn hstrlen(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let n = read_hash(ctx, &args[1])?
        .and_then(|h| h.get(&args[2]))
        .map_or(0, |v| v.len());
    ctx.int(n as i64);
    Ok(())
}

/// HEXISTS key field: 1 or 0.
fn hexists(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let found = read_hash(ctx, &args[1])?.is_some_and(|h| h.contains(&args[2]));
    ctx.int(found as i64);
    Ok(())
}

#[derive(Clone, Copy)]
enum Part {
    Keys,
    Values,
    Both,
}

fn get_all(ctx: &mut Ctx, part: Part) -> CmdResult {
    let args = ctx.args;
    let resp3 = ctx.resp3();
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let now = ctx.now_ms;
    let h = match ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) {
        Some(e) => Some(hash_ref(&e.value)?),
        None => None,
    };
    let n = h.map_or(0, |h| h.len());
    let out = &mut ctx.client.out;
    match part {
        Part::Both if resp3 => encode::map_header(out, n),
        Part::Both => encode::array_header(out, n * 2),
        _ => encode::array_header(out, n),
    }
    if let Some(h) = h {
        for (f, v) in h.iter() {
            match part {
                Part::Keys => encode::bulk(out, f),
                Part::Values => encode::bulk(out, v),
                Part::Both => {
                    encode::bulk(out, f);
                    encode::bulk(out, v);
                }
            }
        }
    }
    Ok(())
}

/// HKEYS key: all fields.
fn hkeys(ctx: &mut Ctx) -> CmdResult {
    get_all(ctx, Part::Keys)
}

/// HVALS key: all values.
fn hvals(ctx: &mut Ctx) -> CmdResult {
    get_all(ctx, Part::Values)
}

/// HGETALL key: a map of fields to values (a flat array in RESP2).
fn hgetall(ctx: &mut Ctx) -> CmdResult {
    get_all(ctx, Part::Both)
}

// ---------------------------------------------------------------------------
// HRANDFIELD.

/// HRANDFIELD key [count [WITHVALUES]].
fn hrandfield(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    if args.len() == 2 {
        let mut rand = rng(ctx);
        let pick = read_hash(ctx, &args[1])?
            .and_then(|h| h.random_pair(&mut rand))
            .map(|(f, _)| Bytes::copy_from_slice(f));
        match pick {
            Some(f) => ctx.bulk(&f),
            None => ctx.null(),
        }
        return Ok(());
    }
    let l = parse_i64(&args[2])?;
    if l == i64::MIN {
        return Err(HRANDFIELD_RANGE.into());
    }
    let withvalues = match args.len() {
        3 => false,
        4 if is(&args[3], "withvalues") => true,
        _ => return Err(errors::SYNTAX.into()),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(COUNT_RANGE.into());
    }
    let mut rand = rng(ctx);
    let resp3 = ctx.resp3();
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let now = ctx.now_ms;
    let Some(e) = ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) else {
        ctx.array(0);
        return Ok(());
    };
    let h = hash_ref(&e.value)?;
    let out = &mut ctx.client.out;
    let size = h.len();
    let count = l.unsigned_abs();
    if count == 0 || size == 0 {
        encode::array_header(out, 0);
        return Ok(());
    }
    if l < 0 || count == 1 {
        // With repetitions (or a single pick): streamed, never collected.
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        encode::array_header(
            out,
            if withvalues && !resp3 {
                n.saturating_mul(2)
            } else {
                n
            },
        );
        for _ in 0..n {
            let Some((f, v)) = h.random_pair(&mut rand) else {
                break;
            };
            if withvalues && resp3 {
                encode::array_header(out, 2);
            }
            encode::bulk(out, f);
            if withvalues {
                encode::bulk(out, v);
            }
        }
        return Ok(());
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let picks = h.random_distinct(count, &mut rand);
    reply_pairs(out, resp3, withvalues, &picks);
    Ok(())
}

// ---------------------------------------------------------------------------
// HSCAN.

/// HSCAN key cursor [MATCH pattern] [COUNT count]: the next cursor and a
/// flat array of field,value pairs.
fn hscan(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let cursor = scan_args::cursor(&args[2])?;
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let now = ctx.now_ms;
    let Some(e) = ctx.srv.keyspace.lookup_read(db, &args[1], now, no_touch) else {
        ctx.client.out.extend_from_slice(scan_args::EMPTY_REPLY);
        return Ok(());
    };
    let h = hash_ref(&e.value)?;
    let opts = scan_args::options(&args[3..], false)?;
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, opts.count, |f, v| {
        if opts.matches(f) {
            found.push((f, v));
        }
    });
    let out = &mut ctx.client.out;
    scan_args::reply_header(out, next, found.len() * 2);
    for (f, v) in found {
        encode::bulk(out, f);
        encode::bulk(out, v);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Keyspace notifications: each write raises its event when it changed
// something (and `del` when the key is gone).

fn hset_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(hset, class::HASH, "hset", false)
}

fn hmset_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(hmset, class::HASH, "hset", false)
}

fn hsetnx_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(hsetnx, class::HASH, "hset", false)
}

fn hdel_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(hdel, class::HASH, "hdel", false)
}

fn hincrby_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(hincrby, class::HASH, "hincrby", false)
}

fn hincrbyfloat_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(hincrbyfloat, class::HASH, "hincrbyfloat", false)
}
