//! Sorted set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK
//! ZREVRANK ZCOUNT ZLEXCOUNT, the ZRANGE family (ZRANGE ZRANGESTORE
//! ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE),
//! ZREMRANGEBY{RANK,SCORE,LEX}, ZPOPMIN ZPOPMAX ZMPOP, ZRANDMEMBER, the
//! set operations (ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD) and
//! ZSCAN.
//!
//! Replies, error texts and the order in which errors are detected follow
//! Redis 7.2 (ZRANK/ZREVRANK take WITHSCORE as in 7.2); scores print as
//! `%.17g` like Redis 7.0 (`format_double_like_redis`), RESP3 doubles for
//! scores, and RESP3 WITHSCORES replies are arrays of [member, score] pairs.
//! The representation lives in [`crate::types::zset`]; this module only
//! parses, looks keys up and replies. [`pop_from`] is the reusable pop the
//! blocking BZPOPMIN/BZPOPMAX/BZMPOP will call.
//!
//! Each handler notes its "Effect:" on the keyspace for replication.

use bytes::BytesMut;
use handoff_protocol::encode;

use super::ctx::{is, parse_float, parse_i64, CmdError, CmdResult, Ctx};
use super::scan_args;
use super::spec::{keys, CommandSpec};
use crate::errors;
use crate::keyspace::{Keyspace, Value};
use crate::pubsub::class;
use crate::types::zset::{cmp_pair, AddFlags, AddOutcome, Limits, ZSet};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, "write denyoom fast", "@write @sortedset @fast", keys(1, 1, 1), zadd_notified)
        .doc("sorted-set", "1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    CommandSpec::new("zincrby", 4, "write denyoom fast", "@write @sortedset @fast", keys(1, 1, 1), zincrby_notified)
        .doc("sorted-set", "1.2.0", "Increments the score of a member in a sorted set.", "O(log(N)) where N is the number of elements in the sorted set."),
    CommandSpec::new("zrem", -3, "write fast", "@write @sortedset @fast", keys(1, 1, 1), zrem_notified)
        .doc("sorted-set", "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."),
    CommandSpec::new("zcard", 2, "readonly fast", "@read @sortedset @fast", keys(1, 1, 1), zcard)
        .doc("sorted-set", "1.2.0", "Returns the number of members in a sorted set.", "O(1)"),
    CommandSpec::new("zscore", 3, "readonly fast", "@read @sortedset @fast", keys(1, 1, 1), zscore)
        .doc("sorted-set", "1.2.0", "Returns the score of a member in a sorted set.", "O(1)"),
    CommandSpec::new("zmscore", -3, "readonly fast", "@read @sortedset @fast", keys(1, 1, 1), zmscore)
        .doc("sorted-set", "6.2.0", "Returns the score of one or more members in a sorted set.", "O(N) where N is the number of members being requested."),
    CommandSpec::new("zrank", -3, "readonly fast", "@read @sortedset @fast", keys(1, 1, 1), zrank)
        .doc("sorted-set", "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores.", "O(log(N))"),
    CommandSpec::new("zrevrank", -3, "readonly fast", "@read @sortedset @fast", keys(1, 1, 1), zrevrank)
        .doc("sorted-set", "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores.", "O(log(N))"),
    CommandSpec::new("zcount", 4, "readonly fast", "@read @sortedset @fast", keys(1, 1, 1), zcount)
        .doc("sorted-set", "2.0.0", "Returns the count of members in a sorted set that have scores within a range.", "O(log(N)) with N being the number of elements in the sorted set."),
    CommandSpec::new("zlexcount", 4, "readonly fast", "@read @sortedset @fast", keys(1, 1, 1), zlexcount)
        .doc("sorted-set", "2.8.9", "Returns the number of members in a sorted set within a lexicographical range.", "O(log(N)) with N being the number of elements in the sorted set."),
    CommandSpec::new("zrange", -4, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zrange)
        .doc("sorted-set", "1.2.0", "Returns members in a sorted set within a range of indexes.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
    CommandSpec::new("zrangestore", -5, "write denyoom", "@write @sortedset @slow", keys(1, 2, 1), zrangestore_notified)
        .doc("sorted-set", "6.2.0", "Stores a range of members from sorted set in a key.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."),
    CommandSpec::new("zrangebyscore", -4, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zrangebyscore)
        .doc("sorted-set", "1.0.5", "Returns members in a sorted set within a range of scores.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    CommandSpec::new("zrevrangebyscore", -4, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zrevrangebyscore)
        .doc("sorted-set", "2.2.0", "Returns members in a sorted set within a range of scores in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    CommandSpec::new("zrangebylex", -4, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zrangebylex)
        .doc("sorted-set", "2.8.9", "Returns members in a sorted set within a lexicographical range.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    CommandSpec::new("zrevrangebylex", -4, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zrevrangebylex)
        .doc("sorted-set", "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    CommandSpec::new("zrevrange", -4, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zrevrange)
        .doc("sorted-set", "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
    CommandSpec::new("zremrangebyrank", 4, "write", "@write @sortedset @slow", keys(1, 1, 1), zremrangebyrank_notified)
        .doc("sorted-set", "2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    CommandSpec::new("zremrangebyscore", 4, "write", "@write @sortedset @slow", keys(1, 1, 1), zremrangebyscore_notified)
        .doc("sorted-set", "1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    CommandSpec::new("zremrangebylex", 4, "write", "@write @sortedset @slow", keys(1, 1, 1), zremrangebylex_notified)
        .doc("sorted-set", "2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    CommandSpec::new("zpopmin", -2, "write fast", "@write @sortedset @fast", keys(1, 1, 1), zpopmin_notified)
        .doc("sorted-set", "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
    CommandSpec::new("zpopmax", -2, "write fast", "@write @sortedset @fast", keys(1, 1, 1), zpopmax_notified)
        .doc("sorted-set", "5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
    CommandSpec::new("zmpop", -4, "write movablekeys", "@write @sortedset @slow", keys(0, 0, 0), zmpop)
        .doc("sorted-set", "7.0.0", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."),
    CommandSpec::new("zrandmember", -2, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zrandmember)
        .doc("sorted-set", "6.2.0", "Returns one or more random members from a sorted set.", "O(N) where N is the number of members returned")
        .tips("nondeterministic_output"),
    CommandSpec::new("zunion", -3, "readonly movablekeys", "@read @sortedset @slow", keys(0, 0, 0), zunion)
        .doc("sorted-set", "6.2.0", "Returns the union of multiple sorted sets.", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."),
    CommandSpec::new("zinter", -3, "readonly movablekeys", "@read @sortedset @slow", keys(0, 0, 0), zinter)
        .doc("sorted-set", "6.2.0", "Returns the intersect of multiple sorted sets.", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."),
    CommandSpec::new("zdiff", -3, "readonly movablekeys", "@read @sortedset @slow", keys(0, 0, 0), zdiff)
        .doc("sorted-set", "6.2.0", "Returns the difference between multiple sorted sets.", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."),
    CommandSpec::new("zunionstore", -4, "write denyoom movablekeys", "@write @sortedset @slow", keys(1, 1, 1), zunionstore_notified)
        .doc("sorted-set", "2.0.0", "Stores the union of multiple sorted sets in a key.", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."),
    CommandSpec::new("zinterstore", -4, "write denyoom movablekeys", "@write @sortedset @slow", keys(1, 1, 1), zinterstore_notified)
        .doc("sorted-set", "2.0.0", "Stores the intersect of multiple sorted sets in a key.", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."),
    CommandSpec::new("zdiffstore", -4, "write denyoom movablekeys", "@write @sortedset @slow", keys(1, 1, 1), zdiffstore_notified)
        .doc("sorted-set", "6.2.0", "Stores the difference of multiple sorted sets in a key.", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."),
    CommandSpec::new("zintercard", -3, "readonly movablekeys", "@read @sortedset @slow", keys(0, 0, 0), zintercard)
        .doc("sorted-set", "7.0.0", "Returns the number of members of the intersect of multiple sorted sets.", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."),
    CommandSpec::new("zscan", -3, "readonly", "@read @sortedset @slow", keys(1, 1, 1), zscan)
        .doc("sorted-set", "2.8.0", "Iterates over members and scores of a sorted set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")
        .tips("nondeterministic_output"),
];

const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";

// ---------------------------------------------------------------------------
// Reply writing without borrowing the whole Ctx.

/// Reply writer over the client's output buffer.
struct Out<'a> {
    b: &'a mut BytesMut,
    r3: bool,
}

impl Out<'_> {
    fn arr(&mut self, n: usize) {
        encode::array_header(self.b, n);
    }
    fn bulk(&mut self, d: &[u8]) {
        encode::bulk(self.b, d);
    }
    fn dbl(&mut self, v: f64) {
        if self.r3 {
            encode::double(self.b, v);
        } else {
            encode::bulk_double(self.b, v);
        }
    }
    fn int(&mut self, n: i64) {
        encode::integer(self.b, n);
    }
    fn null(&mut self) {
        encode::null_bulk(self.b, self.r3);
    }
    fn null_arr(&mut self) {
        encode::null_array(self.b, self.r3);
    }

    /// `n` members, with scores when asked: flat in RESP2, [member, score]
    /// pairs in RESP3.
    fn members<'i>(
        &mut self,
        n: usize,
        withscores: bool,
        items: impl Iterator<Item = (&'i [u8], f64)>,
    ) {
        if withscores && !self.r3 {
            self.arr(n * 2);
        } else {
            self.arr(n);
        }
        for (m, s) in items.take(n) {
            if withscores {
                if self.r3 {
                    self.arr(2);
                }
                self.bulk(m);
                self.dbl(s);
            } else {
                self.bulk(m);
            }
        }
    }
}

fn out<'a>(ctx: &'a mut Ctx) -> Out<'a> {
    let r3 = ctx.resp3();
    Out {
        b: &mut ctx.client.out,
        r3,
    }
}

// ---------------------------------------------------------------------------
// Helpers.

pub(crate) fn limits(ctx: &Ctx) -> Limits {
    Limits {
        entries: usize::try_from(ctx.srv.config.zset_max_listpack_entries).unwrap_or(usize::MAX),
        value: usize::try_from(ctx.srv.config.zset_max_listpack_value).unwrap_or(usize::MAX),
    }
}

fn as_zset(v: &Value) -> Result<&ZSet, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

fn as_zset_mut(v: &mut Value) -> Result<&mut ZSet, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

/// The zset at `args[i]` for a read (None when missing), or WRONGTYPE.
fn read<'a>(ctx: &'a mut Ctx, i: usize) -> Result<Option<&'a ZSet>, CmdError> {
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let key = &ctx.args[i];
    match ctx.srv.keyspace.lookup_read(db, key, now, nt) {
        Some(e) => as_zset(&e.value).map(Some),
        None => Ok(None),
    }
}

/// The zset at `key` for a write (None when missing), or WRONGTYPE.
fn write<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
    now: i64,
    no_touch: bool,
) -> Result<Option<&'a mut ZSet>, CmdError> {
    match super::strings::lookup_write(ks, db, key, now, no_touch) {
        Some(e) => as_zset_mut(&mut e.value).map(Some),
        None => Ok(None),
    }
}

/// Deletes `key` when its zset became empty.
fn drop_if_empty(ks: &mut Keyspace, db: usize, key: &[u8], now: i64) {
    let empty = ks.dbs[db]
        .get_raw(key)
        .is_some_and(|e| matches!(&e.value, Value::ZSet(z) if z.is_empty()));
    if empty {
        ks.delete(db, key, now);
    }
}

/// A score argument as getDoubleFromObject reads it: strtod on the whole
/// string, no leading space, NaN and overflow/underflow to zero rejected.
pub(crate) fn parse_score(b: &[u8]) -> Option<f64> {
    let v = parse_float(b)?;
    if v.is_infinite() {
        let lower = b.to_ascii_lowercase();
        let body = lower
            .strip_prefix(b"+")
            .or_else(|| lower.strip_prefix(b"-"))
            .unwrap_or(&lower);
        if body != b"inf" && body != b"infinity" {
            return None;
        }
    }
    if v == 0.0 {
        let mantissa = b
            .split(|&c| c == b'e' || c == b'E' || c == b'p' || c == b'P')
            .next();
        let hex = b.len() > 2 && (b.contains(&b'x') || b.contains(&b'X'));
        if !hex && mantissa.is_some_and(|m| m.iter().any(|c| (b'1'..=b'9').contains(c))) {
            return None;
        }
    }
    Some(v)
}

fn arg_score(b: &[u8], err: &'static str) -> Result<f64, CmdError> {
    parse_score(b).ok_or_else(|| err.into())
}

/// A range bound as zslParseRange reads it: `(` for exclusive, then strtod
/// (leading spaces allowed, empty is 0, overflow is +-inf), NaN rejected.
fn parse_score_bound(b: &[u8]) -> Option<(f64, bool)> {
    let (ex, rest) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    let start = rest
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(rest.len());
    let t = &rest[start..];
    if t.is_empty() {
        return Some((0.0, ex));
    }
    let v = parse_float(t)?;
    Some((v, ex))
}

#[derive(Clone, Copy)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<Self, CmdError> {
        match (parse_score_bound(min), parse_score_bound(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
                min,
                minex,
                max,
                maxex,
            }),
            _ => Err(NOT_FLOAT_RANGE.into()),
        }
    }

    /// Ascending ranks [lo, hi) of the members in range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let r = *self;
        let lo = z.count_while(|s, _| if r.minex { s <= r.min } else { s < r.min });
        let hi = z.count_while(|s, _| if r.maxex { s < r.max } else { s <= r.max });
        (lo, hi.max(lo))
    }
}

#[derive(Clone, Copy)]
enum Lex<'a> {
    Min,
    Max,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

fn parse_lex(b: &[u8]) -> Option<Lex<'_>> {
    match b.first()? {
        b'+' if b.len() == 1 => Some(Lex::Max),
        b'-' if b.len() == 1 => Some(Lex::Min),
        b'[' => Some(Lex::Incl(&b[1..])),
        b'(' => Some(Lex::Excl(&b[1..])),
        _ => None,
    }
}

#[derive(Clone, Copy)]
struct LexRange<'a> {
    min: Lex<'a>,
    max: Lex<'a>,
}

impl<'a> LexRange<'a> {
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<Self, CmdError> {
        match (parse_lex(min), parse_lex(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(NOT_LEX_RANGE.into()),
        }
    }

    /// Ascending ranks [lo, hi) of the members in range (members are
    /// assumed to share one score, as Redis requires for lex ranges).
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let lo = match self.min {
            Lex::Min => 0,
            Lex::Max => z.len(),
            Lex::Incl(x) => z.count_while(|_, m| m < x),
            Lex::Excl(x) => z.count_while(|_, m| m <= x),
        };
        let hi = match self.max {
            Lex::Min => 0,
            Lex::Max => z.len(),
            Lex::Incl(x) => z.count_while(|_, m| m <= x),
            Lex::Excl(x) => z.count_while(|_, m| m < x),
        };
        (lo, hi.max(lo))
    }
}

/// Ascending [start, end] of a rank range given as Redis indexes (negative
/// from the end), or None when empty.
fn rank_window(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 {
        start.saturating_add(llen)
    } else {
        start
    };
    let mut end = if end < 0 {
        end.saturating_add(llen)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// First ascending rank to emit and how many, for a [lo, hi) window with
/// LIMIT offset/count, walking up or (rev) down.
fn limit_window(lo: usize, hi: usize, rev: bool, offset: i64, limit: i64) -> (usize, usize) {
    if offset < 0 || hi <= lo {
        return (0, 0);
    }
    let avail = hi - lo;
    let off = usize::try_from(offset).unwrap_or(usize::MAX);
    if off >= avail {
        return (0, 0);
    }
    let n = avail - off;
    let n = if limit < 0 {
        n
    } else {
        n.min(usize::try_from(limit).unwrap_or(usize::MAX))
    };
    let first = if rev { hi - 1 - off } else { lo + off };
    (first, n)
}

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY

/// Effect: the members' scores as replied (ZADD with the final scores).
fn zadd(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let mut f = AddFlags::default();
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else if is(a, "incr") {
            f.incr = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if elements == 0 || !elements.is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    if f.nx && f.xx {
        return Err("ERR XX and NX options at the same time are not compatible".into());
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err("ERR GT, LT, and/or NX options at the same time are not compatible".into());
    }
    if f.incr && elements > 2 {
        return Err("ERR INCR option supports a single increment-element pair".into());
    }
    let mut scores = Vec::with_capacity(elements / 2);
    for p in args[i..].chunks_exact(2) {
        scores.push(arg_score(&p[0], errors::NOT_FLOAT)?);
    }
    add_generic(ctx, i, &scores, f, ch)
}

/// Effect: ZADD key <new score> member.
fn zincrby(ctx: &mut Ctx) -> CmdResult {
    let score = arg_score(&ctx.args[2], errors::NOT_FLOAT)?;
    let f = AddFlags {
        incr: true,
        ..Default::default()
    };
    add_generic(ctx, 2, &[score], f, false)
}

fn add_generic(ctx: &mut Ctx, first: usize, scores: &[f64], f: AddFlags, ch: bool) -> CmdResult {
    let lim = limits(ctx);
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let args = ctx.args;
    let key = &args[1];
    let ks = &mut ctx.srv.keyspace;
    let exists = write(ks, db, key, now, nt)?.is_some();
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut nan = false;
    if exists || !f.xx {
        if !exists {
            let max_len = args[first..]
                .chunks_exact(2)
                .map(|p| p[1].len())
                .max()
                .unwrap_or(0);
            ks.set(
                db,
                key,
                Value::ZSet(ZSet::with_hint(scores.len(), max_len, lim)),
            );
        }
        let Some(z) = write(ks, db, key, now, nt)? else {
            return Err(errors::WRONGTYPE.into());
        };
        for (p, &score) in args[first..].chunks_exact(2).zip(scores) {
            match z.add(&p[1], score, f, lim) {
                AddOutcome::Added(s) => {
                    added += 1;
                    processed += 1;
                    last = s;
                }
                AddOutcome::Updated(s) => {
                    updated += 1;
                    processed += 1;
                    last = s;
                }
                AddOutcome::Unchanged(s) => {
                    processed += 1;
                    last = s;
                }
                AddOutcome::Skipped => {}
                AddOutcome::Nan => {
                    nan = true;
                    break;
                }
            }
        }
        ks.dirty += (added + updated) as u64;
        drop_if_empty(ks, db, key, now);
    }
    if nan {
        return Err(NAN_SCORE.into());
    }
    let mut o = out(ctx);
    if f.incr {
        if processed > 0 {
            o.dbl(last);
        } else {
            o.null();
        }
    } else {
        o.int(if ch { added + updated } else { added });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Simple reads and ZREM

/// Effect: ZREM key members... (those removed); DEL when the set empties.
fn zrem(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let args = ctx.args;
    let ks = &mut ctx.srv.keyspace;
    let mut removed = 0i64;
    if let Some(z) = write(ks, db, &args[1], now, nt)? {
        for m in &args[2..] {
            if z.remove(m).is_some() {
                removed += 1;
                if z.is_empty() {
                    break;
                }
            }
        }
    }
    ks.dirty += removed as u64;
    drop_if_empty(ks, db, &args[1], now);
    ctx.int(removed);
    Ok(())
}

fn zcard(ctx: &mut Ctx) -> CmdResult {
    let n = read(ctx, 1)?.map_or(0, |z| z.len());
    ctx.int(n as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx) -> CmdResult {
    let member = ctx.args[2].clone();
    let s = read(ctx, 1)?.and_then(|z| z.score(&member));
    match s {
        Some(s) => ctx.double(s),
        None => ctx.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let scores: Vec<Option<f64>> = match read(ctx, 1)? {
        Some(z) => args[2..].iter().map(|m| z.score(m)).collect(),
        None => vec![None; args.len() - 2],
    };
    let mut o = out(ctx);
    o.arr(scores.len());
    for s in scores {
        match s {
            Some(s) => o.dbl(s),
            None => o.null(),
        }
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx) -> CmdResult {
    rank_generic(ctx, false)
}

fn zrevrank(ctx: &mut Ctx) -> CmdResult {
    rank_generic(ctx, true)
}

fn rank_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let args = ctx.args;
    if args.len() > 4 {
        let name = if rev { "zrevrank" } else { "zrank" };
        return Err(errors::wrong_arity(name).into());
    }
    let withscore = args.len() == 4;
    if withscore && !is(&args[3], "withscore") {
        return Err(errors::SYNTAX.into());
    }
    let found = read(ctx, 1)?.and_then(|z| {
        z.rank(&args[2])
            .map(|(r, s)| (if rev { z.len() - 1 - r } else { r }, s))
    });
    let mut o = out(ctx);
    match found {
        Some((r, s)) => {
            if withscore {
                o.arr(2);
            }
            o.int(r as i64);
            if withscore {
                o.dbl(s);
            }
        }
        None if withscore => o.null_arr(),
        None => o.null(),
    }
    Ok(())
}

fn zcount(ctx: &mut Ctx) -> CmdResult {
    let range = ScoreRange::parse(&ctx.args[2], &ctx.args[3])?;
    let n = read(ctx, 1)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    ctx.int(n as i64);
    Ok(())
}

fn zlexcount(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let range = LexRange::parse(&args[2], &args[3])?;
    let n = read(ctx, 1)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    ctx.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// The ZRANGE family

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed range request.
struct RangeReq<'a> {
    kind: RangeType,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
    rank: (i64, i64),
    score: Option<ScoreRange>,
    lex: Option<LexRange<'a>>,
}

/// Parses `<min> <max> [options]` starting at `args[at]` (`at` is the key).
fn parse_range<'a>(
    args: &'a [bytes::Bytes],
    at: usize,
    store: bool,
    mut kind: RangeType,
    rev_fixed: Option<bool>,
) -> Result<RangeReq<'a>, CmdError> {
    let mut rev = rev_fixed.unwrap_or(false);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = at + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = parse_i64(&args[j + 1])?;
            limit = parse_i64(&args[j + 2])?;
            j += 2;
        } else if rev_fixed.is_none() && !rev && is(a, "rev") {
            rev = true;
        } else if kind == RangeType::Auto && is(a, "bylex") {
            kind = RangeType::Lex;
        } else if kind == RangeType::Auto && is(a, "byscore") {
            kind = RangeType::Score;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    if kind == RangeType::Auto {
        kind = RangeType::Rank;
    }
    if (offset != 0 || limit != -1) && kind == RangeType::Rank {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                .into(),
        );
    }
    if withscores && kind == RangeType::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX".into());
    }
    let (mut min, mut max) = (&args[at + 1], &args[at + 2]);
    if rev && kind != RangeType::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let mut req = RangeReq {
        kind,
        rev,
        withscores,
        offset,
        limit,
        rank: (0, 0),
        score: None,
        lex: None,
    };
    match kind {
        RangeType::Score => req.score = Some(ScoreRange::parse(min, max)?),
        RangeType::Lex => req.lex = Some(LexRange::parse(min, max)?),
        _ => req.rank = (parse_i64(min)?, parse_i64(max)?),
    }
    Ok(req)
}

impl RangeReq<'_> {
    /// First ascending rank and count of the members to emit.
    fn window(&self, z: &ZSet) -> (usize, usize) {
        let len = z.len();
        match self.kind {
            RangeType::Score | RangeType::Lex => {
                let (lo, hi) = match (&self.score, &self.lex) {
                    (Some(r), _) => r.ranks(z),
                    (_, Some(r)) => r.ranks(z),
                    _ => (0, 0),
                };
                limit_window(lo, hi, self.rev, self.offset, self.limit)
            }
            _ => match rank_window(self.rank.0, self.rank.1, len) {
                Some((s, e)) => {
                    let first = if self.rev { len - 1 - s } else { s };
                    (first, e - s + 1)
                }
                None => (0, 0),
            },
        }
    }
}

fn range_reply(ctx: &mut Ctx, kind: RangeType, rev: Option<bool>) -> CmdResult {
    let args = ctx.args;
    let req = parse_range(args, 1, false, kind, rev)?;
    let r3 = ctx.resp3();
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let outbuf = &mut ctx.client.out;
    let mut o = Out { b: outbuf, r3 };
    match ctx.srv.keyspace.lookup_read(db, &args[1], now, nt) {
        None => o.arr(0),
        Some(e) => {
            let z = as_zset(&e.value)?;
            let (first, n) = req.window(z);
            o.members(n, req.withscores, z.iter_from(first, req.rev));
        }
    }
    Ok(())
}

fn zrange(ctx: &mut Ctx) -> CmdResult {
    range_reply(ctx, RangeType::Auto, None)
}
fn zrevrange(ctx: &mut Ctx) -> CmdResult {
    range_reply(ctx, RangeType::Rank, Some(true))
}
fn zrangebyscore(ctx: &mut Ctx) -> CmdResult {
    range_reply(ctx, RangeType::Score, Some(false))
}
fn zrevrangebyscore(ctx: &mut Ctx) -> CmdResult {
    range_reply(ctx, RangeType::Score, Some(true))
}
fn zrangebylex(ctx: &mut Ctx) -> CmdResult {
    range_reply(ctx, RangeType::Lex, Some(false))
}
fn zrevrangebylex(ctx: &mut Ctx) -> CmdResult {
    range_reply(ctx, RangeType::Lex, Some(true))
}

/// Effect: the destination replaced by the stored set (or DEL when empty).
fn zrangestore(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let req = parse_range(args, 2, true, RangeType::Auto, None)?;
    let mut pairs: Vec<(f64, Vec<u8>)> = match read(ctx, 2)? {
        None => Vec::new(),
        Some(z) => {
            let (first, n) = req.window(z);
            z.iter_from(first, req.rev)
                .take(n)
                .map(|(m, s)| (s, m.to_vec()))
                .collect()
        }
    };
    if req.rev {
        pairs.reverse();
    }
    let n = store_result(ctx, &args[1].clone(), pairs);
    ctx.int(n as i64);
    Ok(())
}

/// Stores sorted pairs at `dst` (deleting it when empty); returns the count.
fn store_result(ctx: &mut Ctx, dst: &[u8], pairs: Vec<(f64, Vec<u8>)>) -> usize {
    let lim = limits(ctx);
    let db = ctx.db();
    let now = ctx.now_ms;
    let ks = &mut ctx.srv.keyspace;
    let n = pairs.len();
    if n > 0 {
        let z = ZSet::from_sorted(&pairs, lim);
        ks.store(db, dst, Value::ZSet(z), now);
        ks.dirty += 1;
    } else if ks.delete(db, dst, now) {
        ks.dirty += 1;
    }
    n
}

// ---------------------------------------------------------------------------
// ZREMRANGEBY*

/// Effect: ZREMRANGEBYRANK key start stop as given (or the removed members).
fn zremrangebyrank(ctx: &mut Ctx) -> CmdResult {
    let start = parse_i64(&ctx.args[2])?;
    let end = parse_i64(&ctx.args[3])?;
    remrange(ctx, |z| {
        rank_window(start, end, z.len()).map_or((0, 0), |(s, e)| (s, e + 1))
    })
}

/// Effect: ZREMRANGEBYSCORE as given.
fn zremrangebyscore(ctx: &mut Ctx) -> CmdResult {
    let range = ScoreRange::parse(&ctx.args[2], &ctx.args[3])?;
    remrange(ctx, |z| range.ranks(z))
}

/// Effect: ZREMRANGEBYLEX as given.
fn zremrangebylex(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let range = LexRange::parse(&args[2], &args[3])?;
    remrange(ctx, |z| range.ranks(z))
}

fn remrange(ctx: &mut Ctx, window: impl Fn(&ZSet) -> (usize, usize)) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let key = &ctx.args[1];
    let ks = &mut ctx.srv.keyspace;
    let mut removed = 0;
    if let Some(z) = write(ks, db, key, now, nt)? {
        let (lo, hi) = window(z);
        if hi > lo {
            removed = z.remove_rank_range(lo, hi - lo);
        }
    }
    ks.dirty += removed as u64;
    drop_if_empty(ks, db, key, now);
    ctx.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Pops

/// Members popped with their scores, in pop order.
pub type Popped = Vec<(Vec<u8>, f64)>;

/// Pops up to `count` members from the low (or, with `max`, high) end of the
/// zset at `key`, deleting the key when it empties and counting the change
/// in `dirty`. Returns None when the key is missing; WRONGTYPE for another
/// type. For ZPOPMIN/ZPOPMAX/ZMPOP and the blocking variants.
pub fn pop_from(
    ks: &mut Keyspace,
    db: usize,
    key: &[u8],
    now: i64,
    count: usize,
    max: bool,
) -> Result<Option<Popped>, CmdError> {
    let Some(z) = write(ks, db, key, now, false)? else {
        return Ok(None);
    };
    let popped = z.pop(count, max);
    ks.dirty += popped.len() as u64;
    drop_if_empty(ks, db, key, now);
    Ok(Some(popped))
}

/// Writes popped pairs: flat [m, s, ...] unless `nested` (RESP3 with a
/// count, and ZMPOP), which gives [[m, s], ...].
fn write_popped(o: &mut Out, popped: &[(Vec<u8>, f64)], nested: bool) {
    if nested {
        o.arr(popped.len());
    } else {
        o.arr(popped.len() * 2);
    }
    for (m, s) in popped {
        if nested {
            o.arr(2);
        }
        o.bulk(m);
        o.dbl(*s);
    }
}

fn zpopmin(ctx: &mut Ctx) -> CmdResult {
    zpop_generic(ctx, false)
}

fn zpopmax(ctx: &mut Ctx) -> CmdResult {
    zpop_generic(ctx, true)
}

/// Effect: ZPOPMIN/ZPOPMAX key count (or ZREM of the popped members).
fn zpop_generic(ctx: &mut Ctx, max: bool) -> CmdResult {
    let args = ctx.args;
    if args.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let mut count = 1usize;
    let has_count = args.len() == 3;
    if has_count {
        let n = parse_i64(&args[2]).map_err(|_| CmdError::from(MUST_BE_POSITIVE))?;
        if n < 0 {
            return Err(MUST_BE_POSITIVE.into());
        }
        count = usize::try_from(n).unwrap_or(usize::MAX);
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let popped = pop_from(&mut ctx.srv.keyspace, db, &args[1], now, count, max)?;
    let mut o = out(ctx);
    match popped {
        None => o.arr(0),
        Some(p) => {
            let nested = o.r3 && has_count;
            write_popped(&mut o, &p, nested);
        }
    }
    Ok(())
}

/// Parses ZMPOP/BZMPOP arguments from `numkeys_idx`: (keys, max, count).
pub fn parse_mpop(
    args: &[bytes::Bytes],
    numkeys_idx: usize,
) -> Result<(std::ops::Range<usize>, bool, usize), CmdError> {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = parse_i64(&args[numkeys_idx]).map_err(|_| CmdError::from(NUMKEYS))?;
    if numkeys < 1 {
        return Err(NUMKEYS.into());
    }
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_idx + 1))
        .filter(|&w| w < args.len())
        .ok_or(CmdError::from(errors::SYNTAX))?;
    let max = if is(&args[where_idx], "min") {
        false
    } else if is(&args[where_idx], "max") {
        true
    } else {
        return Err(errors::SYNTAX.into());
    };
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "count") && j + 1 < args.len() {
            j += 1;
            const COUNT: &str = "ERR count should be greater than 0";
            let n = parse_i64(&args[j]).map_err(|_| CmdError::from(COUNT))?;
            if n < 1 {
                return Err(COUNT.into());
            }
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok((numkeys_idx + 1..where_idx, max, count.unwrap_or(1)))
}

/// Effect: ZPOPMIN/ZPOPMAX of the key that had members, with the count popped.
/// The effect of a served ZMPOP/BZMPOP/BZPOPMIN/BZPOPMAX, as Redis 7.0
/// propagates it: `ZPOPMIN|ZPOPMAX key [number popped]`.
pub(crate) fn propagate_zpop(ctx: &mut Ctx, key: &[u8], max: bool, count: Option<usize>) {
    if !ctx.replicating() {
        return;
    }
    let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    let mut v = super::argv(&[cmd, key]);
    if let Some(n) = count {
        v.push(super::num_arg(n as i64));
    }
    ctx.propagate_as(v);
}

fn zmpop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (keys, max, count) = parse_mpop(args, 1)?;
    let db = ctx.db();
    let now = ctx.now_ms;
    for k in keys {
        let key = &args[k];
        if let Some(p) = pop_from(&mut ctx.srv.keyspace, db, key, now, count, max)? {
            propagate_zpop(ctx, key, max, Some(p.len()));
            let mut o = out(ctx);
            o.arr(2);
            o.bulk(key);
            write_popped(&mut o, &p, true);
            return Ok(());
        }
    }
    out(ctx).null_arr();
    Ok(())
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER

fn zrandmember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    if args.len() == 2 {
        let db = ctx.db();
        let now = ctx.now_ms;
        let nt = ctx.client.no_touch;
        let ks = &mut ctx.srv.keyspace;
        let r = ks.random();
        let member = match ks.lookup_read(db, &args[1], now, nt) {
            None => None,
            Some(e) => {
                let z = as_zset(&e.value)?;
                let len = z.len() as u64;
                if len == 0 {
                    None
                } else {
                    z.iter_from((r % len) as usize, false)
                        .next()
                        .map(|(m, _)| m.to_vec())
                }
            }
        };
        match member {
            Some(m) => ctx.bulk(&m),
            None => ctx.null(),
        }
        return Ok(());
    }
    let l = parse_i64(&args[2])?;
    if l == i64::MIN {
        return Err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                .into(),
        );
    }
    if args.len() > 4 || (args.len() == 4 && !is(&args[3], "withscores")) {
        return Err(errors::SYNTAX.into());
    }
    let withscores = args.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err("ERR value is out of range".into());
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let r3 = ctx.resp3();
    let ks = &mut ctx.srv.keyspace;
    let mut seed = ks.random() | 1;
    let Some(e) = ks.lookup_read(db, &args[1], now, nt) else {
        encode::array_header(&mut ctx.client.out, 0);
        return Ok(());
    };
    let z = as_zset(&e.value)?;
    let mut o = Out {
        b: &mut ctx.client.out,
        r3,
    };
    let len = z.len();
    let mut next_rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    if l == 0 || len == 0 {
        o.arr(0);
        return Ok(());
    }
    if l < 0 {
        // Repetitions allowed: each pick is independent.
        let n = l.unsigned_abs() as usize;
        if withscores && !r3 {
            o.arr(n * 2);
        } else {
            o.arr(n);
        }
        for _ in 0..n {
            let rank = (next_rand() % len as u64) as usize;
            if let Some((m, s)) = z.iter_from(rank, false).next() {
                if withscores {
                    if r3 {
                        o.arr(2);
                    }
                    o.bulk(m);
                    o.dbl(s);
                } else {
                    o.bulk(m);
                }
            }
        }
        return Ok(());
    }
    let n = l as usize;
    if n >= len {
        // The whole set, highest first, as Redis replies.
        o.members(len, withscores, z.iter_from(len - 1, true));
        return Ok(());
    }
    // Distinct members: choose `n` ranks by selection sampling (in rank order),
    // then shuffle so the reply order is random as in Redis.
    let mut ranks: Vec<usize> = Vec::with_capacity(n);
    if n * 3 > len {
        let mut need = n;
        for i in 0..len {
            if need == 0 {
                break;
            }
            if (next_rand() % (len - i) as u64) < need as u64 {
                ranks.push(i);
                need -= 1;
            }
        }
    } else {
        let mut seen = hashbrown::HashSet::with_capacity(n);
        while ranks.len() < n {
            let r = (next_rand() % len as u64) as usize;
            if seen.insert(r) {
                ranks.push(r);
            }
        }
    }
    for i in (1..ranks.len()).rev() {
        let j = (next_rand() % (i as u64 + 1)) as usize;
        ranks.swap(i, j);
    }
    let items = ranks.iter().filter_map(|&r| z.iter_from(r, false).next());
    o.members(ranks.len(), withscores, items);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF (+STORE) / ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// One input: its members with scores (a plain set's members score 1).
struct Source {
    items: Option<SourceItems>,
    weight: f64,
}

enum SourceItems {
    Z(Vec<(Vec<u8>, f64)>),
}

impl Source {
    fn len(&self) -> usize {
        match &self.items {
            Some(SourceItems::Z(v)) => v.len(),
            None => 0,
        }
    }
    fn pairs(&self) -> &[(Vec<u8>, f64)] {
        match &self.items {
            Some(SourceItems::Z(v)) => v,
            None => &[],
        }
    }
}

fn aggregate(acc: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *acc += v;
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *acc {
                *acc = v;
            }
        }
        Aggregate::Max => {
            if v > *acc {
                *acc = v;
            }
        }
    }
}

fn weighted(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Effect (STORE forms): the destination replaced by the result (or DEL).
fn setop_generic(
    ctx: &mut Ctx,
    numkeys_idx: usize,
    dst: Option<usize>,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let args = ctx.args;
    let setnum = parse_i64(&args[numkeys_idx])?;
    if setnum < 1 {
        let name = ctx
            .srv
            .commands
            .entries
            .get(ctx.cmd)
            .map_or("", |e| e.full_name.as_str());
        return Err(format!("ERR at least 1 input key is needed for '{name}' command").into());
    }
    let setnum = usize::try_from(setnum).unwrap_or(usize::MAX);
    if setnum > args.len() - (numkeys_idx + 1) {
        return Err(errors::SYNTAX.into());
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let mut src: Vec<Source> = Vec::with_capacity(setnum);
    for k in &args[numkeys_idx + 1..numkeys_idx + 1 + setnum] {
        let ks = &mut ctx.srv.keyspace;
        let found = if dst.is_some() {
            super::strings::lookup_write(ks, db, k, now, nt)
        } else {
            ks.lookup_read(db, k, now, nt)
        };
        let items = match found {
            None => None,
            Some(e) => match &e.value {
                Value::ZSet(z) => Some(SourceItems::Z(z.to_pairs())),
                Value::Set(s) => Some(SourceItems::Z(
                    s.digest_items().into_iter().map(|m| (m, 1.0)).collect(),
                )),
                _ => return Err(errors::WRONGTYPE.into()),
            },
        };
        src.push(Source { items, weight: 1.0 });
    }
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = numkeys_idx + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && is(a, "weights") {
            j += 1;
            for s in src.iter_mut() {
                s.weight = arg_score(&args[j], "ERR weight value is not a float")?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a, "aggregate") {
            let v = &args[j + 1];
            how = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(errors::SYNTAX.into());
            };
            j += 2;
        } else if dst.is_none() && !card_only && is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a, "limit") {
            const NEG: &str = "ERR LIMIT can't be negative";
            let n = parse_i64(&args[j + 1]).map_err(|_| CmdError::from(NEG))?;
            if n < 0 {
                return Err(NEG.into());
            }
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }

    if card_only {
        let n = inter_card(&mut src, limit);
        ctx.int(n as i64);
        return Ok(());
    }
    let mut result: Vec<(f64, Vec<u8>)> = match op {
        SetOp::Union => union(&mut src, how),
        SetOp::Inter => inter(&mut src, how),
        SetOp::Diff => diff(&src),
    };
    result.sort_by(|a, b| cmp_pair(a.0, &a.1, b.0, &b.1));
    if let Some(d) = dst {
        let dkey = args[d].clone();
        let n = store_result(ctx, &dkey, result);
        ctx.int(n as i64);
        return Ok(());
    }
    let mut o = out(ctx);
    o.members(
        result.len(),
        withscores,
        result.iter().map(|(s, m)| (m.as_slice(), *s)),
    );
    Ok(())
}

fn union(src: &mut [Source], how: Aggregate) -> Vec<(f64, Vec<u8>)> {
    src.sort_by_key(|s| s.len());
    let mut acc: hashbrown::HashMap<&[u8], f64> = hashbrown::HashMap::new();
    let mut order: Vec<&[u8]> = Vec::new();
    for s in src.iter() {
        for (m, sc) in s.pairs() {
            let v = weighted(s.weight, *sc);
            match acc.get_mut(m.as_slice()) {
                Some(a) => aggregate(a, v, how),
                None => {
                    acc.insert(m.as_slice(), v);
                    order.push(m.as_slice());
                }
            }
        }
    }
    order
        .into_iter()
        .map(|m| (acc.get(m).copied().unwrap_or(0.0), m.to_vec()))
        .collect()
}

/// Member -> score maps of every source but the first (after sorting).
fn lookups(src: &[Source]) -> Vec<hashbrown::HashMap<&[u8], f64>> {
    src.iter()
        .skip(1)
        .map(|s| s.pairs().iter().map(|(m, v)| (m.as_slice(), *v)).collect())
        .collect()
}

fn inter(src: &mut [Source], how: Aggregate) -> Vec<(f64, Vec<u8>)> {
    if src.iter().any(|s| s.items.is_none()) {
        return Vec::new();
    }
    src.sort_by_key(|s| s.len());
    let maps = lookups(src);
    let mut out = Vec::new();
    let Some(first) = src.first() else {
        return out;
    };
    'outer: for (m, sc) in first.pairs() {
        let mut acc = weighted(first.weight, *sc);
        for (i, map) in maps.iter().enumerate() {
            match map.get(m.as_slice()) {
                Some(v) => aggregate(&mut acc, weighted(src[i + 1].weight, *v), how),
                None => continue 'outer,
            }
        }
        out.push((acc, m.clone()));
    }
    out
}

fn inter_card(src: &mut [Source], limit: usize) -> usize {
    if src.iter().any(|s| s.items.is_none()) {
        return 0;
    }
    src.sort_by_key(|s| s.len());
    let maps = lookups(src);
    let mut n = 0;
    let Some(first) = src.first() else {
        return 0;
    };
    for (m, _) in first.pairs() {
        if maps.iter().all(|map| map.contains_key(m.as_slice())) {
            n += 1;
            if limit > 0 && n >= limit {
                break;
            }
        }
    }
    n
}

fn diff(src: &[Source]) -> Vec<(f64, Vec<u8>)> {
    let Some(first) = src.first() else {
        return Vec::new();
    };
    let maps = lookups(src);
    first
        .pairs()
        .iter()
        .filter(|(m, _)| !maps.iter().any(|map| map.contains_key(m.as_slice())))
        .map(|(m, s)| (*s, m.clone()))
        .collect()
}

fn zunion(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, 1, None, SetOp::Union, false)
}
fn zinter(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, 1, None, SetOp::Inter, false)
}
fn zdiff(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, 1, None, SetOp::Diff, false)
}
fn zunionstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, 2, Some(1), SetOp::Union, false)
}
fn zinterstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, 2, Some(1), SetOp::Inter, false)
}
fn zdiffstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, 2, Some(1), SetOp::Diff, false)
}
fn zintercard(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, 1, None, SetOp::Inter, true)
}

// ---------------------------------------------------------------------------
// ZSCAN

fn zscan(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let cursor = scan_args::cursor(&args[2])?;
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let Some(e) = ctx.srv.keyspace.lookup_read(db, &args[1], now, nt) else {
        ctx.client.out.extend_from_slice(scan_args::EMPTY_REPLY);
        return Ok(());
    };
    let z = as_zset(&e.value)?;
    let opts = scan_args::options(&args[3..], false)?;
    let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, opts.count, |m, s| {
        if opts.matches(m) {
            items.push((m.to_vec(), s));
        }
    });
    let out = &mut ctx.client.out;
    scan_args::reply_header(out, next, items.len() * 2);
    for (m, s) in &items {
        encode::bulk(out, m);
        // ZSCAN replies scores as bulk strings in both protocols.
        encode::bulk_double(out, *s);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Keyspace notifications: each write raises its event when it changed
// something (and `del` when the key is gone).

fn zincrby_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zincrby, class::ZSET, "zincr", false)
}

fn zrem_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zrem, class::ZSET, "zrem", false)
}

fn zremrangebyrank_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zremrangebyrank, class::ZSET, "zremrangebyrank", false)
}

fn zremrangebyscore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zremrangebyscore, class::ZSET, "zremrangebyscore", false)
}

fn zremrangebylex_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zremrangebylex, class::ZSET, "zremrangebylex", false)
}

fn zpopmin_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zpopmin, class::ZSET, "zpopmin", false)
}

fn zpopmax_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zpopmax, class::ZSET, "zpopmax", false)
}

fn zrangestore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zrangestore, class::ZSET, "zrangestore", true)
}

fn zunionstore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zunionstore, class::ZSET, "zunionstore", true)
}

fn zinterstore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zinterstore, class::ZSET, "zinterstore", true)
}

fn zdiffstore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(zdiffstore, class::ZSET, "zdiffstore", true)
}

/// ZADD raises `zincr` with INCR, `zadd` otherwise.
fn zadd_notified(ctx: &mut Ctx) -> CmdResult {
    let before = ctx.srv.keyspace.dirty;
    zadd(ctx)?;
    let incr = ctx.args[2..].iter().any(|a| is(a, "incr"));
    ctx.notify_write(
        before,
        class::ZSET,
        if incr { "zincr" } else { "zadd" },
        false,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_like_get_double_from_object() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0"), Some(0.0));
        assert_eq!(parse_score(b"0.000"), Some(0.0));
        assert_eq!(parse_score(b"1e5000"), None);
        assert_eq!(parse_score(b"1e-400"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"nan"), None);
    }

    #[test]
    fn range_bounds_parse_like_zsl_parse_range() {
        assert_eq!(parse_score_bound(b"(1"), Some((1.0, true)));
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_score_bound(b" 2"), Some((2.0, false)));
        assert_eq!(parse_score_bound(b"1e5000"), Some((f64::INFINITY, false)));
        assert_eq!(parse_score_bound(b"2 "), None);
        assert_eq!(parse_score_bound(b"(nan"), None);
        assert!(parse_lex(b"").is_none());
        assert!(parse_lex(b"+a").is_none());
        assert!(matches!(parse_lex(b"[a"), Some(Lex::Incl(b"a"))));
    }

    #[test]
    fn limit_windows_follow_redis_offset_and_count_rules() {
        assert_eq!(limit_window(2, 8, false, 1, 2), (3, 2));
        assert_eq!(limit_window(2, 8, true, 1, 2), (6, 2));
        assert_eq!(limit_window(2, 8, false, -1, 2), (0, 0));
        assert_eq!(limit_window(2, 8, false, 0, -1), (2, 6));
        assert_eq!(limit_window(2, 8, false, 6, 1), (0, 0));
        assert_eq!(rank_window(-2, -1, 5), Some((3, 4)));
        assert_eq!(rank_window(3, 1, 5), None);
        assert_eq!(rank_window(i64::MIN, i64::MAX, 5), Some((0, 4)));
    }
}
