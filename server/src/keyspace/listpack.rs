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
//!
//! The whole listpack is one exact-size `Box<[u8]>`: the entries followed by
//! the entry count, a varint with its bytes reversed (read from the end like
//! a backlen); an empty listpack owns no allocation. Every change
//! reallocates to the exact new size, as Redis does with its listpacks: a
//! doubling buffer leaves up to half of it unused, which is most of a small
//! collection's bytes over Redis's. The struct is 16 bytes with a niche (the
//! box pointer), so a type holding either a listpack or a boxed big encoding
//! (`Hash`, `ZSet`) is 16 bytes too and fits inline in a `Value`.

/// A packed sequence of byte strings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    /// Entries, then the reversed-varint count; empty when there are none.
    buf: Box<[u8]>,
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

/// Appends `n` as a varint with its bytes reversed (readable with [`get_backlen`]).
fn put_reversed_varint(out: &mut Vec<u8>, n: usize) {
    let mark = out.len();
    put_varint(out, n);
    out[mark..].reverse();
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
    put_reversed_varint(out, body);
}

/// Bytes one entry of `len` data bytes takes.
pub fn entry_size(len: usize) -> usize {
    let body = varint_len(len) + len;
    body + varint_len(body)
}

/// Bytes of the count trailer for `count` entries.
fn trailer_size(count: usize) -> usize {
    if count == 0 {
        0
    } else {
        varint_len(count)
    }
}

impl Listpack {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        if self.buf.is_empty() {
            0
        } else {
            get_backlen(&self.buf, self.buf.len()).0
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes of the allocation (entries and count): what the listpack costs,
    /// for memory accounting and the size thresholds.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Offset just past the last entry: where [`Listpack::insert_at`]
    /// appends (the count follows it).
    pub fn end(&self) -> usize {
        if self.buf.is_empty() {
            0
        } else {
            self.buf.len() - get_backlen(&self.buf, self.buf.len()).1
        }
    }

    /// Takes the entries out as a vector with room for exactly `grow` more
    /// bytes plus the count of `count` entries (see [`Listpack::close`]).
    fn open(&mut self, grow: usize, count: usize) -> Vec<u8> {
        let end = self.end();
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.truncate(end);
        v.reserve_exact(grow + trailer_size(count));
        v
    }

    /// Puts the entries back with their count, at their exact size.
    fn close(&mut self, mut v: Vec<u8>, count: usize) {
        if count == 0 {
            return;
        }
        put_reversed_varint(&mut v, count);
        self.buf = v.into_boxed_slice();
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
        let end = self.end();
        let (body, n) = get_backlen(&self.buf, end);
        Some(end - n - body)
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
        (next < self.end()).then_some(next)
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
        let len = self.len() as i64;
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
        let count = self.len() + 1;
        let mut v = self.open(entry_size(data.len()), count);
        encode_entry(&mut v, data);
        self.close(v, count);
    }

    /// Prepends an entry.
    pub fn push_front(&mut self, data: &[u8]) {
        self.insert_at(0, data);
    }

    /// Inserts an entry at byte offset `off` (an entry boundary, or the end).
    pub fn insert_at(&mut self, off: usize, data: &[u8]) {
        let mut enc = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut enc, data);
        let count = self.len() + 1;
        let mut v = self.open(enc.len(), count);
        v.splice(off..off, enc);
        self.close(v, count);
    }

    /// Replaces the entry at `off`; returns the offset of the entry after it.
    pub fn replace_at(&mut self, off: usize, data: &[u8]) -> usize {
        let old = self.size_at(off);
        let mut enc = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut enc, data);
        let new_len = enc.len();
        let count = self.len();
        let mut v = self.open(new_len.saturating_sub(old), count);
        v.splice(off..off + old, enc);
        self.close(v, count);
        off + new_len
    }

    /// Removes the entry at `off`; the entry that followed now starts at `off`.
    pub fn remove_at(&mut self, off: usize) {
        self.remove_range(off, 1);
    }

    /// Removes `count` entries starting at `off`.
    pub fn remove_range(&mut self, off: usize, count: usize) {
        let end = self.end();
        let mut stop = off;
        let mut removed = 0;
        while removed < count && stop < end {
            stop += self.size_at(stop);
            removed += 1;
        }
        if removed == 0 {
            return;
        }
        let left = self.len() - removed;
        let mut v = self.open(0, left);
        v.drain(off..stop);
        self.close(v, left);
    }

    /// Iterates the entries front to back (and back to front with `.rev()`).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            front: 0,
            back: self.end(),
            remaining: self.len(),
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
        self.buf = Box::default();
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
        // 100 entries of 7 bytes, then the count (one byte below 128).
        assert_eq!(lp.bytes(), 100 * 7 + 1);
    }

    #[test]
    fn the_allocation_is_exact_and_the_count_survives_every_change() {
        let mut lp = Listpack::new();
        assert_eq!((lp.len(), lp.bytes()), (0, 0));
        let mut model: Vec<Vec<u8>> = Vec::new();
        for i in 0..300usize {
            let item = vec![b'a' + (i % 26) as u8; i % 13];
            if i % 3 == 0 {
                lp.push_front(&item);
                model.insert(0, item);
            } else {
                lp.push_back(&item);
                model.push(item);
            }
            let entries: usize = model.iter().map(|m| entry_size(m.len())).sum();
            assert_eq!(lp.bytes(), entries + varint_len(model.len()), "after {i}");
            assert_eq!(lp.len(), model.len());
        }
        assert_eq!(items(&lp), model);
        let off = lp.offset_of(-1).unwrap();
        lp.replace_at(off, &[b'z'; 200]);
        *model.last_mut().unwrap() = vec![b'z'; 200];
        assert_eq!(items(&lp), model);
        lp.remove_range(lp.offset_of(10).unwrap(), 200);
        model.drain(10..210);
        assert_eq!(lp.len(), 100);
        assert_eq!(items(&lp), model);
        assert_eq!(lp.iter().rev().count(), 100);
        while let Some(o) = lp.first() {
            lp.remove_at(o);
        }
        assert!(lp.is_empty());
        assert_eq!((lp.len(), lp.bytes(), lp.last()), (0, 0, None));
        assert_eq!(std::mem::size_of::<Listpack>(), 16);
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
