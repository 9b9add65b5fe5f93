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

/// 1500 keys of 1 KB in `c`, written with MSET.
fn fill_for_slow_load(c: &mut handoff::protocol::Connection) {
    let value = "v".repeat(1024);
    for batch in 0..15 {
        let kv: Vec<String> = (0..100)
            .flat_map(|i| [format!("key:{batch}:{i}"), value.clone()])
            .collect();
        let mut args = vec!["MSET"];
        args.extend(kv.iter().map(String::as_str));
        must(c, &args);
    }
}

fn stat(c: &mut handoff::protocol::Connection, name: &str) -> Option<String> {
    info_field(c, "stats", name)
}

/// The replica loads for about 3 s (key-load-delay 2000 us on 1500 keys)
/// while its primary drops replicas silent for 2 s: the replica's newlines
/// must keep the link. Checked on the primary: one full sync, no partial
/// one (a dropped link would come back with a partial resync).
fn slow_load_keeps_the_link(
    pc: &mut handoff::protocol::Connection,
    rc: &mut handoff::protocol::Connection,
    port: &str,
    who: &str,
) {
    fill_for_slow_load(pc);
    must(rc, &["REPLICAOF", "127.0.0.1", port]);
    wait_link_up(rc, who);
    must(pc, &["SET", "after", "load"]);
    wait_offsets(pc, rc, who);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(
        info_field(rc, "replication", "master_link_status").as_deref(),
        Some("up"),
        "{who}"
    );
    assert_eq!(stat(pc, "sync_full").as_deref(), Some("1"), "{who}");
    assert_eq!(
        stat(pc, "sync_partial_ok").as_deref(),
        Some("0"),
        "{who}: the link was dropped during the load"
    );
}

#[test]
fn handoff_loading_slowly_keeps_its_link_to_a_redis_primary_with_a_short_repl_timeout() {
    let Some(redis) = ExternalServer::start(
        "redis-server",
        &["--repl-diskless-sync-delay", "0", "--repl-timeout", "2"],
    ) else {
        return;
    };
    let h = TestServer::with(|c| c.key_load_delay = 2000);
    let port = redis.port.to_string();
    slow_load_keeps_the_link(&mut redis.connect(), &mut h.connect(), &port, "handoff");
}

#[test]
fn a_redis_replica_loading_slowly_keeps_its_link_to_handoff_with_a_short_repl_timeout() {
    // Redis's replica sends its newline every loading-process-events-interval-bytes
    // of RDB (2 MB by default): 1 KB here, one per key.
    let Some(redis) = ExternalServer::start(
        "redis-server",
        &[
            "--key-load-delay",
            "2000",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    ) else {
        return;
    };
    for diskless in [true, false] {
        let dir = std::env::temp_dir().join(format!(
            "handoff-redisslowload-{}-{diskless}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let dir_s = dir.to_string_lossy().into_owned();
        let h = TestServer::with(move |c| {
            c.repl_diskless_sync = diskless;
            c.repl_diskless_sync_delay = 0;
            c.repl_timeout = 2;
            c.dir = dir_s;
        });
        let port = h.addr().port().to_string();
        let mut rc = redis.connect();
        slow_load_keeps_the_link(
            &mut h.connect(),
            &mut rc,
            &port,
            &format!("redis (diskless {diskless})"),
        );
        must(&mut rc, &["REPLICAOF", "NO", "ONE"]);
        must(&mut rc, &["FLUSHALL"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_redis_replica_waiting_for_a_delayed_handoff_snapshot_does_not_time_out() {
    let Some(redis) = ExternalServer::start("redis-server", &["--repl-timeout", "2"]) else {
        return;
    };
    let h = TestServer::with(|c| c.repl_diskless_sync_delay = 4);
    let mut hc = h.connect();
    let mut rc = redis.connect();
    must(&mut hc, &["SET", "k", "v"]);
    must(
        &mut rc,
        &["REPLICAOF", "127.0.0.1", &h.addr().port().to_string()],
    );
    wait_link_up(&mut rc, "redis");
    assert_eq!(stat(&mut hc, "sync_full").as_deref(), Some("1"));
    assert!(
        !redis.log().contains("Timeout connecting to the MASTER"),
        "{}",
        redis.log()
    );
}
