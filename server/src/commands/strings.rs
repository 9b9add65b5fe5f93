//! String commands: SET and its variants (SETNX SETEX PSETEX GETSET GETEX
//! GETDEL MSET MSETNX), reads (GET MGET STRLEN GETRANGE SUBSTR LCS), in-place
//! edits (APPEND SETRANGE) and counters (INCR DECR INCRBY DECRBY INCRBYFLOAT).
//!
//! Replies, error texts, the order in which errors are detected and the
//! encodings of stored strings follow Redis 7.2. Every handler's effect on the
//! keyspace is one of a few simple shapes, noted on each handler as
//! "Effect:", so replication can later describe it as a single command
//! (relative expiries are already absolute here).
//!
//! This module owns nothing but its handlers and the small helpers the bitmap
//! commands share ([`string_ref`], [`string_mut`], [`bulk_rstr`]).

use bytes::{Bytes, BytesMut};
use handoff_protocol::encode;

use super::ctx::{is, parse_f64, parse_float, parse_i64, CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use crate::errors;
use crate::keyspace::value::{itoa_buf, parse_canonical_i64, EMBSTR_MAX};
use crate::keyspace::{Entry, Keyspace, RStr, Value, NO_EXPIRE};
use crate::pubsub::class;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("set", -3, "write denyoom", "@write @string @slow", keys(1, 1, 1), set)
        .doc("string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)"),
    CommandSpec::new("get", 2, "readonly fast", "@read @string @fast", keys(1, 1, 1), get)
        .doc("string", "1.0.0", "Returns the string value of a key.", "O(1)"),
    CommandSpec::new("getex", -2, "write fast", "@write @string @fast", keys(1, 1, 1), getex)
        .doc("string", "6.2.0", "Returns the string value of a key after setting its expiration time.", "O(1)"),
    CommandSpec::new("getdel", 2, "write fast", "@write @string @fast", keys(1, 1, 1), getdel)
        .doc("string", "6.2.0", "Returns the string value of a key after deleting the key.", "O(1)"),
    CommandSpec::new("getset", 3, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), getset)
        .doc("string", "1.0.0", "Returns the previous string value of a key after setting it to a new value.", "O(1)"),
    CommandSpec::new("mget", -2, "readonly fast", "@read @string @fast", keys(1, -1, 1), mget)
        .doc("string", "1.0.0", "Atomically returns the string values of one or more keys.", "O(N) where N is the number of keys to retrieve.")
        .tips("request_policy:multi_shard"),
    CommandSpec::new("mset", -3, "write denyoom", "@write @string @slow", keys(1, -1, 2), mset)
        .doc("string", "1.0.1", "Atomically creates or modifies the string values of one or more keys.", "O(N) where N is the number of keys to set.")
        .tips("request_policy:multi_shard response_policy:all_succeeded"),
    CommandSpec::new("msetnx", -3, "write denyoom", "@write @string @slow", keys(1, -1, 2), msetnx)
        .doc("string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist.", "O(N) where N is the number of keys to set.")
        .tips("request_policy:multi_shard response_policy:agg_min"),
    CommandSpec::new("setnx", 3, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), setnx)
        .doc("string", "1.0.0", "Set the string value of a key only when the key doesn't exist.", "O(1)"),
    CommandSpec::new("setex", 4, "write denyoom", "@write @string @slow", keys(1, 1, 1), setex)
        .doc("string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "O(1)"),
    CommandSpec::new("psetex", 4, "write denyoom", "@write @string @slow", keys(1, 1, 1), psetex)
        .doc("string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "O(1)"),
    CommandSpec::new("append", 3, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), append)
        .doc("string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist.", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation."),
    CommandSpec::new("strlen", 2, "readonly fast", "@read @string @fast", keys(1, 1, 1), strlen)
        .doc("string", "2.2.0", "Returns the length of a string value.", "O(1)"),
    CommandSpec::new("incr", 2, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), incr)
        .doc("string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    CommandSpec::new("decr", 2, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), decr)
        .doc("string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    CommandSpec::new("incrby", 3, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), incrby)
        .doc("string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    CommandSpec::new("decrby", 3, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), decrby)
        .doc("string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    CommandSpec::new("incrbyfloat", 3, "write denyoom fast", "@write @string @fast", keys(1, 1, 1), incrbyfloat)
        .doc("string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    CommandSpec::new("getrange", 4, "readonly", "@read @string @slow", keys(1, 1, 1), getrange)
        .doc("string", "2.4.0", "Returns a substring of the string stored at a key.", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings."),
    CommandSpec::new("substr", 4, "readonly", "@read @string @slow", keys(1, 1, 1), getrange)
        .doc("string", "1.0.0", "Returns a substring from a string value.", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings."),
    CommandSpec::new("setrange", 4, "write denyoom", "@write @string @slow", keys(1, 1, 1), setrange)
        .doc("string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument."),
    CommandSpec::new("lcs", -3, "readonly", "@read @string @slow", keys(1, 2, 1), lcs)
        .doc("string", "7.0.0", "Finds the longest common substring.", "O(N*M) where N and M are the lengths of s1 and s2, respectively"),
];

const INCR_NAN: &str = "ERR increment would produce NaN or Infinity";
const DECR_OVERFLOW: &str = "ERR decrement would overflow";
const OFFSET_RANGE: &str = "ERR offset is out of range";

// ---------------------------------------------------------------------------
// Helpers shared with the bitmap commands.

/// The string held by `v`, or WRONGTYPE.
#[allow(unreachable_patterns)]
pub(crate) fn string_ref(v: &Value) -> Result<&RStr, CmdError> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

/// The string held by `v` for modification, or WRONGTYPE.
#[allow(unreachable_patterns)]
pub(crate) fn string_mut(v: &mut Value) -> Result<&mut RStr, CmdError> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

/// Finds `key` for a write, expiring it lazily. Like Redis, a client in
/// CLIENT NO-TOUCH mode leaves the key's access time alone on writes too.
pub(crate) fn lookup_write<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
    now: i64,
    no_touch: bool,
) -> Option<&'a mut Entry> {
    if !no_touch {
        return ks.lookup_write(db, key, now);
    }
    if !ks.exists(db, key, now) {
        return None;
    }
    ks.dbs[db].get_raw_mut(key)
}

/// Writes `s` as a bulk string.
pub(crate) fn bulk_rstr(out: &mut BytesMut, s: &RStr) {
    let mut scratch = itoa_buf::Buf::new();
    encode::bulk(out, s.as_bytes(&mut scratch));
}

/// A stored string holding text that must not become `int` encoded
/// (INCRBYFLOAT results): embstr when short, raw otherwise, as Redis's
/// createStringObject picks.
fn text_rstr(b: &[u8]) -> RStr {
    if b.len() <= EMBSTR_MAX {
        RStr::Emb(b.into())
    } else {
        RStr::Raw(b.into())
    }
}

/// The full name of the running command, for error texts.
fn cmd_name(ctx: &Ctx) -> String {
    ctx.srv.commands.entries[ctx.cmd].full_name.clone()
}

fn invalid_expire(ctx: &Ctx) -> CmdError {
    format!("ERR invalid expire time in '{}' command", cmd_name(ctx)).into()
}

// ---------------------------------------------------------------------------
// SET-family option parsing.

/// Which expiry option was given, and the index of its argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ttl {
    Unchanged,
    Keep,
    Persist,
    Ex(usize),
    Px(usize),
    ExAt(usize),
    PxAt(usize),
}

impl Ttl {
    fn same_kind(self, other: Ttl) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// Options of SET (`for_set`) or GETEX.
#[derive(Debug)]
struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    ttl: Ttl,
}

/// Parses the options from argument `from` on, with Redis's conflict rules:
/// NX and XX exclude each other; an expiry kind may be repeated (the last
/// value wins) but not mixed with another kind, KEEPTTL or PERSIST. NX, XX,
/// GET and KEEPTTL belong to SET only, PERSIST to GETEX only.
fn parse_set_opts(args: &[Bytes], from: usize, for_set: bool) -> Result<SetOpts, CmdError> {
    let mut o = SetOpts {
        nx: false,
        xx: false,
        get: false,
        ttl: Ttl::Unchanged,
    };
    let mut j = from;
    while j < args.len() {
        let a = &args[j][..];
        let has_next = j + 1 < args.len();
        let may_set_ttl = |want: Ttl| o.ttl == Ttl::Unchanged || o.ttl.same_kind(want);
        if for_set && is(a, "nx") && !o.xx {
            o.nx = true;
        } else if for_set && is(a, "xx") && !o.nx {
            o.xx = true;
        } else if for_set && is(a, "get") {
            o.get = true;
        } else if for_set && is(a, "keepttl") && may_set_ttl(Ttl::Keep) {
            o.ttl = Ttl::Keep;
        } else if !for_set && is(a, "persist") && may_set_ttl(Ttl::Persist) {
            o.ttl = Ttl::Persist;
        } else if has_next && is(a, "ex") && may_set_ttl(Ttl::Ex(0)) {
            o.ttl = Ttl::Ex(j + 1);
            j += 1;
        } else if has_next && is(a, "px") && may_set_ttl(Ttl::Px(0)) {
            o.ttl = Ttl::Px(j + 1);
            j += 1;
        } else if has_next && is(a, "exat") && may_set_ttl(Ttl::ExAt(0)) {
            o.ttl = Ttl::ExAt(j + 1);
            j += 1;
        } else if has_next && is(a, "pxat") && may_set_ttl(Ttl::PxAt(0)) {
            o.ttl = Ttl::PxAt(j + 1);
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// Turns an expiry argument into absolute Unix milliseconds, or the
/// command's "invalid expire time" error (non-positive values, second values
/// that overflow when scaled, sums that overflow).
fn expire_at(ctx: &Ctx, arg: &[u8], seconds: bool, relative: bool) -> Result<i64, CmdError> {
    let v = parse_i64(arg)?;
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid_expire(ctx));
    }
    let ms = if seconds { v * 1000 } else { v };
    let at = if relative {
        ms.checked_add(ctx.now_ms)
    } else {
        Some(ms)
    };
    match at {
        Some(at) if at > 0 => Ok(at),
        _ => Err(invalid_expire(ctx)),
    }
}

/// The absolute expiry an option asks for, if any.
fn ttl_expire_at(ctx: &Ctx, ttl: Ttl) -> Result<Option<i64>, CmdError> {
    let args = ctx.args;
    Ok(match ttl {
        Ttl::Ex(i) => Some(expire_at(ctx, &args[i], true, true)?),
        Ttl::Px(i) => Some(expire_at(ctx, &args[i], false, true)?),
        Ttl::ExAt(i) => Some(expire_at(ctx, &args[i], true, false)?),
        Ttl::PxAt(i) => Some(expire_at(ctx, &args[i], false, false)?),
        Ttl::Unchanged | Ttl::Keep | Ttl::Persist => None,
    })
}

/// What SET-like commands reply when they set the key, and when NX/XX stop them.
#[derive(Clone, Copy)]
enum SetReply {
    /// `+OK`, or null when not set (SET, SETEX, PSETEX).
    OkOrNull,
    /// `:1` / `:0` (SETNX).
    OneOrZero,
}

/// The common body of SET, SETNX, SETEX and PSETEX.
///
/// Effect: nothing (NX/XX not met), or `SET key value [KEEPTTL | PXAT at]`,
/// or `DEL key` when an absolute expiry is already in the past.
fn generic_set(
    ctx: &mut Ctx,
    key: &Bytes,
    val: &Bytes,
    o: &SetOpts,
    at: Option<i64>,
    reply: SetReply,
) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    if o.get {
        let no_touch = ctx.client.no_touch;
        let resp3 = ctx.resp3();
        match ctx.srv.keyspace.lookup_read(db, key, now, no_touch) {
            Some(e) => bulk_rstr(&mut ctx.client.out, string_ref(&e.value)?),
            None => encode::null_bulk(&mut ctx.client.out, resp3),
        }
    }
    let found = ctx.srv.keyspace.exists(db, key, now);
    if (o.nx && found) || (o.xx && !found) {
        if !o.get {
            match reply {
                SetReply::OkOrNull => ctx.null(),
                SetReply::OneOrZero => ctx.int(0),
            }
        }
        return Ok(());
    }
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let value = RStr::new(val);
    // `exists` above already expired a stale key (as Redis's lookupKeyWrite in SET);
    // only KEEPTTL needs the entry itself, every other SET replaces it whole.
    if o.ttl == Ttl::Keep {
        match lookup_write(ks, db, key, now, no_touch) {
            Some(e) => e.value = Value::Str(value),
            None => ks.set(db, key, Value::Str(value)),
        }
    } else {
        ks.set(db, key, Value::Str(value));
    }
    ks.dirty += 1;
    if let Some(at) = at {
        if at <= now {
            // Already expired: the key is gone at once rather than left for lazy expiry.
            ks.delete(db, key, now);
            if ctx.replicating() {
                ctx.propagate_as(super::argv(&[b"DEL", key]));
            }
        } else {
            ks.dbs[db].set_expire(key, at);
            // Relative (and second) expiries go out as an absolute PXAT, as
            // Redis 7.0 rewrites them (dropping NX/XX/GET: they were applied).
            if !matches!(o.ttl, Ttl::PxAt(_)) && ctx.replicating() {
                let mut v = super::argv(&[b"SET", key, val, b"PXAT"]);
                v.push(super::num_arg(at));
                ctx.propagate_as(v);
            }
        }
    } else if o.get && ctx.replicating() {
        // Without an expiry Redis 7.0 propagates the SET minus its GET (the
        // other options left, NX XX KEEPTTL, take no value).
        let v = ctx.args[..3]
            .iter()
            .chain(ctx.args[3..].iter().filter(|a| !is(a, "get")))
            .cloned()
            .collect();
        ctx.propagate_as(v);
    }
    ctx.notify(class::STRING, "set", key);
    if at.is_some() {
        ctx.notify(class::GENERIC, "expire", key);
    }
    if !o.get {
        match reply {
            SetReply::OkOrNull => ctx.ok(),
            SetReply::OneOrZero => ctx.int(1),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// SET and friends.

fn set(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let o = parse_set_opts(args, 3, true)?;
    let at = ttl_expire_at(ctx, o.ttl)?;
    generic_set(ctx, &args[1], &args[2], &o, at, SetReply::OkOrNull)
}

fn setnx(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let o = SetOpts {
        nx: true,
        xx: false,
        get: false,
        ttl: Ttl::Unchanged,
    };
    generic_set(ctx, &args[1], &args[2], &o, None, SetReply::OneOrZero)
}

fn setex(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let at = expire_at(ctx, &args[2], true, true)?;
    let o = SetOpts {
        nx: false,
        xx: false,
        get: false,
        ttl: Ttl::Ex(2),
    };
    generic_set(ctx, &args[1], &args[3], &o, Some(at), SetReply::OkOrNull)
}

fn psetex(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let at = expire_at(ctx, &args[2], false, true)?;
    let o = SetOpts {
        nx: false,
        xx: false,
        get: false,
        ttl: Ttl::Px(2),
    };
    generic_set(ctx, &args[1], &args[3], &o, Some(at), SetReply::OkOrNull)
}

/// Replies with the string at `key` (null when missing); WRONGTYPE for other
/// types. Returns whether the key exists.
fn reply_get(ctx: &mut Ctx, key: &[u8]) -> Result<bool, CmdError> {
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let resp3 = ctx.resp3();
    match ctx.srv.keyspace.lookup_read(db, key, ctx.now_ms, no_touch) {
        Some(e) => {
            bulk_rstr(&mut ctx.client.out, string_ref(&e.value)?);
            Ok(true)
        }
        None => {
            encode::null_bulk(&mut ctx.client.out, resp3);
            Ok(false)
        }
    }
}

fn get(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    reply_get(ctx, &args[1]).map(|_| ())
}

/// Effect: nothing, `DEL key` (absolute expiry in the past),
/// `PEXPIREAT key at`, or `PERSIST key` (when a TTL was removed).
fn getex(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let key = &args[1];
    let o = parse_set_opts(args, 2, false)?;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let Some(e) = ctx.srv.keyspace.lookup_read(db, key, now, no_touch) else {
        ctx.null();
        return Ok(());
    };
    string_ref(&e.value)?;
    let at = ttl_expire_at(ctx, o.ttl)?;
    if let Some(e) = ctx.srv.keyspace.dbs[db].get_raw(key) {
        bulk_rstr(&mut ctx.client.out, string_ref(&e.value)?);
    }
    let ks = &mut ctx.srv.keyspace;
    let absolute = matches!(o.ttl, Ttl::ExAt(_) | Ttl::PxAt(_));
    match at {
        Some(at) if absolute && at <= now => {
            ks.delete(db, key, now);
            ks.dirty += 1;
            ctx.notify(class::GENERIC, "del", key);
            if ctx.replicating() {
                ctx.propagate_as(super::argv(&[b"DEL", key]));
            }
        }
        Some(at) => {
            ks.dbs[db].set_expire(key, at);
            ks.dirty += 1;
            ctx.notify(class::GENERIC, "expire", key);
            if ctx.replicating() {
                let mut v = super::argv(&[b"PEXPIREAT", key]);
                v.push(super::num_arg(at));
                ctx.propagate_as(v);
            }
        }
        None if o.ttl == Ttl::Persist => {
            let had_ttl = ks.dbs[db]
                .get_raw(key)
                .is_some_and(|e| e.expire_at != NO_EXPIRE);
            if had_ttl {
                ks.dbs[db].set_expire(key, NO_EXPIRE);
                ks.dirty += 1;
                ctx.notify(class::GENERIC, "persist", key);
                if ctx.replicating() {
                    ctx.propagate_as(super::argv(&[b"PERSIST", key]));
                }
            }
        }
        None => {}
    }
    Ok(())
}

/// Effect: `DEL key` when it existed.
fn getdel(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    if reply_get(ctx, &args[1])? {
        let (db, now) = (ctx.db(), ctx.now_ms);
        let ks = &mut ctx.srv.keyspace;
        if ks.delete(db, &args[1], now) {
            ks.dirty += 1;
            ctx.notify(class::GENERIC, "del", &args[1]);
            if ctx.replicating() {
                ctx.propagate_as(super::argv(&[b"DEL", &args[1]]));
            }
        }
    }
    Ok(())
}

/// Effect: `SET key value` (the TTL is cleared), propagated so, as Redis.
fn getset(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    reply_get(ctx, &args[1])?;
    let db = ctx.db();
    let ks = &mut ctx.srv.keyspace;
    ks.set(db, &args[1], Value::Str(RStr::new(&args[2])));
    ks.dirty += 1;
    ctx.notify(class::STRING, "set", &args[1]);
    if ctx.replicating() {
        ctx.propagate_as(super::argv(&[b"SET", &args[1], &args[2]]));
    }
    Ok(())
}

fn mget(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let resp3 = ctx.resp3();
    ctx.array(args.len() - 1);
    for key in &args[1..] {
        let out = &mut ctx.client.out;
        // Missing keys and keys of other types are both null.
        match ctx
            .srv
            .keyspace
            .lookup_read(db, key, now, no_touch)
            .map(|e| string_ref(&e.value))
        {
            Some(Ok(s)) => bulk_rstr(out, s),
            _ => encode::null_bulk(out, resp3),
        }
    }
    Ok(())
}

/// Effect: `MSET k1 v1 k2 v2 ...` (nothing for MSETNX when a key exists).
fn mset_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let args = ctx.args;
    if args.len() % 2 != 1 {
        return Err(errors::wrong_arity(&cmd_name(ctx)).into());
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let ks = &mut ctx.srv.keyspace;
    if nx && args[1..].chunks(2).any(|kv| ks.exists(db, &kv[0], now)) {
        ctx.int(0);
        return Ok(());
    }
    ks.dirty += (args.len() as u64 - 1) / 2;
    for kv in args[1..].chunks(2) {
        ctx.srv
            .keyspace
            .store(db, &kv[0], Value::Str(RStr::new(&kv[1])), now);
        ctx.notify(class::STRING, "set", &kv[0]);
    }
    if nx {
        ctx.int(1);
    } else {
        ctx.ok();
    }
    Ok(())
}

fn mset(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, false)
}

fn msetnx(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, true)
}

// ---------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE, SETRANGE.

/// Effect: the key's new value (`SET key value KEEPTTL`); replicated as the
/// APPEND itself.
fn append(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (key, tail) = (&args[1], &args[2]);
    let db = ctx.db();
    let now = ctx.now_ms;
    let limit = ctx.srv.config.proto_max_bulk_len;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let total = match lookup_write(ks, db, key, now, no_touch) {
        None => {
            ks.set(db, key, Value::Str(RStr::new(tail)));
            tail.len()
        }
        Some(e) => {
            let s = string_mut(&mut e.value)?;
            let fits = (s.len() as u64)
                .checked_add(tail.len() as u64)
                .is_some_and(|t| t <= limit);
            if !fits {
                return Err(errors::STRING_EXCEEDS.into());
            }
            let raw = s.make_raw();
            raw.extend_from_slice(tail);
            raw.len()
        }
    };
    ks.dirty += 1;
    ctx.notify(class::STRING, "append", key);
    ctx.int(total as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let len = match ctx
        .srv
        .keyspace
        .lookup_read(db, &args[1], ctx.now_ms, no_touch)
    {
        Some(e) => string_ref(&e.value)?.len(),
        None => 0,
    };
    ctx.int(len as i64);
    Ok(())
}

/// The byte range GETRANGE returns for a string of `len` bytes, as Redis
/// clamps it (negative indexes count from the end), or None for "".
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return None;
    }
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 {
        (len + end).max(0)
    } else {
        end.min(len - 1)
    };
    if start > end {
        return None;
    }
    Some((start as usize, end as usize))
}

fn getrange(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let out = &mut ctx.client.out;
    let Some(e) = ctx
        .srv
        .keyspace
        .lookup_read(db, &args[1], ctx.now_ms, no_touch)
    else {
        encode::bulk(out, b"");
        return Ok(());
    };
    let mut scratch = itoa_buf::Buf::new();
    let s = string_ref(&e.value)?.as_bytes(&mut scratch);
    match clamp_range(start, end, s.len()) {
        Some((a, b)) => encode::bulk(out, &s[a..=b]),
        None => encode::bulk(out, b""),
    }
    Ok(())
}

/// Effect: nothing when the value is empty, else `SETRANGE key offset value`
/// (the TTL is kept).
fn setrange(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (key, value) = (&args[1], &args[3]);
    let offset = parse_i64(&args[2])?;
    if offset < 0 {
        return Err(OFFSET_RANGE.into());
    }
    let offset = offset as u64;
    let db = ctx.db();
    let now = ctx.now_ms;
    let limit = ctx.srv.config.proto_max_bulk_len;
    let fits = offset
        .checked_add(value.len() as u64)
        .is_some_and(|t| t <= limit);
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let len = match lookup_write(ks, db, key, now, no_touch) {
        None => {
            if value.is_empty() {
                ctx.int(0);
                return Ok(());
            }
            if !fits {
                return Err(errors::STRING_EXCEEDS.into());
            }
            let mut v = vec![0u8; offset as usize + value.len()];
            v[offset as usize..].copy_from_slice(value);
            let len = v.len();
            ks.set(db, key, Value::Str(RStr::Raw(v.into())));
            len
        }
        Some(e) => {
            let s = string_mut(&mut e.value)?;
            if value.is_empty() {
                let len = s.len();
                ctx.int(len as i64);
                return Ok(());
            }
            if !fits {
                return Err(errors::STRING_EXCEEDS.into());
            }
            let raw = s.make_raw();
            let (off, end) = (offset as usize, offset as usize + value.len());
            if raw.len() < end {
                raw.resize(end, 0);
            }
            raw[off..end].copy_from_slice(value);
            raw.len()
        }
    };
    ks.dirty += 1;
    ctx.notify(class::STRING, "setrange", key);
    ctx.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Counters.

/// The integer held by a string, or "value is not an integer or out of range".
fn rstr_i64(s: &RStr) -> Result<i64, CmdError> {
    match s {
        RStr::Int(n) => Ok(*n),
        RStr::Emb(b) => parse_canonical_i64(b).ok_or(errors::NOT_INTEGER.into()),
        RStr::Raw(v) => parse_canonical_i64(v).ok_or(errors::NOT_INTEGER.into()),
    }
}

/// Effect: `SET key <new value> KEEPTTL` (replicated as the command itself).
fn incr_decr(ctx: &mut Ctx, by: i64) -> CmdResult {
    let args = ctx.args;
    let key = &args[1];
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let new = match lookup_write(ks, db, key, now, no_touch) {
        Some(e) => {
            let s = string_mut(&mut e.value)?;
            let new = rstr_i64(s)?
                .checked_add(by)
                .ok_or(CmdError::from(errors::OVERFLOW))?;
            *s = RStr::Int(new);
            new
        }
        None => {
            ks.set(db, key, Value::Str(RStr::Int(by)));
            by
        }
    };
    ks.dirty += 1;
    ctx.notify(class::STRING, "incrby", key);
    ctx.int(new);
    Ok(())
}

fn incr(ctx: &mut Ctx) -> CmdResult {
    incr_decr(ctx, 1)
}

fn decr(ctx: &mut Ctx) -> CmdResult {
    incr_decr(ctx, -1)
}

fn incrby(ctx: &mut Ctx) -> CmdResult {
    let by = ctx.arg_i64(2)?;
    incr_decr(ctx, by)
}

fn decrby(ctx: &mut Ctx) -> CmdResult {
    let by = ctx.arg_i64(2)?;
    let neg = by.checked_neg().ok_or(CmdError::from(DECR_OVERFLOW))?;
    incr_decr(ctx, neg)
}

/// Effect: `SET key <formatted result> KEEPTTL`, which is also how Redis
/// replicates it (float formatting must not differ between nodes).
///
/// Redis computes in `long double`; this uses f64, so results can differ in
/// the last digits for values needing more than 17 significant digits.
fn incrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let key = &args[1];
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let entry = lookup_write(ks, db, key, now, no_touch);
    let current = match &entry {
        Some(e) => Some(match string_ref(&e.value)? {
            RStr::Int(n) => *n as f64,
            RStr::Emb(b) => parse_float(b).ok_or(CmdError::from(errors::NOT_FLOAT))?,
            RStr::Raw(v) => parse_float(v).ok_or(CmdError::from(errors::NOT_FLOAT))?,
        }),
        None => None,
    };
    let incr = parse_f64(&args[2])?;
    let sum = current.unwrap_or(0.0) + incr;
    if !sum.is_finite() {
        return Err(INCR_NAN.into());
    }
    let text = encode::format_incrbyfloat(sum);
    let value = text_rstr(text.as_bytes());
    match entry {
        Some(e) => e.value = Value::Str(value),
        None => ks.set(db, key, Value::Str(value)),
    }
    ks.dirty += 1;
    ctx.notify(class::STRING, "incrbyfloat", key);
    // The result, not the increment: float addition must not be redone.
    if ctx.replicating() {
        ctx.propagate_as(super::argv(&[b"SET", key, text.as_bytes(), b"KEEPTTL"]));
    }
    ctx.bulk(text.as_bytes());
    Ok(())
}

// ---------------------------------------------------------------------------
// LCS.

const LCS_NOT_STRINGS: &str = "ERR The specified keys must contain string values";
const LCS_IDX_AND_LEN: &str = "ERR If you want both the length and indexes, please just use IDX.";
const LCS_TOO_LONG: &str = "ERR String too long for LCS";
const LCS_MEM_LIMIT: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
const LCS_MEM_FAILED: &str = "ERR Insufficient memory, failed allocating transient memory for LCS";

/// One matching range: positions in a and b (inclusive) and its length.
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

/// The table LCS walks: `dp[i][j]` is the LCS length of a[..i] and b[..j].
struct LcsTable {
    dp: Vec<u32>,
    cols: usize,
}

impl LcsTable {
    fn build(a: &[u8], b: &[u8], limit: u64) -> Result<LcsTable, CmdError> {
        let cols = b.len() + 1;
        let cells = (a.len() as u64 + 1)
            .checked_mul(cols as u64)
            .ok_or(CmdError::from(LCS_MEM_LIMIT))?;
        if !matches!(cells.checked_mul(4), Some(bytes) if bytes <= limit) {
            return Err(LCS_MEM_LIMIT.into());
        }
        let mut dp: Vec<u32> = Vec::new();
        dp.try_reserve_exact(cells as usize)
            .map_err(|_| CmdError::from(LCS_MEM_FAILED))?;
        dp.resize(cells as usize, 0);
        for i in 1..=a.len() {
            for j in 1..cols {
                dp[i * cols + j] = if a[i - 1] == b[j - 1] {
                    dp[(i - 1) * cols + j - 1] + 1
                } else {
                    dp[(i - 1) * cols + j].max(dp[i * cols + j - 1])
                };
            }
        }
        Ok(LcsTable { dp, cols })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.dp[i * self.cols + j]
    }

    /// Walks back from the end, as Redis does: returns the common subsequence
    /// and the contiguous matching ranges, last ones first.
    fn walk(&self, a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<LcsMatch>) {
        let total = self.at(a.len(), b.len()) as usize;
        let mut seq = vec![0u8; total];
        let mut idx = total;
        let mut ranges = Vec::new();
        let (mut i, mut j) = (a.len(), b.len());
        // Current range as (a_start, a_end, b_start, b_end), while one is open.
        let mut cur: Option<(usize, usize, usize, usize)> = None;
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                seq[idx - 1] = a[i - 1];
                cur = match cur {
                    None => Some((i - 1, i - 1, j - 1, j - 1)),
                    Some((as_, ae, bs, be)) if as_ == i && bs == j => {
                        Some((as_ - 1, ae, bs - 1, be))
                    }
                    Some(r) => {
                        emit = true;
                        Some(r)
                    }
                };
                if let Some((as_, _, bs, _)) = cur {
                    if as_ == 0 || bs == 0 {
                        emit = true;
                    }
                }
                idx -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = cur.is_some();
            }
            if emit {
                if let Some((as_, ae, bs, be)) = cur.take() {
                    ranges.push(LcsMatch {
                        a: (as_ as u32, ae as u32),
                        b: (bs as u32, be as u32),
                        len: (ae - as_ + 1) as u32,
                    });
                }
            }
        }
        (seq, ranges)
    }
}

fn lcs(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let mut fetch = |key: &[u8]| -> Result<Vec<u8>, ()> {
        match ctx.srv.keyspace.lookup_read(db, key, now, no_touch) {
            None => Ok(Vec::new()),
            Some(e) => string_ref(&e.value).map(|s| s.to_vec()).map_err(|_| ()),
        }
    };
    let a = fetch(&args[1]);
    let b = fetch(&args[2]);
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err(LCS_NOT_STRINGS.into());
    };
    let (mut idx, mut len, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j][..];
        let more = j + 1 < args.len();
        if is(opt, "idx") {
            idx = true;
        } else if is(opt, "len") {
            len = true;
        } else if is(opt, "withmatchlen") {
            withmatchlen = true;
        } else if is(opt, "minmatchlen") && more {
            minmatchlen = parse_i64(&args[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    if idx && len {
        return Err(LCS_IDX_AND_LEN.into());
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(LCS_TOO_LONG.into());
    }
    let table = LcsTable::build(&a, &b, ctx.srv.config.proto_max_bulk_len)?;
    if len && !idx {
        ctx.int(table.at(a.len(), b.len()) as i64);
        return Ok(());
    }
    let (seq, ranges) = table.walk(&a, &b);
    if !idx {
        ctx.bulk(&seq);
        return Ok(());
    }
    let kept: Vec<&LcsMatch> = ranges
        .iter()
        .filter(|m| minmatchlen == 0 || m.len as i64 >= minmatchlen)
        .collect();
    ctx.map(2);
    ctx.bulk(b"matches");
    ctx.array(kept.len());
    for m in kept {
        ctx.array(if withmatchlen { 3 } else { 2 });
        ctx.array(2);
        ctx.int(m.a.0 as i64);
        ctx.int(m.a.1 as i64);
        ctx.array(2);
        ctx.int(m.b.0 as i64);
        ctx.int(m.b.1 as i64);
        if withmatchlen {
            ctx.int(m.len as i64);
        }
    }
    ctx.bulk(b"len");
    ctx.int(seq.len() as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn set_options_follow_redis_conflict_rules() {
        let ok = |v: &[&str]| parse_set_opts(&b(v), 0, true).is_ok();
        assert!(ok(&["nx", "nx"]));
        assert!(ok(&["ex", "1", "ex", "2"]));
        assert!(ok(&["nx", "get", "keepttl"]));
        assert!(!ok(&["nx", "xx"]));
        assert!(!ok(&["ex", "1", "px", "1"]));
        assert!(!ok(&["keepttl", "ex", "1"]));
        assert!(!ok(&["ex"]));
        assert!(!ok(&["persist"]));
        let getex = |v: &[&str]| parse_set_opts(&b(v), 0, false).is_ok();
        assert!(getex(&["persist"]));
        assert!(!getex(&["persist", "ex", "1"]));
        assert!(!getex(&["nx"]));
        assert!(!getex(&["keepttl"]));
    }

    #[test]
    fn ranges_clamp_like_getrange() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, -100, 5), Some((0, 0)));
        assert_eq!(clamp_range(-1, -5, 5), None);
        assert_eq!(clamp_range(3, 100, 5), Some((3, 4)));
        assert_eq!(clamp_range(i64::MAX, i64::MIN, 5), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    #[test]
    fn lcs_walk_finds_the_sequence_and_ranges() {
        let a = b"ohmytext";
        let bb = b"mynewtext";
        let t = LcsTable::build(a, bb, 1 << 20).unwrap();
        let (seq, ranges) = t.walk(a, bb);
        assert_eq!(seq, b"mytext");
        let r: Vec<_> = ranges.iter().map(|m| (m.a, m.b, m.len)).collect();
        assert_eq!(r, vec![((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
    }
}
