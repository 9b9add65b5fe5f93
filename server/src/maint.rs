//! Maintenance notifications (Redis "smart client handoffs"): the RESP3
//! push messages node-redis, redis-py, go-redis and Jedis already follow,
//! sent around a FAILOVER so those clients move to the new primary before
//! the old one stops taking writes (maint-notifications-spec.md §4).
//!
//! This module owns the per-connection setting, the wire layouts, the
//! sequence ids and the decisions of each step: who is sent `MOVING`, when
//! the moved connections have drained, which commands of a moved connection
//! are refused by closing it. `repl::failover` drives the steps; dispatch
//! asks [`closes_moved`]; the cron asks [`expired_moved`].

use std::time::{Duration, Instant};

use bytes::BytesMut;
use handoff_protocol::encode;

use crate::client::{Client, ClientKind};
use crate::commands::spec::flag;
use crate::server::Server;

/// The kind of address a client asked to be sent (`moving-endpoint-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointType {
    InternalIp,
    InternalFqdn,
    ExternalIp,
    ExternalFqdn,
    /// A null endpoint: the client reconnects to its own address.
    None,
}

impl EndpointType {
    pub fn parse(word: &[u8]) -> Option<Self> {
        let w = std::str::from_utf8(word).ok()?.to_ascii_lowercase();
        Some(match w.as_str() {
            "internal-ip" => EndpointType::InternalIp,
            "internal-fqdn" => EndpointType::InternalFqdn,
            "external-ip" => EndpointType::ExternalIp,
            "external-fqdn" => EndpointType::ExternalFqdn,
            "none" => EndpointType::None,
            _ => return None,
        })
    }

    /// The name CLIENT LIST shows (`maint=`).
    pub fn name(self) -> &'static str {
        match self {
            EndpointType::InternalIp => "internal-ip",
            EndpointType::InternalFqdn => "internal-fqdn",
            EndpointType::ExternalIp => "external-ip",
            EndpointType::ExternalFqdn => "external-fqdn",
            EndpointType::None => "none",
        }
    }
}

/// A connection that turned maintenance notifications on.
#[derive(Clone, Debug)]
pub struct MaintClient {
    pub endpoint: EndpointType,
    /// When it was sent MOVING (it is then a "moved" connection).
    pub moved_at: Option<Instant>,
    /// Sent FAILING_OVER and owed the matching FAILED_OVER.
    pub failing_over: bool,
}

/// Server-wide notification state and counters.
#[derive(Default)]
pub struct Maint {
    /// Last sequence id used; one counter for every kind of push.
    pub seq: i64,
    /// This node was demoted by FAILOVER and has not changed role since:
    /// late maint connections are sent MOVING to the primary.
    pub demoted_by_failover: bool,
    /// Moved connections are draining since then (before the write pause).
    pub drain_since: Option<Instant>,
    pub moving_sent: u64,
    pub moved_closed: u64,
    pub incoming_held: u64,
}

impl Maint {
    pub fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }
}

/// `>4 MOVING seq ttl endpoint|_` (exactly four elements, integers, RESP3 null).
pub fn encode_moving(out: &mut BytesMut, seq: i64, ttl: i64, endpoint: Option<&str>) {
    encode::push_header(out, 4);
    encode::bulk(out, b"MOVING");
    encode::integer(out, seq);
    encode::integer(out, ttl);
    match endpoint {
        Some(e) => encode::bulk(out, e.as_bytes()),
        None => encode::null_resp3(out),
    }
}

/// `>4 FAILING_OVER seq time shard`.
pub fn encode_failing_over(out: &mut BytesMut, seq: i64, secs: i64) {
    encode::push_header(out, 4);
    encode::bulk(out, b"FAILING_OVER");
    encode::integer(out, seq);
    encode::integer(out, secs.max(1));
    encode::bulk(out, b"1");
}

/// `>3 FAILED_OVER seq shard`.
pub fn encode_failed_over(out: &mut BytesMut, seq: i64) {
    encode::push_header(out, 3);
    encode::bulk(out, b"FAILED_OVER");
    encode::integer(out, seq);
    encode::bulk(out, b"1");
}

/// What a MOVING tells a connection: the address for its endpoint type, or
/// None when it asked for `none` (reconnect to its own address).
fn endpoint_for(m: &MaintClient, addr: &str) -> Option<String> {
    (m.endpoint != EndpointType::None).then(|| addr.to_string())
}

/// Connections that should move with the primary: maint on, asked for an
/// address (or `none` floats), not subscribed or monitoring, not a reader of
/// replicas (READONLY), not waiting in a blocking command.
fn should_move(c: &Client, floats: bool) -> bool {
    let Some(m) = &c.maint else {
        return false;
    };
    m.moved_at.is_none()
        && (m.endpoint != EndpointType::None || floats)
        && matches!(c.kind, ClientKind::Normal)
        && !c.in_pubsub()
        && !c.readonly_mode
        && c.blocked.is_none()
}

/// Any connection would be moved now.
pub fn has_movable(srv: &Server) -> bool {
    srv.config.maint_notifications
        && srv
            .clients
            .iter()
            .any(|c| should_move(c, srv.config.maint_none_endpoint_floats))
}

/// Step 3: MOVING (one seq) to every connection that should move to
/// `target` (`host:port`); the node keeps serving them normally.
pub fn send_moving(srv: &mut Server, target: &str) -> usize {
    move_connections(srv, target, |_| true)
}

/// Sends MOVING to `target` (one seq) to the connections that should move
/// and pass `pick`, marks them moved, and counts them.
fn move_connections(srv: &mut Server, target: &str, pick: impl Fn(&Client) -> bool) -> usize {
    let ttl = srv.config.maint_moving_ttl as i64;
    let floats = srv.config.maint_none_endpoint_floats;
    let now = Instant::now();
    let moved = notify(srv, |c, seq| {
        let yes = should_move(c, floats) && pick(c);
        if yes {
            tell_to_move(c, seq, ttl, target, now);
        }
        yes
    });
    srv.maint.moving_sent += moved as u64;
    moved
}

/// One notification event: a fresh seq, offered to every connection;
/// `write` pushes it to those it concerns (true). Returns how many.
fn notify(srv: &mut Server, mut write: impl FnMut(&mut Client, i64) -> bool) -> usize {
    let seq = srv.maint.next_seq();
    let mut told = Vec::new();
    for c in srv.clients.iter_mut() {
        if write(c, seq) {
            told.push(c.slot);
        }
    }
    for &slot in &told {
        srv.schedule_write(slot);
    }
    told.len()
}

/// Writes one MOVING to `c` (a maint connection) and marks it moved.
fn tell_to_move(c: &mut Client, seq: i64, ttl: i64, target: &str, now: Instant) {
    let Some(m) = c.maint.as_mut() else { return };
    encode_moving(&mut c.out, seq, ttl, endpoint_for(m, target).as_deref());
    m.moved_at = Some(now);
}

/// Step 4: every moved connection is gone or quiet (nothing pending and
/// nothing received for `maint-drain-quiet` ms).
pub fn drained(srv: &Server, now: Instant) -> bool {
    let quiet = Duration::from_millis(srv.config.maint_drain_quiet);
    srv.clients.iter().all(|c| {
        let moved = c.maint.as_ref().is_some_and(|m| m.moved_at.is_some());
        !moved
            || (c.read_buf.is_empty()
                && c.out.is_empty()
                && !c.postponed
                && c.blocked.is_none()
                && now.saturating_duration_since(c.last_interaction) >= quiet)
    })
}

/// FAILING_OVER to the maint connections that stay (not moved), when the
/// write pause starts; each is owed a FAILED_OVER.
pub fn send_failing_over(srv: &mut Server, secs: i64) {
    notify(srv, |c, seq| {
        let stays = c.resp >= 3;
        match c.maint.as_mut() {
            Some(m) if stays && m.moved_at.is_none() && !m.failing_over => {
                m.failing_over = true;
                encode_failing_over(&mut c.out, seq, secs);
                true
            }
            _ => false,
        }
    });
}

/// FAILED_OVER to every connection owed one.
pub fn send_failed_over(srv: &mut Server) {
    notify(srv, |c, seq| {
        let owed = c
            .maint
            .as_mut()
            .is_some_and(|m| std::mem::take(&mut m.failing_over));
        if owed {
            encode_failed_over(&mut c.out, seq);
        }
        owed
    });
}

/// Step 7: on a node that is now a replica, a moved connection's keyspace
/// command is read but not run, and the connection is closed: the client
/// already has MOVING and retries on the new primary (redis-py does).
pub fn closes_moved(srv: &Server, client: &Client, flags: u32) -> bool {
    srv.repl.is_replica()
        && !client.capa_redirect
        && client.maint.as_ref().is_some_and(|m| m.moved_at.is_some())
        && flags & (flag::READONLY | flag::WRITE) != 0
}

/// Step 8: a moved connection still idle when its MOVING window (`ttl`)
/// ends; the cron closes it on a demoted node.
pub fn expired_moved(c: &Client, ttl: Duration, now: Instant) -> bool {
    c.maint
        .as_ref()
        .and_then(|m| m.moved_at)
        .is_some_and(|at| now.saturating_duration_since(at) >= ttl)
        && c.read_buf.is_empty()
        && c.out.is_empty()
        && !c.postponed
}

/// The failover that sent clients here did not come (4.9 of the spec): the
/// maint connections that arrived since `since` are sent MOVING back to
/// the primary, so their held commands close them and they return there.
pub fn send_back(srv: &mut Server, since: Instant) {
    let Some(link) = &srv.repl.link else { return };
    let target = format!("{}:{}", link.host, link.port);
    let n = move_connections(srv, &target, |c| c.created >= since);
    log::warn!("failover: promotion did not come; {n} moved connections sent back to {target}");
}

/// Step 9: a maint connection opened on a node FAILOVER demoted is sent
/// MOVING to the primary at once, with a fresh seq (redis-py drops a
/// repeated one).
pub fn moving_on_handshake(srv: &mut Server, c: &mut Client) {
    // Not while clients are arriving for this replica's promotion.
    if !(srv.maint.demoted_by_failover
        && srv.config.maint_moving_after_demotion
        && srv.repl.is_replica()
        && srv.pause.incoming_until.is_none())
    {
        return;
    }
    let Some(link) = &srv.repl.link else { return };
    let target = format!("{}:{}", link.host, link.port);
    if !should_move(c, srv.config.maint_none_endpoint_floats) {
        return;
    }
    let seq = srv.maint.next_seq();
    let ttl = srv.config.maint_moving_ttl as i64;
    tell_to_move(c, seq, ttl, &target, Instant::now());
    srv.maint.moving_sent += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_have_the_layouts_every_client_parses() {
        let mut b = BytesMut::new();
        encode_moving(&mut b, 17, 15, Some("127.0.0.2:6390"));
        assert_eq!(
            &b[..],
            b">4\r\n$6\r\nMOVING\r\n:17\r\n:15\r\n$14\r\n127.0.0.2:6390\r\n"
        );
        b.clear();
        encode_moving(&mut b, 18, 15, None);
        assert_eq!(&b[..], b">4\r\n$6\r\nMOVING\r\n:18\r\n:15\r\n_\r\n");
        b.clear();
        encode_failing_over(&mut b, 19, 5);
        assert_eq!(
            &b[..],
            b">4\r\n$12\r\nFAILING_OVER\r\n:19\r\n:5\r\n$1\r\n1\r\n"
        );
        b.clear();
        encode_failed_over(&mut b, 20);
        assert_eq!(&b[..], b">3\r\n$11\r\nFAILED_OVER\r\n:20\r\n$1\r\n1\r\n");
    }

    #[test]
    fn endpoint_types_parse_case_insensitively() {
        assert_eq!(
            EndpointType::parse(b"External-IP"),
            Some(EndpointType::ExternalIp)
        );
        assert_eq!(EndpointType::parse(b"none"), Some(EndpointType::None));
        assert_eq!(EndpointType::parse(b"bogus"), None);
    }
}
