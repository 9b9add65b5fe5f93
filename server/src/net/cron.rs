//! The periodic tasks run `hz` times a second: the LRU clock, active expiry,
//! idle-client timeouts, output buffer soft limits, and rate sampling.

use std::time::{Duration, Instant};

use crate::client::{Client, ClientKind};
use crate::config::ClientClass;
use crate::server::{unix_ms, Server};

/// Runs one cron tick; returns the slots of clients to close.
pub fn run(srv: &mut Server) -> Vec<usize> {
    srv.cron_loops += 1;
    let now_ms = unix_ms();
    srv.keyspace.lru_clock = ((now_ms / 1000) & 0xFF_FFFF) as u32;

    // Active expiry gets a share of each tick, as Redis's slow cycle:
    // 25% of the tick plus 2% per effort step above 1.
    let hz = srv.config.hz.clamp(1, 500) as u64;
    let effort = srv.config.active_expire_effort;
    let perc = 25 + 2 * (effort.clamp(1, 10) as u64 - 1);
    let budget = Duration::from_micros(1_000_000 * perc / hz / 100);
    srv.keyspace.active_expire_cycle(now_ms, budget, effort);
    crate::pubsub::drain_expired(srv, None);
    // Key index resizes get 1 ms per tick, but not while a snapshot child
    // runs: moving entries then would copy pages the child shares (Redis
    // holds back the same way); inserts and removes still move a few each.
    if srv.config.activerehashing && srv.persist.child.is_none() {
        srv.keyspace.incremental_rehash(Duration::from_millis(1));
    }
    // Reaps a finished snapshot child and starts BGSAVE at `save` points.
    if let Some((purpose, ok)) = crate::persist::cron(srv) {
        use crate::persist::ChildPurpose;
        if matches!(
            purpose,
            ChildPurpose::ReplicationDisk | ChildPurpose::ReplicationSocket
        ) {
            crate::repl::primary::snapshot_child_done(srv, ok);
        }
    }

    // Rates are sampled every 100 ms like Redis's trackInstantaneousMetric.
    if srv.cron_loops.is_multiple_of((hz / 10).max(1)) {
        let (ops, nin, nout) = (
            srv.stats.total_commands_processed,
            srv.stats.net_input_bytes,
            srv.stats.net_output_bytes,
        );
        srv.stats.ops_rate.sample(now_ms, ops);
        srv.stats.net_input_rate.sample(now_ms, nin);
        srv.stats.net_output_rate.sample(now_ms, nout);
        srv.stats.eventloop.sample(now_ms);
    }

    let mut close = Vec::new();
    let now = Instant::now();
    let timeout = srv.config.timeout;
    let demoted = srv.repl.is_replica();
    let moving_ttl = Duration::from_secs(srv.config.maint_moving_ttl);
    for c in srv.clients.iter_mut() {
        if c.close_asap {
            close.push(c.slot);
            continue;
        }
        let idle = now.saturating_duration_since(c.last_interaction);
        // Blocked clients wait on purpose: their own timeout applies instead.
        let waiting = c.blocked.is_some() || c.postponed;
        if demoted && crate::maint::expired_moved(c, moving_ttl, now) {
            close.push(c.slot);
            continue;
        }
        if timeout > 0
            && c.kind == ClientKind::Normal
            && !waiting
            && idle > Duration::from_secs(timeout)
        {
            log::debug!("Closing idle client");
            close.push(c.slot);
            continue;
        }
        // Release a big, now empty, query buffer of an idle client.
        if c.read_buf.is_empty()
            && c.read_buf.capacity() > 32 * 1024
            && idle > Duration::from_secs(2)
        {
            c.read_buf = bytes::BytesMut::new();
        }
    }
    let slots: Vec<usize> = srv
        .clients
        .iter()
        .filter(|c| !c.out.is_empty())
        .map(|c| c.slot)
        .collect();
    for slot in slots {
        if let Some(mut c) = srv.clients.take(slot) {
            check_output_limits(srv, &mut c);
            if c.close_asap {
                close.push(slot);
            }
            srv.clients.put_back(c);
        }
    }
    close
}

fn class_of(c: &Client) -> ClientClass {
    match c.kind {
        ClientKind::Replica => ClientClass::Replica,
        ClientKind::Pubsub => ClientClass::Pubsub,
        _ => ClientClass::Normal,
    }
}

/// Applies `client-output-buffer-limit` for the client's class: over the hard
/// limit, or over the soft limit for longer than its seconds, closes it.
pub fn check_output_limits(srv: &mut Server, c: &mut Client) {
    if c.close_asap || c.kind == ClientKind::PrimaryLink {
        return;
    }
    let limit = srv.config.client_output_buffer_limit[class_of(c) as usize];
    let used = c.out.len() as u64;
    let hard = limit.hard > 0 && used >= limit.hard;
    let mut soft = false;
    if limit.soft > 0 && used >= limit.soft {
        let since = *c.obuf_soft_since.get_or_insert_with(Instant::now);
        soft = since.elapsed() > Duration::from_secs(limit.soft_seconds);
    } else {
        c.obuf_soft_since = None;
    }
    if hard || soft {
        log::warn!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            c.id,
            c.addr
        );
        srv.stats.client_output_buffer_limit_disconnections += 1;
        c.close_asap = true;
        c.out.clear();
    }
}
