//! The replication backlog: the last `repl-backlog-size` bytes of the
//! replication stream, so a replica that lost its link can continue from its
//! offset (`+CONTINUE`) instead of a full sync.
//!
//! Offsets follow Redis: `offset()` is master_repl_offset, the number of
//! stream bytes ever produced; the backlog holds the byte range
//! `[first_byte_offset, first_byte_offset + histlen - 1]`, which ends at
//! `offset()`.

use std::collections::VecDeque;

pub struct Backlog {
    buf: VecDeque<u8>,
    size: usize,
    /// master_repl_offset: offset of the last byte fed.
    offset: i64,
}

impl Backlog {
    /// An empty backlog of `size` bytes whose history continues after
    /// `offset` (the next byte fed is `offset + 1`).
    pub fn new(size: usize, offset: i64) -> Self {
        Backlog {
            buf: VecDeque::new(),
            size: size.max(1),
            offset,
        }
    }

    /// Appends stream bytes, dropping the oldest beyond the size.
    pub fn feed(&mut self, data: &[u8]) {
        self.offset += data.len() as i64;
        if data.len() >= self.size {
            self.buf.clear();
            self.buf.extend(&data[data.len() - self.size..]);
            return;
        }
        let over = (self.buf.len() + data.len()).saturating_sub(self.size);
        if over > 0 {
            self.buf.drain(..over);
        }
        self.buf.extend(data);
    }

    /// CONFIG SET repl-backlog-size: keeps the newest bytes that fit.
    pub fn resize(&mut self, size: usize) {
        self.size = size.max(1);
        let over = self.buf.len().saturating_sub(self.size);
        if over > 0 {
            self.buf.drain(..over);
        }
        self.buf.shrink_to(self.size);
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// master_repl_offset.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// repl_backlog_first_byte_offset.
    pub fn first_byte_offset(&self) -> i64 {
        self.offset - self.buf.len() as i64 + 1
    }

    /// repl_backlog_histlen.
    pub fn histlen(&self) -> usize {
        self.buf.len()
    }

    /// True if the bytes from `requested` on are all here (`requested ==
    /// offset() + 1` is the empty tail: nothing is missing).
    pub fn covers(&self, requested: i64) -> bool {
        requested >= self.first_byte_offset() && requested <= self.offset + 1
    }

    /// The bytes from offset `requested` to the end, as two slices, or None
    /// when they are no longer (or not yet) here.
    pub fn since(&self, requested: i64) -> Option<(&[u8], &[u8])> {
        if !self.covers(requested) {
            return None;
        }
        let skip = (requested - self.first_byte_offset()) as usize;
        let (a, b) = self.buf.as_slices();
        if skip <= a.len() {
            Some((&a[skip..], b))
        } else {
            Some((&b[skip - a.len()..], &[]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(b: &Backlog, from: i64) -> Option<Vec<u8>> {
        b.since(from).map(|(x, y)| [x, y].concat())
    }

    #[test]
    fn offsets_follow_every_byte_fed() {
        let mut b = Backlog::new(16, 0);
        assert_eq!(b.first_byte_offset(), 1);
        assert_eq!(b.histlen(), 0);
        b.feed(b"hello");
        assert_eq!(b.offset(), 5);
        assert_eq!(b.first_byte_offset(), 1);
        assert_eq!(tail(&b, 1).unwrap(), b"hello");
        assert_eq!(tail(&b, 4).unwrap(), b"lo");
        assert_eq!(tail(&b, 6).unwrap(), b"");
        assert!(tail(&b, 7).is_none());
        assert!(tail(&b, 0).is_none());
    }

    #[test]
    fn old_bytes_fall_off_the_front_when_full() {
        let mut b = Backlog::new(8, 100);
        b.feed(b"abcdef");
        b.feed(b"ghijkl");
        assert_eq!(b.offset(), 112);
        assert_eq!(b.histlen(), 8);
        assert_eq!(b.first_byte_offset(), 105);
        assert_eq!(tail(&b, 105).unwrap(), b"efghijkl");
        assert!(tail(&b, 104).is_none());
        b.feed(b"0123456789abc");
        assert_eq!(tail(&b, b.first_byte_offset()).unwrap(), b"56789abc");
        b.resize(3);
        assert_eq!(tail(&b, b.first_byte_offset()).unwrap(), b"abc");
        assert_eq!(b.offset(), 125);
    }
}
