//! Sorted set values: member,score pairs ordered by (score, member bytes).
//!
//! Small sets are a listpack of `member, score` pairs kept sorted, as Redis's
//! `listpack` encoding. Scores are stored compactly: an integral score that
//! fits in 7 bytes is its minimal two's-complement little-endian bytes (0 is
//! the empty string), anything else (fractions, infinities, -0, huge values)
//! the 8 bytes of the f64, so the listpack costs about what Redis's does.
//!
//! Past `zset-max-listpack-entries` / `-value` the set becomes the `skiplist`
//! encoding (see [`crate::types::zset_tree`]): a member -> slot index plus an
//! order-statistic sequence with O(log n) rank queries. Like Redis, a set
//! never converts back on its own; results of STORE commands pick their
//! encoding from their final size ([`ZSet::from_sorted`]).
//!
//! Scores are never NaN here: callers reject NaN before they reach the set.
//! No method takes a `Ctx` or writes a reply.

use std::cmp::Ordering;

use super::zset_tree::Tree;
use crate::keyspace::listpack::Listpack;

/// The listpack thresholds of the config (`zset-max-listpack-*`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Limits {
    /// True when a set of `len` members whose longest member has `max_len`
    /// bytes stays a listpack.
    pub fn fits(&self, len: usize, max_len: usize) -> bool {
        len <= self.entries && max_len <= self.value
    }
}

/// Order of two (score, member) pairs as Redis sorts them.
pub fn cmp_pair(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// Encodes a score for the listpack into `buf`, returning the used bytes.
fn encode_score(s: f64, buf: &mut [u8; 8]) -> &[u8] {
    const LIMIT: f64 = (1u64 << 55) as f64;
    // Integral scores are stored as integers, as Redis's listpack does, so
    // -0 reads back as 0 (the big encoding keeps -0, as Redis's skiplist).
    if s.fract() == 0.0 && s.abs() < LIMIT {
        let i = s as i64;
        if i == 0 {
            return &buf[..0];
        }
        let bytes = i.to_le_bytes();
        for n in 1..=7usize {
            let shift = 64 - 8 * n as u32;
            if (i << shift) >> shift == i {
                buf[..n].copy_from_slice(&bytes[..n]);
                return &buf[..n];
            }
        }
    }
    *buf = s.to_le_bytes();
    &buf[..]
}

/// Decodes a listpack score written by [`encode_score`].
fn decode_score(b: &[u8]) -> f64 {
    match b.len() {
        0 => 0.0,
        8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            f64::from_le_bytes(a)
        }
        n if n < 8 => {
            let mut a = [0u8; 8];
            a[..n].copy_from_slice(b);
            let shift = 64 - 8 * n as u32;
            ((i64::from_le_bytes(a) << shift) >> shift) as f64
        }
        _ => 0.0,
    }
}

#[derive(Clone, Debug)]
enum Repr {
    Lp(Listpack),
    Big(Box<Tree>),
}

/// A zset value.
#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            repr: Repr::Lp(Listpack::new()),
        }
    }
}

/// Result of [`ZSet::add`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// The member exists and its score stays (same score, or the flags said no).
    Unchanged(f64),
    /// NX on an existing member or XX on a missing one.
    Skipped,
    /// INCR produced NaN.
    Nan,
}

/// ZADD's conditions.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

impl ZSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set in the encoding Redis would create for `len` members whose
    /// longest has `max_len` bytes.
    pub fn with_hint(len: usize, max_len: usize, lim: Limits) -> Self {
        if lim.entries == 0 || !lim.fits(len.min(lim.entries), max_len) {
            ZSet {
                repr: Repr::Big(Box::default()),
            }
        } else {
            Self::default()
        }
    }

    /// Builds a set from pairs already sorted by (score, member) with no
    /// duplicate members, in the encoding its size calls for.
    pub fn from_sorted(pairs: &[(f64, Vec<u8>)], lim: Limits) -> Self {
        let max_len = pairs.iter().map(|p| p.1.len()).max().unwrap_or(0);
        if lim.fits(pairs.len(), max_len) {
            let mut lp = Listpack::new();
            let mut buf = [0u8; 8];
            for (s, m) in pairs {
                lp.push_back(m);
                lp.push_back(encode_score(*s, &mut buf));
            }
            ZSet { repr: Repr::Lp(lp) }
        } else {
            let mut t = Tree::default();
            for (s, m) in pairs {
                t.insert(m, *s);
            }
            ZSet {
                repr: Repr::Big(Box::new(t)),
            }
        }
    }

    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Lp(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }

    /// The elements in a canonical order (insertion order for lists,
    /// sorted for unordered types), for DEBUG DIGEST and size estimates.
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len() * 2);
        for (m, s) in self.iter_from(0, false) {
            out.push(m.to_vec());
            out.push(handoff_protocol::encode::format_double_like_redis(s).into_bytes());
        }
        out
    }

    /// Heap bytes used.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.bytes(),
            Repr::Big(t) => std::mem::size_of::<Tree>() + t.heap_size(),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.len() / 2,
            Repr::Big(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Lp(_))
    }

    /// Offset of `member`'s entry in a listpack.
    fn lp_find(lp: &Listpack, member: &[u8]) -> Option<usize> {
        let mut off = lp.first();
        while let Some(o) = off {
            if lp.at(o) == member {
                return Some(o);
            }
            off = lp.next(o).and_then(|s| lp.next(s));
        }
        None
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Lp(lp) => {
                let o = Self::lp_find(lp, member)?;
                Some(decode_score(lp.at(lp.next(o)?)))
            }
            Repr::Big(t) => t.score(member),
        }
    }

    /// Converts to the big encoding.
    pub fn convert_to_big(&mut self) {
        if let Repr::Lp(lp) = &self.repr {
            let mut t = Tree::default();
            let mut it = lp.iter();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                t.insert(m, decode_score(s));
            }
            self.repr = Repr::Big(Box::new(t));
        }
    }

    /// Inserts a member known to be absent, converting to the big encoding
    /// when the listpack limits would be exceeded.
    pub fn insert_new(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let Repr::Lp(lp) = &self.repr {
            if !lim.fits(lp.len() / 2 + 1, member.len()) {
                self.convert_to_big();
            }
        }
        match &mut self.repr {
            Repr::Lp(lp) => {
                let mut buf = [0u8; 8];
                let enc = encode_score(score, &mut buf);
                // First pair that sorts after the new one.
                let mut off = lp.first();
                while let Some(o) = off {
                    let Some(so) = lp.next(o) else { break };
                    if cmp_pair(decode_score(lp.at(so)), lp.at(o), score, member)
                        == Ordering::Greater
                    {
                        break;
                    }
                    off = lp.next(so);
                }
                match off {
                    Some(o) => {
                        lp.insert_at(o, member);
                        let after = o + entry_len(member.len());
                        lp.insert_at(after, enc);
                    }
                    None => {
                        lp.push_back(member);
                        lp.push_back(enc);
                    }
                }
            }
            Repr::Big(t) => t.insert(member, score),
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Lp(lp) => {
                let o = Self::lp_find(lp, member)?;
                let s = decode_score(lp.at(lp.next(o)?));
                lp.remove_range(o, 2);
                Some(s)
            }
            Repr::Big(t) => t.remove(member),
        }
    }

    /// Changes the score of an existing member.
    pub fn update(&mut self, member: &[u8], old: f64, new: f64, lim: Limits) {
        if let Repr::Big(t) = &mut self.repr {
            t.update(member, old, new);
            return;
        }
        self.remove(member);
        self.insert_new(member, new, lim);
    }

    /// ZADD / ZINCRBY for one member: applies the flags and returns what happened.
    pub fn add(&mut self, member: &[u8], score: f64, f: AddFlags, lim: Limits) -> AddOutcome {
        match self.score(member) {
            Some(cur) => {
                if f.nx {
                    return AddOutcome::Skipped;
                }
                let mut new = score;
                if f.incr {
                    new = cur + score;
                    if new.is_nan() {
                        return AddOutcome::Nan;
                    }
                }
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    return AddOutcome::Skipped;
                }
                if new == cur {
                    // Redis compares with ==, so -0 and 0 are the same score.
                    return AddOutcome::Unchanged(cur);
                }
                self.update(member, cur, new, lim);
                AddOutcome::Updated(new)
            }
            None => {
                if f.xx {
                    return AddOutcome::Skipped;
                }
                self.insert_new(member, score, lim);
                AddOutcome::Added(score)
            }
        }
    }

    /// Number of members (ascending order) for which `before` holds; `before`
    /// must be true for a prefix of the set (a monotone predicate).
    pub fn count_while(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Lp(lp) => {
                let mut n = 0;
                let mut it = lp.iter();
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if !before(decode_score(s), m) {
                        break;
                    }
                    n += 1;
                }
                n
            }
            Repr::Big(t) => t.count_while(before),
        }
    }

    /// 0-based ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Lp(lp) => {
                let mut it = lp.iter();
                let mut r = 0;
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if m == member {
                        return Some((r, decode_score(s)));
                    }
                    r += 1;
                }
                None
            }
            Repr::Big(t) => t.rank(member),
        }
    }

    /// Iterates from ascending rank `start`, upwards (or downwards when `rev`).
    /// Out of range `start` yields nothing.
    pub fn iter_from(&self, start: usize, rev: bool) -> ZIter<'_> {
        if start >= self.len() {
            return ZIter::Empty;
        }
        match &self.repr {
            Repr::Lp(lp) => ZIter::Lp {
                lp,
                off: i64::try_from(start)
                    .ok()
                    .and_then(|s| s.checked_mul(2))
                    .and_then(|i| lp.offset_of(i)),
                rev,
            },
            Repr::Big(t) => ZIter::Big(t.iter_from(start, rev)),
        }
    }

    /// Removes the members of ascending ranks `start..start+count`; returns
    /// how many were removed.
    pub fn remove_rank_range(&mut self, start: usize, count: usize) -> usize {
        let len = self.len();
        if start >= len || count == 0 {
            return 0;
        }
        let count = count.min(len - start);
        match &mut self.repr {
            Repr::Lp(lp) => {
                if let Some(o) = lp.offset_of((start * 2) as i64) {
                    lp.remove_range(o, count * 2);
                }
            }
            Repr::Big(t) => t.remove_rank_range(start, count),
        }
        count
    }

    /// Removes and returns up to `count` members from the low end (or the
    /// high end when `max`), in pop order.
    pub fn pop(&mut self, count: usize, max: bool) -> Vec<(Vec<u8>, f64)> {
        let len = self.len();
        let n = count.min(len);
        let out: Vec<(Vec<u8>, f64)> = if max {
            self.iter_from(len.saturating_sub(1), true)
                .take(n)
                .map(|(m, s)| (m.to_vec(), s))
                .collect()
        } else {
            self.iter_from(0, false)
                .take(n)
                .map(|(m, s)| (m.to_vec(), s))
                .collect()
        };
        if max {
            self.remove_rank_range(len - n, n);
        } else {
            self.remove_rank_range(0, n);
        }
        out
    }

    /// One ZSCAN step: calls `f` for members from `cursor`, about `count` of
    /// them (all at once for a listpack); returns the next cursor (0 at the end).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Lp(lp) => {
                let mut it = lp.iter();
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    f(m, decode_score(s));
                }
                0
            }
            Repr::Big(t) => t.scan(cursor, count, f),
        }
    }

    /// All pairs as owned data, ascending.
    pub fn to_pairs(&self) -> Vec<(Vec<u8>, f64)> {
        self.iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect()
    }
}

/// Bytes one listpack entry of `len` data bytes takes (mirrors the listpack's layout).
fn entry_len(len: usize) -> usize {
    fn vl(mut n: usize) -> usize {
        let mut l = 1;
        while n >= 0x80 {
            n >>= 7;
            l += 1;
        }
        l
    }
    let body = vl(len) + len;
    body + vl(body)
}

/// Iterator over (member, score) in rank order.
pub enum ZIter<'a> {
    Empty,
    Lp {
        lp: &'a Listpack,
        off: Option<usize>,
        rev: bool,
    },
    Big(super::zset_tree::Iter<'a>),
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ZIter::Empty => None,
            ZIter::Lp { lp, off, rev } => {
                let o = (*off)?;
                let so = lp.next(o)?;
                let item = (lp.at(o), decode_score(lp.at(so)));
                *off = if *rev {
                    lp.prev(o).and_then(|p| lp.prev(p))
                } else {
                    lp.next(so)
                };
                Some(item)
            }
            ZIter::Big(it) => it.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        entries: 128,
        value: 64,
    };

    #[test]
    fn scores_round_trip_through_the_compact_encoding() {
        let mut buf = [0u8; 8];
        assert_eq!(decode_score(encode_score(-0.0, &mut buf)).to_bits(), 0);
        for s in [
            0.0,
            1.0,
            -1.0,
            127.0,
            128.0,
            -129.0,
            1.5,
            1e300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            (1u64 << 54) as f64,
            -((1u64 << 55) as f64),
            9007199254740993.0,
        ] {
            let enc = encode_score(s, &mut buf).to_vec();
            let d = decode_score(&enc);
            assert_eq!(d.to_bits(), s.to_bits(), "{s}");
        }
        assert_eq!(encode_score(1.0, &mut buf).len(), 1);
        assert_eq!(encode_score(0.0, &mut buf).len(), 0);
    }

    fn members(z: &ZSet) -> Vec<(String, f64)> {
        z.iter_from(0, false)
            .map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s))
            .collect()
    }

    #[test]
    fn listpack_keeps_pairs_sorted_by_score_then_member() {
        let mut z = ZSet::new();
        let f = AddFlags::default();
        z.add(b"b", 2.0, f, LIM);
        z.add(b"a", 2.0, f, LIM);
        z.add(b"c", 1.0, f, LIM);
        z.add(b"d", -0.5, f, LIM);
        assert_eq!(z.add(b"c", 3.0, f, LIM), AddOutcome::Updated(3.0));
        assert_eq!(
            members(&z),
            vec![
                ("d".into(), -0.5),
                ("a".into(), 2.0),
                ("b".into(), 2.0),
                ("c".into(), 3.0)
            ]
        );
        assert_eq!(z.rank(b"b"), Some((2, 2.0)));
        let rev: Vec<_> = z.iter_from(3, true).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(
            rev,
            vec![b"c".to_vec(), b"b".to_vec(), b"a".to_vec(), b"d".to_vec()]
        );
        assert_eq!(z.remove(b"a"), Some(2.0));
        assert_eq!(z.len(), 3);
        assert_eq!(z.encoding(), "listpack");
    }

    #[test]
    fn both_encodings_agree_on_every_operation() {
        let small = Limits {
            entries: 0,
            value: 0,
        };
        let mut a = ZSet::new();
        let mut b = ZSet::with_hint(1, 1, small);
        assert_eq!(b.encoding(), "skiplist");
        let mut x: u64 = 12345;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = format!("m{}", x % 300);
            let s = ((x >> 20) % 50) as f64 - 25.0;
            match x % 5 {
                0 => {
                    assert_eq!(a.remove(m.as_bytes()), b.remove(m.as_bytes()));
                }
                1 => {
                    let ra = a.pop(2, x.is_multiple_of(2));
                    let rb = b.pop(2, x.is_multiple_of(2));
                    assert_eq!(ra, rb);
                }
                _ => {
                    let f = AddFlags {
                        incr: x.is_multiple_of(3),
                        ..Default::default()
                    };
                    assert_eq!(
                        a.add(
                            m.as_bytes(),
                            s,
                            f,
                            Limits {
                                entries: 10_000,
                                value: 100
                            }
                        ),
                        b.add(m.as_bytes(), s, f, small)
                    );
                }
            }
            assert_eq!(a.len(), b.len());
        }
        assert_eq!(a.to_pairs(), b.to_pairs());
        for (i, (m, _)) in a.to_pairs().iter().enumerate() {
            assert_eq!(a.rank(m), b.rank(m));
            assert_eq!(a.rank(m).map(|r| r.0), Some(i));
        }
        let lo = |s: f64, _: &[u8]| s < 0.0;
        assert_eq!(a.count_while(lo), b.count_while(lo));
        let n = a.len();
        assert_eq!(a.remove_rank_range(1, 5), b.remove_rank_range(1, 5));
        assert!(a.len() < n);
        assert_eq!(a.to_pairs(), b.to_pairs());
    }

    #[test]
    fn the_listpack_converts_past_its_limits() {
        let lim = Limits {
            entries: 3,
            value: 5,
        };
        let mut z = ZSet::new();
        for m in ["a", "b", "c"] {
            z.insert_new(m.as_bytes(), 1.0, lim);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert_new(b"d", 1.0, lim);
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::new();
        z.insert_new(b"toolong", 1.0, lim);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.score(b"toolong"), Some(1.0));
    }
}
