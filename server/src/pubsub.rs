//! Pub/sub: who is subscribed to which channel, pattern or shard channel, the
//! delivery of messages (RESP2 arrays or RESP3 pushes, per receiver), and
//! keyspace notifications (`notify-keyspace-events`).
//!
//! Delivery appends to receivers' output buffers and schedules their write;
//! the client that is running a command is passed separately because it is
//! out of the client slab while it runs.

use ahash::AHashMap;
use bytes::{Bytes, BytesMut};
use handoff_protocol::encode;

use crate::client::Client;
use crate::config::glob::glob_match;
use crate::server::Server;

/// Subscription registry: name -> subscriber slots, in subscription order.
#[derive(Default)]
pub struct PubSub {
    pub channels: AHashMap<Bytes, Vec<usize>>,
    pub patterns: AHashMap<Bytes, Vec<usize>>,
    pub shard_channels: AHashMap<Bytes, Vec<usize>>,
}

/// The three kinds of subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    fn map(&mut self, kind: Kind) -> &mut AHashMap<Bytes, Vec<usize>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    pub fn add(&mut self, kind: Kind, name: &Bytes, slot: usize) {
        let v = self.map(kind).entry(name.clone()).or_default();
        if !v.contains(&slot) {
            v.push(slot);
        }
    }

    pub fn remove(&mut self, kind: Kind, name: &[u8], slot: usize) {
        let m = self.map(kind);
        if let Some(v) = m.get_mut(name) {
            v.retain(|&s| s != slot);
            if v.is_empty() {
                m.remove(name);
            }
        }
    }
}

/// Writes a pub/sub message frame (`message`, `pmessage`, `subscribe`...) in
/// the receiver's protocol: a push in RESP3, an array in RESP2.
pub fn write_frame(out: &mut BytesMut, resp3: bool, parts: &[Part]) {
    if resp3 {
        encode::push_header(out, parts.len());
    } else {
        encode::array_header(out, parts.len());
    }
    for p in parts {
        match p {
            Part::Bulk(b) => encode::bulk(out, b),
            Part::Int(n) => encode::integer(out, *n),
            Part::Null => encode::null_bulk(out, resp3),
        }
    }
}

/// One element of a pub/sub frame.
pub enum Part<'a> {
    Bulk(&'a [u8]),
    Int(i64),
    Null,
}

fn deliver(srv: &mut Server, current: &mut Option<&mut Client>, slot: usize, parts: &[Part]) {
    if let Some(cur) = current.as_deref_mut().filter(|c| c.slot == slot) {
        write_frame(&mut cur.out, cur.resp >= 3, parts);
    } else if let Some(c) = srv.clients.get_mut(slot) {
        write_frame(&mut c.out, c.resp >= 3, parts);
        srv.schedule_write(slot);
    }
}

/// Publishes `msg` on `channel` to channel and pattern subscribers; returns
/// the number of receivers.
/// `current` is the client running the command, if any (it is out of the slab).
pub fn publish(
    srv: &mut Server,
    mut current: Option<&mut Client>,
    channel: &[u8],
    msg: &[u8],
) -> i64 {
    let mut n = 0;
    if let Some(slots) = srv.pubsub.channels.get(channel).cloned() {
        for slot in slots {
            deliver(
                srv,
                &mut current,
                slot,
                &[Part::Bulk(b"message"), Part::Bulk(channel), Part::Bulk(msg)],
            );
            n += 1;
        }
    }
    if !srv.pubsub.patterns.is_empty() {
        let matching: Vec<(Bytes, Vec<usize>)> = srv
            .pubsub
            .patterns
            .iter()
            .filter(|(p, _)| glob_match(p, channel, false))
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect();
        for (pattern, slots) in matching {
            for slot in slots {
                let parts = [
                    Part::Bulk(b"pmessage"),
                    Part::Bulk(&pattern),
                    Part::Bulk(channel),
                    Part::Bulk(msg),
                ];
                deliver(srv, &mut current, slot, &parts);
                n += 1;
            }
        }
    }
    n
}

/// Publishes `msg` on shard channel `channel`; returns the number of receivers.
pub fn spublish(
    srv: &mut Server,
    mut current: Option<&mut Client>,
    channel: &[u8],
    msg: &[u8],
) -> i64 {
    let Some(slots) = srv.pubsub.shard_channels.get(channel).cloned() else {
        return 0;
    };
    for &slot in &slots {
        deliver(
            srv,
            &mut current,
            slot,
            &[
                Part::Bulk(b"smessage"),
                Part::Bulk(channel),
                Part::Bulk(msg),
            ],
        );
    }
    slots.len() as i64
}

/// Drops every subscription of a disconnecting client.
pub fn forget_client(srv: &mut Server, c: &mut Client) {
    for ch in c.subs.drain() {
        srv.pubsub.remove(Kind::Channel, &ch, c.slot);
    }
    for p in c.psubs.drain() {
        srv.pubsub.remove(Kind::Pattern, &p, c.slot);
    }
    for s in c.ssubs.drain() {
        srv.pubsub.remove(Kind::Shard, &s, c.slot);
    }
}

/// Keyspace notification classes (`notify-keyspace-events` letters).
pub mod class {
    pub const GENERIC: u32 = 1 << 0; // g
    pub const STRING: u32 = 1 << 1; // $
    pub const LIST: u32 = 1 << 2; // l
    pub const SET: u32 = 1 << 3; // s
    pub const HASH: u32 = 1 << 4; // h
    pub const ZSET: u32 = 1 << 5; // z
    pub const EXPIRED: u32 = 1 << 6; // x
    pub const EVICTED: u32 = 1 << 7; // e
    pub const STREAM: u32 = 1 << 8; // t
    pub const NEW: u32 = 1 << 9; // n
    pub const KEY_MISS: u32 = 1 << 10; // m
    pub const MODULE: u32 = 1 << 11; // d
    pub const KEYSPACE: u32 = 1 << 12; // K
    pub const KEYEVENT: u32 = 1 << 13; // E
    /// `A`: every class but new-key and key-miss.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Parses `notify-keyspace-events` into class bits.
pub fn parse_classes(flags: &str) -> u32 {
    flags.chars().fold(0, |acc, ch| {
        acc | match ch {
            'A' => class::ALL,
            'g' => class::GENERIC,
            '$' => class::STRING,
            'l' => class::LIST,
            's' => class::SET,
            'h' => class::HASH,
            'z' => class::ZSET,
            'x' => class::EXPIRED,
            'e' => class::EVICTED,
            't' => class::STREAM,
            'n' => class::NEW,
            'm' => class::KEY_MISS,
            'd' => class::MODULE,
            'K' => class::KEYSPACE,
            'E' => class::KEYEVENT,
            _ => 0,
        }
    })
}

/// Raises a keyspace notification for `event` on `key` in `db`, when the
/// configured classes include `class`.
pub fn notify(
    srv: &mut Server,
    mut current: Option<&mut Client>,
    class: u32,
    event: &str,
    key: &[u8],
    db: usize,
) {
    if srv.config.notify_keyspace_events.is_empty() {
        return;
    }
    if !srv.keyspace.expired.is_empty() || !srv.keyspace.misses.is_empty() {
        // Lookups that ran before this event raised theirs first.
        settle_lookups(srv, current.as_deref_mut());
    }
    let flags = parse_classes(&srv.config.notify_keyspace_events);
    if flags & class == 0 {
        return;
    }
    if flags & class::KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        publish(srv, current.as_deref_mut(), &ch, event.as_bytes());
    }
    if flags & class::KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}");
        publish(srv, current, ch.as_bytes(), key);
    }
}

/// Raises `new` for keys created since the last call. Called before a
/// command's own event so that, as in Redis, `new` comes first.
pub fn drain_new(srv: &mut Server, mut current: Option<&mut Client>) {
    for (db, key) in srv.keyspace.take_new_keys() {
        notify(srv, current.as_deref_mut(), class::NEW, "new", &key, db);
    }
}

/// Raises what lookups queued since the last call as if at the moment they
/// ran, which is where Redis raises it (from inside the lookup, before the
/// command does anything with the key): for each key that expired, its
/// `expired` event and its `DEL` for the replicas (joining the running
/// command's effects, see [`crate::repl::propagate_expired`]), and read
/// misses (`keymiss`) in their place among them. Callers raise it before
/// any later event or effect: [`notify`], [`crate::commands::ctx::Ctx::also_propagate`],
/// the end of each command (`drain_expired`).
pub fn settle_lookups(srv: &mut Server, mut current: Option<&mut Client>) {
    let expired = std::mem::take(&mut srv.keyspace.expired);
    let misses = std::mem::take(&mut srv.keyspace.misses);
    let mut misses = misses.into_iter().peekable();
    for (i, (db, key)) in expired.into_iter().enumerate() {
        while let Some((_, (mdb, mkey))) = misses.next_if(|(mark, _)| *mark <= i) {
            notify(
                srv,
                current.as_deref_mut(),
                class::KEY_MISS,
                "keymiss",
                &mkey,
                mdb,
            );
        }
        notify(
            srv,
            current.as_deref_mut(),
            class::EXPIRED,
            "expired",
            &key,
            db,
        );
        // Replicas never expire keys themselves: they wait for this DEL.
        crate::repl::propagate_expired(srv, db, key);
    }
    for (_, (db, key)) in misses {
        notify(
            srv,
            current.as_deref_mut(),
            class::KEY_MISS,
            "keymiss",
            &key,
            db,
        );
    }
}

/// After a command (or an active expiry cycle): raises what the keyspace
/// recorded and no event raised yet (expired keys, read misses, created
/// keys).
pub fn drain_expired(srv: &mut Server, mut current: Option<&mut Client>) {
    if !srv.keyspace.expired.is_empty() || !srv.keyspace.misses.is_empty() {
        settle_lookups(srv, current.as_deref_mut());
    }
    if srv.notify_classes() & class::NEW == 0 {
        return;
    }
    drain_new(srv, current);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_flags_parse_like_redis() {
        assert_eq!(parse_classes("KEA") & class::ALL, class::ALL);
        assert_eq!(parse_classes("KEA") & class::NEW, 0);
        assert_eq!(parse_classes("Ex"), class::KEYEVENT | class::EXPIRED);
        assert_eq!(parse_classes(""), 0);
    }

    #[test]
    fn frames_are_pushes_in_resp3_and_arrays_in_resp2() {
        let mut out = BytesMut::new();
        write_frame(
            &mut out,
            true,
            &[Part::Bulk(b"message"), Part::Bulk(b"c"), Part::Bulk(b"m")],
        );
        assert_eq!(&out[..], b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n");
        out.clear();
        write_frame(
            &mut out,
            false,
            &[Part::Bulk(b"unsubscribe"), Part::Null, Part::Int(0)],
        );
        assert_eq!(&out[..], b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    }
}
