//! Stream consumer groups: the group's last delivered ID and read counter,
//! its pending entries list (PEL: ID -> owner, delivery time, delivery
//! count) and its consumers, each with its own PEL of IDs.
//!
//! The read/consume operations here (`read_new`, `read_group`, `claim`,
//! `autoclaim`, `ack`) are plain functions over a [`Stream`] so the blocking
//! XREAD/XREADGROUP can call the same code when data arrives. They never
//! write replies; they return what was served.

use std::collections::{BTreeMap, BTreeSet};

use super::stream::{Entry, EntryRef, Stream, StreamId};

/// A pending entry: who owns it, when it was last delivered, how many times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    pub consumer: Box<[u8]>,
    pub delivery_time: i64,
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Clone, Debug, Default)]
pub struct Consumer {
    /// Last time the consumer attempted an interaction (read, claim...).
    pub seen_time: i64,
    /// Last time the consumer was actually served something (-1: never).
    pub active_time: i64,
    /// The IDs pending for this consumer.
    pub pel: BTreeSet<StreamId>,
}

impl Consumer {
    fn new(now: i64) -> Self {
        Consumer {
            seen_time: now,
            active_time: -1,
            pel: BTreeSet::new(),
        }
    }
}

/// A consumer group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub last_id: StreamId,
    /// The logical read counter (-1 when unknown).
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    pub fn heap_size(&self) -> usize {
        let pel: usize = self
            .pel
            .values()
            .map(|n| 48 + n.consumer.len() + std::mem::size_of::<Nack>())
            .sum();
        let consumers: usize = self
            .consumers
            .iter()
            .map(|(k, c)| k.len() + std::mem::size_of::<Consumer>() + 32 + c.pel.len() * 24)
            .sum();
        pel + consumers
    }

    /// The consumer `name`, created if missing; true in `.1` if created.
    pub fn consumer_or_create(&mut self, name: &[u8], now: i64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let c = self
            .consumers
            .entry(name.into())
            .or_insert_with(|| Consumer::new(now));
        (c, created)
    }

    /// Removes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Acknowledges IDs; returns how many were pending.
    pub fn ack(&mut self, ids: &[StreamId]) -> u64 {
        let mut n = 0;
        for id in ids {
            if let Some(nack) = self.pel.remove(id) {
                if let Some(c) = self.consumers.get_mut(&nack.consumer) {
                    c.pel.remove(id);
                }
                n += 1;
            }
        }
        n
    }

    /// Makes `consumer` the owner of the pending entry `id` (creating it).
    fn assign(&mut self, id: StreamId, consumer: &[u8], time: i64, count: Option<u64>) {
        let prev = self.pel.get(&id).map(|n| n.consumer.clone());
        if let Some(old) = prev.as_deref() {
            if old != consumer {
                if let Some(c) = self.consumers.get_mut(old) {
                    c.pel.remove(&id);
                }
            }
        }
        let nack = self.pel.entry(id).or_insert_with(|| Nack {
            consumer: consumer.into(),
            delivery_time: time,
            delivery_count: 0,
        });
        nack.consumer = consumer.into();
        nack.delivery_time = time;
        if let Some(c) = count {
            nack.delivery_count = c;
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// Where XREADGROUP reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom {
    /// `>`: entries never delivered to the group.
    New,
    /// An explicit ID: the consumer's own pending entries after it.
    History(StreamId),
}

/// One element of an XREADGROUP reply: an entry, or the ID of a pending
/// entry that was deleted from the stream meanwhile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Served {
    Entry(Entry),
    Deleted(StreamId),
}

/// XCLAIM options.
#[derive(Clone, Debug, Default)]
pub struct ClaimOpts {
    pub min_idle: i64,
    /// Delivery time to set (already resolved from IDLE/TIME; now if absent).
    pub delivery_time: i64,
    pub retry_count: Option<u64>,
    pub force: bool,
    pub justid: bool,
    pub last_id: StreamId,
}

/// The result of XAUTOCLAIM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoClaimed {
    pub next: StreamId,
    pub claimed: Vec<StreamId>,
    pub deleted: Vec<StreamId>,
}

impl Stream {
    /// Creates a group; false if it exists.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups.insert(
            name.into(),
            Group {
                last_id,
                entries_read,
                ..Group::default()
            },
        );
        true
    }

    /// XREAD for one stream: entries with ID > `after` (at most `count`, 0 =
    /// all), or None when there is nothing to serve (the caller would block).
    pub fn read_new(&self, after: StreamId, count: usize) -> Option<Vec<EntryRef<'_>>> {
        if self.length == 0 || self.last_valid_id() <= after {
            return None;
        }
        let start = after.incr()?;
        Some(self.range(start, StreamId::MAX, false, count))
    }

    /// XREADGROUP for one stream. The consumer is created if needed and its
    /// seen time updated. Returns None when there is nothing to serve now
    /// (only possible for [`ReadFrom::New`]); `Some(served)` otherwise, with
    /// the group's last ID, read counter and PELs updated as Redis does.
    /// Errors (Err(())) only when the group does not exist.
    #[allow(clippy::result_unit_err)]
    pub fn read_group(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        from: ReadFrom,
        count: usize,
        noack: bool,
        now: i64,
    ) -> Result<Option<Vec<Served>>, ()> {
        let last_valid = self.last_valid_id();
        let length = self.length;
        let g = self.groups.get_mut(group).ok_or(())?;
        let group_last = g.last_id;
        g.consumer_or_create(consumer, now).0.seen_time = now;
        match from {
            ReadFrom::History(after) => {
                let Some(start) = after.incr() else {
                    return Ok(Some(Vec::new()));
                };
                let ids: Vec<StreamId> = g
                    .consumers
                    .get(consumer)
                    .map(|c| {
                        c.pel
                            .range(start..)
                            .take(if count == 0 { usize::MAX } else { count })
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default();
                let mut out = Vec::with_capacity(ids.len());
                let mut found = Vec::with_capacity(ids.len());
                for id in ids {
                    match self.get(id) {
                        Some(e) => {
                            out.push(Served::Entry(e.to_owned()));
                            found.push(id);
                        }
                        None => out.push(Served::Deleted(id)),
                    }
                }
                if let Some(g) = self.groups.get_mut(group) {
                    for id in found {
                        if let Some(n) = g.pel.get_mut(&id) {
                            n.delivery_time = now;
                            n.delivery_count += 1;
                        }
                    }
                }
                Ok(Some(out))
            }
            ReadFrom::New => {
                if length == 0 || last_valid <= group_last {
                    return Ok(None);
                }
                let Some(start) = group_last.incr() else {
                    return Ok(None);
                };
                let entries: Vec<(Entry, bool, Option<u64>)> = self
                    .range(start, StreamId::MAX, false, count)
                    .iter()
                    .map(|e| {
                        (
                            e.to_owned(),
                            self.range_has_tombstones(Some(e.id), None),
                            self.estimate_distance(e.id),
                        )
                    })
                    .collect();
                let entries_added = self.entries_added;
                let Some(g) = self.groups.get_mut(group) else {
                    return Err(());
                };
                let mut out = Vec::with_capacity(entries.len());
                for (e, tombstones, estimate) in entries {
                    if e.id > g.last_id {
                        if g.entries_read >= 0 && !tombstones {
                            g.entries_read += 1;
                        } else if entries_added > 0 {
                            g.entries_read = estimate.map_or(-1, |v| v as i64);
                        }
                        g.last_id = e.id;
                    }
                    if !noack {
                        g.assign(e.id, consumer, now, Some(1));
                        if let Some(c) = g.consumers.get_mut(consumer) {
                            c.active_time = now;
                        }
                    }
                    out.push(Served::Entry(e));
                }
                Ok(Some(out))
            }
        }
    }

    /// XCLAIM: transfers the given pending IDs to `consumer`; returns the
    /// IDs claimed (in argument order). Pending IDs whose entries no longer
    /// exist are dropped from the PEL. Returns None if the group is missing.
    pub fn claim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        ids: &[StreamId],
        opts: &ClaimOpts,
        now: i64,
    ) -> Option<Vec<StreamId>> {
        let exists: Vec<bool> = ids.iter().map(|&id| self.contains(id)).collect();
        let g = self.groups.get_mut(group)?;
        if opts.last_id > g.last_id {
            g.last_id = opts.last_id;
        }
        let mut claimed = Vec::new();
        for (&id, exists) in ids.iter().zip(exists) {
            if !exists {
                if g.pel.contains_key(&id) {
                    g.ack(&[id]);
                }
                continue;
            }
            let forced = if !g.pel.contains_key(&id) {
                if !opts.force {
                    continue;
                }
                true
            } else {
                false
            };
            if !forced && opts.min_idle > 0 {
                if let Some(n) = g.pel.get(&id) {
                    if now.saturating_sub(n.delivery_time) < opts.min_idle {
                        continue;
                    }
                }
            }
            g.consumer_or_create(consumer, now);
            let old = g.pel.get(&id).map(|n| n.delivery_count).unwrap_or(1);
            let count = match opts.retry_count {
                Some(c) => c,
                None if !opts.justid => old.saturating_add(1),
                None => old,
            };
            g.assign(id, consumer, opts.delivery_time, Some(count));
            if let Some(c) = g.consumers.get_mut(consumer) {
                c.active_time = now;
            }
            claimed.push(id);
        }
        Some(claimed)
    }

    /// XAUTOCLAIM: scans the group PEL from `start`, claiming entries idle
    /// for at least `min_idle` (up to `count`, looking at most `count * 10`
    /// entries). Returns None if the group is missing.
    #[allow(clippy::too_many_arguments)]
    pub fn autoclaim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        min_idle: i64,
        start: StreamId,
        count: u64,
        justid: bool,
        now: i64,
    ) -> Option<AutoClaimed> {
        let mut attempts = count.saturating_mul(10);
        let mut count = count;
        let mut out = AutoClaimed::default();
        let mut cursor = Some(start);
        loop {
            if attempts == 0 || count == 0 {
                break;
            }
            attempts -= 1;
            let g = self.groups.get(group)?;
            let Some(from) = cursor else { break };
            let Some((&id, nack)) = g.pel.range(from..).next() else {
                cursor = None;
                break;
            };
            let idle = now.saturating_sub(nack.delivery_time);
            cursor = id.incr();
            if !self.contains(id) {
                if let Some(g) = self.groups.get_mut(group) {
                    g.ack(&[id]);
                }
                out.deleted.push(id);
                count -= 1;
                continue;
            }
            if min_idle > 0 && idle < min_idle {
                continue;
            }
            let g = self.groups.get_mut(group)?;
            g.consumer_or_create(consumer, now);
            let old = g.pel.get(&id).map(|n| n.delivery_count).unwrap_or(0);
            let c = if justid { old } else { old.saturating_add(1) };
            g.assign(id, consumer, now, Some(c));
            if let Some(c) = g.consumers.get_mut(consumer) {
                c.active_time = now;
            }
            out.claimed.push(id);
            count -= 1;
        }
        let g = self.groups.get(group)?;
        out.next = cursor
            .and_then(|c| g.pel.range(c..).next().map(|(id, _)| *id))
            .unwrap_or(StreamId::ZERO);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::stream::NodeLimits;
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    fn stream_with(n: u64) -> Stream {
        let mut s = Stream::new();
        for i in 1..=n {
            s.append(id(i), &[(b"f", b"v")], NodeLimits::default());
        }
        s
    }

    #[test]
    fn reading_new_entries_moves_the_group_and_fills_the_pels() {
        let mut s = stream_with(5);
        assert!(s.create_group(b"g", StreamId::ZERO, -1));
        let got = s
            .read_group(b"g", b"c1", ReadFrom::New, 2, false, 100)
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), 2);
        let g = &s.groups[&b"g"[..]];
        assert_eq!(g.last_id, id(2));
        assert_eq!(g.entries_read, 2);
        assert_eq!(g.pel.len(), 2);
        assert_eq!(s.group_lag(g), Some(3));
        let hist = s
            .read_group(
                b"g",
                b"c1",
                ReadFrom::History(StreamId::ZERO),
                0,
                false,
                200,
            )
            .unwrap()
            .unwrap();
        assert_eq!(hist.len(), 2);
        assert_eq!(s.groups[&b"g"[..]].pel[&id(1)].delivery_count, 2);
        s.delete_ids(&[id(1)]);
        let hist = s
            .read_group(
                b"g",
                b"c1",
                ReadFrom::History(StreamId::ZERO),
                0,
                false,
                200,
            )
            .unwrap()
            .unwrap();
        assert_eq!(hist[0], Served::Deleted(id(1)));
        assert_eq!(
            s.groups
                .get_mut(&b"g"[..])
                .unwrap()
                .ack(&[id(1), id(2), id(9)]),
            2
        );
    }

    #[test]
    fn autoclaim_takes_idle_entries_and_reports_deleted_ones() {
        let mut s = stream_with(4);
        s.create_group(b"g", StreamId::ZERO, -1);
        s.read_group(b"g", b"dead", ReadFrom::New, 0, false, 0)
            .unwrap();
        s.delete_ids(&[id(2)]);
        let r = s
            .autoclaim(b"g", b"alive", 1000, StreamId::ZERO, 2, false, 5000)
            .unwrap();
        assert_eq!(r.claimed, vec![id(1)]);
        assert_eq!(r.deleted, vec![id(2)]);
        assert_eq!(r.next, id(3));
        let g = &s.groups[&b"g"[..]];
        assert_eq!(g.pel[&id(1)].consumer.as_ref(), b"alive");
        assert_eq!(g.pel[&id(1)].delivery_count, 2);
        assert_eq!(g.consumers[&b"dead"[..]].pel.len(), 2);
    }
}
