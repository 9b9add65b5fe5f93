//! The packed blobs found inside RDB values, in Redis's byte formats (not our
//! in-memory ones): listpack (decode and encode), and the legacy ziplist,
//! intset and zipmap (decode only). Every decoder checks bounds and
//! structure and returns None on anything malformed.

use crate::keyspace::value::{itoa_buf, parse_canonical_i64};

/// One element of a listpack or ziplist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element as bytes (integers in decimal).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Elem::Int(n) => itoa_buf::Buf::new().format(*n).to_vec(),
            Elem::Str(s) => s.to_vec(),
        }
    }

    /// The element as an integer: an integer encoding, or a string holding
    /// a canonical integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Elem::Int(n) => Some(*n),
            Elem::Str(s) => parse_canonical_i64(s),
        }
    }
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Sign-extends the low `bits` bits of `v`.
fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Number of bytes the backlen of an entry of `l` bytes takes.
fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Decodes a Redis listpack.
pub fn listpack(b: &[u8]) -> Option<Vec<Elem<'_>>> {
    if b.len() < 7 || le(&b[0..4]) as usize != b.len() || *b.last()? != 0xFF {
        return None;
    }
    let declared = le(&b[4..6]) as usize;
    let mut out = Vec::with_capacity(declared.min(b.len()));
    let mut p = 6;
    loop {
        let first = *b.get(p)?;
        if first == 0xFF {
            if p != b.len() - 1 {
                return None;
            }
            break;
        }
        let (elem, size) = match first {
            0x00..=0x7F => (Elem::Int(first as i64), 1),
            0x80..=0xBF => {
                let n = (first & 0x3F) as usize;
                (Elem::Str(b.get(p + 1..p + 1 + n)?), 1 + n)
            }
            0xC0..=0xDF => {
                let v = ((first as u64 & 0x1F) << 8) | *b.get(p + 1)? as u64;
                (Elem::Int(sext(v, 13)), 2)
            }
            0xE0..=0xEF => {
                let n = ((first as usize & 0x0F) << 8) | *b.get(p + 1)? as usize;
                (Elem::Str(b.get(p + 2..p + 2 + n)?), 2 + n)
            }
            0xF0 => {
                let n = le(b.get(p + 1..p + 5)?) as usize;
                let end = (p + 5).checked_add(n)?;
                (Elem::Str(b.get(p + 5..end)?), 5 + n)
            }
            0xF1 => (Elem::Int(sext(le(b.get(p + 1..p + 3)?), 16)), 3),
            0xF2 => (Elem::Int(sext(le(b.get(p + 1..p + 4)?), 24)), 4),
            0xF3 => (Elem::Int(sext(le(b.get(p + 1..p + 5)?), 32)), 5),
            0xF4 => (Elem::Int(le(b.get(p + 1..p + 9)?) as i64), 9),
            _ => return None,
        };
        let bl = backlen_size(size);
        let back = b.get(p + size..p + size + bl)?;
        let v = back
            .iter()
            .fold(0usize, |acc, &x| (acc << 7) | (x & 0x7F) as usize);
        if v != size || back[0] & 0x80 != 0 {
            return None;
        }
        out.push(elem);
        p += size + bl;
    }
    if declared != 65535 && declared != out.len() {
        return None;
    }
    Some(out)
}

/// Appends `n` to a listpack under construction with the smallest integer encoding.
fn lp_int(buf: &mut Vec<u8>, n: i64) {
    let start = buf.len();
    if (0..=127).contains(&n) {
        buf.push(n as u8);
    } else if (-4096..=4095).contains(&n) {
        let u = (n as u64) & 0x1FFF;
        buf.push(0xC0 | (u >> 8) as u8);
        buf.push(u as u8);
    } else if i16::try_from(n).is_ok() {
        buf.push(0xF1);
        buf.extend_from_slice(&(n as i16).to_le_bytes());
    } else if (-(1 << 23)..(1 << 23)).contains(&n) {
        buf.push(0xF2);
        buf.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
    } else if i32::try_from(n).is_ok() {
        buf.push(0xF3);
        buf.extend_from_slice(&(n as i32).to_le_bytes());
    } else {
        buf.push(0xF4);
        buf.extend_from_slice(&n.to_le_bytes());
    }
    push_backlen(buf, buf.len() - start);
}

fn push_backlen(buf: &mut Vec<u8>, l: usize) {
    let size = backlen_size(l);
    for i in (0..size).rev() {
        let bits = ((l >> (7 * i)) & 0x7F) as u8;
        buf.push(if i == size - 1 { bits } else { bits | 0x80 });
    }
}

/// A Redis listpack being built.
pub struct LpWriter {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LpWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl LpWriter {
    pub fn new() -> Self {
        LpWriter {
            buf: vec![0; 6],
            count: 0,
        }
    }

    /// Appends an integer element.
    pub fn int(&mut self, n: i64) {
        lp_int(&mut self.buf, n);
        self.count += 1;
    }

    /// Appends a string element; canonical integers are stored as integers,
    /// as Redis does.
    pub fn bytes(&mut self, s: &[u8]) {
        if let Some(n) = parse_canonical_i64(s) {
            return self.int(n);
        }
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xE0 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = self.buf.len() - start;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size so far in bytes.
    pub fn bytes_len(&self) -> usize {
        self.buf.len() + 1
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Decodes a legacy ziplist.
pub fn ziplist(b: &[u8]) -> Option<Vec<Elem<'_>>> {
    if b.len() < 11 || le(&b[0..4]) as usize != b.len() || *b.last()? != 0xFF {
        return None;
    }
    let declared = le(&b[8..10]) as usize;
    let mut out = Vec::new();
    let mut p = 10;
    loop {
        let first = *b.get(p)?;
        if first == 0xFF {
            if p != b.len() - 1 {
                return None;
            }
            break;
        }
        p += if first == 0xFE { 5 } else { 1 };
        let enc = *b.get(p)?;
        let (elem, size) = match enc >> 6 {
            0 => {
                let n = (enc & 0x3F) as usize;
                (Elem::Str(b.get(p + 1..p + 1 + n)?), 1 + n)
            }
            1 => {
                let n = ((enc as usize & 0x3F) << 8) | *b.get(p + 1)? as usize;
                (Elem::Str(b.get(p + 2..p + 2 + n)?), 2 + n)
            }
            2 => {
                let lb = b.get(p + 1..p + 5)?;
                let n = u32::from_be_bytes([lb[0], lb[1], lb[2], lb[3]]) as usize;
                let end = (p + 5).checked_add(n)?;
                (Elem::Str(b.get(p + 5..end)?), 5 + n)
            }
            _ => match enc {
                0xC0 => (Elem::Int(sext(le(b.get(p + 1..p + 3)?), 16)), 3),
                0xD0 => (Elem::Int(sext(le(b.get(p + 1..p + 5)?), 32)), 5),
                0xE0 => (Elem::Int(le(b.get(p + 1..p + 9)?) as i64), 9),
                0xF0 => (Elem::Int(sext(le(b.get(p + 1..p + 4)?), 24)), 4),
                0xFE => (Elem::Int(*b.get(p + 1)? as i8 as i64), 2),
                0xF1..=0xFD => (Elem::Int((enc & 0x0F) as i64 - 1), 1),
                _ => return None,
            },
        };
        out.push(elem);
        p += size;
    }
    if declared != 65535 && declared != out.len() {
        return None;
    }
    Some(out)
}

/// Decodes an intset: strictly ascending integers of 2, 4 or 8 bytes.
pub fn intset(b: &[u8]) -> Option<Vec<i64>> {
    if b.len() < 8 {
        return None;
    }
    let width = le(&b[0..4]) as usize;
    let count = le(&b[4..8]) as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width)?.checked_add(8)? != b.len() {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for chunk in b[8..].chunks_exact(width) {
        let v = sext(le(chunk), (width * 8) as u32);
        if out.last().is_some_and(|&last| last >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

/// Decodes a zipmap (hashes of Redis <= 2.4) into field,value pairs.
pub fn zipmap(b: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut p = 1;
    let mut out = Vec::new();
    let read_len = |p: &mut usize| -> Option<Option<usize>> {
        let first = *b.get(*p)?;
        match first {
            0xFF => Some(None),
            0xFE => {
                let n = le(b.get(*p + 1..*p + 5)?) as usize;
                *p += 5;
                Some(Some(n))
            }
            n => {
                *p += 1;
                Some(Some(n as usize))
            }
        }
    };
    loop {
        let Some(klen) = read_len(&mut p)? else {
            return (p == b.len() - 1).then_some(out);
        };
        let key = b.get(p..p.checked_add(klen)?)?;
        p += klen;
        let vlen = read_len(&mut p)??;
        let free = *b.get(p)? as usize;
        p += 1;
        let val = b.get(p..p.checked_add(vlen)?)?;
        p += vlen + free;
        out.push((key, val));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_round_trips_every_encoding() {
        let items: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-1",
            "4095",
            "-4096",
            "4096",
            "32767",
            "-32768",
            "40000",
            "8388607",
            "-8388608",
            "8388608",
            "2147483647",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "abc",
            "",
            "0123",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 5000],
        ])
        .collect();
        let mut w = LpWriter::new();
        for i in &items {
            w.bytes(i);
        }
        let lp = w.finish();
        let got: Vec<Vec<u8>> = listpack(&lp).unwrap().iter().map(|e| e.to_vec()).collect();
        assert_eq!(got, items);
    }

    #[test]
    fn listpack_known_bytes_decode() {
        // "a", 1, -70000 as Redis writes them.
        let body = [0x81, b'a', 0x02, 0x01, 0x01, 0xF2, 0x90, 0xEE, 0xFE, 0x04];
        let mut lp = ((body.len() + 7) as u32).to_le_bytes().to_vec();
        lp.extend_from_slice(&3u16.to_le_bytes());
        lp.extend_from_slice(&body);
        lp.push(0xFF);
        let got = listpack(&lp).unwrap();
        assert_eq!(got, vec![Elem::Str(b"a"), Elem::Int(1), Elem::Int(-70000)]);
    }

    #[test]
    fn malformed_listpacks_are_refused() {
        let mut w = LpWriter::new();
        w.bytes(b"hello");
        w.int(5);
        let lp = w.finish();
        for cut in 0..lp.len() {
            assert!(listpack(&lp[..cut]).is_none());
        }
        let mut bad = lp.clone();
        bad[6] = 0xF5;
        assert!(listpack(&bad).is_none());
        let mut bad_count = lp;
        bad_count[4] = 9;
        assert!(listpack(&bad_count).is_none());
    }

    #[test]
    fn intsets_decode_at_every_width() {
        let mut b = 2u32.to_le_bytes().to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        for v in [-5i16, 1, 300] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(intset(&b).unwrap(), vec![-5, 1, 300]);
        let mut b8 = 8u32.to_le_bytes().to_vec();
        b8.extend_from_slice(&2u32.to_le_bytes());
        for v in [1i64, 5_000_000_000] {
            b8.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(intset(&b8).unwrap(), vec![1, 5_000_000_000]);
        // Not ascending, bad width, bad length.
        let mut desc = 4u32.to_le_bytes().to_vec();
        desc.extend_from_slice(&2u32.to_le_bytes());
        desc.extend_from_slice(&9i32.to_le_bytes());
        desc.extend_from_slice(&1i32.to_le_bytes());
        assert!(intset(&desc).is_none());
        assert!(intset(&b8[..b8.len() - 1]).is_none());
        let mut w3 = b.clone();
        w3[0] = 3;
        assert!(intset(&w3).is_none());
    }

    #[test]
    fn ziplists_decode() {
        // zlbytes, zltail, zllen=3; entries "ab", int8 -2, immediate 5.
        let entries = [0x00, 0x02, b'a', b'b', 0x04, 0xFE, 0xFE, 0x03, 0xF6];
        let mut z = ((10 + entries.len() + 1) as u32).to_le_bytes().to_vec();
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(&3u16.to_le_bytes());
        z.extend_from_slice(&entries);
        z.push(0xFF);
        assert_eq!(
            ziplist(&z).unwrap(),
            vec![Elem::Str(b"ab"), Elem::Int(-2), Elem::Int(5)]
        );
    }

    #[test]
    fn zipmaps_decode() {
        let z = [
            2, 1, b'f', 2, 0, b'v', b'1', 1, b'g', 1, 1, b'w', b'x', 0xFF,
        ];
        assert_eq!(
            zipmap(&z).unwrap(),
            vec![(&b"f"[..], &b"v1"[..]), (&b"g"[..], &b"w"[..])]
        );
    }
}
