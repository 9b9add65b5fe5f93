//! List values: one listpack while small (`listpack` encoding), a quicklist
//! (a deque of listpack nodes, `quicklist` encoding) when big.
//!
//! Conversions and node boundaries follow Redis 7.2 so OBJECT ENCODING
//! reports the same thing Redis would after the same commands: sizes are
//! measured as Redis's listpack would store the entries ([`redis_entry_size`]),
//! not as our own listpack does, and `fill` is `list-max-listpack-size`.
//! Elements too large for a node live alone in a "plain" node, as in Redis.
//! `list-compress-depth` is accepted by the config but nothing is compressed.
//!
//! This module owns the representation and its operations only: no replies,
//! no keyspace. Callers decide when to convert (Redis converts before a
//! command grows a list and after it shrinks one: [`List::try_grow`],
//! [`List::try_shrink`]).

use std::collections::VecDeque;

use crate::keyspace::listpack::Listpack;
use crate::keyspace::value::parse_canonical_i64;

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// Bytes of a Redis listpack header plus its end marker.
const LP_OVERHEAD: usize = 7;
/// Node byte cap when `fill` is a count (Redis's SIZE_SAFETY_LIMIT).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Redis over-estimates an entry's cost by this much when deciding whether a
/// node can take one more.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Node byte caps for fill -1..-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// Bytes Redis's listpack spends on `data` (encoding + payload + backlen):
/// integers in canonical form are stored in 1-9 bytes, strings with a 1, 2
/// or 5 byte header.
pub fn redis_entry_size(data: &[u8]) -> usize {
    let enc = match parse_canonical_i64(data) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if (-32768..=32767).contains(&v) => 3,
        Some(v) if (-8_388_608..=8_388_607).contains(&v) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None if data.len() < 64 => 1 + data.len(),
        None if data.len() < 4096 => 2 + data.len(),
        None => 5 + data.len(),
    };
    let backlen = match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    enc + backlen
}

/// (byte limit, count limit) of one node for `fill`.
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (
            usize::MAX,
            usize::try_from(fill.max(1)).unwrap_or(usize::MAX),
        )
    } else {
        let level = (fill.unsigned_abs() - 1).min(4) as usize;
        (OPTIMIZATION_LEVEL[level], usize::MAX)
    }
}

fn exceeds_limit(fill: i64, size: usize, count: usize) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != usize::MAX {
        size > sz_limit
    } else {
        size > SIZE_SAFETY_LIMIT || count > count_limit
    }
}

/// True if an element of `len` bytes gets a node of its own.
fn is_large(len: usize, fill: i64) -> bool {
    if fill >= 0 {
        len > SIZE_SAFETY_LIMIT
    } else {
        len > node_limit(fill).0
    }
}

/// Clamps `fill` as Redis's quicklist does (16-bit signed field, -5 floor).
fn ql_fill(fill: i64) -> i64 {
    fill.clamp(-5, 32767)
}

/// One listpack with its size as Redis would measure it.
#[derive(Clone, Debug)]
struct Node {
    lp: Listpack,
    /// Redis's `node->sz`: listpack bytes, or the element length of a plain node.
    sz: usize,
    /// Holds one large element on its own (Redis's PLAIN container).
    plain: bool,
}

impl Node {
    fn new() -> Self {
        Node {
            lp: Listpack::new(),
            sz: LP_OVERHEAD,
            plain: false,
        }
    }

    fn plain(data: &[u8]) -> Self {
        let mut lp = Listpack::new();
        lp.push_back(data);
        Node {
            lp,
            sz: data.len(),
            plain: true,
        }
    }

    fn count(&self) -> usize {
        self.lp.len()
    }

    fn push(&mut self, end: End, data: &[u8]) {
        match end {
            End::Head => self.lp.push_front(data),
            End::Tail => self.lp.push_back(data),
        }
        self.sz += redis_entry_size(data);
    }

    fn insert_at(&mut self, off: usize, data: &[u8]) {
        self.lp.insert_at(off, data);
        self.sz += redis_entry_size(data);
    }

    fn remove_at(&mut self, off: usize) {
        let gone = redis_entry_size(self.lp.at(off));
        self.lp.remove_at(off);
        self.sz = self.sz.saturating_sub(gone);
    }

    /// Removes `count` entries starting at entry index `start`.
    fn remove_range(&mut self, start: usize, count: usize) {
        let Some(off) = self.lp.offset_of(start as i64) else {
            return;
        };
        let mut gone = 0;
        let mut o = Some(off);
        for _ in 0..count {
            let Some(x) = o else { break };
            gone += redis_entry_size(self.lp.at(x));
            o = self.lp.next(x);
        }
        self.lp.remove_range(off, count);
        self.sz = self.sz.saturating_sub(gone);
    }

    /// Redis's `_quicklistNodeAllowInsert`.
    fn allows_insert(&self, fill: i64, len: usize) -> bool {
        !self.plain
            && !is_large(len, fill)
            && !exceeds_limit(
                fill,
                self.sz + len + SIZE_ESTIMATE_OVERHEAD,
                self.count() + 1,
            )
    }

    /// Index (within the node) of the entry at byte offset `off`.
    fn index_of(&self, off: usize) -> usize {
        let mut i = 0;
        let mut o = self.lp.first();
        while let Some(x) = o {
            if x >= off {
                break;
            }
            i += 1;
            o = self.lp.next(x);
        }
        i
    }

    /// Redis's `_quicklistSplitNode`: with `after`, self keeps [0..=idx] and
    /// the returned node holds the rest; otherwise self keeps [idx..] and the
    /// returned node holds [0..idx).
    fn split(&mut self, idx: usize, after: bool) -> Node {
        let mut other = self.clone();
        let n = self.count();
        if after {
            self.remove_range(idx + 1, n - (idx + 1).min(n));
            other.remove_range(0, (idx + 1).min(n));
        } else {
            self.remove_range(0, idx);
            other.remove_range(idx, n - idx.min(n));
        }
        other.plain = false;
        other
    }
}

/// A list value.
#[derive(Clone, Debug)]
pub struct List {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Small(Node),
    Quick { nodes: VecDeque<Node>, count: usize },
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

/// A position in a list: node index and byte offset in that node.
type Pos = (usize, usize);

impl List {
    /// An empty list (listpack encoding).
    pub fn new() -> Self {
        List {
            repr: Repr::Small(Node::new()),
        }
    }

    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Small(_) => "listpack",
            Repr::Quick { .. } => "quicklist",
        }
    }

    /// The elements in a canonical order (insertion order for lists,
    /// sorted for unordered types), for DEBUG DIGEST and size estimates.
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        self.iter().map(|e| e.to_vec()).collect()
    }

    /// Heap bytes used.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Small(n) => n.lp.bytes(),
            Repr::Quick { nodes, .. } => {
                nodes.capacity() * std::mem::size_of::<Node>()
                    + nodes.iter().map(|n| n.lp.bytes()).sum::<usize>()
            }
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(n) => n.count(),
            Repr::Quick { count, .. } => *count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of quicklist nodes (1 for a listpack).
    pub fn node_count(&self) -> usize {
        match &self.repr {
            Repr::Small(_) => 1,
            Repr::Quick { nodes, .. } => nodes.len(),
        }
    }

    fn node(&self, i: usize) -> Option<&Node> {
        match &self.repr {
            Repr::Small(n) => (i == 0).then_some(n),
            Repr::Quick { nodes, .. } => nodes.get(i),
        }
    }

    // -- conversions ------------------------------------------------------

    /// Converts a listpack to a quicklist if adding `add_count` elements of
    /// `add_bytes` total bytes could take it past the node limit (Redis's
    /// `listTypeTryConvertListpack`, called before every growing write).
    pub fn try_grow(&mut self, fill: i64, add_bytes: usize, add_count: usize) {
        let Repr::Small(n) = &mut self.repr else {
            return;
        };
        if !exceeds_limit(
            fill,
            n.sz.saturating_add(add_bytes),
            n.count().saturating_add(add_count),
        ) {
            return;
        }
        let node = std::mem::replace(n, Node::new());
        let count = node.count();
        let mut nodes = VecDeque::new();
        if count > 0 {
            nodes.push_back(node);
        }
        self.repr = Repr::Quick { nodes, count };
    }

    /// [`List::try_grow`] for pushing `items`.
    pub fn try_grow_for<T: AsRef<[u8]>>(&mut self, fill: i64, items: &[T]) {
        let bytes = items.iter().map(|i| i.as_ref().len()).sum();
        self.try_grow(fill, bytes, items.len());
    }

    /// Converts a quicklist of one packed node back to a listpack when that
    /// node is under half the limits (Redis's `listTypeTryConvertQuicklist`
    /// with shrinking set, called after every shrinking write).
    pub fn try_shrink(&mut self, fill: i64) {
        let Repr::Quick { nodes, count } = &mut self.repr else {
            return;
        };
        if nodes.len() != 1 || nodes[0].plain {
            return;
        }
        let (sz_limit, count_limit) = node_limit(fill);
        if nodes[0].sz > sz_limit / 2 || *count > count_limit / 2 {
            return;
        }
        if let Some(node) = nodes.pop_front() {
            self.repr = Repr::Small(node);
        }
    }

    // -- ends -------------------------------------------------------------

    /// Pushes one element (no encoding conversion: see [`List::try_grow`]).
    pub fn push(&mut self, end: End, data: &[u8], fill: i64) {
        match &mut self.repr {
            Repr::Small(n) => n.push(end, data),
            Repr::Quick { nodes, count } => {
                let fill = ql_fill(fill);
                *count += 1;
                if is_large(data.len(), fill) {
                    match end {
                        End::Head => nodes.push_front(Node::plain(data)),
                        End::Tail => nodes.push_back(Node::plain(data)),
                    }
                    return;
                }
                let edge = match end {
                    End::Head => nodes.front_mut(),
                    End::Tail => nodes.back_mut(),
                };
                match edge {
                    Some(node) if node.allows_insert(fill, data.len()) => node.push(end, data),
                    _ => {
                        let mut node = Node::new();
                        node.push(end, data);
                        match end {
                            End::Head => nodes.push_front(node),
                            End::Tail => nodes.push_back(node),
                        }
                    }
                }
            }
        }
    }

    /// Removes and returns the element at `end` (no conversion: see
    /// [`List::try_shrink`]).
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Small(n) => {
                let off = match end {
                    End::Head => n.lp.first(),
                    End::Tail => n.lp.last(),
                }?;
                let v = n.lp.at(off).to_vec();
                n.remove_at(off);
                Some(v)
            }
            Repr::Quick { nodes, count } => {
                let i = match end {
                    End::Head => 0,
                    End::Tail => nodes.len().checked_sub(1)?,
                };
                let node = nodes.get_mut(i)?;
                let off = match end {
                    End::Head => node.lp.first(),
                    End::Tail => node.lp.last(),
                }?;
                let v = node.lp.at(off).to_vec();
                node.remove_at(off);
                if node.count() == 0 {
                    nodes.remove(i);
                }
                *count -= 1;
                Some(v)
            }
        }
    }

    // -- positions --------------------------------------------------------

    /// Normalizes a Redis index (negative counts from the tail).
    fn norm(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Position of the element at `index`, walking from the nearer end.
    fn pos_of(&self, index: i64) -> Option<Pos> {
        let i = self.norm(index)?;
        match &self.repr {
            Repr::Small(n) => Some((0, n.lp.offset_of(i as i64)?)),
            Repr::Quick { nodes, count } => {
                if i <= count / 2 {
                    let mut acc = 0;
                    for (ni, node) in nodes.iter().enumerate() {
                        if i < acc + node.count() {
                            return Some((ni, node.lp.offset_of((i - acc) as i64)?));
                        }
                        acc += node.count();
                    }
                } else {
                    let mut acc = *count;
                    for (ni, node) in nodes.iter().enumerate().rev() {
                        acc -= node.count();
                        if i >= acc {
                            return Some((ni, node.lp.offset_of((i - acc) as i64)?));
                        }
                    }
                }
                None
            }
        }
    }

    fn at(&self, (ni, off): Pos) -> &[u8] {
        match self.node(ni) {
            Some(n) => n.lp.at(off),
            None => &[],
        }
    }

    fn next_pos(&self, (ni, off): Pos) -> Option<Pos> {
        let node = self.node(ni)?;
        if let Some(o) = node.lp.next(off) {
            return Some((ni, o));
        }
        let next = self.node(ni + 1)?;
        Some((ni + 1, next.lp.first()?))
    }

    fn prev_pos(&self, (ni, off): Pos) -> Option<Pos> {
        let node = self.node(ni)?;
        if let Some(o) = node.lp.prev(off) {
            return Some((ni, o));
        }
        let prev = self.node(ni.checked_sub(1)?)?;
        Some((ni - 1, prev.lp.last()?))
    }

    /// The element at `index` (negative counts from the tail).
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        self.pos_of(index).map(|p| self.at(p))
    }

    /// Iterates from `index` towards the tail (or towards the head with
    /// `reverse`); an out-of-range index yields nothing.
    pub fn iter_from(&self, index: i64, reverse: bool) -> Iter<'_> {
        Iter {
            list: self,
            pos: self.pos_of(index),
            reverse,
        }
    }

    /// Iterates head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    // -- edits ------------------------------------------------------------

    /// Replaces the element at `index`; false if out of range (no conversion:
    /// LSET calls [`List::try_grow`] before and [`List::try_shrink`] after).
    pub fn set(&mut self, index: i64, data: &[u8], fill: i64) -> bool {
        let Some((ni, off)) = self.pos_of(index) else {
            return false;
        };
        let fill = ql_fill(fill);
        match &mut self.repr {
            Repr::Small(n) => {
                let old = redis_entry_size(n.lp.at(off));
                n.lp.replace_at(off, data);
                n.sz = n.sz.saturating_sub(old) + redis_entry_size(data);
            }
            Repr::Quick { nodes, count } => {
                let Some(node) = nodes.get_mut(ni) else {
                    return false;
                };
                let old = redis_entry_size(node.lp.at(off));
                let large = is_large(data.len(), fill);
                if !node.plain
                    && !large
                    && !exceeds_limit(
                        fill,
                        node.sz.saturating_sub(old) + data.len() + SIZE_ESTIMATE_OVERHEAD,
                        node.count(),
                    )
                {
                    node.lp.replace_at(off, data);
                    node.sz = node.sz.saturating_sub(old) + redis_entry_size(data);
                } else if node.plain {
                    if large {
                        *node = Node::plain(data);
                    } else {
                        let mut n = Node::new();
                        n.push(End::Tail, data);
                        nodes[ni] = n;
                    }
                } else {
                    // Full node or large element: the new element gets its own
                    // node after the old one's (split) head part.
                    let idx = node.index_of(off);
                    let tail_part = (idx + 1 < node.count()).then(|| node.split(idx, true));
                    let fresh = if large {
                        Node::plain(data)
                    } else {
                        let mut n = Node::new();
                        n.push(End::Tail, data);
                        n
                    };
                    nodes.insert(ni + 1, fresh);
                    if let Some(t) = tail_part {
                        nodes.insert(ni + 2, t);
                    }
                    // Drop the replaced element, now the last of node ni.
                    let node = &mut nodes[ni];
                    if node.count() == 1 {
                        nodes.remove(ni);
                    } else {
                        if let Some(last) = node.lp.last() {
                            node.remove_at(last);
                        }
                        merge_around(nodes, ni + 1, fill);
                    }
                    let _ = count;
                }
            }
        }
        true
    }

    /// Inserts `data` before (or `after`) the first element equal to `pivot`,
    /// searching from the head. False if there is no such element.
    pub fn insert(&mut self, pivot: &[u8], data: &[u8], after: bool, fill: i64) -> bool {
        let mut found = None;
        let mut p = self.pos_of(0);
        while let Some(pos) = p {
            if self.at(pos) == pivot {
                found = Some(pos);
                break;
            }
            p = self.next_pos(pos);
        }
        let Some((ni, off)) = found else {
            return false;
        };
        match &mut self.repr {
            Repr::Small(n) => {
                let at = if after {
                    n.lp.next(off).unwrap_or(n.lp.end())
                } else {
                    off
                };
                n.insert_at(at, data);
            }
            Repr::Quick { nodes, count } => {
                *count += 1;
                quick_insert(nodes, ni, off, data, after, ql_fill(fill));
            }
        }
        true
    }

    /// Removes elements equal to `value`, at most `limit` of them (0: all),
    /// scanning from the tail with `from_tail`. Returns how many went.
    pub fn remove_matching(&mut self, value: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let done = |r: usize| limit != 0 && r >= limit;
        match &mut self.repr {
            Repr::Small(n) => removed += node_remove_matching(n, value, limit, from_tail),
            Repr::Quick { nodes, count } => {
                if from_tail {
                    let mut i = nodes.len();
                    while i > 0 && !done(removed) {
                        i -= 1;
                        let left = if limit == 0 { 0 } else { limit - removed };
                        removed += node_remove_matching(&mut nodes[i], value, left, true);
                        if nodes[i].count() == 0 {
                            nodes.remove(i);
                        }
                    }
                } else {
                    let mut i = 0;
                    while i < nodes.len() && !done(removed) {
                        let left = if limit == 0 { 0 } else { limit - removed };
                        removed += node_remove_matching(&mut nodes[i], value, left, false);
                        if nodes[i].count() == 0 {
                            nodes.remove(i);
                        } else {
                            i += 1;
                        }
                    }
                }
                *count -= removed;
            }
        }
        removed
    }

    /// Removes `n` elements starting at `start` (0-based from the head).
    pub fn remove_range(&mut self, start: usize, n: usize) {
        let len = self.len();
        if start >= len || n == 0 {
            return;
        }
        let n = n.min(len - start);
        match &mut self.repr {
            Repr::Small(node) => node.remove_range(start, n),
            Repr::Quick { nodes, count } => {
                *count -= n;
                let mut skip = start;
                let mut left = n;
                let mut i = 0;
                while left > 0 && i < nodes.len() {
                    let c = nodes[i].count();
                    if skip >= c {
                        skip -= c;
                        i += 1;
                        continue;
                    }
                    let take = left.min(c - skip);
                    if take == c {
                        nodes.remove(i);
                    } else {
                        nodes[i].remove_range(skip, take);
                        i += 1;
                    }
                    left -= take;
                    skip = 0;
                }
            }
        }
    }

    /// Index of each element equal to `value`, searching from the head (or
    /// the tail with `reverse`), as positions from the head. Stops after
    /// `maxlen` elements compared (0: no limit); `f` returns false to stop.
    pub fn positions(
        &self,
        value: &[u8],
        reverse: bool,
        maxlen: usize,
        mut f: impl FnMut(usize) -> bool,
    ) {
        let len = self.len();
        let start = if reverse { -1 } else { 0 };
        for (n, e) in self.iter_from(start, reverse).enumerate() {
            if maxlen != 0 && n >= maxlen {
                return;
            }
            if e == value {
                let idx = if reverse { len - n - 1 } else { n };
                if !f(idx) {
                    return;
                }
            }
        }
    }
}

/// Removes matching entries from one node; returns the number removed.
fn node_remove_matching(n: &mut Node, value: &[u8], limit: usize, from_tail: bool) -> usize {
    let mut removed = 0;
    if from_tail {
        let mut o = n.lp.last();
        while let Some(x) = o {
            let prev = n.lp.prev(x);
            if n.lp.at(x) == value {
                n.remove_at(x);
                removed += 1;
                if limit != 0 && removed >= limit {
                    break;
                }
            }
            o = prev;
        }
    } else {
        let mut o = n.lp.first();
        while let Some(x) = o {
            if n.lp.at(x) == value {
                n.remove_at(x);
                removed += 1;
                if limit != 0 && removed >= limit {
                    break;
                }
                o = (x < n.lp.end()).then_some(x);
            } else {
                o = n.lp.next(x);
            }
        }
    }
    removed
}

fn allows_merge(nodes: &VecDeque<Node>, a: usize, b: usize, fill: i64) -> bool {
    let (Some(x), Some(y)) = (nodes.get(a), nodes.get(b)) else {
        return false;
    };
    !x.plain
        && !y.plain
        && !exceeds_limit(
            fill,
            (x.sz + y.sz).saturating_sub(LP_OVERHEAD),
            x.count() + y.count(),
        )
}

/// Appends node `a + 1` to node `a`.
fn merge(nodes: &mut VecDeque<Node>, a: usize) {
    let Some(b) = nodes.remove(a + 1) else {
        return;
    };
    let x = &mut nodes[a];
    for e in b.lp.iter() {
        x.lp.push_back(e);
    }
    x.sz = (x.sz + b.sz).saturating_sub(LP_OVERHEAD);
}

/// Redis's `_quicklistMergeNodes` around node `c`.
fn merge_around(nodes: &mut VecDeque<Node>, mut c: usize, fill: i64) {
    if c >= 2 && allows_merge(nodes, c - 2, c - 1, fill) {
        merge(nodes, c - 2);
        c -= 1;
    }
    if allows_merge(nodes, c + 1, c + 2, fill) {
        merge(nodes, c + 1);
    }
    let target = if c >= 1 && allows_merge(nodes, c - 1, c, fill) {
        merge(nodes, c - 1);
        c - 1
    } else {
        c
    };
    if allows_merge(nodes, target, target + 1, fill) {
        merge(nodes, target);
    }
}

/// Redis's `_quicklistInsert`: `data` goes before/after the entry at
/// (`ni`, `off`), using a neighbour node or a split when the node is full.
fn quick_insert(
    nodes: &mut VecDeque<Node>,
    ni: usize,
    off: usize,
    data: &[u8],
    after: bool,
    fill: i64,
) {
    let Some(node) = nodes.get(ni) else {
        return;
    };
    let len = data.len();
    let full = !node.allows_insert(fill, len);
    let at_tail = after && node.lp.next(off).is_none();
    let at_head = !after && off == 0;
    let avail_next = at_tail
        && nodes
            .get(ni + 1)
            .is_some_and(|n| n.allows_insert(fill, len));
    let avail_prev = at_head
        && ni
            .checked_sub(1)
            .and_then(|p| nodes.get(p))
            .is_some_and(|n| n.allows_insert(fill, len));
    let beside = if after { ni + 1 } else { ni };

    if is_large(len, fill) {
        if node.plain || at_tail || at_head {
            nodes.insert(beside, Node::plain(data));
        } else {
            let idx = node.index_of(off);
            let part = nodes[ni].split(idx, after);
            if after {
                nodes.insert(ni + 1, Node::plain(data));
                nodes.insert(ni + 2, part);
            } else {
                nodes.insert(ni, Node::plain(data));
                nodes.insert(ni, part);
            }
        }
        return;
    }
    if !full {
        let node = &mut nodes[ni];
        let at = if after {
            node.lp.next(off).unwrap_or(node.lp.end())
        } else {
            off
        };
        node.insert_at(at, data);
    } else if at_tail && avail_next {
        nodes[ni + 1].push(End::Head, data);
    } else if at_head && avail_prev {
        nodes[ni - 1].push(End::Tail, data);
    } else if at_tail || at_head {
        let mut n = Node::new();
        n.push(End::Head, data);
        nodes.insert(beside, n);
    } else {
        let idx = node.index_of(off);
        let mut part = nodes[ni].split(idx, after);
        let center = if after {
            part.push(End::Head, data);
            nodes.insert(ni + 1, part);
            ni
        } else {
            part.push(End::Tail, data);
            nodes.insert(ni, part);
            ni + 1
        };
        merge_around(nodes, center, fill);
    }
}

/// Iterator over a list's elements from some index, in either direction.
pub struct Iter<'a> {
    list: &'a List,
    pos: Option<Pos>,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let pos = self.pos?;
        self.pos = if self.reverse {
            self.list.prev_pos(pos)
        } else {
            self.list.next_pos(pos)
        };
        Some(self.list.at(pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(l: &List) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    fn check(l: &List) {
        let fwd: Vec<Vec<u8>> = l.iter().map(|e| e.to_vec()).collect();
        let mut back: Vec<Vec<u8>> = l.iter_from(-1, true).map(|e| e.to_vec()).collect();
        back.reverse();
        assert_eq!(fwd, back);
        assert_eq!(fwd.len(), l.len());
        if let Repr::Quick { nodes, count } = &l.repr {
            assert_eq!(nodes.iter().map(|n| n.count()).sum::<usize>(), *count);
            for n in nodes {
                assert!(n.count() > 0);
                if !n.plain {
                    let sz: usize = LP_OVERHEAD + n.lp.iter().map(redis_entry_size).sum::<usize>();
                    assert_eq!(sz, n.sz);
                }
            }
        }
    }

    #[test]
    fn redis_entry_sizes_match_the_listpack_encodings() {
        assert_eq!(redis_entry_size(b"5"), 2);
        assert_eq!(redis_entry_size(b"1000"), 3);
        assert_eq!(redis_entry_size(b"30000"), 4);
        assert_eq!(redis_entry_size(b"01"), 4);
        assert_eq!(redis_entry_size(b"hello"), 7);
        assert_eq!(redis_entry_size(&[b'x'; 100]), 103);
        assert_eq!(redis_entry_size(b"9223372036854775807"), 10);
    }

    #[test]
    fn pushes_and_pops_work_at_both_ends_in_both_encodings() {
        for fill in [-2, 4] {
            let mut l = List::new();
            l.try_grow(fill, 100_000, 1000);
            assert_eq!(l.encoding(), "quicklist");
            for i in 0..200 {
                l.push(End::Tail, format!("t{i}").as_bytes(), fill);
                l.push(End::Head, format!("h{i}").as_bytes(), fill);
            }
            check(&l);
            assert_eq!(l.get(0), Some(&b"h199"[..]));
            assert_eq!(l.get(-1), Some(&b"t199"[..]));
            assert_eq!(l.get(200), Some(&b"t0"[..]));
            assert_eq!(l.pop(End::Head).unwrap(), b"h199");
            assert_eq!(l.pop(End::Tail).unwrap(), b"t199");
            assert_eq!(l.len(), 398);
            check(&l);
        }
    }

    #[test]
    fn a_list_converts_to_quicklist_past_the_limit_and_back_when_small() {
        let mut l = List::new();
        for i in 0..128 {
            l.try_grow(128, 1, 1);
            l.push(End::Tail, format!("{i}").as_bytes(), 128);
        }
        assert_eq!(l.encoding(), "listpack");
        l.try_grow(128, 1, 1);
        assert_eq!(l.encoding(), "quicklist");
        l.push(End::Tail, b"x", 128);
        for _ in 0..64 {
            l.pop(End::Tail);
            l.try_shrink(128);
        }
        assert_eq!(l.encoding(), "quicklist");
        l.pop(End::Tail);
        l.try_shrink(128);
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(l.len(), 64);
    }

    #[test]
    fn inserts_splits_and_merges_keep_order() {
        let fill = 3;
        let mut l = List::new();
        l.try_grow(fill, 100_000, 100);
        let mut model: Vec<String> = Vec::new();
        for i in 0..30 {
            l.push(End::Tail, format!("{i}").as_bytes(), fill);
            model.push(format!("{i}"));
        }
        for (k, pivot) in ["5", "0", "29", "13", "14", "new2"].iter().enumerate() {
            let v = format!("new{k}");
            let after = k % 2 == 0;
            assert!(l.insert(pivot.as_bytes(), v.as_bytes(), after, fill));
            let p = model.iter().position(|x| x == pivot).unwrap();
            model.insert(if after { p + 1 } else { p }, v);
            check(&l);
            assert_eq!(items(&l), model);
        }
        assert!(!l.insert(b"nope", b"x", true, fill));
        let big = "y".repeat(9000);
        assert!(l.insert(b"13", big.as_bytes(), true, fill));
        let p = model.iter().position(|x| x == "13").unwrap();
        model.insert(p + 1, big.clone());
        assert_eq!(items(&l), model);
        check(&l);
    }

    #[test]
    fn set_remove_and_ranges_keep_order() {
        for fill in [-2, 2] {
            let mut l = List::new();
            l.try_grow(fill, 100_000, 100);
            let mut model: Vec<String> = Vec::new();
            for i in 0..40 {
                let v = format!("{}", i % 5);
                l.push(End::Tail, v.as_bytes(), fill);
                model.push(v);
            }
            assert!(l.set(7, b"seven", fill));
            model[7] = "seven".into();
            let big = "z".repeat(10000);
            assert!(l.set(-3, big.as_bytes(), fill));
            model[37] = big.clone();
            assert!(l.set(-3, b"small", fill));
            model[37] = "small".into();
            assert!(!l.set(40, b"x", fill));
            check(&l);
            assert_eq!(items(&l), model);

            assert_eq!(l.remove_matching(b"3", 2, true), 2);
            let mut n = 0;
            model.retain(|_| true);
            for i in (0..model.len()).rev() {
                if model[i] == "3" && n < 2 {
                    model.remove(i);
                    n += 1;
                }
            }
            assert_eq!(items(&l), model);
            assert_eq!(l.remove_matching(b"1", 0, false), 8);
            model.retain(|x| x != "1");
            assert_eq!(items(&l), model);
            l.remove_range(3, 10);
            model.drain(3..13);
            assert_eq!(items(&l), model);
            check(&l);
            let mut found = vec![];
            l.positions(b"4", true, 0, |i| {
                found.push(i);
                true
            });
            let expect: Vec<usize> = (0..model.len())
                .rev()
                .filter(|&i| model[i] == "4")
                .collect();
            assert_eq!(found, expect);
        }
    }
}
