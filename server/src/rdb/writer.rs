//! The RDB writer: version 10, which Redis 7.0, Redis 7.2+ and Valkey load.
//! Strings are int-encoded when they are short canonical integers and LZF
//! compressed when `rdbcompression yes` and that saves at least 4 bytes;
//! values use the plain types (0 string, 1 list, 2 set, 4 hash, 5 zset) and
//! type 19 for streams (with consumer groups, PELs and consumers). The
//! CRC-64 is computed as bytes go out; the trailer is zero with
//! `rdbchecksum no`.
//!
//! Owns the byte layout only: which keys to write and where to is decided by
//! the caller (`persist.rs`, DUMP).

use std::io::{self, Write};

use super::crc64;
use super::lzf;
use super::packed::LpWriter;
use super::reader::{op, ty};
use crate::keyspace::value::{itoa_buf, parse_canonical_i64};
use crate::keyspace::{Entry, RStr, Value, NO_EXPIRE};
use crate::types::stream::{Stream, StreamId};

/// The version we write.
pub const VERSION: u32 = 10;

/// Entries per stream node we write (Redis's stream-node-max-entries default).
const STREAM_NODE_ENTRIES: usize = 100;

/// Writer settings.
#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    /// LZF-compress strings longer than 20 bytes (`rdbcompression`).
    pub compress: bool,
    /// Write a real CRC-64 trailer (`rdbchecksum`); zeros otherwise.
    pub checksum: bool,
    /// Sleep this many microseconds after each key (`rdb-key-save-delay`, a
    /// testing knob that makes a snapshot child run longer).
    pub key_delay_us: u64,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compress: true,
            checksum: true,
            key_delay_us: 0,
        }
    }
}

/// The access data saved before each key, as Redis does under an LRU or
/// LFU maxmemory policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessInfo {
    /// Nothing (any other policy).
    #[default]
    None,
    /// IDLE: seconds since the last access, from this LRU clock.
    Lru { clock: u32 },
    /// FREQ: the counter, decayed to this minute.
    Lfu { minute: u32, decay_time: u32 },
}

/// Writes RDB items to `W`, keeping the CRC-64 of everything written.
pub struct RdbWriter<W: Write> {
    out: W,
    crc: u64,
    opts: WriteOptions,
    written: u64,
    access: AccessInfo,
}

impl<W: Write> RdbWriter<W> {
    pub fn new(out: W, opts: WriteOptions) -> Self {
        RdbWriter {
            out,
            crc: 0,
            opts,
            written: 0,
            access: AccessInfo::None,
        }
    }

    /// Saves IDLE or FREQ before each key from now on.
    pub fn set_access(&mut self, access: AccessInfo) {
        self.access = access;
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The CRC-64 of everything written so far.
    pub fn crc(&self) -> u64 {
        self.crc
    }

    pub fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.crc = crc64::update(self.crc, b);
        self.written += b.len() as u64;
        self.out.write_all(b)
    }

    pub fn byte(&mut self, b: u8) -> io::Result<()> {
        self.raw(&[b])
    }

    /// `REDIS0010`.
    pub fn header(&mut self) -> io::Result<()> {
        self.raw(format!("REDIS{VERSION:04}").as_bytes())
    }

    /// A length in the shortest form.
    pub fn len(&mut self, n: u64) -> io::Result<()> {
        if n < 64 {
            self.byte(n as u8)
        } else if n < 16384 {
            self.raw(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u32::MAX as u64 {
            let mut b = [0x80, 0, 0, 0, 0];
            b[1..].copy_from_slice(&(n as u32).to_be_bytes());
            self.raw(&b)
        } else {
            let mut b = [0x81, 0, 0, 0, 0, 0, 0, 0, 0];
            b[1..].copy_from_slice(&n.to_be_bytes());
            self.raw(&b)
        }
    }

    /// A string: int-encoded, LZF-compressed or plain.
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(n) = parse_canonical_i64(s) {
                return self.int_string(n);
            }
        }
        if self.opts.compress && s.len() > 20 {
            // Keep the compressed form only if it saves at least 4 bytes.
            if let Some(c) = lzf::compress(s, s.len() - 3) {
                self.byte(0xC3)?;
                self.len(c.len() as u64)?;
                self.len(s.len() as u64)?;
                return self.raw(&c);
            }
        }
        self.len(s.len() as u64)?;
        self.raw(s)
    }

    /// An integer written as a string (int encoding when it fits 32 bits).
    pub fn int_string(&mut self, n: i64) -> io::Result<()> {
        if let Ok(v) = i8::try_from(n) {
            self.raw(&[0xC0, v as u8])
        } else if let Ok(v) = i16::try_from(n) {
            let b = v.to_le_bytes();
            self.raw(&[0xC1, b[0], b[1]])
        } else if let Ok(v) = i32::try_from(n) {
            self.byte(0xC2)?;
            self.raw(&v.to_le_bytes())
        } else {
            let mut buf = itoa_buf::Buf::new();
            let s = buf.format(n);
            self.len(s.len() as u64)?;
            self.raw(s)
        }
    }

    /// An AUX field.
    pub fn aux(&mut self, key: &str, value: &[u8]) -> io::Result<()> {
        self.byte(op::AUX)?;
        self.string(key.as_bytes())?;
        self.string(value)
    }

    /// A FUNCTION2 record holding one library's code.
    pub fn function(&mut self, code: &[u8]) -> io::Result<()> {
        self.byte(op::FUNCTION2)?;
        self.string(code)
    }

    /// SELECTDB and RESIZEDB.
    pub fn select_db(&mut self, db: usize, keys: usize, expires: usize) -> io::Result<()> {
        self.byte(op::SELECTDB)?;
        self.len(db as u64)?;
        self.byte(op::RESIZEDB)?;
        self.len(keys as u64)?;
        self.len(expires as u64)
    }

    /// One key: its expiry, access data, type, name and value.
    pub fn entry(&mut self, e: &Entry) -> io::Result<()> {
        if e.expire_at != NO_EXPIRE {
            self.byte(op::EXPIRETIME_MS)?;
            self.raw(&e.expire_at.to_le_bytes())?;
        }
        match self.access {
            AccessInfo::None => {}
            AccessInfo::Lru { clock } => {
                let idle = crate::keyspace::lru_idle_secs(clock, e.lru);
                self.byte(op::IDLE)?;
                self.len(u64::from(idle))?;
            }
            AccessInfo::Lfu { minute, decay_time } => {
                let c = crate::keyspace::lfu::counter(e.lru, minute, decay_time);
                self.raw(&[op::FREQ, c])?;
            }
        }
        self.byte(object_type(&e.value))?;
        self.string(&e.key)?;
        self.value(&e.value)
    }

    /// A value's payload (after its type byte).
    pub fn value(&mut self, v: &Value) -> io::Result<()> {
        match v {
            Value::Str(RStr::Int(n)) => {
                if i32::try_from(*n).is_ok() {
                    self.int_string(*n)
                } else {
                    self.string(itoa_buf::Buf::new().format(*n))
                }
            }
            Value::Str(s) => self.string(&s.to_vec()),
            Value::List(l) => {
                self.len(l.len() as u64)?;
                for item in l.iter() {
                    self.string(item)?;
                }
                Ok(())
            }
            Value::Set(s) => {
                self.len(s.len() as u64)?;
                let mut buf = itoa_buf::Buf::new();
                for m in s.iter() {
                    self.string(m.as_bytes(&mut buf))?;
                }
                Ok(())
            }
            Value::Hash(h) => {
                self.len(h.len() as u64)?;
                for (f, v) in h.iter() {
                    self.string(f)?;
                    self.string(v)?;
                }
                Ok(())
            }
            Value::ZSet(z) => {
                self.len(z.len() as u64)?;
                for (m, s) in z.iter_from(0, false) {
                    self.string(m)?;
                    self.raw(&s.to_le_bytes())?;
                }
                Ok(())
            }
            Value::Stream(s) => self.stream(s),
        }
    }

    fn stream(&mut self, s: &Stream) -> io::Result<()> {
        let entries = s.range(StreamId::ZERO, StreamId::MAX, false, 0);
        let chunks: Vec<_> = entries.chunks(STREAM_NODE_ENTRIES).collect();
        self.len(chunks.len() as u64)?;
        for chunk in chunks {
            let master = chunk[0].id;
            let master_fields: Vec<&[u8]> = chunk[0].fields.iter().map(|(f, _)| *f).collect();
            let mut lp = LpWriter::new();
            lp.int(chunk.len() as i64);
            lp.int(0);
            lp.int(master_fields.len() as i64);
            for f in &master_fields {
                lp.bytes(f);
            }
            lp.int(0);
            for e in chunk {
                let same = e.fields.len() == master_fields.len()
                    && e.fields
                        .iter()
                        .zip(&master_fields)
                        .all(|((f, _), m)| f == m);
                lp.int(if same { 2 } else { 0 });
                lp.int(e.id.ms.wrapping_sub(master.ms) as i64);
                lp.int(e.id.seq.wrapping_sub(master.seq) as i64);
                let n = e.fields.len();
                if same {
                    for (_, v) in &e.fields {
                        lp.bytes(v);
                    }
                    lp.int(n as i64 + 3);
                } else {
                    lp.int(n as i64);
                    for (f, v) in &e.fields {
                        lp.bytes(f);
                        lp.bytes(v);
                    }
                    lp.int(2 * n as i64 + 4);
                }
            }
            let mut key = [0u8; 16];
            key[..8].copy_from_slice(&master.ms.to_be_bytes());
            key[8..].copy_from_slice(&master.seq.to_be_bytes());
            self.string(&key)?;
            self.string(&lp.finish())?;
        }
        self.len(s.length)?;
        self.len(s.last_id.ms)?;
        self.len(s.last_id.seq)?;
        self.len(s.first_id.ms)?;
        self.len(s.first_id.seq)?;
        self.len(s.max_deleted_entry_id.ms)?;
        self.len(s.max_deleted_entry_id.seq)?;
        self.len(s.entries_added)?;
        self.len(s.groups.len() as u64)?;
        for (name, g) in &s.groups {
            self.string(name)?;
            self.len(g.last_id.ms)?;
            self.len(g.last_id.seq)?;
            self.len(if g.entries_read < 0 {
                u64::MAX
            } else {
                g.entries_read as u64
            })?;
            self.len(g.pel.len() as u64)?;
            for (id, nack) in &g.pel {
                self.raw_id(*id)?;
                self.raw(&nack.delivery_time.to_le_bytes())?;
                self.len(nack.delivery_count)?;
            }
            self.len(g.consumers.len() as u64)?;
            for (cname, c) in &g.consumers {
                self.string(cname)?;
                self.raw(&c.seen_time.to_le_bytes())?;
                self.len(c.pel.len() as u64)?;
                for id in &c.pel {
                    self.raw_id(*id)?;
                }
            }
        }
        Ok(())
    }

    fn raw_id(&mut self, id: StreamId) -> io::Result<()> {
        self.raw(&id.ms.to_be_bytes())?;
        self.raw(&id.seq.to_be_bytes())
    }

    /// EOF and the CRC trailer; returns the inner writer (not flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.byte(op::EOF)?;
        let crc = if self.opts.checksum { self.crc } else { 0 };
        self.out.write_all(&crc.to_le_bytes())?;
        Ok(self.out)
    }

    /// The options in use.
    pub fn options(&self) -> WriteOptions {
        self.opts
    }

    /// Returns the inner writer without an EOF (DUMP payloads).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The type byte we write for a value.
pub fn object_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => ty::STRING,
        Value::List(_) => ty::LIST,
        Value::Set(_) => ty::SET,
        Value::Hash(_) => ty::HASH,
        Value::ZSet(_) => ty::ZSET_2,
        Value::Stream(_) => ty::STREAM_LISTPACKS_2,
    }
}

#[cfg(test)]
mod tests {
    use super::super::reader::Reader;
    use super::*;

    fn encoded_len(n: u64) -> Vec<u8> {
        let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
        w.len(n).unwrap();
        w.into_inner()
    }

    #[test]
    fn lengths_use_the_shortest_big_endian_form_and_read_back() {
        assert_eq!(encoded_len(63), [63]);
        assert_eq!(encoded_len(64), [0x40, 64]);
        assert_eq!(encoded_len(16383), [0x7F, 0xFF]);
        assert_eq!(encoded_len(16384), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(encoded_len(u32::MAX as u64), [0x80, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(encoded_len(1 << 32), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
        for n in [0, 1, 63, 64, 300, 16383, 16384, 70000, 1 << 32, u64::MAX] {
            let b = encoded_len(n);
            let mut r = Reader::new(&b);
            assert_eq!(r.length().unwrap(), n);
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn strings_use_int_and_lzf_encodings_and_read_back() {
        let cases: Vec<(&[u8], Option<u8>)> = vec![
            (b"-7", Some(0xC0)),
            (b"12345", Some(0xC1)),
            (b"2147483647", Some(0xC2)),
            (b"9223372036854775807", None),
            (b"0123", None),
            (b"", None),
        ];
        let long = b"abc".repeat(400);
        let mut all = cases.clone();
        all.push((&long, Some(0xC3)));
        for (s, first) in all {
            let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
            w.string(s).unwrap();
            let b = w.into_inner();
            if let Some(f) = first {
                assert_eq!(b[0], f, "{:?}", String::from_utf8_lossy(s));
            }
            let mut r = Reader::new(&b);
            assert_eq!(&*r.string().unwrap(), s);
            assert_eq!(r.remaining(), 0);
        }
        // Without compression the long string is stored as is.
        let mut w = RdbWriter::new(
            Vec::new(),
            WriteOptions {
                compress: false,
                ..Default::default()
            },
        );
        w.string(&long).unwrap();
        assert_eq!(w.into_inner().len(), long.len() + 2);
    }

    #[test]
    fn hostile_lengths_are_refused_without_panicking() {
        for b in [
            &[0x80, 0xFF, 0xFF, 0xFF, 0xFF][..],
            &[0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &[0xC3, 0x05, 0x7F, 1, 2],
            &[0xC4],
            &[0x82],
            &[0x40],
        ] {
            assert!(Reader::new(b).string().is_err());
        }
    }
}
