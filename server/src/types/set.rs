//! Set values with Redis 7.2's three encodings and the transitions between
//! them: an `intset` (a sorted array of integers of the smallest width that
//! holds them all) while every member is a canonical integer, a `listpack`
//! while small, and a `hashtable` when big.
//!
//! The hash table keeps its members in a slab (`slots`) and the hash index
//! only stores slot numbers, as `keyspace/db.rs` does for keys: a member keeps
//! its slot for its whole life, so an SSCAN cursor (a slot number) returns
//! every member present for the whole scan, and random sampling (SPOP,
//! SRANDMEMBER) picks slots uniformly.
//!
//! This module knows nothing about commands, replies or configuration: the
//! thresholds come in as [`Limits`] and randomness as an [`Rng`].

use super::paged::PagedVec;
use crate::keyspace::index::{KeyIndex, SlotKeys};
use crate::keyspace::listpack::Listpack;
use crate::keyspace::value::{itoa_buf, parse_canonical_i64};

/// Largest listpack Redis builds (LISTPACK_MAX_SAFETY_SIZE).
const LP_SAFETY_SIZE: usize = 1 << 30;

/// The encoding thresholds (set-max-intset-entries, set-max-listpack-entries,
/// set-max-listpack-value).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub intset_entries: usize,
    pub lp_entries: usize,
    pub lp_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            intset_entries: 512,
            lp_entries: 128,
            lp_value: 64,
        }
    }
}

impl Limits {
    /// Redis caps intsets at 2^30 entries whatever the configuration says.
    fn intset_max(&self) -> usize {
        self.intset_entries.min(1 << 30)
    }
}

/// The generator set commands seed once per command.
pub use crate::rng::Rng;

/// One member as stored: integers in an intset are not kept as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member's bytes (integers are formatted into `scratch`).
    pub fn as_bytes<'b>(&'b self, scratch: &'b mut itoa_buf::Buf) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Member::Int(n) => scratch.format(*n),
            Member::Str(s) => s,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut b = itoa_buf::Buf::new();
        self.as_bytes(&mut b).to_vec()
    }
}

// ---------------------------------------------------------------------------
// intset

/// Sorted integers stored at the smallest width (16, 32 or 64 bits) that
/// holds every member; the width only grows, as in Redis. Each is an
/// exact-size boxed slice (Redis reallocates an intset on every change):
/// no spare capacity, and 16 bytes instead of a `Vec`'s 24, which keeps
/// `Set` at 24 bytes.
#[derive(Clone, Debug)]
enum IntSet {
    W16(Box<[i16]>),
    W32(Box<[i32]>),
    W64(Box<[i64]>),
}

macro_rules! each_width {
    ($s:expr, $v:ident => $e:expr) => {
        match $s {
            IntSet::W16($v) => $e,
            IntSet::W32($v) => $e,
            IntSet::W64($v) => $e,
        }
    };
}

/// Inserts `x` into the sorted `b`, growing the allocation by exactly one
/// element (as Redis reallocates an intset for each addition).
fn sorted_insert<T: Ord + Copy>(b: &mut Box<[T]>, x: T) -> bool {
    match b.binary_search(&x) {
        Ok(_) => false,
        Err(pos) => {
            let mut v = std::mem::take(b).into_vec();
            v.reserve_exact(1);
            v.insert(pos, x);
            *b = v.into_boxed_slice();
            true
        }
    }
}

fn sorted_remove<T: Ord + Copy>(b: &mut Box<[T]>, x: T) -> bool {
    match b.binary_search(&x) {
        Ok(pos) => {
            let mut v = std::mem::take(b).into_vec();
            v.remove(pos);
            *b = v.into_boxed_slice();
            true
        }
        Err(_) => false,
    }
}

impl IntSet {
    fn new() -> IntSet {
        IntSet::W16(Box::default())
    }

    fn len(&self) -> usize {
        each_width!(self, v => v.len())
    }

    // The 64-bit arm converts i64 to itself.
    #[allow(clippy::useless_conversion)]
    fn get(&self, i: usize) -> Option<i64> {
        each_width!(self, v => v.get(i).map(|&x| i64::from(x)))
    }

    fn min(&self) -> Option<i64> {
        self.get(0)
    }

    fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    fn contains(&self, x: i64) -> bool {
        match self {
            IntSet::W16(v) => i16::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::W32(v) => i32::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::W64(v) => v.binary_search(&x).is_ok(),
        }
    }

    /// Widens the storage so that `x` fits.
    #[allow(clippy::useless_conversion)]
    fn upgrade_for(&mut self, x: i64) {
        let need = if i16::try_from(x).is_ok() {
            16
        } else if i32::try_from(x).is_ok() {
            32
        } else {
            64
        };
        let have = match self {
            IntSet::W16(_) => 16,
            IntSet::W32(_) => 32,
            IntSet::W64(_) => 64,
        };
        if need <= have {
            return;
        }
        let all: Vec<i64> = each_width!(&*self, v => v.iter().map(|&x| i64::from(x)).collect());
        *self = if need == 32 {
            IntSet::W32(all.iter().map(|&x| x as i32).collect())
        } else {
            IntSet::W64(all.into_boxed_slice())
        };
    }

    fn insert(&mut self, x: i64) -> bool {
        if self.contains(x) {
            return false;
        }
        self.upgrade_for(x);
        match self {
            // upgrade_for guarantees the value fits the current width.
            IntSet::W16(v) => sorted_insert(v, x as i16),
            IntSet::W32(v) => sorted_insert(v, x as i32),
            IntSet::W64(v) => sorted_insert(v, x),
        }
    }

    fn remove(&mut self, x: i64) -> bool {
        match self {
            IntSet::W16(v) => i16::try_from(x).is_ok_and(|x| sorted_remove(v, x)),
            IntSet::W32(v) => i32::try_from(x).is_ok_and(|x| sorted_remove(v, x)),
            IntSet::W64(v) => sorted_remove(v, x),
        }
    }

    /// Keeps the members at the positions where `keep` is true.
    fn retain_positions(&mut self, keep: &[bool]) {
        each_width!(self, b => {
            let mut v = std::mem::take(b).into_vec();
            let mut i = 0;
            v.retain(|_| {
                let k = keep.get(i).copied().unwrap_or(true);
                i += 1;
                k
            });
            *b = v.into_boxed_slice();
        })
    }

    fn heap_size(&self) -> usize {
        match self {
            IntSet::W16(v) => v.len() * 2,
            IntSet::W32(v) => v.len() * 4,
            IntSet::W64(v) => v.len() * 8,
        }
    }
}

// ---------------------------------------------------------------------------
// hash table

/// Members in a slab indexed by a hash table of slot numbers.
#[derive(Clone)]
struct HtSet {
    table: KeyIndex,
    slots: PagedVec<Option<Box<[u8]>>>,
    free: Vec<u32>,
    /// Total length of the members, kept so heap_size is O(1).
    member_bytes: usize,
}

impl std::fmt::Debug for HtSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// The member slab as the index sees it: slot -> member.
struct Members<'a>(&'a PagedVec<Option<Box<[u8]>>>);

impl SlotKeys for Members<'_> {
    fn slot_count(&self) -> usize {
        self.0.len()
    }

    fn key_at(&self, i: u32) -> Option<&[u8]> {
        self.0.get(i as usize)?.as_deref()
    }
}

fn slot_bytes(slots: &PagedVec<Option<Box<[u8]>>>, i: u32) -> &[u8] {
    slots
        .get(i as usize)
        .and_then(|s| s.as_deref())
        .unwrap_or_default()
}

impl HtSet {
    fn with_capacity(cap: usize) -> HtSet {
        HtSet {
            table: KeyIndex::with_capacity(cap),
            slots: PagedVec::with_capacity(cap),
            free: Vec::new(),
            member_bytes: 0,
        }
    }

    fn len(&self) -> usize {
        self.table.len()
    }

    fn find(&self, m: &[u8]) -> Option<u32> {
        let hash = self.table.hash(m);
        self.table.find(hash, m, &Members(&self.slots))
    }

    fn contains(&self, m: &[u8]) -> bool {
        self.find(m).is_some()
    }

    fn insert(&mut self, m: &[u8]) -> bool {
        if self.contains(m) {
            return false;
        }
        let mut slot = None;
        while let Some(i) = self.free.pop() {
            if matches!(self.slots.get(i as usize), Some(None)) {
                self.slots[i as usize] = Some(m.into());
                slot = Some(i);
                break;
            }
        }
        let i = match slot {
            Some(i) => i,
            None => {
                let Ok(i) = u32::try_from(self.slots.len()) else {
                    // Four billion members: nothing more can be indexed.
                    return false;
                };
                self.slots.push(Some(m.into()));
                i
            }
        };
        self.member_bytes += m.len();
        let hash = self.table.hash(m);
        self.table.insert(hash, i, &Members(&self.slots));
        true
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        let hash = self.table.hash(m);
        let Some(i) = self.table.remove(hash, m, &Members(&self.slots)) else {
            return false;
        };
        self.member_bytes = self.member_bytes.saturating_sub(m.len());
        self.free_slot(i);
        true
    }

    /// Removes the member in slot `i` (a live slot).
    fn remove_slot(&mut self, i: u32) -> Option<Box<[u8]>> {
        let m = self.slots.get(i as usize)?.as_deref()?;
        let hash = self.table.hash(m);
        self.table.remove_slot(hash, i, &Members(&self.slots));
        let taken = self.slots.get_mut(i as usize)?.take();
        let len = taken.as_ref().map_or(0, |t| t.len());
        self.member_bytes = self.member_bytes.saturating_sub(len);
        self.free_slot_after_take(i);
        taken
    }

    fn free_slot(&mut self, i: u32) {
        if let Some(s) = self.slots.get_mut(i as usize) {
            *s = None;
        }
        self.free_slot_after_take(i);
    }

    fn free_slot_after_take(&mut self, i: u32) {
        if i as usize + 1 == self.slots.len() {
            while matches!(self.slots.last(), Some(None)) {
                self.slots.pop();
            }
        } else {
            self.free.push(i);
        }
        if self.slots.is_empty() {
            self.free.clear();
        }
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.slots.iter().filter_map(|s| s.as_deref())
    }

    /// A uniformly chosen live slot.
    fn random_slot(&self, rng: &mut Rng) -> Option<u32> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        for _ in 0..64 {
            let i = rng.below(self.slots.len());
            if self.slots[i].is_some() {
                return Some(i as u32);
            }
        }
        // A very sparse slab: pick the k-th live slot instead.
        let k = rng.below(n);
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .nth(k)
            .map(|(i, _)| i as u32)
    }

    fn live_slots(&self) -> Vec<u32> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i as u32)
            .collect()
    }

    fn heap_size(&self) -> usize {
        self.member_bytes
            + self.slots.capacity() * std::mem::size_of::<Option<Box<[u8]>>>()
            + self.free.capacity() * 4
            + self.table.heap_size()
    }
}

// ---------------------------------------------------------------------------
// the set

#[derive(Clone, Debug)]
enum Repr {
    Int(IntSet),
    Lp(Listpack),
    Ht(Box<HtSet>),
}

/// A set value.
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    fn default() -> Self {
        Set::new_intset()
    }
}

/// Bytes a listpack needs for `n` copies of integer `x` written as text
/// (an upper bound for our encoding: length varint + digits + backlen).
fn lp_estimate_ints(x: i64, n: usize) -> usize {
    let digits = itoa_buf::Buf::new().format(x).len();
    n.saturating_mul(digits + 2)
}

fn decimal_len(x: i64) -> usize {
    itoa_buf::Buf::new().format(x).len()
}

/// Picks `k` of `n` positions uniformly, in ascending order (Knuth's
/// selection sampling), as booleans.
fn select_positions(n: usize, k: usize, rng: &mut Rng) -> Vec<bool> {
    let mut chosen = vec![false; n];
    let mut need = k.min(n);
    for (i, c) in chosen.iter_mut().enumerate() {
        if need == 0 {
            break;
        }
        let left = n - i;
        if rng.below(left) < need {
            *c = true;
            need -= 1;
        }
    }
    chosen
}

impl Set {
    /// An empty intset-encoded set.
    pub fn new_intset() -> Set {
        Set {
            repr: Repr::Int(IntSet::new()),
        }
    }

    /// An empty listpack-encoded set.
    pub fn new_listpack() -> Set {
        Set {
            repr: Repr::Lp(Listpack::new()),
        }
    }

    /// The set Redis creates for a first member `first` when about
    /// `size_hint` members are coming (setTypeCreate).
    pub fn create_for(first: &[u8], size_hint: usize, lim: &Limits) -> Set {
        if parse_canonical_i64(first).is_some() && size_hint <= lim.intset_entries {
            return Set::new_intset();
        }
        if size_hint <= lim.lp_entries {
            return Set::new_listpack();
        }
        Set {
            repr: Repr::Ht(Box::new(HtSet::with_capacity(size_hint))),
        }
    }

    /// Converts to a hash table up front when `size_hint` more members
    /// would not fit the current small encoding (setTypeMaybeConvert).
    pub fn maybe_convert(&mut self, size_hint: usize, lim: &Limits) {
        let convert = match &self.repr {
            Repr::Lp(_) => size_hint > lim.lp_entries,
            Repr::Int(_) => size_hint > lim.intset_entries,
            Repr::Ht(_) => false,
        };
        if convert {
            self.convert_to_ht(size_hint);
        }
    }

    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Int(_) => "intset",
            Repr::Lp(_) => "listpack",
            Repr::Ht(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Int(s) => s.len(),
            Repr::Lp(lp) => lp.len(),
            Repr::Ht(h) => h.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members in storage order (ascending for intsets, insertion
    /// order for listpacks, slot order for hash tables).
    pub fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match &self.repr {
            Repr::Int(s) => Box::new((0..s.len()).filter_map(move |i| s.get(i).map(Member::Int))),
            Repr::Lp(lp) => Box::new(lp.iter().map(Member::Str)),
            Repr::Ht(h) => Box::new(h.iter().map(Member::Str)),
        }
    }

    /// The elements in a canonical order (insertion order for lists,
    /// sorted for unordered types), for DEBUG DIGEST and size estimates.
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = self.iter().map(|m| m.to_vec()).collect();
        v.sort_unstable();
        v
    }

    /// Heap bytes used.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Int(s) => s.heap_size(),
            Repr::Lp(lp) => lp.bytes(),
            Repr::Ht(h) => std::mem::size_of::<HtSet>() + h.heap_size(),
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Int(s) => parse_canonical_i64(m).is_some_and(|x| s.contains(x)),
            Repr::Lp(lp) => lp.find(m, 1).is_some(),
            Repr::Ht(h) => h.contains(m),
        }
    }

    /// Membership of a member taken from another set.
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (m, &self.repr) {
            (Member::Int(x), Repr::Int(s)) => s.contains(x),
            _ => {
                let mut b = itoa_buf::Buf::new();
                self.contains(m.as_bytes(&mut b))
            }
        }
    }

    /// Adds `m`; false if it was already a member. Converts the encoding
    /// past the thresholds exactly where Redis 7.2 does (setTypeAddAux).
    pub fn add(&mut self, m: &[u8], lim: &Limits) -> bool {
        match &mut self.repr {
            Repr::Int(s) => {
                if let Some(x) = parse_canonical_i64(m) {
                    if !s.insert(x) {
                        return false;
                    }
                    if s.len() > lim.intset_max() {
                        self.convert_to_ht(self.len());
                    }
                    return true;
                }
                let n = s.len();
                let (maxelelen, totsize) = match (s.min(), s.max()) {
                    (Some(lo), Some(hi)) => (
                        decimal_len(lo).max(decimal_len(hi)),
                        lp_estimate_ints(lo, n).max(lp_estimate_ints(hi, n)),
                    ),
                    _ => (0, 0),
                };
                if n < lim.lp_entries
                    && m.len() <= lim.lp_value
                    && maxelelen <= lim.lp_value
                    && totsize.saturating_add(m.len()) <= LP_SAFETY_SIZE
                {
                    self.convert_to_listpack();
                    if let Repr::Lp(lp) = &mut self.repr {
                        lp.push_back(m);
                    }
                } else {
                    self.convert_to_ht(n + 1);
                    if let Repr::Ht(h) = &mut self.repr {
                        h.insert(m);
                    }
                }
                true
            }
            Repr::Lp(lp) => {
                if lp.find(m, 1).is_some() {
                    return false;
                }
                if lp.len() < lim.lp_entries
                    && m.len() <= lim.lp_value
                    && lp.bytes().saturating_add(m.len()) <= LP_SAFETY_SIZE
                {
                    lp.push_back(m);
                } else {
                    let cap = lp.len() + 1;
                    self.convert_to_ht(cap);
                    if let Repr::Ht(h) = &mut self.repr {
                        h.insert(m);
                    }
                }
                true
            }
            Repr::Ht(h) => h.insert(m),
        }
    }

    /// Adds a member taken from another set.
    pub fn add_member(&mut self, m: Member<'_>, lim: &Limits) -> bool {
        let mut b = itoa_buf::Buf::new();
        self.add(m.as_bytes(&mut b), lim)
    }

    /// Removes `m`; false if it was not a member. Never converts back.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Int(s) => parse_canonical_i64(m).is_some_and(|x| s.remove(x)),
            Repr::Lp(lp) => match lp.find(m, 1) {
                Some(off) => {
                    lp.remove_at(off);
                    true
                }
                None => false,
            },
            Repr::Ht(h) => h.remove(m),
        }
    }

    fn convert_to_ht(&mut self, cap: usize) {
        if matches!(self.repr, Repr::Ht(_)) {
            return;
        }
        let mut h = HtSet::with_capacity(cap.max(self.len()));
        for m in self.iter() {
            let mut b = itoa_buf::Buf::new();
            h.insert(m.as_bytes(&mut b));
        }
        self.repr = Repr::Ht(Box::new(h));
    }

    fn convert_to_listpack(&mut self) {
        if matches!(self.repr, Repr::Lp(_)) {
            return;
        }
        let mut lp = Listpack::new();
        for m in self.iter() {
            let mut b = itoa_buf::Buf::new();
            lp.push_back(m.as_bytes(&mut b));
        }
        self.repr = Repr::Lp(lp);
    }

    /// Converts to an intset when every member is an integer and there are
    /// few enough of them (what SINTERSTORE does with an all-integer result).
    pub fn maybe_convert_to_intset(&mut self, lim: &Limits) {
        if matches!(self.repr, Repr::Int(_)) || self.len() > lim.intset_max() {
            return;
        }
        let mut s = IntSet::new();
        for m in self.iter() {
            let x = match m {
                Member::Int(x) => x,
                Member::Str(b) => match parse_canonical_i64(b) {
                    Some(x) => x,
                    None => return,
                },
            };
            s.insert(x);
        }
        self.repr = Repr::Int(s);
    }

    /// One uniformly chosen member.
    pub fn random_member(&self, rng: &mut Rng) -> Option<Member<'_>> {
        match &self.repr {
            Repr::Int(s) => s.get(rng.below(s.len())).map(Member::Int),
            Repr::Lp(lp) => lp.get(rng.below(lp.len()) as i64).map(Member::Str),
            Repr::Ht(h) => {
                let i = h.random_slot(rng)?;
                Some(Member::Str(slot_bytes(&h.slots, i)))
            }
        }
    }

    /// `count` members chosen independently (repetitions allowed), for
    /// SRANDMEMBER with a negative count. `f` returns false to stop early.
    pub fn random_members_with_repeats(
        &self,
        count: u64,
        rng: &mut Rng,
        mut f: impl FnMut(Member<'_>) -> bool,
    ) {
        if self.is_empty() {
            return;
        }
        match &self.repr {
            Repr::Lp(lp) => {
                // Index the entries once instead of walking for each pick.
                let entries: Vec<&[u8]> = lp.iter().collect();
                for _ in 0..count {
                    if !f(Member::Str(entries[rng.below(entries.len())])) {
                        return;
                    }
                }
            }
            _ => {
                for _ in 0..count {
                    let Some(m) = self.random_member(rng) else {
                        return;
                    };
                    if !f(m) {
                        return;
                    }
                }
            }
        }
    }

    /// `count` distinct members (`count < len`), for SRANDMEMBER with a
    /// positive count. Listpacks answer in storage order, as in Redis.
    pub fn random_distinct(&self, count: usize, rng: &mut Rng) -> Vec<Member<'_>> {
        let n = self.len();
        let count = count.min(n);
        let in_order = match &self.repr {
            Repr::Lp(_) => true,
            Repr::Int(_) => count * 3 > n,
            Repr::Ht(_) => false,
        };
        if in_order {
            let chosen = select_positions(n, count, rng);
            return self
                .iter()
                .zip(chosen)
                .filter(|(_, c)| *c)
                .map(|(m, _)| m)
                .collect();
        }
        match &self.repr {
            Repr::Int(s) => {
                let mut picked = hashbrown::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let i = rng.below(n);
                    if picked.insert(i) {
                        if let Some(x) = s.get(i) {
                            out.push(Member::Int(x));
                        }
                    }
                }
                out
            }
            Repr::Ht(h) => {
                if count * 3 > n {
                    let mut live = h.live_slots();
                    partial_shuffle(&mut live, count, rng);
                    live.truncate(count);
                    live.into_iter()
                        .map(|i| Member::Str(slot_bytes(&h.slots, i)))
                        .collect()
                } else {
                    let mut picked = hashbrown::HashSet::with_capacity(count);
                    let mut out = Vec::with_capacity(count);
                    while out.len() < count {
                        let Some(i) = h.random_slot(rng) else { break };
                        if picked.insert(i) {
                            out.push(Member::Str(slot_bytes(&h.slots, i)));
                        }
                    }
                    out
                }
            }
            Repr::Lp(_) => Vec::new(),
        }
    }

    /// Removes and returns one random member.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Int(s) => {
                let x = s.get(rng.below(s.len()))?;
                s.remove(x);
                Some(itoa_buf::Buf::new().format(x).to_vec())
            }
            Repr::Lp(lp) => {
                let off = lp.offset_of(rng.below(lp.len()) as i64)?;
                let m = lp.at(off).to_vec();
                lp.remove_at(off);
                Some(m)
            }
            Repr::Ht(h) => {
                let i = h.random_slot(rng)?;
                h.remove_slot(i).map(Vec::from)
            }
        }
    }

    /// Removes and returns `count` random distinct members (`count < len`).
    pub fn pop_many(&mut self, count: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
        let n = self.len();
        let count = count.min(n);
        match &mut self.repr {
            Repr::Int(s) => {
                let chosen = select_positions(n, count, rng);
                let out = (0..n)
                    .filter(|&i| chosen[i])
                    .filter_map(|i| s.get(i))
                    .map(|x| itoa_buf::Buf::new().format(x).to_vec())
                    .collect();
                let keep: Vec<bool> = chosen.iter().map(|c| !c).collect();
                s.retain_positions(&keep);
                out
            }
            Repr::Lp(lp) => {
                let chosen = select_positions(n, count, rng);
                let mut out = Vec::with_capacity(count);
                let mut kept = Listpack::new();
                for (m, c) in lp.iter().zip(&chosen) {
                    if *c {
                        out.push(m.to_vec());
                    } else {
                        kept.push_back(m);
                    }
                }
                *lp = kept;
                out
            }
            Repr::Ht(h) => {
                let remaining = n - count;
                if remaining.saturating_mul(5) > count {
                    let mut out = Vec::with_capacity(count);
                    for _ in 0..count {
                        let Some(i) = h.random_slot(rng) else { break };
                        if let Some(m) = h.remove_slot(i) {
                            out.push(Vec::from(m));
                        }
                    }
                    out
                } else {
                    let mut live = h.live_slots();
                    partial_shuffle(&mut live, count, rng);
                    live.truncate(count);
                    live.into_iter()
                        .filter_map(|i| h.remove_slot(i))
                        .map(Vec::from)
                        .collect()
                }
            }
        }
    }

    /// One SSCAN step over the hash table: members from slot `cursor` on,
    /// at most `count` of them (visiting at most 10 x `count` slots). Small
    /// encodings return everything at once with cursor 0, as Redis does.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(Member<'a>)) -> u64 {
        let Repr::Ht(h) = &self.repr else {
            self.iter().for_each(f);
            return 0;
        };
        let mut i = usize::try_from(cursor).unwrap_or(usize::MAX);
        let mut seen = 0;
        let mut visits = 0;
        let max_visits = count.saturating_mul(10).max(1);
        while i < h.slots.len() && seen < count && visits < max_visits {
            if let Some(m) = &h.slots[i] {
                f(Member::Str(m));
                seen += 1;
            }
            i += 1;
            visits += 1;
        }
        if i >= h.slots.len() {
            0
        } else {
            i as u64
        }
    }
}

/// Moves `k` uniformly chosen elements to the front of `v`.
fn partial_shuffle<T>(v: &mut [T], k: usize, rng: &mut Rng) {
    let n = v.len();
    for i in 0..k.min(n) {
        let j = i + rng.below(n - i);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits::default()
    }

    fn members(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(|m| m.to_vec()).collect()
    }

    #[test]
    fn integers_stay_in_a_sorted_intset_of_growing_width() {
        let mut s = Set::new_intset();
        for x in [5, -3, 100, 7] {
            assert!(s.add(x.to_string().as_bytes(), &lim()));
        }
        assert!(!s.add(b"5", &lim()));
        assert_eq!(s.encoding(), "intset");
        assert!(matches!(&s.repr, Repr::Int(IntSet::W16(_))));
        s.add(b"70000", &lim());
        assert!(matches!(&s.repr, Repr::Int(IntSet::W32(_))));
        s.add(b"-9223372036854775808", &lim());
        assert!(matches!(&s.repr, Repr::Int(IntSet::W64(_))));
        assert_eq!(s.len(), 6);
        let v: Vec<i64> = s
            .iter()
            .map(|m| match m {
                Member::Int(x) => x,
                Member::Str(_) => panic!("intset yields integers"),
            })
            .collect();
        assert_eq!(v, vec![i64::MIN, -3, 5, 7, 100, 70000]);
        assert!(s.contains(b"70000"));
        assert!(!s.contains(b"070000"));
        assert!(s.remove(b"-3"));
        assert!(!s.remove(b"-3"));
        assert!(!s.remove(b"abc"));
    }

    #[test]
    fn a_string_turns_a_small_intset_into_a_listpack_in_order() {
        let mut s = Set::new_intset();
        s.add(b"3", &lim());
        s.add(b"1", &lim());
        s.add(b"abc", &lim());
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(
            members(&s),
            vec![b"1".to_vec(), b"3".to_vec(), b"abc".to_vec()]
        );
    }

    #[test]
    fn thresholds_convert_to_a_hash_table() {
        let l = Limits {
            intset_entries: 2,
            lp_entries: 3,
            lp_value: 5,
        };
        let mut s = Set::new_intset();
        s.add(b"1", &l);
        s.add(b"2", &l);
        assert_eq!(s.encoding(), "intset");
        s.add(b"3", &l);
        assert_eq!(s.encoding(), "hashtable");

        let mut s = Set::new_listpack();
        s.add(b"xxxxx", &l);
        assert_eq!(s.encoding(), "listpack");
        s.add(b"xxxxxx", &l);
        assert_eq!(s.encoding(), "hashtable");

        let mut s = Set::new_intset();
        s.add(b"1", &l);
        s.add(b"abcdef", &l);
        assert_eq!(s.encoding(), "hashtable", "long string skips the listpack");

        let mut s = Set::new_intset();
        s.add(b"1234567", &l);
        s.add(b"x", &l);
        assert_eq!(s.encoding(), "hashtable", "long integers skip the listpack");
    }

    #[test]
    fn hash_table_members_survive_churn_and_keep_their_slots() {
        let mut s = Set::create_for(b"a", 1000, &lim());
        assert_eq!(s.encoding(), "hashtable");
        for i in 0..1000 {
            assert!(s.add(format!("m{i}").as_bytes(), &lim()));
        }
        for i in (0..1000).step_by(2) {
            assert!(s.remove(format!("m{i}").as_bytes()));
        }
        assert_eq!(s.len(), 500);
        if let Repr::Ht(h) = &s.repr {
            assert_eq!(h.member_bytes, h.iter().map(|m| m.len()).sum::<usize>());
        }
        for i in 0..1000 {
            assert_eq!(s.contains(format!("m{i}").as_bytes()), i % 2 == 1);
        }
        // A full scan in small steps sees every member once.
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = s.scan(cursor, 7, |m| seen.push(m.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        seen.sort();
        let mut all = members(&s);
        all.sort();
        assert_eq!(seen, all);
    }

    #[test]
    fn random_picks_and_pops_return_members() {
        let mut rng = Rng::new(42);
        for n in [5usize, 100, 300] {
            for kind in 0..3 {
                let mut s = match kind {
                    0 => Set::new_intset(),
                    1 => Set::new_listpack(),
                    _ => Set::create_for(b"x", 1000, &lim()),
                };
                for i in 0..n {
                    let m = if kind == 0 {
                        i.to_string()
                    } else {
                        format!("e{i}")
                    };
                    s.add(m.as_bytes(), &lim());
                }
                let orig = s.clone();
                for c in [1, n / 3, n / 2, n - 1] {
                    let picked = s.random_distinct(c, &mut rng);
                    let mut set: Vec<Vec<u8>> = picked.iter().map(|m| m.to_vec()).collect();
                    set.sort();
                    set.dedup();
                    assert_eq!(set.len(), c);
                    assert!(set.iter().all(|m| s.contains(m)));
                }
                let popped = s.pop_many(n / 2, &mut rng);
                assert_eq!(popped.len(), n / 2);
                assert_eq!(s.len(), n - n / 2);
                for p in &popped {
                    assert!(orig.contains(p) && !s.contains(p));
                }
                let one = s.pop_random(&mut rng).expect("non-empty");
                assert!(orig.contains(&one) && !s.contains(&one));
                let mut k = 0;
                s.random_members_with_repeats(50, &mut rng, |m| {
                    k += 1;
                    s.contains_member(m)
                });
                assert_eq!(k, 50);
            }
        }
    }

    #[test]
    fn an_all_integer_result_can_become_an_intset() {
        let mut s = Set::new_listpack();
        s.add(b"10", &lim());
        s.add(b"-2", &lim());
        s.maybe_convert_to_intset(&lim());
        assert_eq!(s.encoding(), "intset");
        assert_eq!(members(&s), vec![b"-2".to_vec(), b"10".to_vec()]);
        let mut s = Set::new_listpack();
        s.add(b"10", &lim());
        s.add(b"x", &lim());
        s.maybe_convert_to_intset(&lim());
        assert_eq!(s.encoding(), "listpack");
    }
}
