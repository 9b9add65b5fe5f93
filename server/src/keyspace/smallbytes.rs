//! A byte string that keeps up to [`INLINE_MAX`] bytes inside itself and
//! longer ones in one exact-size heap allocation, for keys and short string
//! values (`Entry.key`, `RStr::Emb`).
//!
//! Most keys and many values are short (`user:1234`, `value:000123`): stored
//! inline they cost no allocation at all, where a `Box<[u8]>` costs a
//! 24-byte block plus the allocator's own header, and one more page-table
//! entry's worth of memory for a fork to copy. The type is 24 bytes, like a
//! `Vec`, and leaves a niche in its length byte, so `Option<SmallBytes>` and
//! enums that embed it (`RStr`, `Value`) stay 24 bytes too (checked by the
//! tests here and in `keyspace::db`).
//!
//! The layout needs no `unsafe`: the inline length is an enum with one
//! variant per valid length (0..=23), so the compiler knows the other 232
//! values of that byte are free and stores the enum tags of the containing
//! types there.
//!
//! This module only stores bytes; it knows nothing about encodings (OBJECT
//! ENCODING follows Redis's thresholds in `keyspace::value`, not this layout).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest byte string stored without a heap allocation.
pub const INLINE_MAX: usize = 23;

/// Length of an inline string. One variant per valid value, so the byte's
/// other values are a niche for the containing enums.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Len {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
    L23,
}

/// Every `Len`, indexed by its value.
const LENS: [Len; INLINE_MAX + 1] = [
    Len::L0,
    Len::L1,
    Len::L2,
    Len::L3,
    Len::L4,
    Len::L5,
    Len::L6,
    Len::L7,
    Len::L8,
    Len::L9,
    Len::L10,
    Len::L11,
    Len::L12,
    Len::L13,
    Len::L14,
    Len::L15,
    Len::L16,
    Len::L17,
    Len::L18,
    Len::L19,
    Len::L20,
    Len::L21,
    Len::L22,
    Len::L23,
];

#[derive(Clone, Copy)]
struct Inline {
    len: Len,
    data: [u8; INLINE_MAX],
}

#[derive(Clone)]
enum Repr {
    Inline(Inline),
    Heap(Box<[u8]>),
}

/// An immutable byte string, inline when short (see the module header).
#[derive(Clone)]
pub struct SmallBytes(Repr);

impl SmallBytes {
    /// Copies `b`, inline if it is at most [`INLINE_MAX`] bytes.
    pub fn new(b: &[u8]) -> SmallBytes {
        match LENS.get(b.len()) {
            Some(&len) => {
                let mut data = [0u8; INLINE_MAX];
                data[..b.len()].copy_from_slice(b);
                SmallBytes(Repr::Inline(Inline { len, data }))
            }
            None => SmallBytes(Repr::Heap(b.into())),
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(i) => &i.data[..i.len as usize],
            Repr::Heap(b) => b,
        }
    }

    /// Heap bytes owned (0 when inline).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline(_) => 0,
            Repr::Heap(b) => b.len(),
        }
    }

    /// True when the bytes are stored inline.
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(_))
    }
}

impl Deref for SmallBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> SmallBytes {
        SmallBytes::new(b)
    }
}

impl From<SmallBytes> for Box<[u8]> {
    fn from(s: SmallBytes) -> Box<[u8]> {
        match s.0 {
            Repr::Inline(i) => i.data[..i.len as usize].into(),
            Repr::Heap(b) => b,
        }
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &SmallBytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl PartialEq<[u8]> for SmallBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

/// Hashes like the `[u8]` it holds, as `Borrow<[u8]>` requires.
impl Hash for SmallBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn short_strings_are_inline_and_long_ones_on_the_heap_at_every_length() {
        for n in 0..=100usize {
            let b: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            let s = SmallBytes::new(&b);
            assert_eq!(&s[..], &b[..], "length {n}");
            assert_eq!(s.len(), n);
            assert_eq!(s.is_inline(), n <= INLINE_MAX, "length {n}");
            assert_eq!(s.heap_size(), if n <= INLINE_MAX { 0 } else { n });
            let c = s.clone();
            assert_eq!(c, s);
            assert_eq!(&*Box::<[u8]>::from(c), &b[..]);
        }
    }

    #[test]
    fn the_lengths_table_matches_the_variants() {
        for (i, l) in LENS.iter().enumerate() {
            assert_eq!(*l as usize, i);
        }
    }

    #[test]
    fn equality_and_hashing_follow_the_bytes() {
        use std::collections::HashSet;
        let long = [b'x'; 40];
        let mut set: HashSet<SmallBytes> = HashSet::new();
        set.insert(SmallBytes::new(b"abc"));
        set.insert(SmallBytes::new(&long));
        assert!(set.contains(&b"abc"[..]));
        assert!(set.contains(&long[..]));
        assert!(!set.contains(&b"abd"[..]));
        assert_ne!(SmallBytes::new(b""), SmallBytes::new(b"\0"));
        assert_eq!(SmallBytes::new(b"")[..], b""[..]);
    }

    #[test]
    fn the_type_is_24_bytes_and_leaves_a_niche() {
        assert_eq!(size_of::<SmallBytes>(), 24);
        assert_eq!(size_of::<Option<SmallBytes>>(), 24);
    }
}
