//! The RDB loader: the byte-level reader (lengths, strings with their integer
//! and LZF encodings, doubles), the object decoder for every value type
//! Redis 7.x and Valkey 8/9 write (types 0-5, 9-22, 24, 25) and the
//! incremental file loader [`RdbLoader`] that puts keys and function
//! libraries into a [`Server`].
//!
//! Facts about the format come from `shared/docs/replication-interop.md` §3.
//! Everything here treats the input as hostile: every length is checked
//! against the bytes left, nothing panics, and errors say what was wrong
//! and where. Values are built through the `types` APIs, so they get the
//! encodings our own commands would give them under the current limits.

use std::borrow::Cow;

use bytes::Bytes;

use super::packed::{self, Elem};
use super::{crc64, lzf, Encodings, LoadOptions, RdbError};
use crate::keyspace::value::itoa_buf;
use crate::keyspace::{Value, NO_EXPIRE};
use crate::server::Server;
use crate::types::list::End;
use crate::types::stream::{Consumer, Nack, StreamId};
use crate::types::{Hash, List, Set, Stream, ZSet};

/// The newest RDB version we read (Redis 7.4).
pub const MAX_VERSION: u32 = 12;

/// Object type codes.
pub mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// Valkey 9: a hash with field expirations, (field, value, expiry) triples.
    pub const HASH_2: u8 = 22;
    pub const HASH_METADATA: u8 = 24;
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// Opcodes (bytes 244-255).
pub mod op {
    pub const SLOT_INFO: u8 = 244;
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

type R<T> = Result<T, RdbError>;

/// A cursor over RDB bytes.
pub struct Reader<'a> {
    pub b: &'a [u8],
    pub pos: usize,
}

/// A length, or the kind of a special string encoding.
enum Len {
    Plain(u64),
    Special(u8),
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }

    fn eof<T>(&self) -> R<T> {
        Err(RdbError::new(format!(
            "Unexpected end of RDB data at offset {}",
            self.pos
        )))
    }

    pub fn u8(&mut self) -> R<u8> {
        match self.b.get(self.pos) {
            Some(&v) => {
                self.pos += 1;
                Ok(v)
            }
            None => self.eof(),
        }
    }

    pub fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.remaining() {
            return self.eof();
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn i64_le(&mut self) -> R<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub fn i32_le(&mut self) -> R<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    pub fn f64_le(&mut self) -> R<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    fn len_or_special(&mut self) -> R<Len> {
        let first = self.u8()?;
        match first >> 6 {
            0 => Ok(Len::Plain((first & 0x3F) as u64)),
            1 => {
                let second = self.u8()?;
                Ok(Len::Plain(((first as u64 & 0x3F) << 8) | second as u64))
            }
            3 => Ok(Len::Special(first & 0x3F)),
            _ => match first {
                0x80 => Ok(Len::Plain(u32::from_be_bytes(self.array()?) as u64)),
                0x81 => Ok(Len::Plain(u64::from_be_bytes(self.array()?))),
                _ => Err(RdbError::new(format!(
                    "Unknown length encoding {first} in RDB at offset {}",
                    self.pos - 1
                ))),
            },
        }
    }

    /// A length (never a special encoding).
    pub fn length(&mut self) -> R<u64> {
        match self.len_or_special()? {
            Len::Plain(n) => Ok(n),
            Len::Special(_) => Err(RdbError::new(format!(
                "Unexpected string encoding where a length was expected at offset {}",
                self.pos - 1
            ))),
        }
    }

    /// A count of following items, bounded by the bytes left (each item
    /// takes at least one byte), so a hostile count cannot allocate much.
    pub fn count(&mut self) -> R<usize> {
        let n = self.length()?;
        if n > self.remaining() as u64 {
            return Err(RdbError::new(format!(
                "Item count {n} larger than the data left at offset {}",
                self.pos
            )));
        }
        Ok(n as usize)
    }

    /// A string, decoding integer and LZF encodings.
    pub fn string(&mut self) -> R<Cow<'a, [u8]>> {
        match self.len_or_special()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| RdbError::new("String too long"))?;
                Ok(Cow::Borrowed(self.take(n)?))
            }
            Len::Special(kind) => {
                let n: i64 = match kind {
                    0 => self.u8()? as i8 as i64,
                    1 => i16::from_le_bytes(self.array()?) as i64,
                    2 => self.i32_le()? as i64,
                    3 => {
                        let clen = self.length()?;
                        let ulen = self.length()?;
                        let clen = usize::try_from(clen)
                            .map_err(|_| RdbError::new("LZF length too large"))?;
                        let ulen = usize::try_from(ulen)
                            .map_err(|_| RdbError::new("LZF length too large"))?;
                        let at = self.pos;
                        let comp = self.take(clen)?;
                        // LZF expands at most ~ 264/2 times per 2-byte reference.
                        if ulen > clen.saturating_mul(140).saturating_add(64) {
                            return Err(RdbError::new(format!(
                                "Invalid LZF lengths at offset {at}"
                            )));
                        }
                        return lzf::decompress(comp, ulen).map(Cow::Owned).ok_or_else(|| {
                            RdbError::new(format!("Invalid LZF compressed string at offset {at}"))
                        });
                    }
                    _ => {
                        return Err(RdbError::new(format!(
                            "Unknown RDB string encoding type {kind} at offset {}",
                            self.pos - 1
                        )))
                    }
                };
                Ok(Cow::Owned(itoa_buf::Buf::new().format(n).to_vec()))
            }
        }
    }

    /// A double in the old text form (ZSET type 3).
    fn text_double(&mut self) -> R<f64> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let s = self.take(n as usize)?;
                parse_score(s).ok_or_else(|| RdbError::new("Invalid double value in RDB"))
            }
        }
    }

    /// A 16-byte big-endian stream ID.
    fn raw_id(&mut self) -> R<StreamId> {
        let ms = u64::from_be_bytes(self.array()?);
        let seq = u64::from_be_bytes(self.array()?);
        Ok(StreamId::new(ms, seq))
    }

    fn len_id(&mut self) -> R<StreamId> {
        let ms = self.length()?;
        let seq = self.length()?;
        Ok(StreamId::new(ms, seq))
    }
}

/// Parses a score as text (`inf`, `-inf`, decimal or exponent forms).
fn parse_score(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?;
    match t {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

fn elem_score(e: &Elem<'_>) -> R<f64> {
    let v = match e {
        Elem::Int(n) => Some(*n as f64),
        Elem::Str(s) => parse_score(s),
    };
    match v {
        Some(v) if !v.is_nan() => Ok(v),
        _ => Err(RdbError::new("Invalid zset score in RDB")),
    }
}

fn bad(what: &str) -> RdbError {
    RdbError::new(format!("Corrupt RDB {what}"))
}

// ---------------------------------------------------------------------------
// Value construction through the types' APIs.

fn build_list<T: AsRef<[u8]>>(items: &[T], enc: &Encodings) -> Option<Value> {
    if items.is_empty() {
        return None;
    }
    let mut l = List::new();
    l.try_grow_for(enc.list_fill, items);
    for i in items {
        l.push(End::Tail, i.as_ref(), enc.list_fill);
    }
    Some(Value::List(Box::new(l)))
}

fn build_set<T: AsRef<[u8]>>(items: &[T], enc: &Encodings) -> R<Option<Value>> {
    let Some(first) = items.first() else {
        return Ok(None);
    };
    let mut s = Set::create_for(first.as_ref(), items.len(), &enc.set);
    for m in items {
        if !s.add(m.as_ref(), &enc.set) {
            return Err(RdbError::new("Duplicate set members detected"));
        }
    }
    Ok(Some(Value::Set(Box::new(s))))
}

fn build_hash<F: AsRef<[u8]>, V: AsRef<[u8]>>(
    pairs: &[(F, V)],
    enc: &Encodings,
) -> R<Option<Value>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut h = Hash::new();
    let flat: Vec<&[u8]> = pairs
        .iter()
        .flat_map(|(f, v)| [f.as_ref(), v.as_ref()])
        .collect();
    h.prepare_for(&flat, enc.hash);
    for (f, v) in pairs {
        if !h.set(f.as_ref(), v.as_ref(), enc.hash) {
            return Err(RdbError::new("Duplicate hash fields detected"));
        }
    }
    Ok(Some(Value::Hash(h)))
}

fn build_zset<M: AsRef<[u8]>>(pairs: &[(M, f64)], enc: &Encodings) -> R<Option<Value>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let max_len = pairs.iter().map(|p| p.0.as_ref().len()).max().unwrap_or(0);
    let mut z = ZSet::with_hint(pairs.len(), max_len, enc.zset);
    for (m, s) in pairs {
        if s.is_nan() {
            return Err(RdbError::new("Zset with NAN score detected"));
        }
        if z.score(m.as_ref()).is_some() {
            return Err(RdbError::new("Duplicate zset fields detected"));
        }
        z.insert_new(m.as_ref(), *s, enc.zset);
    }
    Ok(Some(Value::ZSet(z)))
}

/// The name of a module from its 64-bit type id (9 characters from a
/// 64-symbol alphabet, then a 10-bit encoding version).
pub fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut name = [0u8; 9];
    let mut rest = id >> 10;
    for j in (0..9).rev() {
        name[j] = CHARSET[(rest & 63) as usize];
        rest >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

/// What happened to hash-field TTLs (Redis 7.4 types 24/25, Valkey 9
/// type 22) while loading: handoff keeps no per-field expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldTtls {
    /// Fields loaded without the TTL they had.
    pub kept_without_ttl: u64,
    /// Fields whose TTL had already passed, dropped (loading as a primary).
    pub expired_dropped: u64,
}

impl FieldTtls {
    /// Counts one field with expiry `at`; true if it is loaded.
    fn field(&mut self, at: i64, opts: &LoadOptions) -> bool {
        if at == NO_EXPIRE {
            return true;
        }
        if field_alive(at, opts) {
            self.kept_without_ttl += 1;
            true
        } else {
            self.expired_dropped += 1;
            false
        }
    }
}

/// Reads the value of an object of type `typ`. None: an empty collection,
/// which Redis skips.
pub fn read_object(
    r: &mut Reader<'_>,
    typ: u8,
    enc: &Encodings,
    opts: &LoadOptions,
) -> R<Option<Value>> {
    read_object_counting(r, typ, enc, opts, &mut FieldTtls::default())
}

/// [`read_object`], counting what became of hash-field TTLs in `ttls`.
pub fn read_object_counting(
    r: &mut Reader<'_>,
    typ: u8,
    enc: &Encodings,
    opts: &LoadOptions,
    ttls: &mut FieldTtls,
) -> R<Option<Value>> {
    match typ {
        ty::STRING => Ok(Some(Value::from_bytes(&r.string()?))),
        ty::LIST => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            Ok(build_list(&items, enc))
        }
        ty::SET => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            build_set(&items, enc)
        }
        ty::ZSET | ty::ZSET_2 => {
            let n = r.count()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let s = if typ == ty::ZSET {
                    r.text_double()?
                } else {
                    r.f64_le()?
                };
                pairs.push((m, s));
            }
            build_zset(&pairs, enc)
        }
        ty::HASH => {
            let n = r.count()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                pairs.push((f, v));
            }
            build_hash(&pairs, enc)
        }
        ty::MODULE | ty::MODULE_2 => {
            let id = r.length()?;
            Err(RdbError::new(format!(
                "The RDB file contains module data I can't load: no matching module type '{}' (module id {id})",
                module_name(id)
            )))
        }
        ty::HASH_ZIPMAP => {
            let blob = r.string()?;
            let pairs = packed::zipmap(&blob).ok_or_else(|| bad("zipmap"))?;
            build_hash(&pairs, enc)
        }
        ty::LIST_ZIPLIST => {
            let blob = r.string()?;
            let items: Vec<Vec<u8>> = packed::ziplist(&blob)
                .ok_or_else(|| bad("ziplist"))?
                .iter()
                .map(Elem::to_vec)
                .collect();
            Ok(build_list(&items, enc))
        }
        ty::SET_INTSET => {
            let blob = r.string()?;
            let ints = packed::intset(&blob).ok_or_else(|| bad("intset"))?;
            let mut b = itoa_buf::Buf::new();
            let items: Vec<Vec<u8>> = ints.iter().map(|&n| b.format(n).to_vec()).collect();
            build_set(&items, enc)
        }
        ty::SET_LISTPACK => {
            let blob = r.string()?;
            let items: Vec<Vec<u8>> = packed::listpack(&blob)
                .ok_or_else(|| bad("set listpack"))?
                .iter()
                .map(Elem::to_vec)
                .collect();
            build_set(&items, enc)
        }
        ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK => {
            let blob = r.string()?;
            let elems = if typ == ty::ZSET_ZIPLIST {
                packed::ziplist(&blob)
            } else {
                packed::listpack(&blob)
            }
            .ok_or_else(|| bad("zset listpack"))?;
            if elems.len() % 2 != 0 {
                return Err(bad("zset listpack"));
            }
            let mut pairs = Vec::with_capacity(elems.len() / 2);
            for p in elems.chunks_exact(2) {
                pairs.push((p[0].to_vec(), elem_score(&p[1])?));
            }
            build_zset(&pairs, enc)
        }
        ty::HASH_ZIPLIST | ty::HASH_LISTPACK => {
            let blob = r.string()?;
            let elems = if typ == ty::HASH_ZIPLIST {
                packed::ziplist(&blob)
            } else {
                packed::listpack(&blob)
            }
            .ok_or_else(|| bad("hash listpack"))?;
            if elems.len() % 2 != 0 {
                return Err(bad("hash listpack"));
            }
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = elems
                .chunks_exact(2)
                .map(|p| (p[0].to_vec(), p[1].to_vec()))
                .collect();
            build_hash(&pairs, enc)
        }
        ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => {
            let nodes = r.count()?;
            let mut items: Vec<Vec<u8>> = Vec::new();
            for _ in 0..nodes {
                let container = if typ == ty::LIST_QUICKLIST_2 {
                    r.length()?
                } else {
                    2
                };
                let blob = r.string()?;
                match container {
                    1 => items.push(blob.into_owned()),
                    2 => {
                        let elems = if typ == ty::LIST_QUICKLIST {
                            packed::ziplist(&blob)
                        } else {
                            packed::listpack(&blob)
                        }
                        .ok_or_else(|| bad("quicklist node"))?;
                        items.extend(elems.iter().map(Elem::to_vec));
                    }
                    _ => return Err(bad("quicklist container")),
                }
            }
            Ok(build_list(&items, enc))
        }
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => {
            read_stream(r, typ, enc).map(|s| Some(Value::Stream(Box::new(s))))
        }
        ty::HASH_METADATA => {
            let min_expire = r.i64_le()?;
            let n = r.count()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let ttl = r.length()?;
                let f = r.string()?;
                let v = r.string()?;
                let expire_at = if ttl == 0 {
                    NO_EXPIRE
                } else {
                    (ttl as i64).wrapping_add(min_expire).wrapping_sub(1)
                };
                if ttls.field(expire_at, opts) {
                    pairs.push((f, v));
                }
            }
            build_hash(&pairs, enc)
        }
        ty::HASH_2 => {
            let n = r.count()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                let at = r.i64_le()?;
                // -1: this field has no TTL.
                let at = if at == -1 { NO_EXPIRE } else { at };
                if at != NO_EXPIRE && at < 0 {
                    return Err(bad("hash field TTL"));
                }
                if ttls.field(at, opts) {
                    pairs.push((f, v));
                }
            }
            build_hash(&pairs, enc)
        }
        ty::HASH_LISTPACK_EX => {
            let _min_expire = r.i64_le()?;
            let blob = r.string()?;
            let elems = packed::listpack(&blob).ok_or_else(|| bad("hash listpack"))?;
            if elems.len() % 3 != 0 {
                return Err(bad("hash listpack"));
            }
            let mut pairs = Vec::with_capacity(elems.len() / 3);
            for t in elems.chunks_exact(3) {
                let at = t[2].as_i64().ok_or_else(|| bad("hash field TTL"))?;
                let at = if at == 0 { NO_EXPIRE } else { at };
                if ttls.field(at, opts) {
                    pairs.push((t[0].to_vec(), t[1].to_vec()));
                }
            }
            build_hash(&pairs, enc)
        }
        _ => Err(RdbError::new(format!("Unknown RDB encoding type {typ}"))),
    }
}

/// Hash-field TTLs (Redis 7.4, Valkey 9) are not kept: a field already
/// expired is dropped when loading as a primary; the others load without a
/// TTL (the loader logs how many).
fn field_alive(expire_at: i64, opts: &LoadOptions) -> bool {
    opts.keep_expired || expire_at == NO_EXPIRE || expire_at > opts.now_ms
}

fn read_stream(r: &mut Reader<'_>, typ: u8, enc: &Encodings) -> R<Stream> {
    let mut s = Stream::new();
    let nodes = r.count()?;
    let mut last_appended: Option<StreamId> = None;
    for _ in 0..nodes {
        let key = r.string()?;
        if key.len() != 16 {
            return Err(bad("stream node key"));
        }
        let master = StreamId::new(
            u64::from_be_bytes(key[0..8].try_into().unwrap_or_default()),
            u64::from_be_bytes(key[8..16].try_into().unwrap_or_default()),
        );
        let blob = r.string()?;
        let elems = packed::listpack(&blob).ok_or_else(|| bad("stream listpack"))?;
        if elems.is_empty() {
            return Err(RdbError::new("Empty listpack inside stream"));
        }
        let int_at = |i: usize| -> R<i64> {
            elems
                .get(i)
                .and_then(Elem::as_i64)
                .ok_or_else(|| bad("stream listpack entry"))
        };
        let nf = usize::try_from(int_at(2)?).map_err(|_| bad("stream master entry"))?;
        let master_fields = elems
            .get(3..3 + nf)
            .ok_or_else(|| bad("stream master entry"))?;
        let mut i = 3 + nf;
        if int_at(i)? != 0 {
            return Err(bad("stream master entry terminator"));
        }
        i += 1;
        while i < elems.len() {
            let flags = int_at(i)?;
            let ms = master.ms.wrapping_add(int_at(i + 1)? as u64);
            let seq = master.seq.wrapping_add(int_at(i + 2)? as u64);
            i += 3;
            let fields: Vec<(Vec<u8>, Vec<u8>)> = if flags & 2 != 0 {
                let vals = elems
                    .get(i..i + nf)
                    .ok_or_else(|| bad("stream listpack entry"))?;
                i += nf;
                master_fields
                    .iter()
                    .zip(vals)
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect()
            } else {
                let n = usize::try_from(int_at(i)?).map_err(|_| bad("stream entry"))?;
                i += 1;
                let kv = elems
                    .get(i..i.saturating_add(n.saturating_mul(2)))
                    .ok_or_else(|| bad("stream listpack entry"))?;
                i += 2 * n;
                kv.chunks_exact(2)
                    .map(|p| (p[0].to_vec(), p[1].to_vec()))
                    .collect()
            };
            int_at(i)?; // lp-count, for walking backwards
            i += 1;
            if flags & 1 != 0 {
                continue;
            }
            let id = StreamId::new(ms, seq);
            if last_appended.is_some_and(|l| l >= id) {
                return Err(bad("stream: entry IDs out of order"));
            }
            last_appended = Some(id);
            let refs: Vec<(&[u8], &[u8])> = fields
                .iter()
                .map(|(f, v)| (f.as_slice(), v.as_slice()))
                .collect();
            s.append(id, &refs, enc.stream);
        }
    }
    let appended = s.length;
    let length = r.length()?;
    if length != appended {
        return Err(RdbError::new(format!(
            "Stream length {length} does not match its {appended} entries"
        )));
    }
    s.last_id = r.len_id()?;
    if last_appended.is_some_and(|l| l > s.last_id) {
        return Err(bad("stream: last ID smaller than an entry"));
    }
    if typ >= ty::STREAM_LISTPACKS_2 {
        s.first_id = r.len_id()?;
        s.max_deleted_entry_id = r.len_id()?;
        s.entries_added = r.length()?;
    } else {
        s.entries_added = length;
    }
    let groups = r.count()?;
    for _ in 0..groups {
        let name = r.string()?.into_owned();
        let last_id = r.len_id()?;
        let entries_read = if typ >= ty::STREAM_LISTPACKS_2 {
            let v = r.length()?;
            if v == u64::MAX {
                -1
            } else {
                i64::try_from(v).map_err(|_| bad("stream group entries-read"))?
            }
        } else {
            s.estimate_distance(last_id)
                .and_then(|d| i64::try_from(d).ok())
                .unwrap_or(-1)
        };
        if !s.create_group(&name, last_id, entries_read) {
            return Err(RdbError::new("Duplicated consumer group name"));
        }
        let pel_len = r.count()?;
        let mut pel = std::collections::BTreeMap::new();
        for _ in 0..pel_len {
            let id = r.raw_id()?;
            let delivery_time = r.i64_le()?;
            let delivery_count = r.length()?;
            let nack = Nack {
                consumer: Box::default(),
                delivery_time,
                delivery_count,
            };
            if pel.insert(id, nack).is_some() {
                return Err(RdbError::new(
                    "Duplicated global PEL entry loading stream consumer group",
                ));
            }
        }
        let nconsumers = r.count()?;
        let mut consumers = std::collections::BTreeMap::new();
        for _ in 0..nconsumers {
            let cname: Box<[u8]> = r.string()?.into_owned().into();
            let seen_time = r.i64_le()?;
            let active_time = if typ >= ty::STREAM_LISTPACKS_3 {
                r.i64_le()?
            } else {
                seen_time
            };
            let mut c = Consumer {
                seen_time,
                active_time,
                pel: Default::default(),
            };
            let n = r.count()?;
            for _ in 0..n {
                let id = r.raw_id()?;
                let nack: &mut Nack = pel.get_mut(&id).ok_or_else(|| {
                    RdbError::new("Consumer PEL entry not found in the group PEL")
                })?;
                if !nack.consumer.is_empty() {
                    return Err(RdbError::new("Duplicated consumer PEL entry"));
                }
                nack.consumer = cname.clone();
                c.pel.insert(id);
            }
            if consumers.insert(cname, c).is_some() {
                return Err(RdbError::new("Duplicated consumer name in a stream group"));
            }
        }
        if pel.values().any(|n: &Nack| n.consumer.is_empty()) {
            return Err(RdbError::new("Stream CG PEL entry without consumer"));
        }
        if let Some(g) = s.groups.get_mut(name.as_slice()) {
            g.pel = pel;
            g.consumers = consumers;
        }
    }
    Ok(s)
}

// ---------------------------------------------------------------------------
// The file loader.

/// Loads a whole RDB (file or full-sync payload) into a server a few keys at
/// a time, so the event loop can serve between steps.
pub struct RdbLoader {
    data: Bytes,
    pos: usize,
    crc: u64,
    crc_pos: usize,
    version: u32,
    opts: LoadOptions,
    db: usize,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    keys_loaded: u64,
    keys_expired: u64,
    field_ttls: FieldTtls,
    done: bool,
}

impl RdbLoader {
    /// Checks the header (`REDIS` + version 1..=12).
    pub fn new(data: Bytes, opts: LoadOptions) -> Result<Self, RdbError> {
        let version = parse_header(&data)?;
        Ok(RdbLoader {
            data,
            pos: 9,
            crc: 0,
            crc_pos: 0,
            version,
            opts,
            db: 0,
            aux: Vec::new(),
            keys_loaded: 0,
            keys_expired: 0,
            field_ttls: FieldTtls::default(),
            done: false,
        })
    }

    /// The RDB version in the header.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The value of an AUX field seen so far (`repl-id`, `repl-offset`,
    /// `repl-stream-db`, `redis-ver`, `ctime`...).
    pub fn aux(&self, name: &str) -> Option<&[u8]> {
        self.aux
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// Keys put into the keyspace so far.
    pub fn keys_loaded(&self) -> u64 {
        self.keys_loaded
    }

    /// Keys skipped because their TTL had passed (loading as a primary).
    pub fn keys_expired(&self) -> u64 {
        self.keys_expired
    }

    /// What became of hash-field TTLs so far.
    pub fn field_ttls(&self) -> FieldTtls {
        self.field_ttls
    }

    /// Bytes consumed so far (for progress reports).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Total size of the data.
    pub fn total(&self) -> usize {
        self.data.len()
    }

    /// Loads up to `max_keys` (at least 1) more keys into `srv` (keyspace
    /// and function libraries). Ok(true) when the EOF opcode was reached and
    /// the CRC checked. Keys go into the databases as they are; a full sync
    /// should empty the server (data and functions) before the first step.
    pub fn step(&mut self, srv: &mut Server, max_keys: usize) -> Result<bool, RdbError> {
        let max_keys = max_keys.max(1);
        if self.done {
            return Ok(true);
        }
        let data = self.data.clone();
        let mut r = Reader {
            b: &data,
            pos: self.pos,
        };
        let res = self.run(&mut r, srv, max_keys);
        self.crc = crc64::update(self.crc, &data[self.crc_pos..r.pos.max(self.crc_pos)]);
        self.crc_pos = r.pos.max(self.crc_pos);
        self.pos = r.pos;
        let finished = res?;
        if finished {
            self.check_trailer(&mut r)?;
            self.done = true;
            let t = self.field_ttls;
            if t.kept_without_ttl + t.expired_dropped > 0 {
                log::warn!(
                    "RDB hash field TTLs are not supported: {} fields loaded without their TTL, {} already expired fields dropped",
                    t.kept_without_ttl,
                    t.expired_dropped
                );
            }
        }
        Ok(finished)
    }

    fn check_trailer(&mut self, r: &mut Reader<'_>) -> R<()> {
        if self.version < 5 {
            return Ok(());
        }
        let stored = u64::from_le_bytes(r.array()?);
        if stored == 0 || !self.opts.check_crc {
            return Ok(());
        }
        if stored != self.crc {
            return Err(RdbError::new(format!(
                "Wrong RDB checksum expected: ({:x}) got: ({:x})",
                self.crc, stored
            )));
        }
        Ok(())
    }

    fn run(&mut self, r: &mut Reader<'_>, srv: &mut Server, max_keys: usize) -> R<bool> {
        let enc = Encodings::from_config(&srv.config);
        let delay = srv.config.key_load_delay;
        // With `key-load-delay` a batch also ends after DELAYED_BATCH, so the
        // event loop (and a replica's keepalive) keeps its pace.
        let started = std::time::Instant::now();
        let mut loaded_now = 0usize;
        let mut expire_at = NO_EXPIRE;
        let mut idle: Option<u64> = None;
        let mut freq: Option<u8> = None;
        loop {
            // Expire/idle/freq belong to the next key: stop only between keys.
            let between_keys = expire_at == NO_EXPIRE && idle.is_none() && freq.is_none();
            let batch_done = loaded_now >= max_keys
                || (delay != 0 && loaded_now > 0 && started.elapsed() >= DELAYED_BATCH);
            if batch_done && between_keys {
                return Ok(false);
            }
            let start = r.pos;
            let t = r.u8()?;
            match t {
                op::EOF => return Ok(true),
                op::SELECTDB => {
                    let db = r.length()?;
                    if db >= srv.keyspace.dbs.len() as u64 {
                        return Err(RdbError::new(format!(
                            "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                            srv.keyspace.dbs.len()
                        )));
                    }
                    self.db = db as usize;
                }
                op::EXPIRETIME => expire_at = r.i32_le()? as i64 * 1000,
                op::EXPIRETIME_MS => expire_at = r.i64_le()?,
                op::RESIZEDB => {
                    r.length()?;
                    r.length()?;
                }
                op::AUX => {
                    let k = r.string()?.into_owned();
                    let v = r.string()?.into_owned();
                    log_aux(&k, &v, self.opts.now_ms);
                    if k.starts_with(b"%") {
                        log::info!(
                            "RDB '{}': {}",
                            String::from_utf8_lossy(&k[1..]),
                            String::from_utf8_lossy(&v)
                        );
                    }
                    match self.aux.iter_mut().find(|(ek, _)| *ek == k) {
                        Some(slot) => slot.1 = v,
                        None => self.aux.push((k, v)),
                    }
                }
                op::FREQ => freq = Some(r.u8()?),
                op::IDLE => idle = Some(r.length()?),
                op::SLOT_INFO => {
                    r.length()?;
                    r.length()?;
                    r.length()?;
                }
                op::MODULE_AUX => {
                    let id = r.length()?;
                    return Err(RdbError::new(format!(
                        "The RDB file contains AUX module data I can't load: no matching module '{}' (module id {id})",
                        module_name(id)
                    )));
                }
                op::FUNCTION_PRE_GA => {
                    return Err(RdbError::new(
                        "Pre-release function format not supported (RDB written by a Redis 7.0 release candidate)",
                    ))
                }
                op::FUNCTION2 => {
                    let code = Bytes::from(r.string()?.into_owned());
                    load_function(srv, &code)?;
                }
                _ => {
                    let key = r.string()?;
                    let value = read_object_counting(r, t, &enc, &self.opts, &mut self.field_ttls)
                        .map_err(|e| {
                        RdbError::new(format!(
                            "{} (key '{}', type {t}, at offset {start})",
                            e.0,
                            String::from_utf8_lossy(&key)
                        ))
                    })?;
                    let this_expire = std::mem::replace(&mut expire_at, NO_EXPIRE);
                    let this_idle = idle.take();
                    let this_freq = freq.take();
                    loaded_now += 1;
                    key_load_delay(delay, &mut srv.keyspace);
                    let Some(value) = value else {
                        continue;
                    };
                    if this_expire != NO_EXPIRE
                        && !self.opts.keep_expired
                        && this_expire < self.opts.now_ms
                    {
                        self.keys_expired += 1;
                        continue;
                    }
                    let db = &mut srv.keyspace.dbs[self.db];
                    if db.get_raw(&key).is_some() {
                        if !self.opts.allow_dup {
                            return Err(RdbError::new(format!(
                                "Duplicated key '{}' found in RDB file",
                                String::from_utf8_lossy(&key)
                            )));
                        }
                        db.remove(&key);
                    }
                    let lru = srv.keyspace.restored_lru(this_freq, this_idle);
                    let db = &mut srv.keyspace.dbs[self.db];
                    db.insert(&key, value, lru);
                    if this_expire != NO_EXPIRE {
                        db.set_expire(&key, this_expire);
                    }
                    self.keys_loaded += 1;
                }
            }
        }
    }
}

/// The longest batch of keys a step loads while `key-load-delay` slows it.
const DELAYED_BATCH: std::time::Duration = std::time::Duration::from_millis(100);

/// `key-load-delay`: microseconds of sleep per loaded key; a negative -N
/// sleeps 1 us for one key in N on average, as Redis's debugDelay.
fn key_load_delay(usec: i32, ks: &mut crate::keyspace::Keyspace) {
    let usec = if usec < 0 {
        u64::from(ks.random().is_multiple_of(u64::from(usec.unsigned_abs())))
    } else {
        usec as u64
    };
    if usec > 0 {
        std::thread::sleep(std::time::Duration::from_micros(usec));
    }
}

/// The log lines Redis prints for the AUX fields it understands.
fn log_aux(k: &[u8], v: &[u8], now_ms: i64) {
    let text = String::from_utf8_lossy(v);
    match k {
        b"redis-ver" | b"valkey-ver" => log::info!("Loading RDB produced by version {text}"),
        b"ctime" => {
            if let Ok(t) = text.parse::<i64>() {
                log::info!("RDB age {} seconds", now_ms / 1000 - t);
            }
        }
        b"used-mem" => {
            if let Ok(m) = text.parse::<u64>() {
                log::info!(
                    "RDB memory usage when created {:.2} Mb",
                    m as f64 / 1048576.0
                );
            }
        }
        _ => {}
    }
}

/// The RDB version Valkey 9 writes (header `VALKEY080`).
pub const VALKEY_VERSION: u32 = 80;

/// Checks the signature and returns the version: `REDIS` + 4 digits
/// (versions 1-12), or Valkey 9's `VALKEY` + 3 digits (version 80, whose
/// items are the ones of version 11).
pub fn parse_header(data: &[u8]) -> R<u32> {
    let wrong = || RdbError::new("Wrong signature trying to load DB from file");
    let digits = if data.starts_with(b"REDIS") {
        data.get(5..9)
    } else if data.starts_with(b"VALKEY") {
        data.get(6..9)
    } else {
        None
    }
    .ok_or_else(wrong)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(wrong());
    }
    let v = digits.iter().fold(0u32, |a, d| a * 10 + (d - b'0') as u32);
    if (1..=MAX_VERSION).contains(&v) || v == VALKEY_VERSION {
        Ok(v)
    } else {
        Err(RdbError::new(format!(
            "Can't handle RDB format version {v}"
        )))
    }
}

/// Loads (or replaces) a function library from a FUNCTION2 record.
pub fn load_function(srv: &mut Server, code: &Bytes) -> R<()> {
    let fail = |e: String| RdbError::new(format!("Failed loading library from RDB: {e}"));
    let sandbox = srv.scripting.sandbox().map_err(fail)?;
    let loaded = crate::scripting::functions::load(sandbox, code).map_err(fail)?;
    srv.scripting.functions.install(loaded, true).map_err(fail)
}
