//! A compact sequence of byte strings stored in one allocation, for small
//! lists, hashes, sets and sorted sets (what Redis calls a listpack, with our
//! own layout).
//!
//! Each entry is `[varint len][bytes][backlen]`, where `backlen` is the size
//! of `varint len + bytes` written as a varint whose bytes are reversed, so
//! the sequence can be walked in both directions. Small elements cost two
//! bytes of overhead, which keeps small collections within a few percent of
//! Redis's memory use. Operations in the middle are O(n) byte moves, as in
//! Redis; types switch to their big encoding past the `*-max-listpack-*`
//! thresholds.

/// A packed sequence of byte strings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
    len: u32,
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint at `pos`; returns (value, bytes used).
fn get_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = pos;
    loop {
        let b = buf[i];
        n |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (n, i - pos);
        }
        shift += 7;
    }
}

/// Reads the reversed varint that ends just before `end`; returns (value, bytes used).
fn get_backlen(buf: &[u8], end: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = end;
    loop {
        i -= 1;
        let b = buf[i];
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (n, end - i);
        }
        shift += 7;
    }
}

/// Encodes one entry.
fn encode_entry(out: &mut Vec<u8>, data: &[u8]) {
    let start = out.len();
    put_varint(out, data.len());
    out.extend_from_slice(data);
    let body = out.len() - start;
    let mark = out.len();
    put_varint(out, body);
    out[mark..].reverse();
}

fn entry_size(len: usize) -> usize {
    let body = varint_len(len) + len;
    body + varint_len(body)
}

impl Listpack {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes used by the encoding (for memory accounting and thresholds).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes reserved.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Offset of the first entry, if any.
    pub fn first(&self) -> Option<usize> {
        (!self.buf.is_empty()).then_some(0)
    }

    /// Offset of the last entry, if any.
    pub fn last(&self) -> Option<usize> {
        if self.buf.is_empty() {
            return None;
        }
        let (body, n) = get_backlen(&self.buf, self.buf.len());
        Some(self.buf.len() - n - body)
    }

    /// The entry at byte offset `off` (an offset returned by this listpack).
    pub fn at(&self, off: usize) -> &[u8] {
        let (len, n) = get_varint(&self.buf, off);
        &self.buf[off + n..off + n + len]
    }

    fn size_at(&self, off: usize) -> usize {
        let (len, n) = get_varint(&self.buf, off);
        let body = n + len;
        body + varint_len(body)
    }

    /// Offset of the entry after the one at `off`.
    pub fn next(&self, off: usize) -> Option<usize> {
        let next = off + self.size_at(off);
        (next < self.buf.len()).then_some(next)
    }

    /// Offset of the entry before the one at `off`.
    pub fn prev(&self, off: usize) -> Option<usize> {
        if off == 0 {
            return None;
        }
        let (body, n) = get_backlen(&self.buf, off);
        Some(off - n - body)
    }

    /// Offset of the entry at `index` (negative counts from the end).
    pub fn offset_of(&self, index: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if index < 0 { len + index } else { index };
        if i < 0 || i >= len {
            return None;
        }
        if i <= len / 2 {
            let mut off = self.first()?;
            for _ in 0..i {
                off = self.next(off)?;
            }
            Some(off)
        } else {
            let mut off = self.last()?;
            for _ in 0..(len - 1 - i) {
                off = self.prev(off)?;
            }
            Some(off)
        }
    }

    /// The entry at `index` (negative counts from the end).
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        self.offset_of(index).map(|o| self.at(o))
    }

    /// Appends an entry.
    pub fn push_back(&mut self, data: &[u8]) {
        encode_entry(&mut self.buf, data);
        self.len += 1;
    }

    /// Prepends an entry.
    pub fn push_front(&mut self, data: &[u8]) {
        self.insert_at(0, data);
    }

    /// Inserts an entry at byte offset `off` (an entry boundary, or the end).
    pub fn insert_at(&mut self, off: usize, data: &[u8]) {
        let mut enc = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut enc, data);
        self.buf.splice(off..off, enc);
        self.len += 1;
    }

    /// Replaces the entry at `off`; returns the offset of the entry after it.
    pub fn replace_at(&mut self, off: usize, data: &[u8]) -> usize {
        let old = self.size_at(off);
        let mut enc = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut enc, data);
        let new_len = enc.len();
        self.buf.splice(off..off + old, enc);
        off + new_len
    }

    /// Removes the entry at `off`; the entry that followed now starts at `off`.
    pub fn remove_at(&mut self, off: usize) {
        let size = self.size_at(off);
        self.buf.drain(off..off + size);
        self.len -= 1;
    }

    /// Removes `count` entries starting at `off`.
    pub fn remove_range(&mut self, off: usize, count: usize) {
        let mut end = off;
        let mut removed = 0;
        while removed < count && end < self.buf.len() {
            end += self.size_at(end);
            removed += 1;
        }
        self.buf.drain(off..end);
        self.len -= removed as u32;
    }

    /// Iterates the entries front to back (and back to front with `.rev()`).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            front: 0,
            back: self.buf.len(),
            remaining: self.len as usize,
        }
    }

    /// Offset of the first entry equal to `data`, stepping `step` entries at
    /// a time (2 for the fields of a hash stored as field,value pairs).
    pub fn find(&self, data: &[u8], step: usize) -> Option<usize> {
        let mut off = self.first();
        while let Some(o) = off {
            if self.at(o) == data {
                return Some(o);
            }
            let mut n = Some(o);
            for _ in 0..step {
                n = n.and_then(|x| self.next(x));
            }
            off = n;
        }
        None
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.len = 0;
    }

    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Makes room for exactly `additional` more bytes, so that a small
    /// listpack grown one entry at a time stays at its exact size, as Redis
    /// reallocates its listpacks (a doubling `Vec` leaves up to half unused).
    pub fn reserve_exact(&mut self, additional: usize) {
        self.buf.reserve_exact(additional);
    }
}

/// Iterator over a listpack's entries.
pub struct Iter<'a> {
    lp: &'a Listpack,
    front: usize,
    back: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let off = self.front;
        self.front += self.lp.size_at(off);
        self.remaining -= 1;
        Some(self.lp.at(off))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let (body, n) = get_backlen(&self.lp.buf, self.back);
        self.back -= n + body;
        self.remaining -= 1;
        Some(self.lp.at(self.back))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|e| e.to_vec()).collect()
    }

    #[test]
    fn entries_round_trip_in_both_directions() {
        let mut lp = Listpack::new();
        let big = vec![b'x'; 300];
        lp.push_back(b"a");
        lp.push_back(&big);
        lp.push_back(b"");
        lp.push_front(b"first");
        assert_eq!(lp.len(), 4);
        assert_eq!(
            items(&lp),
            vec![b"first".to_vec(), b"a".to_vec(), big.clone(), b"".to_vec()]
        );
        let back: Vec<Vec<u8>> = lp.iter().rev().map(|e| e.to_vec()).collect();
        assert_eq!(
            back,
            vec![b"".to_vec(), big.clone(), b"a".to_vec(), b"first".to_vec()]
        );
        assert_eq!(lp.get(-2), Some(&big[..]));
        assert_eq!(lp.get(4), None);
    }

    #[test]
    fn small_entries_cost_two_bytes_of_overhead() {
        let mut lp = Listpack::new();
        for _ in 0..100 {
            lp.push_back(b"12345");
        }
        assert_eq!(lp.bytes(), 100 * 7);
    }

    #[test]
    fn insert_replace_and_remove_keep_the_sequence_consistent() {
        let mut lp = Listpack::new();
        for i in 0..50 {
            lp.push_back(format!("v{i}").as_bytes());
        }
        let off = lp.offset_of(10).unwrap();
        lp.insert_at(off, b"inserted");
        assert_eq!(lp.get(10), Some(&b"inserted"[..]));
        assert_eq!(lp.get(11), Some(&b"v10"[..]));
        let off = lp.offset_of(11).unwrap();
        lp.replace_at(off, &[b'y'; 200]);
        assert_eq!(lp.get(11).unwrap().len(), 200);
        lp.remove_at(lp.offset_of(0).unwrap());
        lp.remove_range(lp.offset_of(5).unwrap(), 3);
        assert_eq!(lp.len(), 47);
        assert_eq!(lp.iter().rev().count(), 47);
        assert_eq!(lp.get(-1), Some(&b"v49"[..]));
        assert!(lp.find(b"v20", 1).is_some());
        assert!(lp.find(b"nope", 1).is_none());
    }
}
