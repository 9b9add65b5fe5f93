//! Replication between handoff servers in one process, over real sockets:
//! full sync, partial resync after a killed link, WAIT, chained replicas,
//! promotion with the old primary re-attaching, and no acknowledged write
//! lost while the link is killed repeatedly under load.

mod common;

use common::dataset::{assert_same, snapshot};
use common::workload::{info_field, must, wait_for, wait_link_up, wait_offsets, write_mixed};
use common::TestServer;
use handoff::protocol::{Connection, Frame};

fn server() -> TestServer {
    TestServer::with(|c| c.repl_diskless_sync_delay = 0)
}

fn replicate(replica: &mut Connection, primary: &TestServer) {
    let port = primary.addr().port().to_string();
    must(replica, &["REPLICAOF", "127.0.0.1", &port]);
}

/// A primary and its replica with the link up, and a connection to each.
fn linked_pair() -> (TestServer, TestServer, Connection, Connection) {
    let p = server();
    let r = server();
    let pc = p.connect();
    let mut rc = r.connect();
    replicate(&mut rc, &p);
    wait_link_up(&mut rc, "replica");
    (p, r, pc, rc)
}

fn stat(c: &mut Connection, name: &str) -> i64 {
    info_field(c, "stats", name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Waits until `replica` processed everything `primary` produced.

#[test]
fn a_replica_gets_every_type_ttl_and_db_by_full_sync_then_by_stream() {
    let p = server();
    let r = server();
    let mut pc = p.connect();
    let mut rc = r.connect();
    write_mixed(&mut pc, "before", 12);
    replicate(&mut rc, &p);
    wait_link_up(&mut rc, "replica");
    write_mixed(&mut pc, "after", 12);
    must(&mut pc, &["DEL", "before:str:1"]);
    wait_offsets(&mut pc, &mut rc, "replica");
    assert_same(&snapshot(&mut pc), &snapshot(&mut rc), "primary vs replica");
    assert_eq!(stat(&mut pc, "sync_full"), 1);
    let role = must(&mut rc, &["ROLE"]);
    let Frame::Array(parts) = role else {
        panic!("ROLE")
    };
    assert_eq!(parts[0], Frame::Bulk("slave".into()));
    assert_eq!(parts[3], Frame::Bulk("connected".into()));
}

#[test]
fn a_replica_refuses_writes_and_never_expires_keys_itself() {
    let (_p, _r, mut pc, mut rc) = linked_pair();
    assert_eq!(
        rc.call(&["SET", "k", "v"]).unwrap(),
        Frame::Error("READONLY You can't write against a read only replica.".into())
    );
    must(&mut pc, &["SET", "short", "v", "PX", "150"]);
    wait_offsets(&mut pc, &mut rc, "replica");
    assert_eq!(must(&mut rc, &["GET", "short"]), Frame::Bulk("v".into()));
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Logically expired: hidden from reads, but the replica keeps it until the DEL.
    assert_eq!(must(&mut rc, &["GET", "short"]), Frame::NullBulk);
    assert_eq!(must(&mut pc, &["GET", "short"]), Frame::NullBulk);
    wait_offsets(&mut pc, &mut rc, "replica");
    assert_eq!(must(&mut rc, &["DBSIZE"]), Frame::Integer(0));
}

#[test]
fn a_script_on_a_read_only_replica_runs_but_each_write_it_tries_is_refused() {
    let (_p, _r, mut pc, mut rc) = linked_pair();
    must(&mut pc, &["SET", "k", "from-primary"]);
    wait_offsets(&mut pc, &mut rc, "replica");
    let set = "return redis.call('set','k','from-script')";
    let sha = must(&mut rc, &["SCRIPT", "LOAD", set]);
    let Frame::Bulk(sha) = sha else {
        panic!("SCRIPT LOAD: {sha:?}")
    };
    let sha = String::from_utf8(sha.to_vec()).unwrap();
    // As Redis 7: the error names the script; pcall gets the bare error.
    assert_eq!(
        rc.call(&["EVAL", set, "0"]).unwrap(),
        Frame::Error(format!(
            "READONLY You can't write against a read only replica. script: {sha}, on @user_script:1."
        )
        .into())
    );
    assert_eq!(
        rc.call(&["EVAL", "return redis.pcall('set','k','x')", "0"])
            .unwrap(),
        Frame::Error("READONLY You can't write against a read only replica.".into())
    );
    assert_eq!(
        must(&mut rc, &["EVAL", "return redis.call('get','k')", "0"]),
        Frame::Bulk("from-primary".into())
    );
    assert_eq!(
        must(&mut rc, &["GET", "k"]),
        Frame::Bulk("from-primary".into())
    );
    assert_eq!(must(&mut rc, &["DBSIZE"]), Frame::Integer(1));
}

#[test]
fn a_killed_link_resumes_with_a_partial_resync() {
    let p = server();
    let r = server();
    let mut pc = p.connect();
    let mut rc = r.connect();
    write_mixed(&mut pc, "a", 5);
    replicate(&mut rc, &p);
    wait_link_up(&mut rc, "replica");
    wait_offsets(&mut pc, &mut rc, "replica");
    must(&mut pc, &["CLIENT", "KILL", "TYPE", "replica"]);
    write_mixed(&mut pc, "b", 5);
    wait_link_up(&mut rc, "replica");
    wait_offsets(&mut pc, &mut rc, "replica");
    assert_same(&snapshot(&mut pc), &snapshot(&mut rc), "primary vs replica");
    assert_eq!(stat(&mut pc, "sync_full"), 1, "no second full sync");
    assert!(stat(&mut pc, "sync_partial_ok") >= 1);
}

#[test]
fn wait_counts_the_replicas_that_acknowledged_the_write() {
    let p = server();
    let r1 = server();
    let r2 = server();
    let mut pc = p.connect();
    for r in [&r1, &r2] {
        let mut rc = r.connect();
        replicate(&mut rc, &p);
        wait_link_up(&mut rc, "replica");
    }
    wait_for(10, "two online replicas", || {
        info_field(&mut pc, "replication", "connected_slaves").as_deref() == Some("2")
    });
    must(&mut pc, &["SET", "k", "v"]);
    assert_eq!(must(&mut pc, &["WAIT", "2", "5000"]), Frame::Integer(2));
    assert_eq!(must(&mut pc, &["WAIT", "3", "200"]), Frame::Integer(2));
    let mut rc = r1.connect();
    assert!(matches!(
        rc.call(&["WAIT", "1", "0"]).unwrap(),
        Frame::Error(_)
    ));
}

#[test]
fn a_chained_replica_mirrors_the_primary_with_the_same_offsets() {
    let a = server();
    let b = server();
    let c = server();
    let mut ac = a.connect();
    let mut bc = b.connect();
    let mut cc = c.connect();
    write_mixed(&mut ac, "x", 4);
    replicate(&mut bc, &a);
    wait_link_up(&mut bc, "replica");
    // The stream's last SELECT is db 3 when C syncs from B: C must continue
    // there (repl-stream-db), as A sends no new SELECT for the next write.
    must(&mut ac, &["SELECT", "3"]);
    must(&mut ac, &["SET", "in-db-3", "1"]);
    wait_offsets(&mut ac, &mut bc, "replica");
    replicate(&mut cc, &b);
    wait_link_up(&mut cc, "replica");
    must(&mut ac, &["SET", "still-in-db-3", "1"]);
    must(&mut ac, &["SELECT", "0"]);
    write_mixed(&mut ac, "y", 4);
    wait_offsets(&mut ac, &mut bc, "replica");
    wait_offsets(&mut ac, &mut cc, "replica");
    assert_same(&snapshot(&mut ac), &snapshot(&mut cc), "a vs c");
    let id = |c: &mut Connection| info_field(c, "replication", "master_replid");
    assert_eq!(id(&mut ac), id(&mut cc));
}

#[test]
fn a_promoted_replica_takes_back_the_old_primary_with_a_partial_resync() {
    let a = server();
    let b = server();
    let mut ac = a.connect();
    let mut bc = b.connect();
    write_mixed(&mut ac, "x", 4);
    replicate(&mut bc, &a);
    wait_link_up(&mut bc, "replica");
    wait_offsets(&mut ac, &mut bc, "replica");
    let old_id = info_field(&mut ac, "replication", "master_replid").unwrap();
    must(&mut bc, &["REPLICAOF", "NO", "ONE"]);
    assert_eq!(
        info_field(&mut bc, "replication", "master_replid2").unwrap(),
        old_id
    );
    must(&mut bc, &["SET", "after-promotion", "1"]);
    replicate(&mut ac, &b);
    wait_link_up(&mut ac, "replica");
    wait_offsets(&mut bc, &mut ac, "replica");
    assert_eq!(
        must(&mut ac, &["GET", "after-promotion"]),
        Frame::Bulk("1".into())
    );
    assert_eq!(
        stat(&mut bc, "sync_full"),
        0,
        "the old primary continued partially"
    );
    assert_eq!(stat(&mut bc, "sync_partial_ok"), 1);
    assert_same(&snapshot(&mut bc), &snapshot(&mut ac), "b vs a");
}

#[test]
fn no_acknowledged_write_is_lost_while_the_link_is_killed_repeatedly() {
    let p = server();
    let r = server();
    let mut rc = r.connect();
    replicate(&mut rc, &p);
    wait_link_up(&mut rc, "replica");
    let addr = p.addr();
    let writer = std::thread::spawn(move || {
        let mut c = Connection::connect(addr.to_string()).unwrap();
        let mut acked = 0;
        for i in 0..20_000 {
            let k = format!("k{}", i % 3000);
            if c.call(&["INCR", &k]).is_ok() {
                acked += 1;
            }
            if i % 7 == 0 {
                c.call(&["RPUSH", "log", &i.to_string()]).unwrap();
            }
        }
        acked
    });
    let mut pc = p.connect();
    for _ in 0..15 {
        std::thread::sleep(std::time::Duration::from_millis(30));
        must(&mut pc, &["CLIENT", "KILL", "TYPE", "replica"]);
    }
    assert_eq!(writer.join().unwrap(), 20_000);
    wait_link_up(&mut rc, "replica");
    wait_offsets(&mut pc, &mut rc, "replica");
    assert_same(&snapshot(&mut pc), &snapshot(&mut rc), "primary vs replica");
}

#[test]
fn a_disk_based_full_sync_saves_the_rdb_file_and_sends_it_with_its_length() {
    let dir = std::env::temp_dir().join(format!("handoff-disksync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_s = dir.to_string_lossy().into_owned();
    let p = TestServer::with(|c| {
        c.repl_diskless_sync = false;
        c.dir = dir_s;
    });
    let r = server();
    let mut pc = p.connect();
    let mut rc = r.connect();
    write_mixed(&mut pc, "disk", 4);
    replicate(&mut rc, &p);
    wait_link_up(&mut rc, "replica");
    wait_offsets(&mut pc, &mut rc, "replica");
    assert_same(&snapshot(&mut pc), &snapshot(&mut rc), "primary vs replica");
    assert!(
        dir.join("dump.rdb").exists(),
        "the snapshot went through the disk"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writes_need_enough_good_replicas_when_min_replicas_to_write_is_set() {
    let p = TestServer::with(|c| {
        c.repl_diskless_sync_delay = 0;
        c.min_replicas_to_write = 1;
    });
    let r = server();
    let mut pc = p.connect();
    assert_eq!(
        pc.call(&["SET", "k", "v"]).unwrap(),
        Frame::Error("NOREPLICAS Not enough good replicas to write.".into())
    );
    assert_eq!(
        must(&mut pc, &["GET", "k"]),
        Frame::NullBulk,
        "reads still work"
    );
    let mut rc = r.connect();
    replicate(&mut rc, &p);
    wait_link_up(&mut rc, "replica");
    wait_for(10, "a good replica", || {
        pc.call(&["SET", "k", "v"]).unwrap() == Frame::Simple("OK".into())
    });
}

#[test]
fn a_replica_whose_load_outlasts_repl_timeout_keeps_its_link_with_newlines() {
    // The replica loads 1500 keys at 2 ms each (key-load-delay), 3 s, while
    // its primary drops replicas silent for 2 s: the replica's newline every
    // second keeps it, in both transfer modes, with a single full sync.
    for diskless in [true, false] {
        let dir = std::env::temp_dir().join(format!(
            "handoff-loadkeepalive-{}-{diskless}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let dir_s = dir.to_string_lossy().into_owned();
        let p = TestServer::with(move |c| {
            c.repl_diskless_sync = diskless;
            c.repl_diskless_sync_delay = 0;
            c.repl_timeout = 2;
            c.dir = dir_s;
        });
        let r = TestServer::with(|c| c.key_load_delay = 2000);
        let mut pc = p.connect();
        let mut rc = r.connect();
        for batch in 0..15 {
            let kv: Vec<String> = (0..100)
                .flat_map(|i| [format!("key:{batch}:{i}"), "value".to_string()])
                .collect();
            let mut args = vec!["MSET"];
            args.extend(kv.iter().map(String::as_str));
            must(&mut pc, &args);
        }
        let started = std::time::Instant::now();
        replicate(&mut rc, &p);
        wait_link_up(&mut rc, "replica");
        let took = started.elapsed();
        assert!(
            took > std::time::Duration::from_secs(3),
            "the load was slowed ({took:?})"
        );
        must(&mut pc, &["SET", "after", "load"]);
        wait_offsets(&mut pc, &mut rc, "replica");
        // Past another timeout period, on an idle link (pings and ACKs only).
        std::thread::sleep(std::time::Duration::from_millis(2500));
        assert_eq!(
            info_field(&mut rc, "replication", "master_link_status").as_deref(),
            Some("up")
        );
        assert_eq!(
            stat(&mut pc, "sync_full"),
            1,
            "diskless {diskless}: one full sync"
        );
        assert_eq!(
            stat(&mut pc, "sync_partial_ok"),
            0,
            "diskless {diskless}: the link was never dropped (nor resumed)"
        );
        assert_eq!(must(&mut rc, &["DBSIZE"]), Frame::Integer(1501));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_replica_waiting_for_a_delayed_snapshot_gets_newlines_and_does_not_time_out() {
    // The primary starts its diskless snapshot 4 s after the PSYNC; the
    // replica gives up on a silent primary after 2 s. The primary's newline
    // every second to replicas waiting for a snapshot keeps the attempt.
    let p = TestServer::with(|c| c.repl_diskless_sync_delay = 4);
    let r = TestServer::with(|c| c.repl_timeout = 2);
    let mut pc = p.connect();
    let mut rc = r.connect();
    must(&mut pc, &["SET", "k", "v"]);
    replicate(&mut rc, &p);
    wait_link_up(&mut rc, "replica");
    assert_eq!(stat(&mut pc, "sync_full"), 1, "one attempt, one full sync");
    assert_eq!(must(&mut rc, &["GET", "k"]), Frame::Bulk("v".into()));
}
