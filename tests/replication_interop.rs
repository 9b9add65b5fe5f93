//! Replication with real peers no one here wrote, both directions: a real
//! redis-server 7.0 replicates from handoff and a real valkey-server from
//! that redis (a chain through three implementations); handoff replicates
//! from a real redis-server and from a real valkey-server. After a mixed
//! write load of every type with TTLs, every key, value, type and expiry
//! time is equal on all nodes, and the offsets agree.

mod common;

use common::dataset::{assert_same, snapshot};
use common::workload::{info_field, must, wait_link_up, wait_offsets, write_mixed};
use common::{ExternalServer, TestServer};

#[test]
fn redis_replicates_from_handoff_and_valkey_from_that_redis() {
    let h = TestServer::with(|c| c.repl_diskless_sync_delay = 0);
    let Some(redis) = ExternalServer::start("redis-server", &["--repl-diskless-sync-delay", "0"])
    else {
        return;
    };
    let Some(valkey) = ExternalServer::start("valkey-server", &[]) else {
        return;
    };
    let mut hc = h.connect();
    let mut rc = redis.connect();
    let mut vc = valkey.connect();
    write_mixed(&mut hc, "before", 8);
    let hport = h.addr().port().to_string();
    must(&mut rc, &["REPLICAOF", "127.0.0.1", &hport]);
    wait_link_up(&mut rc, "redis");
    must(
        &mut vc,
        &["REPLICAOF", "127.0.0.1", &redis.port.to_string()],
    );
    wait_link_up(&mut vc, "valkey");
    write_mixed(&mut hc, "after", 8);
    must(&mut hc, &["FLUSHDB"]); // db 0 only: db 3 keeps its keys
    write_mixed(&mut hc, "again", 3);
    wait_offsets(&mut hc, &mut rc, "redis");
    wait_offsets(&mut hc, &mut vc, "valkey");
    let expected = snapshot(&mut hc);
    assert!(expected.len() > 100);
    assert_same(&expected, &snapshot(&mut rc), "handoff vs redis");
    assert_same(&expected, &snapshot(&mut vc), "handoff vs valkey");
}

/// handoff replicates from a real `binary` primary beside a replica of the
/// same kind: both must end with the same data. (The peer replica is the
/// oracle for what the stream carries: a Redis 7.0 primary, for one, does
/// not replicate a consumer group's `entries-read`, so its own replicas
/// differ from it there; handoff must hold exactly what they hold.)
fn handoff_replicates_from(binary: &str) {
    let Some(peer) = ExternalServer::start(binary, &["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let port = peer.port.to_string();
    let Some(peer_replica) = ExternalServer::start(binary, &[]) else {
        return;
    };
    let h = TestServer::start();
    let mut pc = peer.connect();
    let mut hc = h.connect();
    let mut oc = peer_replica.connect();
    write_mixed(&mut pc, "before", 8);
    // Both replicas take the same path: a full sync, then the stream.
    must(&mut oc, &["REPLICAOF", "127.0.0.1", &port]);
    must(&mut hc, &["REPLICAOF", "127.0.0.1", &port]);
    wait_link_up(&mut hc, "handoff");
    wait_link_up(&mut oc, binary);
    write_mixed(&mut pc, "after", 8);
    must(&mut pc, &["SET", "short", "v", "PX", "100"]);
    std::thread::sleep(std::time::Duration::from_millis(250));
    must(&mut pc, &["GET", "short"]); // expires it on the primary: a DEL follows
    wait_offsets(&mut pc, &mut hc, "handoff");
    wait_offsets(&mut pc, &mut oc, binary);
    let expected = snapshot(&mut oc);
    assert_eq!(expected.len(), snapshot(&mut pc).len());
    assert_same(&expected, &snapshot(&mut hc), binary);
    // The link survives a kill with a partial resync.
    must(&mut hc, &["CLIENT", "KILL", "TYPE", "master"]);
    write_mixed(&mut pc, "later", 3);
    wait_link_up(&mut hc, "handoff");
    wait_offsets(&mut pc, &mut hc, "handoff");
    wait_offsets(&mut pc, &mut oc, binary);
    assert_same(&snapshot(&mut oc), &snapshot(&mut hc), binary);
    assert_eq!(
        info_field(&mut pc, "stats", "sync_full").as_deref(),
        Some("2"),
        "one full sync per replica: the reconnect continued partially"
    );
}

#[test]
fn handoff_replicates_from_a_real_redis_server() {
    handoff_replicates_from("redis-server");
}

#[test]
fn handoff_replicates_from_a_real_valkey_server() {
    handoff_replicates_from("valkey-server");
}
