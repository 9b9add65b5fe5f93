//! HyperLogLog values in Redis's exact `HYLL` string format, so that the
//! bytes stored under a key (GET, DUMP, replication) are identical to what
//! Redis 7 produces for the same sequence of commands.
//!
//! Layout (16-byte header, then registers):
//! `"HYLL"`, one encoding byte (0 dense, 1 sparse), three unused bytes, and
//! the cached cardinality as a little-endian u64 whose top bit set means
//! "stale". Dense: 16384 six-bit registers packed from the least significant
//! bit of each byte upwards (12288 bytes). Sparse: a run-length program of
//! ZERO (`00xxxxxx`, 1..64 zero registers), XZERO (`01xxxxxx yyyyyyyy`,
//! 1..16384 zero registers) and VAL (`1vvvvvxx`, value 1..32 repeated 1..4
//! times) opcodes. Sparse values are promoted to dense when a register needs
//! a value above 32 or when a split would grow the string past
//! `hll-sparse-max-bytes`.
//!
//! Elements are hashed with MurmurHash64A (seed 0xadc83b19); the low 14 bits
//! pick the register, the run of zeros above them (plus one) is the value.
//! Cardinality uses Otmar Ertl's improved estimator ("New cardinality
//! estimation algorithms for HyperLogLog sketches", arXiv:1702.01284), which
//! is what Redis 7 computes; the floating point operations are done in the
//! same order so the estimates match to the unit.
//!
//! This module owns only byte-level manipulation; it never touches the
//! keyspace. Every function tolerates corrupted input: malformed sparse data
//! is reported as [`Corrupt`], never a panic.

/// log2 of the number of registers.
pub const P: u32 = 14;
/// Hash bits left after taking the register index.
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = (REGISTERS as u64) - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
pub const HDR_SIZE: usize = 16;
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = SPARSE;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7; // 0.5 / ln(2)

/// The default of `hll-sparse-max-bytes`.
pub const DEFAULT_SPARSE_MAX_BYTES: usize = 3000;

/// A sparse representation that does not describe exactly 16384 registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

// ---------------------------------------------------------------------------
// Hashing

/// MurmurHash2, 64-bit variant, reading blocks as little endian.
pub fn murmur64a(data: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let len = data.len() as u64;
    let mut h = (seed as u64) ^ len.wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its `0...01` pattern
/// (1..=Q+1).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    // The sentinel bit bounds the count to Q+1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------
// Header

/// True when `s` passes Redis's HLL checks: long enough for a header, the
/// `HYLL` magic, a known encoding and, when dense, the exact dense length.
pub fn is_valid(s: &[u8]) -> bool {
    s.len() >= HDR_SIZE
        && &s[..4] == b"HYLL"
        && s[4] <= MAX_ENCODING
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// An empty HLL: sparse, one XZERO covering every register, cached
/// cardinality 0 (valid).
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        push_xzero(&mut v, n);
        left -= n;
    }
    v
}

/// The cached cardinality when it is valid.
pub fn cached_card(s: &[u8]) -> Option<u64> {
    let c: [u8; 8] = s.get(8..16)?.try_into().ok()?;
    (c[7] & 0x80 == 0).then(|| u64::from_le_bytes(c))
}

pub fn set_cached_card(s: &mut [u8], card: u64) {
    if let Some(c) = s.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

pub fn invalidate_cache(s: &mut [u8]) {
    if let Some(b) = s.get_mut(15) {
        *b |= 0x80;
    }
}

// ---------------------------------------------------------------------------
// Dense registers

/// Register `i` of a dense register area. The last register reads one byte
/// past the area, which is always zero (Redis relies on the string's NUL
/// terminator for the same thing).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u16;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u16) as u8
}

pub fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = (val & REGISTER_MAX) as u16;
    let m = REGISTER_MAX as u16;
    if let Some(b) = regs.get_mut(byte) {
        *b = ((*b as u16 & !(m << fb)) | (v << fb)) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        let fb8 = 8 - fb;
        *b = ((*b as u16 & !(m >> fb8)) | (v >> fb8)) as u8;
    }
}

/// Raises register `i` to `count`; true if it changed.
pub fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------
// Sparse opcodes

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    fn size(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

/// Decodes the opcode at `s[p]` (which must exist); a truncated XZERO reads
/// its second byte as zero.
fn op_at(s: &[u8], p: usize) -> Op {
    let b = s[p];
    if b & 0x80 != 0 {
        Op::Val(((b >> 2) & 0x1f) + 1, (b & 0x3) as usize + 1)
    } else if b & 0x40 != 0 {
        let lo = s.get(p + 1).copied().unwrap_or(0) as usize;
        Op::XZero((((b & 0x3f) as usize) << 8 | lo) + 1)
    } else {
        Op::Zero((b & 0x3f) as usize + 1)
    }
}

fn val_byte(val: u8, len: usize) -> u8 {
    0x80 | ((val - 1) << 2) | (len as u8 - 1)
}

fn push_xzero(v: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    v.push(0x40 | (l >> 8) as u8);
    v.push((l & 0xff) as u8);
}

/// A run of `len` zero registers: ZERO when it fits, XZERO otherwise.
fn push_zeros(v: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        push_xzero(v, len);
    } else {
        v.push((len - 1) as u8);
    }
}

/// Iterates the opcodes of a sparse value's register area.
fn ops(s: &[u8]) -> impl Iterator<Item = Op> + '_ {
    let mut p = HDR_SIZE;
    std::iter::from_fn(move || {
        if p >= s.len() {
            return None;
        }
        let op = op_at(s, p);
        p += op.size();
        Some(op)
    })
}

/// The dense form of a sparse value (header copied, encoding set to dense).
pub fn sparse_to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut d = vec![0u8; DENSE_SIZE];
    d[..HDR_SIZE].copy_from_slice(s.get(..HDR_SIZE).ok_or(Corrupt)?);
    d[4] = DENSE;
    let regs = &mut d[HDR_SIZE..];
    let mut idx = 0usize;
    for op in ops(s) {
        match op {
            Op::Zero(n) | Op::XZero(n) => idx += n,
            Op::Val(v, n) => {
                if idx + n > REGISTERS {
                    break;
                }
                for i in idx..idx + n {
                    dense_put(regs, i, v);
                }
                idx += n;
            }
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(d)
}

/// Converts `v` to dense in place when it is sparse; true if it converted.
pub fn to_dense(v: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if v.get(4) != Some(&SPARSE) {
        return Ok(false);
    }
    *v = sparse_to_dense(v)?;
    Ok(true)
}

/// Raises register `index` of the sparse value `v` to `count`, splitting
/// and re-merging opcodes exactly as Redis does so the resulting bytes are
/// the same. Promotes `v` to dense when `count` does not fit a VAL opcode or
/// the value would grow past `max_bytes`. Returns whether a register changed.
pub fn sparse_set(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev = None;
    let mut found = None;
    while p < v.len() {
        let op = op_at(v, p);
        if index < first + op.span() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.size();
        first += op.span();
    }
    let op = found.ok_or(Corrupt)?;
    let span = op.span();
    let last = first + span - 1;

    // Step 2: trivial in-place updates, or the split sequence.
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            v[p] = val_byte(count, 1);
            merge_vals(v, prev.unwrap_or(HDR_SIZE));
            invalidate_cache(v);
            return Ok(true);
        }
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_byte(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val(cur, _) => {
            if index != first {
                seq.push(val_byte(cur, index - first));
            }
            seq.push(val_byte(count, 1));
            if index != last {
                seq.push(val_byte(cur, last - index));
            }
        }
    }

    // Step 3: replace the opcode with the sequence, unless that makes the
    // value too long for the sparse form.
    let old_len = op.size();
    if seq.len() > old_len && v.len() + (seq.len() - old_len) > max_bytes {
        return promote(v, index, count);
    }
    let end = (p + old_len).min(v.len());
    v.splice(p..end, seq);

    // Step 4: merge adjacent VAL opcodes of equal value around the change.
    merge_vals(v, prev.unwrap_or(HDR_SIZE));
    invalidate_cache(v);
    Ok(true)
}

/// Scans up to five opcodes from `p`, merging neighbouring VAL opcodes with
/// the same value whose combined run fits one opcode.
fn merge_vals(v: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        match op_at(v, p) {
            Op::XZero(_) => {
                p += 2;
                continue;
            }
            Op::Zero(_) => {
                p += 1;
                continue;
            }
            Op::Val(v1, l1) => {
                if p + 1 < v.len() {
                    if let Op::Val(v2, l2) = op_at(v, p + 1) {
                        if v1 == v2 && l1 + l2 <= SPARSE_VAL_MAX_LEN {
                            v[p + 1] = val_byte(v1, l1 + l2);
                            v.remove(p);
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
}

fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    let changed = dense_set(&mut v[HDR_SIZE..], index, count);
    invalidate_cache(v);
    Ok(changed)
}

/// Raises register `index` of a valid HLL value (dense or sparse) to `count`.
pub fn set(v: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    match v.get(4) {
        Some(&DENSE) => Ok(dense_set(&mut v[HDR_SIZE..], index, count)),
        Some(&SPARSE) => sparse_set(v, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// Adds an element; true if a register changed.
pub fn add(v: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    set(v, index, count, max_bytes)
}

// ---------------------------------------------------------------------------
// Counting and merging

type Histogram = [u32; 64];

fn histogram(s: &[u8]) -> Result<Histogram, Corrupt> {
    let mut h = [0u32; 64];
    match s.get(4) {
        Some(&DENSE) => {
            let regs = s.get(HDR_SIZE..).ok_or(Corrupt)?;
            for i in 0..REGISTERS {
                h[dense_get(regs, i) as usize] += 1;
            }
        }
        Some(&SPARSE) => {
            let mut idx = 0usize;
            for op in ops(s) {
                match op {
                    Op::Zero(n) | Op::XZero(n) => h[0] = h[0].saturating_add(n as u32),
                    Op::Val(val, n) => h[val as usize] = h[val as usize].saturating_add(n as u32),
                }
                idx += op.span();
            }
            if idx != REGISTERS {
                return Err(Corrupt);
            }
        }
        _ => return Err(Corrupt),
    }
    Ok(h)
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

fn estimate(h: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - h[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    // Redis rounds half away from zero (llroundl) and stores it as a double.
    let e = (ALPHA_INF * m * m / z).round();
    if e.is_finite() && e > 0.0 {
        e as u64
    } else {
        0
    }
}

/// The estimated cardinality of a valid HLL value.
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(s)?))
}

/// The estimated cardinality of one-byte-per-register values (the union
/// PFCOUNT builds for several keys).
pub fn count_raw(regs: &[u8]) -> u64 {
    let mut h = [0u32; 64];
    for &r in regs {
        h[(r & 63) as usize] += 1;
    }
    estimate(&h)
}

/// `max[i] = max(max[i], register i of s)` for a valid HLL value `s`.
pub fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Corrupt> {
    match s.get(4) {
        Some(&DENSE) => {
            let regs = s.get(HDR_SIZE..).ok_or(Corrupt)?;
            for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
                *m = (*m).max(dense_get(regs, i));
            }
            Ok(())
        }
        Some(&SPARSE) => {
            let mut idx = 0usize;
            for op in ops(s) {
                match op {
                    Op::Zero(n) | Op::XZero(n) => idx += n,
                    Op::Val(val, n) => {
                        if idx + n > REGISTERS {
                            break;
                        }
                        for m in max.get_mut(idx..idx + n).ok_or(Corrupt)? {
                            *m = (*m).max(val);
                        }
                        idx += n;
                    }
                }
            }
            if idx == REGISTERS {
                Ok(())
            } else {
                Err(Corrupt)
            }
        }
        _ => Err(Corrupt),
    }
}

/// PFDEBUG DECODE's text for a sparse value: `Z:n` XZERO, `z:n` ZERO,
/// `v:value,len` VAL, separated by spaces.
pub fn decode_sparse(s: &[u8]) -> String {
    let mut out = Vec::new();
    for op in ops(s) {
        out.push(match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        });
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add_all(v: &mut Vec<u8>, n: u32, max_bytes: usize) {
        for i in 0..n {
            add(v, format!("ele:{i}").as_bytes(), max_bytes).unwrap();
        }
    }

    #[test]
    fn murmur_matches_known_vectors() {
        // Reference values of MurmurHash64A with seed 0 / Redis's seed.
        assert_eq!(murmur64a(b"", 0), 0);
        assert_ne!(murmur64a(b"a", 0xadc8_3b19), murmur64a(b"b", 0xadc8_3b19));
    }

    #[test]
    fn three_elements_give_the_same_bytes_as_redis() {
        // Captured from redis-server 7.0: PFADD h a b c.
        let mut v = new_sparse();
        for e in [b"a", b"b", b"c"] {
            add(&mut v, e, DEFAULT_SPARSE_MAX_BYTES).unwrap();
        }
        let expected: &[u8] =
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ";
        assert_eq!(v, expected);
        assert_eq!(
            decode_sparse(&v),
            "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
        );
        assert_eq!(count(&v), Ok(3));
    }

    #[test]
    fn dense_registers_round_trip_without_touching_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        let mut expect = vec![0u8; REGISTERS];
        let mut x = 12345u64;
        for round in 0..3 {
            for (i, e) in expect.iter_mut().enumerate() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let r = ((x >> 3) as u8 ^ round) & 63;
                *e = r;
                dense_put(&mut regs, i, r);
            }
            for (i, &e) in expect.iter().enumerate() {
                assert_eq!(dense_get(&regs, i), e, "register {i}");
            }
        }
    }

    #[test]
    fn sparse_and_dense_agree_and_sparse_promotes_past_the_limit() {
        let mut sparse = new_sparse();
        let mut dense = sparse_to_dense(&sparse).unwrap();
        for i in 0..5000u32 {
            let e = format!("k{i}");
            add(&mut sparse, e.as_bytes(), DEFAULT_SPARSE_MAX_BYTES).unwrap();
            add(&mut dense, e.as_bytes(), DEFAULT_SPARSE_MAX_BYTES).unwrap();
            if i % 500 == 0 {
                assert_eq!(count(&sparse), count(&dense));
                if sparse[4] == SPARSE {
                    assert!(sparse.len() <= DEFAULT_SPARSE_MAX_BYTES);
                    assert_eq!(sparse_to_dense(&sparse).unwrap()[16..], dense[16..]);
                }
            }
        }
        assert_eq!(sparse[4], DENSE);
        assert_eq!(sparse[16..], dense[16..]);
    }

    #[test]
    fn estimates_stay_within_the_standard_error() {
        let mut v = new_sparse();
        add_all(&mut v, 100_000, DEFAULT_SPARSE_MAX_BYTES);
        let c = count(&v).unwrap() as f64;
        assert!((c - 100_000.0).abs() / 100_000.0 < 0.05, "estimate {c}");
        let mut max = vec![0u8; REGISTERS];
        merge_into(&mut max, &v).unwrap();
        assert_eq!(count_raw(&max), count(&v).unwrap());
    }

    #[test]
    fn corrupt_sparse_values_are_detected_not_panicking() {
        let mut short = new_sparse();
        short.truncate(HDR_SIZE);
        assert_eq!(count(&short), Err(Corrupt));
        assert_eq!(add(&mut short, b"x", 3000), Err(Corrupt));
        let mut trunc = new_sparse();
        trunc.pop();
        assert!(count(&trunc).is_err());
        let _ = add(&mut trunc, b"x", 3000);
        // A trailing VAL past the last register stops the walk right at
        // 16384 (accepted by merges, as in Redis); extra zeros do not.
        let mut past = new_sparse();
        past.push(0xff);
        assert!(count(&past).is_err());
        assert!(merge_into(&mut vec![0u8; REGISTERS], &past).is_ok());
        let mut over = new_sparse();
        over.extend_from_slice(&[0x7f, 0xff]);
        assert!(count(&over).is_err());
        let mut max = vec![0u8; REGISTERS];
        assert!(merge_into(&mut max, &over).is_err());
        assert!(sparse_to_dense(&over).is_err());
        for b in 0..=255u8 {
            let mut v = new_sparse();
            v.truncate(HDR_SIZE);
            v.extend_from_slice(&[b, b, 0x80, b]);
            let _ = add(&mut v, b"abc", 3000);
            let _ = count(&v);
            let _ = sparse_to_dense(&v);
        }
    }

    #[test]
    fn cache_bits_follow_the_header_layout() {
        let mut v = new_sparse();
        assert_eq!(cached_card(&v), Some(0));
        invalidate_cache(&mut v);
        assert_eq!(cached_card(&v), None);
        set_cached_card(&mut v, 0x0102);
        assert_eq!(&v[8..16], &[2, 1, 0, 0, 0, 0, 0, 0]);
        assert!(is_valid(&v));
        assert!(!is_valid(b"HYLL"));
        let mut d = sparse_to_dense(&v).unwrap();
        assert!(is_valid(&d));
        d.pop();
        assert!(!is_valid(&d));
    }
}
