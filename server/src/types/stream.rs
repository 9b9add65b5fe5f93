//! Stream values: entries ordered by ID, consumer groups with their pending
//! entries lists and consumers (the groups live in `stream_group.rs`).
//!
//! Representation: a `BTreeMap` of nodes keyed by the ID of the first entry
//! ever appended to the node (its "master" ID). Each node is one
//! [`Listpack`]: element 0 holds the master entry's field names, every other
//! element is one whole entry, packed as
//! `flags | ms-delta | seq | [nfields fields...] values...` with varint
//! lengths. Entries whose fields are exactly the master fields store only
//! their values (Redis's SAMEFIELDS trick), so a typical stream costs a few
//! bytes per entry beyond the values. Deleted entries are removed from the
//! listpack; the node keeps a count of them because Redis decides when to
//! start a new node from live + deleted entries, and that boundary is
//! visible through approximate trimming.
//!
//! This module owns the entry storage, trimming, ID parsing and the stream
//! counters (last ID, max deleted ID, entries added, first ID). It must not
//! write replies: the command module formats what these methods return.

use std::collections::BTreeMap;

use crate::keyspace::listpack::Listpack;

pub use super::stream_group::{Consumer, Group, Nack, ReadFrom, Served};

/// A stream entry ID (`ms-seq`), ordered by `ms` then `seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID, or None past the last possible one.
    pub fn incr(&self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, or None before 0-0.
    pub fn decr(&self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// `ms-seq` as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!("{}-{}", self.ms, self.seq).into_bytes()
    }

    /// Parses an ID the way Redis's streamGenericParseIDOrReply does.
    /// `missing_seq` is used when only `ms` is given; `allow_special`
    /// accepts `-` (0-0) and `+` (max) (the non-strict form); `allow_seq_star`
    /// accepts `ms-*` (XADD), returned as `seq_given == false`.
    pub fn parse(
        b: &[u8],
        missing_seq: u64,
        allow_special: bool,
        allow_seq_star: bool,
    ) -> Option<(StreamId, bool)> {
        if b.len() > 127 {
            return None;
        }
        if b == b"-" || b == b"+" {
            if !allow_special {
                return None;
            }
            let id = if b == b"-" {
                StreamId::ZERO
            } else {
                StreamId::MAX
            };
            return Some((id, true));
        }
        // C strings end at the first NUL.
        let b = match b.iter().position(|&c| c == 0) {
            Some(p) => &b[..p],
            None => b,
        };
        match b.iter().position(|&c| c == b'-') {
            None => Some((StreamId::new(string2ull(b)?, missing_seq), true)),
            Some(dash) => {
                let ms = string2ull(&b[..dash])?;
                let rest = &b[dash + 1..];
                if allow_seq_star && rest == b"*" {
                    return Some((StreamId::new(ms, 0), false));
                }
                Some((StreamId::new(ms, string2ull(rest)?), true))
            }
        }
    }

    /// Strict parse: no `-`/`+`, missing seq is 0.
    pub fn parse_strict(b: &[u8]) -> Option<StreamId> {
        Self::parse(b, 0, false, false).map(|(id, _)| id)
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's string2ull: a canonical i64 that is not negative, else what
/// strtoull accepts (leading spaces, a sign, leading zeros, values above
/// i64::MAX; a negative sign wraps as in C).
fn string2ull(b: &[u8]) -> Option<u64> {
    if let Some(v) = crate::keyspace::value::parse_canonical_i64(b) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let digits = &b[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// One entry as read from the stream: its ID and field/value pairs borrowed
/// from the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub fields: Vec<(&'a [u8], &'a [u8])>,
}

impl EntryRef<'_> {
    pub fn to_owned(&self) -> Entry {
        Entry {
            id: self.id,
            fields: self
                .fields
                .iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect(),
        }
    }
}

/// An owned copy of an entry (for callers that go on to change the stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// How a trim decides what to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// Node size limits (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

const FLAG_SAMEFIELDS: u8 = 1;

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A bounds-checked reader over one packed element.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = *self.b.get(self.pos)?;
            self.pos += 1;
            if shift > 63 {
                return None;
            }
            n |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Some(n);
            }
            shift += 7;
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        let end = self.pos.checked_add(len)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
}

/// A node: a listpack of entries sharing a master ID and master fields.
#[derive(Clone, Debug)]
struct Node {
    lp: Listpack,
    /// Entries deleted from this node (counted toward its size limit, as Redis does).
    deleted: u32,
    /// The largest ID ever appended to the node.
    last: StreamId,
}

impl Node {
    fn live(&self) -> usize {
        self.lp.len().saturating_sub(1)
    }

    fn master_fields(&self) -> Vec<&[u8]> {
        let mut out = Vec::new();
        if let Some(m) = self.lp.get(0) {
            let mut r = Reader { b: m, pos: 0 };
            let n = r.varint().unwrap_or(0);
            for _ in 0..n {
                match r.bytes() {
                    Some(f) => out.push(f),
                    None => break,
                }
            }
        }
        out
    }

    /// Decodes only the ID of an entry element.
    fn decode_id(master: StreamId, elem: &[u8]) -> Option<StreamId> {
        let mut r = Reader { b: elem, pos: 0 };
        r.byte()?;
        let ms_delta = r.varint()?;
        let seq = r.varint()?;
        if ms_delta == 0 {
            Some(StreamId::new(master.ms, master.seq.checked_add(seq)?))
        } else {
            Some(StreamId::new(master.ms.checked_add(ms_delta)?, seq))
        }
    }

    fn decode<'a>(
        master: StreamId,
        master_fields: &[&'a [u8]],
        elem: &'a [u8],
    ) -> Option<EntryRef<'a>> {
        let mut r = Reader { b: elem, pos: 0 };
        let flags = r.byte()?;
        let ms_delta = r.varint()?;
        let seq = r.varint()?;
        let id = if ms_delta == 0 {
            StreamId::new(master.ms, master.seq.checked_add(seq)?)
        } else {
            StreamId::new(master.ms.checked_add(ms_delta)?, seq)
        };
        let mut fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in master_fields {
                fields.push((*f, r.bytes()?));
            }
        } else {
            let n = r.varint()?;
            for _ in 0..n {
                let f = r.bytes()?;
                let v = r.bytes()?;
                fields.push((f, v));
            }
        }
        Some(EntryRef { id, fields })
    }

    fn encode(
        master: StreamId,
        master_fields: &[&[u8]],
        id: StreamId,
        fields: &[(&[u8], &[u8])],
    ) -> Vec<u8> {
        let same = master_fields.len() == fields.len()
            && master_fields.iter().zip(fields).all(|(m, (f, _))| *m == *f);
        let mut out = Vec::with_capacity(
            8 + fields
                .iter()
                .map(|(f, v)| f.len() + v.len() + 2)
                .sum::<usize>(),
        );
        out.push(if same { FLAG_SAMEFIELDS } else { 0 });
        let ms_delta = id.ms - master.ms;
        put_varint(&mut out, ms_delta);
        put_varint(
            &mut out,
            if ms_delta == 0 {
                id.seq - master.seq
            } else {
                id.seq
            },
        );
        if !same {
            put_varint(&mut out, fields.len() as u64);
        }
        for (f, v) in fields {
            if !same {
                put_varint(&mut out, f.len() as u64);
                out.extend_from_slice(f);
            }
            put_varint(&mut out, v.len() as u64);
            out.extend_from_slice(v);
        }
        out
    }
}

/// A stream value.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    /// Number of live entries.
    pub length: u64,
    /// The ID of the last entry ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The ID of the first live entry (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID ever deleted by XDEL.
    pub max_deleted_entry_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name (byte order, as Redis's rax).
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

impl Stream {
    pub fn new() -> Self {
        Self::default()
    }

    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// The entries in order, for DEBUG DIGEST and size estimates.
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for e in self.range(StreamId::ZERO, StreamId::MAX, false, 0) {
            out.push(e.id.to_bytes());
            for (f, v) in e.fields {
                out.push(f.to_vec());
                out.push(v.to_vec());
            }
        }
        out
    }

    /// Heap bytes used.
    pub fn heap_size(&self) -> usize {
        let node_overhead = std::mem::size_of::<(StreamId, Node)>() + 8;
        let nodes: usize = self
            .nodes
            .values()
            .map(|n| n.lp.bytes() + node_overhead)
            .sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(k, g)| k.len() + std::mem::size_of::<Group>() + g.heap_size())
            .sum();
        nodes + groups
    }

    /// Number of nodes (what XINFO reports as radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The ID an `XADD` with `*` (`requested == None`) or `ms-*`
    /// (`Some((ms, false))`) or an explicit ID (`Some(id, true)`) would get,
    /// or None if it is not greater than the last ID (Redis's EDOM case).
    pub fn next_id(&self, requested: Option<(StreamId, bool)>, now_ms: u64) -> Option<StreamId> {
        let id = match requested {
            Some((id, true)) => id,
            Some((id, false)) => {
                if self.last_id.ms == id.ms {
                    self.last_id.incr().filter(|n| n.ms == id.ms)?
                } else {
                    id
                }
            }
            None => {
                if now_ms > self.last_id.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    self.last_id.incr()?
                }
            }
        };
        (id > self.last_id).then_some(id)
    }

    /// Appends an entry with an ID greater than `last_id` (see [`Stream::next_id`]).
    pub fn append(&mut self, id: StreamId, fields: &[(&[u8], &[u8])], limits: NodeLimits) {
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > 1 << 30 {
            1 << 30
        } else {
            limits.max_bytes
        };
        let mut new_node = true;
        if let Some((&key, node)) = self.nodes.last_key_value() {
            let master_fields = node.master_fields();
            let elem = Node::encode(key, &master_fields, id, fields);
            let count = node.live() + node.deleted as usize;
            new_node = node.lp.bytes() + elem.len() + 2 >= max_bytes
                || (limits.max_entries > 0 && count >= limits.max_entries);
            if !new_node {
                if let Some(node) = self.nodes.get_mut(&key) {
                    node.lp.push_back(&elem);
                    node.last = id;
                }
            }
        }
        if new_node {
            let mut master = Vec::new();
            put_varint(&mut master, fields.len() as u64);
            for (f, _) in fields {
                put_varint(&mut master, f.len() as u64);
                master.extend_from_slice(f);
            }
            let master_fields: Vec<&[u8]> = fields.iter().map(|(f, _)| *f).collect();
            let elem = Node::encode(id, &master_fields, id, fields);
            let mut lp = Listpack::new();
            lp.push_back(&master);
            lp.push_back(&elem);
            self.nodes.insert(
                id,
                Node {
                    lp,
                    deleted: 0,
                    last: id,
                },
            );
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// The entry with this ID, if present.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false, 1).into_iter().next()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.find(id).is_some()
    }

    /// (node key, element offset) of a live entry.
    fn find(&self, id: StreamId) -> Option<(StreamId, usize)> {
        let (&key, node) = self.nodes.range(..=id).next_back()?;
        let mut off = node.lp.first().and_then(|o| node.lp.next(o));
        while let Some(o) = off {
            let eid = Node::decode_id(key, node.lp.at(o))?;
            if eid == id {
                return Some((key, o));
            }
            if eid > id {
                return None;
            }
            off = node.lp.next(o);
        }
        None
    }

    /// Entries with `start <= id <= end`, in order (reversed if `rev`), at
    /// most `count` of them (0 = all).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        count: usize,
    ) -> Vec<EntryRef<'_>> {
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let full = |out: &Vec<EntryRef<'_>>| count != 0 && out.len() >= count;
        if !rev {
            let from = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(StreamId::ZERO);
            for (&key, node) in self.nodes.range(from..) {
                if key > end {
                    break;
                }
                let mf = node.master_fields();
                for elem in node.lp.iter().skip(1) {
                    let Some(e) = Node::decode(key, &mf, elem) else {
                        continue;
                    };
                    if e.id < start {
                        continue;
                    }
                    if e.id > end {
                        return out;
                    }
                    out.push(e);
                    if full(&out) {
                        return out;
                    }
                }
            }
        } else {
            for (&key, node) in self.nodes.range(..=end).rev() {
                if node.last < start {
                    break;
                }
                let mf = node.master_fields();
                for elem in node.lp.iter().rev().take(node.live()) {
                    let Some(e) = Node::decode(key, &mf, elem) else {
                        continue;
                    };
                    if e.id > end {
                        continue;
                    }
                    if e.id < start {
                        return out;
                    }
                    out.push(e);
                    if full(&out) {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// The ID of the last live entry (0-0 when empty): Redis's streamLastValidID.
    pub fn last_valid_id(&self) -> StreamId {
        self.nodes
            .iter()
            .next_back()
            .and_then(|(&k, n)| n.lp.get(-1).and_then(|e| Node::decode_id(k, e)))
            .filter(|_| self.length > 0)
            .unwrap_or(StreamId::ZERO)
    }

    fn first_valid_id(&self) -> StreamId {
        self.nodes
            .iter()
            .next()
            .and_then(|(&k, n)| n.lp.get(1).and_then(|e| Node::decode_id(k, e)))
            .unwrap_or(StreamId::ZERO)
    }

    /// Deletes one entry (Redis's streamDeleteItem); counters other than the
    /// length are the caller's business (XDEL updates them).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((key, off)) = self.find(id) else {
            return false;
        };
        if let Some(node) = self.nodes.get_mut(&key) {
            node.lp.remove_at(off);
            node.deleted += 1;
            if node.live() == 0 {
                self.nodes.remove(&key);
            }
        }
        self.length -= 1;
        true
    }

    /// XDEL's effect for a list of IDs: deletes them, updates
    /// max_deleted_entry_id and first_id; returns how many were deleted.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first = false;
        for &id in ids {
            if self.delete(id) {
                if id == self.first_id {
                    first = true;
                }
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::ZERO;
            } else if first {
                self.first_id = self.first_valid_id();
            }
        }
        deleted
    }

    /// Trims as XTRIM/XADD do; `limit` 0 means no limit. Returns the number
    /// of entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let Some((&key, node)) = self.nodes.first_key_value() else {
                break;
            };
            let entries = node.live() as u64;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last < min,
            };
            if remove_node {
                self.nodes.remove(&key);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut length = self.length;
            let Some(node) = self.nodes.get_mut(&key) else {
                break;
            };
            while let Some(off) = node.lp.first().and_then(|o| node.lp.next(o)) {
                let stop = match how {
                    Trim::MaxLen(max) => length <= max,
                    Trim::MinId(min) => {
                        Node::decode_id(key, node.lp.at(off)).is_none_or(|id| id >= min)
                    }
                };
                if stop {
                    break;
                }
                node.lp.remove_at(off);
                node.deleted += 1;
                length -= 1;
                deleted += 1;
            }
            if node.live() == 0 {
                self.nodes.remove(&key);
            }
            self.length = length;
            break;
        }
        self.first_id = if self.length == 0 {
            StreamId::ZERO
        } else {
            self.first_valid_id()
        };
        deleted
    }

    /// True if a deleted entry may lie in `[start, end]` (Redis's streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::ZERO);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// The logical read counter of `id`, or None when it cannot be known
    /// (Redis's streamEstimateDistanceFromFirstEverEntry).
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(self.entries_added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return Some(self.entries_added - self.length),
                std::cmp::Ordering::Equal => return Some(self.entries_added - self.length + 1),
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// A group's lag, or None when it cannot be computed.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read >= 0 && !self.range_has_tombstones(Some(g.last_id), None) {
            return Some((self.entries_added as i64).wrapping_sub(g.entries_read));
        }
        self.estimate_distance(g.last_id)
            .map(|read| (self.entries_added as i64).wrapping_sub(read as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    fn add(s: &mut Stream, i: StreamId, kv: &[(&str, &str)]) {
        let f: Vec<(&[u8], &[u8])> = kv
            .iter()
            .map(|(a, b)| (a.as_bytes(), b.as_bytes()))
            .collect();
        s.append(i, &f, NodeLimits::default());
    }

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(
            StreamId::parse(b"5", 0, false, false),
            Some((id(5, 0), true))
        );
        assert_eq!(
            StreamId::parse(b"5", u64::MAX, false, false),
            Some((id(5, u64::MAX), true))
        );
        assert_eq!(
            StreamId::parse(b"5-3", 0, false, false),
            Some((id(5, 3), true))
        );
        assert_eq!(
            StreamId::parse(b"5-*", 0, false, true),
            Some((id(5, 0), false))
        );
        assert_eq!(StreamId::parse(b"5-*", 0, false, false), None);
        assert_eq!(
            StreamId::parse(b"-", 0, true, false),
            Some((StreamId::ZERO, true))
        );
        assert_eq!(StreamId::parse(b"+", 0, false, false), None);
        assert_eq!(StreamId::parse(b"-5", 0, false, false), None);
        assert_eq!(
            StreamId::parse(b"1--0", 0, false, false),
            Some((id(1, 0), true))
        );
        assert_eq!(
            StreamId::parse(
                b"18446744073709551615-18446744073709551615",
                0,
                false,
                false
            ),
            Some((StreamId::MAX, true))
        );
        assert_eq!(
            StreamId::parse(b"18446744073709551616", 0, false, false),
            None
        );
        assert_eq!(StreamId::parse(b"abc", 0, false, false), None);
        assert_eq!(StreamId::parse(b"", 0, false, false), None);
        assert_eq!(StreamId::parse(b"1-", 0, false, false), None);
    }

    #[test]
    fn entries_round_trip_through_nodes_with_and_without_same_fields() {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            if i % 3 == 0 {
                add(&mut s, id(i, 0), &[("x", "1"), ("y", "2"), ("z", "3")]);
            } else {
                add(&mut s, id(i, i), &[("a", "v"), ("b", &i.to_string())]);
            }
        }
        assert_eq!(s.len(), 250);
        assert_eq!(s.node_count(), 3);
        let all = s.range(StreamId::ZERO, StreamId::MAX, false, 0);
        assert_eq!(all.len(), 250);
        assert_eq!(
            all[2].fields,
            vec![(&b"x"[..], &b"1"[..]), (b"y", b"2"), (b"z", b"3")]
        );
        assert_eq!(all[3].id, id(4, 4));
        assert_eq!(all[3].fields[1].1, b"4");
        let rev = s.range(id(100, 0), id(200, 0), true, 5);
        assert_eq!(
            rev.iter().map(|e| e.id.ms).collect::<Vec<_>>(),
            vec![199, 198, 197, 196, 195]
        );
        assert!(s.contains(id(4, 4)));
        assert!(!s.contains(id(4, 3)));
    }

    #[test]
    fn deleting_and_trimming_keep_the_counters_right() {
        let mut s = Stream::new();
        for i in 1..=300u64 {
            add(&mut s, id(i, 0), &[("f", "v")]);
        }
        assert_eq!(s.delete_ids(&[id(1, 0), id(5, 0), id(999, 0)]), 2);
        assert_eq!(s.first_id, id(2, 0));
        assert_eq!(s.max_deleted_entry_id, id(5, 0));
        assert_eq!(s.trim(Trim::MaxLen(250), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(200), true, 0), 98);
        assert_eq!(s.len(), 200);
        assert_eq!(s.trim(Trim::MaxLen(150), false, 0), 50);
        assert_eq!(s.first_id, id(151, 0));
        assert_eq!(s.trim(Trim::MinId(id(260, 0)), false, 0), 109);
        assert_eq!(s.first_id, id(260, 0));
        assert_eq!(s.last_valid_id(), id(300, 0));
        assert_eq!(s.entries_added, 300);
    }

    #[test]
    fn auto_ids_stay_monotonic_when_the_clock_goes_back() {
        let mut s = Stream::new();
        let a = s.next_id(None, 1000).unwrap();
        add(&mut s, a, &[("f", "v")]);
        let b = s.next_id(None, 900).unwrap();
        assert_eq!(b, id(1000, 1));
        assert_eq!(s.next_id(Some((id(1000, 0), false)), 0), Some(id(1000, 1)));
        assert_eq!(s.next_id(Some((id(999, 0), false)), 0), None);
        assert_eq!(s.next_id(Some((id(1000, 0), true)), 0), None);
    }
}
