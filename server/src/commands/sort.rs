//! SORT and SORT_RO: sorting the elements of a list, set or sorted set,
//! numerically or with ALPHA, optionally by external weights (`BY`),
//! projecting external values (`GET`), with `LIMIT` and (SORT only) `STORE`.
//!
//! Behaviour follows Redis 7.2's sort.c, including the parts that show in
//! replies: `BY` without `*` skips sorting (lists and sorted sets keep their
//! order, with DESC reversing it and LIMIT applied to that order), a set
//! sorted with `BY nosort ... STORE` is sorted ALPHA instead so the stored
//! result is deterministic, ties in numeric order break by byte order of the
//! elements, and ALPHA without STORE compares as C strings (strcoll in the C
//! locale: up to the first NUL byte) while ALPHA with STORE compares whole
//! byte strings. SORT reads (and never changes) the types' data through their
//! public iteration APIs, except that sorting a sorted set converts it to the
//! skiplist encoding, as Redis does.

use bytes::Bytes;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use crate::errors;
use crate::keyspace::{Keyspace, Value};
use crate::types::List;

const SORT_ACL: &str = "@write @set @sortedset @list @slow @dangerous";
const SORT_RO_ACL: &str = "@read @set @sortedset @list @slow @dangerous";
const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "sort",
        -2,
        "write denyoom movablekeys",
        SORT_ACL,
        keys(1, 1, 1),
        sort_notified,
    )
    .doc(
        "generic",
        "1.0.0",
        "Sort the elements in a list, set or sorted set",
        COMPLEXITY,
    ),
    CommandSpec::new(
        "sort_ro",
        -2,
        "readonly movablekeys",
        SORT_RO_ACL,
        keys(1, 1, 1),
        sort_ro,
    )
    .doc(
        "generic",
        "7.0.0",
        "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        COMPLEXITY,
    ),
];

const SCORE_ERROR: &str = "ERR One or more scores can't be converted into double";

/// Effect: none without STORE; with STORE, overwrite the destination with a
/// list of the result (clearing its TTL), or `DEL` it when the result is empty.
fn sort(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, false)
}

/// Effect: none.
fn sort_ro(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, true)
}

/// The parsed options of one SORT call.
#[derive(Debug, Default)]
struct Options {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<Bytes>,
    by: Option<Bytes>,
    /// `BY` a pattern without `*`: nothing is sorted, no weight is looked up.
    dontsort: bool,
    gets: Vec<Bytes>,
}

/// The bytes of `b` as C string functions see them: up to the first NUL.
fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Parses the options after the key, in Redis's order: the first bad word or
/// bad LIMIT number is the error. SORT_RO does not know STORE.
fn parse_options(args: &[Bytes], readonly: bool) -> Result<Options, CmdError> {
    let mut o = Options {
        limit_count: -1,
        ..Options::default()
    };
    let mut j = 2;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            o.limit_start = parse_i64(&args[j + 1])?;
            o.limit_count = parse_i64(&args[j + 2])?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            o.store = Some(args[j + 1].clone());
            j += 1;
        } else if is(a, "by") && left >= 1 {
            let pat = args[j + 1].clone();
            o.dontsort = !cstr(&pat).contains(&b'*');
            o.by = Some(pat);
            j += 1;
        } else if is(a, "get") && left >= 1 {
            o.gets.push(args[j + 1].clone());
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// The value a `BY`/`GET` pattern names for `elem`: `#` is the element
/// itself; otherwise the first `*` is replaced by the element and the key's
/// string value is returned, or with `key*->field` the field of the hash at
/// that key. Missing keys, keys of other types and patterns without `*` give
/// None. Pattern scanning stops at a NUL byte as in Redis (C string
/// functions), but the key and field parts are taken byte-exact.
fn lookup_by_pattern(
    ks: &mut Keyspace,
    db: usize,
    now: i64,
    no_touch: bool,
    pattern: &[u8],
    elem: &[u8],
) -> Option<Vec<u8>> {
    let c = cstr(pattern);
    if c == b"#" {
        return Some(elem.to_vec());
    }
    let star = c.iter().position(|&b| b == b'*')?;
    // "->" after the star, with something after it in the C string.
    let after = &c[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&i| i + 2 < c.len());
    let (postfix_end, field) = match arrow {
        Some(i) => (i, Some(&pattern[i + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..postfix_end]);
    let e = ks.lookup_read(db, &key, now, no_touch)?;
    match (field, &e.value) {
        (None, Value::Str(s)) => Some(s.to_vec()),
        (Some(f), Value::Hash(h)) => hash_field(h, f),
        _ => None,
    }
}

/// The value of `field` in hash `h`.
fn hash_field(h: &crate::types::Hash, field: &[u8]) -> Option<Vec<u8>> {
    h.get(field).map(<[u8]>::to_vec)
}

/// A sort weight read the way SORT reads it: strtod on the value as a C
/// string, which must consume it all; NaN and out of range (overflow, or
/// underflow to zero or to a subnormal from a decimal) are errors. An empty
/// value is 0 (strtod converts nothing and stops at the terminating NUL).
fn sort_score(b: &[u8]) -> Option<f64> {
    let s = cstr(b);
    if s.is_empty() {
        return Some(0.0);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    let signed = |v: f64| if neg { -v } else { v };
    if starts(b"nan") {
        return None;
    }
    if starts(b"inf") {
        let n = if starts(b"infinity") { 8 } else { 3 };
        return (rest.len() == n).then(|| signed(f64::INFINITY));
    }
    let hex_digit_at = |k: usize| rest.get(k).is_some_and(|c| c.is_ascii_hexdigit());
    if starts(b"0x") && (hex_digit_at(2) || (rest.get(2) == Some(&b'.') && hex_digit_at(3))) {
        return parse_hex(&rest[2..]).map(signed);
    }
    let digits = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_len = digits(0);
    let mut k = int_len;
    let mut frac_len = 0;
    if rest.get(k) == Some(&b'.') {
        frac_len = digits(k + 1);
        k += 1 + frac_len;
    }
    if int_len + frac_len == 0 {
        return None;
    }
    let mantissa_end = k;
    if matches!(rest.get(k), Some(b'e' | b'E')) {
        let mut e = k + 1;
        if matches!(rest.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let n = digits(e);
        if n > 0 {
            k = e + n;
        }
    }
    if k != rest.len() {
        return None;
    }
    let text = std::str::from_utf8(rest).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_infinite() {
        return None;
    }
    let nonzero = rest[..mantissa_end]
        .iter()
        .any(|c| (b'1'..=b'9').contains(c));
    if nonzero && (v == 0.0 || v.abs() < f64::MIN_POSITIVE) {
        return None;
    }
    Some(signed(v))
}

/// A hexadecimal float after its `0x`: hex digits with an optional point,
/// then an optional binary exponent `p[+-]digits`; all must be consumed.
fn parse_hex(h: &[u8]) -> Option<f64> {
    let mut v = 0f64;
    let mut k = 0;
    let mut nonzero = false;
    while let Some(d) = h.get(k).and_then(|c| (*c as char).to_digit(16)) {
        v = v * 16.0 + d as f64;
        nonzero |= d != 0;
        k += 1;
    }
    let mut scale = 1.0 / 16.0;
    if h.get(k) == Some(&b'.') {
        k += 1;
        while let Some(d) = h.get(k).and_then(|c| (*c as char).to_digit(16)) {
            v += d as f64 * scale;
            scale /= 16.0;
            nonzero |= d != 0;
            k += 1;
        }
    }
    if matches!(h.get(k), Some(b'p' | b'P')) {
        let mut e = k + 1;
        let eneg = match h.get(e) {
            Some(b'-') => {
                e += 1;
                true
            }
            Some(b'+') => {
                e += 1;
                false
            }
            _ => false,
        };
        let n = h[e.min(h.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n > 0 {
            let mut exp: i32 = 0;
            for c in &h[e..e + n] {
                exp = exp.saturating_mul(10).saturating_add((c - b'0') as i32);
            }
            let exp = if eneg { -exp } else { exp };
            // Scale in steps so intermediate powers do not overflow early.
            let mut x = exp;
            while x > 0 {
                let step = x.min(1000);
                v *= 2f64.powi(step);
                x -= step;
            }
            while x < 0 {
                let step = x.max(-1000);
                v *= 2f64.powi(step);
                x -= step;
            }
            k = e + n;
        }
    }
    if k != h.len() || v.is_infinite() || (nonzero && v == 0.0) {
        return None;
    }
    Some(v)
}

/// One element to sort with its weight.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The `BY` value for ALPHA sorts by pattern (None when missing).
    cmp: Option<Vec<u8>>,
}

/// The ordering Redis's sortCompare gives (before DESC is applied).
fn compare(a: &Item, b: &Item, alpha: bool, by_pattern: bool, store: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if !alpha {
        if a.score > b.score {
            Ordering::Greater
        } else if a.score < b.score {
            Ordering::Less
        } else {
            a.elem.cmp(&b.elem)
        }
    } else if by_pattern {
        match (&a.cmp, &b.cmp) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) if store => x.cmp(y),
            (Some(x), Some(y)) => cstr(x).cmp(cstr(y)),
        }
    } else if store {
        a.elem.cmp(&b.elem)
    } else {
        cstr(&a.elem).cmp(cstr(&b.elem))
    }
}

/// Redis's partial quicksort for SORT BY with LIMIT (pqsort, Bentley and
/// McIlroy's quicksort that skips partitions outside the wanted range
/// `lrange..=rrange`). Only the elements in that range end up in order; the
/// algorithm is reproduced step by step because it is not stable, so
/// elements that compare equal come out in the order Redis gives them.
fn partial_sort<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &impl Fn(&T, &T) -> std::cmp::Ordering,
    lrange: i64,
    rrange: i64,
) {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let c = |v: &[T], i: usize, j: usize| cmp(&v[i], &v[j]);
    let med3 = |v: &[T], x: usize, y: usize, z: usize| {
        if c(v, x, y) == Less {
            if c(v, y, z) == Less {
                y
            } else if c(v, x, z) == Less {
                z
            } else {
                x
            }
        } else if c(v, y, z) == Greater {
            y
        } else if c(v, x, z) == Less {
            x
        } else {
            z
        }
    };
    let insertion = |v: &mut [T], a: usize, n: usize| {
        for m in a + 1..a + n {
            let mut l = m;
            while l > a && c(v, l - 1, l) == Greater {
                v.swap(l, l - 1);
                l -= 1;
            }
        }
    };
    // A partition [lo, lo+cnt) wholly before or after the range is skipped.
    let outside = |lo: usize, cnt: usize| {
        let (lo, hi) = (lo as i64, (lo + cnt) as i64);
        (lrange < lo && rrange < lo) || (lrange >= hi && rrange >= hi)
    };
    let vecswap = |v: &mut [T], x: usize, y: usize, k: usize| {
        for i in 0..k {
            v.swap(x + i, y + i);
        }
    };
    loop {
        if n < 7 {
            insertion(v, a, n);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d);
                pm = med3(v, pm - d, pm, pm + d);
                pn = med3(v, pn - 2 * d, pn - d, pn);
            }
            pm = med3(v, pl, pm, pn);
        }
        v.swap(a, pm);
        let mut swapped = false;
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                match c(v, pb, a) {
                    Greater => break,
                    Equal => {
                        swapped = true;
                        v.swap(pa, pb);
                        pa += 1;
                    }
                    Less => {}
                }
                pb += 1;
            }
            while pb <= pc {
                match c(v, pc, a) {
                    Less => break,
                    Equal => {
                        swapped = true;
                        v.swap(pc, pd);
                        pd -= 1;
                    }
                    Greater => {}
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            swapped = true;
            pb += 1;
            pc -= 1;
        }
        if !swapped {
            insertion(v, a, n);
            return;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(a, r) {
            partial_sort(v, a, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if !outside(a, n) {
                continue;
            }
        }
        return;
    }
}

/// The source key's elements to sort, after the LIMIT/no-sort range
/// optimizations Redis applies, with the output range `start..=end` into them.
struct Loaded {
    items: Vec<Vec<u8>>,
    start: i64,
    end: i64,
}

/// Reads the key to sort. `opts` may be changed: a set sorted with
/// `BY <no *>` and STORE is sorted ALPHA instead.
fn load(ctx: &mut Ctx, opts: &mut Options) -> Result<Loaded, CmdError> {
    let (db, now, no_touch) = (ctx.db(), ctx.now_ms, ctx.client.no_touch);
    let empty = Value::List(Box::default());
    let entry = ctx
        .srv
        .keyspace
        .lookup_read(db, &ctx.args[1], now, no_touch);
    let value = match entry {
        Some(e) => {
            if let Value::ZSet(z) = &mut e.value {
                // Redis converts a sorted set to a skiplist before sorting it.
                if z.is_listpack() {
                    z.convert_to_big();
                }
            }
            &e.value
        }
        None => &empty,
    };
    let len = match value {
        Value::List(l) => l.len(),
        Value::Set(s) => s.len(),
        Value::ZSet(z) => z.len(),
        _ => return Err(errors::WRONGTYPE.into()),
    };
    let is_set = matches!(value, Value::Set(_));
    if opts.dontsort && is_set && opts.store.is_some() {
        opts.dontsort = false;
        opts.alpha = true;
        opts.by = None;
    }
    let vlen = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = opts.limit_start.clamp(0, vlen);
    let count = opts.limit_count.clamp(-1, vlen);
    let mut end = if count < 0 {
        vlen - 1
    } else {
        start + count - 1
    };
    if start >= vlen {
        start = vlen - 1;
        end = vlen - 2;
    }
    if end >= vlen {
        end = vlen - 1;
    }
    let ranged = opts.dontsort && !is_set;
    let take = if ranged && (start != 0 || end != vlen - 1) {
        usize::try_from(end - start + 1).unwrap_or(0)
    } else {
        len
    };
    let mut items = Vec::with_capacity(take);
    match value {
        Value::List(l) if opts.dontsort => {
            if end >= start {
                let from = if opts.desc { vlen - start - 1 } else { start };
                items.extend(l.iter_from(from, opts.desc).take(take).map(<[u8]>::to_vec));
                end -= start;
                start = 0;
            }
        }
        Value::List(l) => items.extend(l.iter().map(<[u8]>::to_vec)),
        Value::Set(s) => items.extend(s.iter().map(|m| m.to_vec())),
        Value::ZSet(z) if opts.dontsort => {
            let first = usize::try_from(start).unwrap_or(0);
            let rank = if opts.desc {
                len.saturating_sub(first + 1)
            } else {
                first
            };
            if take > 0 {
                items.extend(
                    z.iter_from(rank, opts.desc)
                        .take(take)
                        .map(|(m, _)| m.to_vec()),
                );
            }
            end -= start;
            start = 0;
        }
        Value::ZSet(z) => items.extend(z.iter_from(0, false).map(|(m, _)| m.to_vec())),
        _ => return Err(errors::WRONGTYPE.into()),
    }
    Ok(Loaded { items, start, end })
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult {
    let mut opts = parse_options(ctx.args, readonly)?;
    let Loaded { items, start, end } = load(ctx, &mut opts)?;
    let (db, now, no_touch) = (ctx.db(), ctx.now_ms, ctx.client.no_touch);
    let ks = &mut ctx.srv.keyspace;

    let mut items: Vec<Item> = items
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();
    let mut score_error = false;
    if !opts.dontsort {
        for it in items.iter_mut() {
            let by_value;
            let weight: &[u8] = match &opts.by {
                Some(pat) => match lookup_by_pattern(ks, db, now, no_touch, pat, &it.elem) {
                    Some(v) => {
                        by_value = v;
                        &by_value
                    }
                    None => continue,
                },
                None => &it.elem,
            };
            if opts.alpha {
                if opts.by.is_some() {
                    it.cmp = Some(weight.to_vec());
                }
            } else {
                match sort_score(weight) {
                    Some(v) => it.score = v,
                    None => score_error = true,
                }
            }
        }
        // A NaN-free order is total; with a bad score the reply is an error
        // anyway, so the (then ill-defined) sort is skipped.
        if !score_error {
            let (alpha, by, store, desc) = (
                opts.alpha,
                opts.by.is_some(),
                opts.store.is_some(),
                opts.desc,
            );
            let cmp = |a: &Item, b: &Item| {
                let c = compare(a, b, alpha, by, store);
                if desc {
                    c.reverse()
                } else {
                    c
                }
            };
            let vlen = items.len() as i64;
            if by && (start != 0 || end != vlen - 1) {
                let n = items.len();
                partial_sort(&mut items, 0, n, &cmp, start, end);
            } else {
                // glibc's qsort is a merge sort: stable, like sort_by.
                items.sort_by(cmp);
            }
        }
    }
    if score_error {
        return Err(SCORE_ERROR.into());
    }

    let range: &[Item] = if end >= start {
        let s = usize::try_from(start).unwrap_or(0);
        let e = usize::try_from(end).unwrap_or(0);
        items.get(s..=e).unwrap_or(&[])
    } else {
        &[]
    };
    let per = opts.gets.len().max(1);
    let outputlen = range.len().saturating_mul(per);

    let mut out: Vec<Option<Vec<u8>>> = Vec::with_capacity(outputlen);
    for it in range {
        if opts.gets.is_empty() {
            out.push(Some(it.elem.clone()));
        }
        for pat in &opts.gets {
            out.push(lookup_by_pattern(ks, db, now, no_touch, pat, &it.elem));
        }
    }

    match &opts.store {
        None => {
            ctx.array(out.len());
            for v in &out {
                match v {
                    Some(b) => ctx.bulk(b),
                    None => ctx.null(),
                }
            }
        }
        Some(dst) => {
            let fill = super::lists::fill(ctx);
            let ks = &mut ctx.srv.keyspace;
            if out.is_empty() {
                if ks.delete(db, dst, now) {
                    ks.dirty += 1;
                }
            } else {
                let values: Vec<Vec<u8>> = out.into_iter().map(Option::unwrap_or_default).collect();
                let mut list = List::new();
                list.try_grow_for(fill, &values);
                for v in &values {
                    list.push(crate::types::list::End::Tail, v, fill);
                }
                ks.store(db, dst, Value::List(Box::new(list)), now);
                ks.dirty += values.len() as u64;
            }
            ctx.int(outputlen as i64);
        }
    }
    Ok(())
}

/// SORT ... STORE raises `sortstore` on the destination, or `del` when an
/// empty result deleted it.
fn sort_notified(ctx: &mut Ctx) -> CmdResult {
    let before = ctx.srv.keyspace.dirty;
    sort(ctx)?;
    if ctx.srv.keyspace.dirty == before {
        return Ok(());
    }
    let args = ctx.args;
    let Some(pos) = args.iter().rposition(|a| a.eq_ignore_ascii_case(b"store")) else {
        return Ok(());
    };
    let Some(dst) = args.get(pos + 1) else {
        return Ok(());
    };
    let db = ctx.db();
    if ctx.srv.keyspace.dbs[db].get_raw(dst).is_some() {
        ctx.notify(crate::pubsub::class::LIST, "sortstore", dst);
    } else {
        ctx.notify(crate::pubsub::class::GENERIC, "del", dst);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_read_like_strtod_on_the_whole_value() {
        assert_eq!(sort_score(b""), Some(0.0));
        assert_eq!(sort_score(b"  5"), Some(5.0));
        assert_eq!(sort_score(b"1."), Some(1.0));
        assert_eq!(sort_score(b".5"), Some(0.5));
        assert_eq!(sort_score(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(sort_score(b"0x10"), Some(16.0));
        assert_eq!(sort_score(b"0x1p3"), Some(8.0));
        assert_eq!(sort_score(b"0x.8"), Some(0.5));
        assert_eq!(sort_score(b"0e-400"), Some(0.0));
        assert_eq!(sort_score(b"0x1p-1074"), Some(f64::from_bits(1)));
        assert_eq!(sort_score(b"7\0junk"), Some(7.0));
        for bad in [
            &b"5 "[..],
            b"infx",
            b"1e",
            b"1e+",
            b".",
            b"0x",
            b"nan",
            b"+",
            b"   ",
            b"1e-400",
            b"1e-310",
            b"1e400",
            b"abc",
        ] {
            assert_eq!(sort_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn options_parse_in_redis_order() {
        let args: Vec<Bytes> = ["sort", "k", "limit", "x", "1"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        assert_eq!(
            parse_options(&args, false).unwrap_err().0,
            errors::NOT_INTEGER
        );
        let args: Vec<Bytes> = ["sort_ro", "k", "store", "d"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        assert_eq!(parse_options(&args, true).unwrap_err().0, errors::SYNTAX);
        let args: Vec<Bytes> = ["sort", "k", "by", "no\0*", "desc"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        let o = parse_options(&args, false).unwrap();
        assert!(o.dontsort && o.desc);
    }

    #[test]
    fn partial_sort_orders_the_requested_range() {
        let mut rng = 0x1234_5678_u64;
        for n in [0usize, 1, 6, 7, 8, 40, 41, 200] {
            for _ in 0..20 {
                let mut v: Vec<u64> = (0..n)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        rng % 50
                    })
                    .collect();
                let mut want = v.clone();
                want.sort();
                let (s, e) = (n / 3, n / 2);
                partial_sort(
                    &mut v,
                    0,
                    n,
                    &|a: &u64, b: &u64| a.cmp(b),
                    s as i64,
                    e as i64,
                );
                if n > 0 {
                    assert_eq!(v[s..=e], want[s..=e], "n={n}");
                }
            }
        }
    }

    #[test]
    fn alpha_without_store_compares_up_to_the_first_nul() {
        let it = |e: &[u8]| Item {
            elem: e.to_vec(),
            score: 0.0,
            cmp: None,
        };
        let (a, b) = (it(b"a\0z"), it(b"a\0b"));
        assert_eq!(
            compare(&a, &b, true, false, false),
            std::cmp::Ordering::Equal
        );
        assert_eq!(
            compare(&a, &b, true, false, true),
            std::cmp::Ordering::Greater
        );
    }
}
