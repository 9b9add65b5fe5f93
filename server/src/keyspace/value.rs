//! Stored values and the encodings Redis reports for them (OBJECT ENCODING).
//!
//! Strings follow Redis's three encodings: `int` for canonical 64-bit integers,
//! `embstr` for short strings stored in one allocation, and `raw` for longer or
//! modified-in-place strings (APPEND, SETRANGE, SETBIT make a string raw).

use super::smallbytes::SmallBytes;
use crate::types::{Hash, List, Set, Stream, ZSet};

/// Longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// A value stored under a key, 24 bytes (the key slab holds one per key).
/// Hashes and sorted sets are inline: a listpack or a box holding the big
/// encoding, 16 bytes each, so a small one costs its listpack and nothing
/// else. Lists, sets and streams are bigger than the 16 bytes that fit next
/// to the string's niche, so they are boxed.
#[derive(Clone)]
pub enum Value {
    Str(RStr),
    List(Box<List>),
    Hash(Hash),
    Set(Box<Set>),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

/// The Redis type name of a value (TYPE command, SCAN TYPE).
impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(v) => v.encoding(),
            Value::Hash(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
            Value::Stream(v) => v.encoding(),
        }
    }

    /// A string value with the encoding Redis would pick for it.
    pub fn from_bytes(b: &[u8]) -> Value {
        Value::Str(RStr::new(b))
    }

    /// The value's content as byte strings in a canonical order (DEBUG
    /// DIGEST, serialized size estimates).
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        match self {
            Value::Str(s) => vec![s.to_vec()],
            Value::List(v) => v.digest_items(),
            Value::Hash(v) => v.digest_items(),
            Value::Set(v) => v.digest_items(),
            Value::ZSet(v) => v.digest_items(),
            Value::Stream(v) => v.digest_items(),
        }
    }

    /// How much work freeing the value takes, in O(1): the number of
    /// elements of a collection (each is at least one allocation in the big
    /// encodings), 1 for a string, which is one allocation whatever its size.
    /// Redis's lazyfree uses the same measure.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(v) => v.len(),
            Value::Hash(v) => v.len(),
            Value::Set(v) => v.len(),
            Value::ZSet(v) => v.len(),
            Value::Stream(v) => usize::try_from(v.len()).unwrap_or(usize::MAX),
        }
    }

    /// Approximate heap bytes used by the value (MEMORY USAGE, used_memory).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(v) => std::mem::size_of::<List>() + v.heap_size(),
            Value::Hash(v) => v.heap_size(),
            Value::Set(v) => std::mem::size_of::<Set>() + v.heap_size(),
            Value::ZSet(v) => v.heap_size(),
            Value::Stream(v) => std::mem::size_of::<Stream>() + v.heap_size(),
        }
    }
}

/// A string value.
///
/// `Emb` keeps strings of up to 23 bytes inline (no allocation) and longer
/// ones up to [`EMBSTR_MAX`] in one exact-size allocation; the name follows
/// Redis's `embstr` threshold, not this layout.
#[derive(Clone, Debug)]
pub enum RStr {
    Int(i64),
    Emb(SmallBytes),
    Raw(RawStr),
}

impl RStr {
    pub fn new(b: &[u8]) -> RStr {
        if b.len() <= 20 {
            if let Some(n) = parse_canonical_i64(b) {
                return RStr::Int(n);
            }
        }
        if b.len() <= EMBSTR_MAX {
            RStr::Emb(b.into())
        } else {
            RStr::Raw(b.into())
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            RStr::Int(_) => "int",
            RStr::Emb(_) => "embstr",
            RStr::Raw(_) => "raw",
        }
    }

    /// The string's bytes (integers are formatted into `scratch`).
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa_buf::Buf) -> &'a [u8] {
        match self {
            RStr::Int(n) => scratch.format(*n),
            RStr::Emb(b) => b,
            RStr::Raw(v) => v,
        }
    }

    /// Owned copy of the bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut s = itoa_buf::Buf::new();
        self.as_bytes(&mut s).to_vec()
    }

    pub fn len(&self) -> usize {
        match self {
            RStr::Int(n) => itoa_buf::Buf::new().format(*n).len(),
            RStr::Emb(b) => b.len(),
            RStr::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Turns the string into a `raw` byte vector for in-place modification.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, RStr::Raw(_)) {
            *self = RStr::Raw(RawStr::from(self.to_vec()));
        }
        match self {
            RStr::Raw(v) => v.make_mut(),
            _ => unreachable!("converted to raw above"),
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            RStr::Int(_) => 0,
            RStr::Emb(b) => b.heap_size(),
            RStr::Raw(v) => v.heap_size(),
        }
    }
}

/// The bytes of a `raw` string: one exact-size allocation while the string
/// is only replaced whole (SET of a long value, results of BITOP or
/// PFMERGE), a growable vector once a command modifies it in place (APPEND,
/// SETRANGE, SETBIT, PFADD), so repeated appends stay amortized O(1).
///
/// Two pointers' worth (16 bytes) instead of a `Vec`'s 24 keeps `RStr` and
/// `Value` at 24 bytes next to an inline [`SmallBytes`]; the growable form
/// pays one extra small allocation, only for strings that were modified.
#[derive(Clone)]
pub struct RawStr(RawRepr);

#[derive(Clone)]
enum RawRepr {
    Exact(Box<[u8]>),
    // Boxed on purpose: a bare `Vec` (24 bytes) would make `RStr` 32.
    #[allow(clippy::box_collection)]
    Growable(Box<Vec<u8>>),
}

impl RawStr {
    /// The bytes as a growable vector (converting once, without copying
    /// the bytes).
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if let RawRepr::Exact(b) = &mut self.0 {
            let v = std::mem::take(b).into_vec();
            self.0 = RawRepr::Growable(Box::new(v));
        }
        match &mut self.0 {
            RawRepr::Growable(v) => v,
            RawRepr::Exact(_) => unreachable!("made growable above"),
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            RawRepr::Exact(b) => b.len(),
            RawRepr::Growable(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
        }
    }
}

impl std::ops::Deref for RawStr {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            RawRepr::Exact(b) => b,
            RawRepr::Growable(v) => v,
        }
    }
}

impl From<&[u8]> for RawStr {
    fn from(b: &[u8]) -> RawStr {
        RawStr(RawRepr::Exact(b.into()))
    }
}

/// Takes the vector's bytes as an exact-size allocation (free when the
/// vector has no spare capacity).
impl From<Vec<u8>> for RawStr {
    fn from(v: Vec<u8>) -> RawStr {
        RawStr(RawRepr::Exact(v.into_boxed_slice()))
    }
}

impl std::fmt::Debug for RawStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

/// Parses an i64 the way Redis's string2ll does: no sign other than a leading
/// '-', no leading zeros, no spaces, no "+", and "-0" is rejected.
pub fn parse_canonical_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Integer formatting into a stack buffer, without allocating.
pub mod itoa_buf {
    pub struct Buf {
        bytes: [u8; 20],
    }

    impl Default for Buf {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Buf {
        pub fn new() -> Self {
            Buf { bytes: [0; 20] }
        }

        pub fn format(&mut self, n: i64) -> &[u8] {
            let mut pos = self.bytes.len();
            let neg = n < 0;
            let mut v = n.unsigned_abs();
            loop {
                pos -= 1;
                self.bytes[pos] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            if neg {
                pos -= 1;
                self.bytes[pos] = b'-';
            }
            &self.bytes[pos..]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_parse_and_others_do_not() {
        assert_eq!(parse_canonical_i64(b"0"), Some(0));
        assert_eq!(parse_canonical_i64(b"-12"), Some(-12));
        assert_eq!(parse_canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"01"[..],
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(parse_canonical_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn string_encodings_follow_redis_thresholds() {
        assert_eq!(RStr::new(b"12345").encoding(), "int");
        assert_eq!(RStr::new(b"012").encoding(), "embstr");
        assert_eq!(RStr::new(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(RStr::new(&[b'a'; 45]).encoding(), "raw");
    }

    /// The key slab holds one `Option<Entry>` per key: every byte here is
    /// paid a million times with a million keys (see docs/benchmarks.md).
    #[test]
    fn per_key_structures_keep_their_size() {
        use std::mem::size_of;
        assert_eq!(size_of::<RStr>(), 24);
        assert_eq!(size_of::<Value>(), 24);
        assert_eq!(size_of::<Option<Value>>(), 24);
        assert_eq!(size_of::<crate::keyspace::Entry>(), 64);
        // Small hashes and zsets live inline in the Value (no Box header);
        // a boxed Set costs a 24-byte block.
        assert_eq!(size_of::<crate::keyspace::listpack::Listpack>(), 16);
        assert_eq!(size_of::<Hash>(), 16);
        assert_eq!(size_of::<ZSet>(), 16);
        assert_eq!(size_of::<Set>(), 24);
        assert_eq!(size_of::<Option<crate::keyspace::Entry>>(), 64);
    }

    #[test]
    fn short_strings_are_stored_inline_and_raw_strings_grow_in_place() {
        let RStr::Emb(e) = RStr::new(b"value:000123") else {
            panic!("embstr expected");
        };
        assert!(e.is_inline());
        assert_eq!(RStr::new(&[b'a'; 30]).heap_size(), 30);
        let mut s = RStr::new(&[b'b'; 60]);
        assert_eq!(s.heap_size(), 60);
        for _ in 0..1000 {
            s.make_raw().extend_from_slice(b"xyz");
        }
        assert_eq!(s.len(), 3060);
        assert_eq!(s.encoding(), "raw");
        let mut n = RStr::new(b"12");
        n.make_raw().push(b'3');
        assert_eq!(n.to_vec(), b"123");
        assert_eq!(n.encoding(), "raw");
    }

    #[test]
    fn integers_format_at_the_edges() {
        let mut b = itoa_buf::Buf::new();
        assert_eq!(b.format(i64::MIN), b"-9223372036854775808");
        assert_eq!(b.format(0), b"0");
        assert_eq!(b.format(42), b"42");
    }
}
