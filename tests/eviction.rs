//! maxmemory eviction as a user sees it, on `handoff-server` processes (each
//! has its own memory counter, so tests running side by side do not evict
//! each other's keys): with maxmemory a few MB above the startup usage and
//! each policy, writing keeps used memory near the limit and the policy's
//! kind of keys go; a replica applies its primary's DELs instead of
//! evicting, and their number matches the primary's `evicted` notifications
//! and `evicted_keys`.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use common::workload::{info_field, must, wait_for};
use common::ExternalServer;
use handoff::protocol::{Connection, Frame};

const HANDOFF: &str = env!("CARGO_BIN_EXE_handoff-server");

/// Room above the startup usage.
const ROOM: u64 = 4 << 20;
/// Value size of the filler writes.
const VALUE: usize = 256;

fn num(c: &mut Connection, section: &str, field: &str) -> u64 {
    info_field(c, section, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO {field}"))
}

/// The password that keeps other processes on this machine out: a client
/// or replica of some other test, left pointing at a port that one of
/// these servers now has, would write into it (seen: keys in db 3).
const PASS: &str = "eviction-test";

/// Starts a handoff-server process private to this test: a password is
/// set and every client that got in before it is disconnected.
fn private(args: &[&str]) -> ExternalServer {
    let s = ExternalServer::start_at(Path::new(HANDOFF), args);
    let mut c = s.connect();
    must(&mut c, &["CONFIG", "SET", "requirepass", PASS]);
    must(
        &mut c,
        &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"],
    );
    must(&mut c, &["CLIENT", "KILL", "TYPE", "pubsub"]);
    s
}

fn connect(s: &ExternalServer) -> Connection {
    let mut c = s.connect();
    must(&mut c, &["AUTH", PASS]);
    c
}

/// A server whose maxmemory is ROOM above what it uses now, under `policy`.
fn server(policy: &str, extra: &[&str]) -> (ExternalServer, Connection, u64) {
    let mut args = vec!["--maxmemory-policy", policy];
    args.extend_from_slice(extra);
    let s = private(&args);
    let mut c = connect(&s);
    let limit = num(&mut c, "memory", "used_memory") + ROOM;
    must(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    (s, c, limit)
}

/// Sends `cmds` pipelined, 200 at a time; returns the replies.
fn pipeline(c: &mut Connection, cmds: &[Vec<String>]) -> Vec<Frame> {
    let mut out = Vec::with_capacity(cmds.len());
    for chunk in cmds.chunks(200) {
        for cmd in chunk {
            c.send(cmd).unwrap();
        }
        c.flush().unwrap();
        for _ in chunk {
            out.push(c.read_frame().expect("reply"));
        }
    }
    out
}

fn set_cmds(
    prefix: &str,
    range: std::ops::Range<usize>,
    ttl_ms: Option<&dyn Fn(usize) -> u64>,
) -> Vec<Vec<String>> {
    let value = "v".repeat(VALUE);
    range
        .map(|i| {
            let mut cmd = vec!["SET".to_string(), format!("{prefix}:{i}"), value.clone()];
            if let Some(ttl) = ttl_ms {
                cmd.push("PX".into());
                cmd.push(ttl(i).to_string());
            }
            cmd
        })
        .collect()
}

/// Asserts every write was accepted (an eviction made room each time).
fn all_ok(replies: &[Frame]) {
    for r in replies {
        assert_eq!(r, &Frame::Simple("OK".into()), "a write was refused");
    }
}

/// Writes more than the room: 30k values of 256 bytes (> 10 MB).
fn fill(c: &mut Connection, prefix: &str) {
    all_ok(&pipeline(c, &set_cmds(prefix, 0..30_000, None)));
}

/// Used memory stays near the limit: not over it by more than a command's
/// worth of slack, and not far under (eviction stops once under).
fn assert_near_limit(c: &mut Connection, limit: u64) {
    let used = num(c, "memory", "used_memory") - num(c, "memory", "mem_not_counted_for_evict");
    assert!(used <= limit + (256 << 10), "used {used} > limit {limit}");
    assert!(
        used >= limit - (ROOM / 2),
        "used {used} far under limit {limit}"
    );
}

fn existing(c: &mut Connection, keys: &[String]) -> HashSet<String> {
    let cmds: Vec<Vec<String>> = keys
        .iter()
        .map(|k| vec!["EXISTS".into(), k.clone()])
        .collect();
    pipeline(c, &cmds)
        .into_iter()
        .zip(keys)
        .filter(|(r, _)| r == &Frame::Integer(1))
        .map(|(_, k)| k.clone())
        .collect()
}

fn keys(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}:{i}")).collect()
}

#[test]
fn allkeys_random_keeps_used_memory_near_the_limit() {
    let (_s, mut c, limit) = server("allkeys-random", &[]);
    fill(&mut c, "k");
    assert_near_limit(&mut c, limit);
    let evicted = num(&mut c, "stats", "evicted_keys");
    assert!(evicted > 10_000, "evicted {evicted}");
    let dbsize = match must(&mut c, &["DBSIZE"]) {
        Frame::Integer(n) => n as u64,
        f => panic!("{f:?}"),
    };
    assert_eq!(dbsize + evicted, 30_000);
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let (_s, mut c, limit) = server(policy, &[]);
        all_ok(&pipeline(&mut c, &set_cmds("keep", 0..2000, None)));
        let ttl = |_| 3_600_000;
        all_ok(&pipeline(&mut c, &set_cmds("ttl", 0..30_000, Some(&ttl))));
        assert_near_limit(&mut c, limit);
        let kept = existing(&mut c, &keys("keep", 0..2000));
        assert_eq!(
            kept.len(),
            2000,
            "{policy}: a key without a TTL was evicted"
        );
        assert!(num(&mut c, "stats", "evicted_keys") > 10_000, "{policy}");
    }
}

#[test]
fn volatile_policies_refuse_writes_once_no_key_has_a_ttl() {
    let (_s, mut c, _) = server("volatile-lru", &[]);
    let cmds = set_cmds("k", 0..30_000, None);
    let replies = pipeline(&mut c, &cmds);
    let oom = replies
        .iter()
        .filter(|r| matches!(r, Frame::Error(e) if e.starts_with(b"OOM ")))
        .count();
    assert!(oom > 10_000, "{oom} refused");
    assert_eq!(num(&mut c, "stats", "evicted_keys"), 0);
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiries_first() {
    let (_s, mut c, _) = server("volatile-ttl", &[]);
    // The later a key is written, the sooner it expires: unlike LRU,
    // volatile-ttl evicts the newest keys.
    let n = 30_000;
    let ttl = move |i: usize| 10_000_000 - i as u64 * 100;
    all_ok(&pipeline(&mut c, &set_cmds("t", 0..n, Some(&ttl))));
    let first = existing(&mut c, &keys("t", 0..n / 4)).len();
    let last = existing(&mut c, &keys("t", n - n / 4..n)).len();
    assert!(
        first > last * 2,
        "far expiries kept {first} of {}, near ones {last}",
        n / 4
    );
}

/// Writes `hot` and `cold` key sets, sets maxmemory just above that,
/// reads `hot` (`reads` times each; after a pause longer than the LRU
/// clock's one second if `pause`), then writes `filler` more keys.
/// Returns the survivors of each set.
fn hot_and_cold(policy: &str, reads: usize, pause: bool, filler: usize) -> (usize, usize) {
    let (_s, mut c, _) = server(policy, &[]);
    all_ok(&pipeline(&mut c, &set_cmds("hot", 0..2000, None)));
    all_ok(&pipeline(&mut c, &set_cmds("cold", 0..2000, None)));
    let limit = num(&mut c, "memory", "used_memory") + (256 << 10);
    must(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    if pause {
        std::thread::sleep(Duration::from_millis(2100));
    }
    let gets: Vec<Vec<String>> = (0..reads)
        .flat_map(|_| keys("hot", 0..2000))
        .map(|k| vec!["GET".into(), k])
        .collect();
    pipeline(&mut c, &gets);
    all_ok(&pipeline(&mut c, &set_cmds("fill", 0..filler, None)));
    assert!(num(&mut c, "stats", "evicted_keys") > 1000);
    let hot = existing(&mut c, &keys("hot", 0..2000)).len();
    let cold = existing(&mut c, &keys("cold", 0..2000)).len();
    println!("{policy}: of 2000 each, hot kept {hot}, cold kept {cold}");
    (hot, cold)
}

#[test]
fn allkeys_lru_keeps_recently_read_keys_far_more_often_than_untouched_ones() {
    let (hot, cold) = hot_and_cold("allkeys-lru", 1, true, 3000);
    assert!(hot > 1500 && cold < 700, "hot kept {hot}, cold {cold}");
}

#[test]
fn allkeys_lfu_keeps_frequently_read_keys() {
    // Untouched keys tie with the filler (both at the initial counter).
    let (hot, cold) = hot_and_cold("allkeys-lfu", 20, false, 3000);
    assert!(hot > 1800 && cold < 1500, "hot kept {hot}, cold {cold}");
}

#[test]
fn evictions_reach_a_replica_as_dels_matching_the_notifications() {
    let (p, mut c, limit) = server(
        "allkeys-lru",
        &[
            "--notify-keyspace-events",
            "Ee",
            "--repl-diskless-sync-delay",
            "0",
        ],
    );
    let pport = p.port.to_string();
    // The replica is over its own maxmemory but leaves eviction to its
    // primary (replica-ignore-maxmemory yes, the default).
    let r = over_limit_replica_of(&pport, &["--notify-keyspace-events", "Eg"]);
    let mut rc = connect(&r);
    wait_for(20, "the replica linked", || {
        info_field(&mut rc, "replication", "master_link_status").as_deref() == Some("up")
    });
    let mut evicted_sub = connect(&p);
    must(&mut evicted_sub, &["PSUBSCRIBE", "__keyevent@*__:evicted"]);
    let mut del_sub = connect(&r);
    must(&mut del_sub, &["PSUBSCRIBE", "__keyevent@*__:del"]);

    fill(&mut c, "k");
    assert_near_limit(&mut c, limit);
    // At the limit every command may evict a key or two more: lift it
    // before counting.
    must(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let evicted = num(&mut c, "stats", "evicted_keys");
    // Reads `expected` notifications (a slow side gets time), then checks
    // that no more come.
    let drain = |sub: &mut Connection, expected: u64| {
        sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut n = 0u64;
        while n < expected && sub.read_frame().is_ok() {
            n += 1;
        }
        sub.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        while sub.read_frame().is_ok() {
            n += 1;
        }
        n
    };
    let notified = drain(&mut evicted_sub, evicted);
    let deleted = drain(&mut del_sub, evicted);
    assert!(evicted > 10_000, "evicted {evicted}");
    assert_eq!(notified, evicted, "evicted notifications on the primary");
    assert_eq!(deleted, evicted, "del notifications on the replica");
    assert_eq!(num(&mut rc, "stats", "evicted_keys"), 0);
    let size = |c: &mut Connection| must(c, &["DBSIZE"]);
    let primary_size = size(&mut c);
    wait_for(10, "the replica caught up", || {
        size(&mut rc) == primary_size
    });
    assert_eq!(size(&mut c), Frame::Integer(30_000 - evicted as i64));
    // Reads on the replica still work although it is over its maxmemory.
    assert_eq!(calls(&mut rc, "del"), evicted, "DELs the replica ran");
    let Frame::Bulk(key) = must(&mut c, &["RANDOMKEY"]) else {
        panic!("no key left");
    };
    let key = String::from_utf8_lossy(&key).into_owned();
    assert_eq!(
        must(&mut rc, &["GET", &key]),
        Frame::Bulk("v".repeat(VALUE).into())
    );
}

/// Calls of `cmd` in INFO commandstats.
fn calls(c: &mut Connection, cmd: &str) -> u64 {
    info_field(c, "commandstats", &format!("cmdstat_{cmd}"))
        .and_then(|v| {
            v.strip_prefix("calls=")
                .and_then(|r| r.split(',').next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn lazy_eviction_sends_unlink_to_replicas() {
    let (p, mut c, _) = server(
        "allkeys-random",
        &[
            "--lazyfree-lazy-eviction",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ],
    );
    let pport = p.port.to_string();
    let r = private(&["--masterauth", PASS, "--replicaof", "127.0.0.1", &pport]);
    let mut rc = connect(&r);
    wait_for(20, "the replica linked", || {
        info_field(&mut rc, "replication", "master_link_status").as_deref() == Some("up")
    });
    fill(&mut c, "k");
    must(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let evicted = num(&mut c, "stats", "evicted_keys");
    assert!(evicted > 10_000, "evicted {evicted}");
    wait_for(20, "the replica ran every UNLINK", || {
        calls(&mut rc, "unlink") == evicted
    });
    assert_eq!(calls(&mut rc, "del"), 0);
    assert_eq!(must(&mut rc, &["DBSIZE"]), must(&mut c, &["DBSIZE"]));
}

/// A replica of the primary on `port`, always over its own maxmemory
/// (1 byte, allkeys-random), with `extra` directives.
fn over_limit_replica_of(port: &str, extra: &[&str]) -> ExternalServer {
    let mut args = vec![
        "--masterauth",
        PASS,
        "--replicaof",
        "127.0.0.1",
        port,
        "--maxmemory",
        "1",
        "--maxmemory-policy",
        "allkeys-random",
    ];
    args.extend_from_slice(extra);
    private(&args)
}

#[test]
fn a_replica_evicts_by_itself_only_with_replica_ignore_maxmemory_no() {
    let p = private(&["--repl-diskless-sync-delay", "0"]);
    let mut c = connect(&p);
    let pport = p.port.to_string();
    let replica =
        |ignore: &str| over_limit_replica_of(&pport, &["--replica-ignore-maxmemory", ignore]);
    let (obeys, evicts) = (replica("yes"), replica("no"));
    all_ok(&pipeline(&mut c, &set_cmds("k", 0..100, None)));
    let mut o = connect(&obeys);
    let mut e = connect(&evicts);
    // (Empty before its sync too: wait for the evictions, not the size.)
    wait_for(20, "the replica that evicts evicted every key", || {
        num(&mut e, "stats", "evicted_keys") >= 100
    });
    assert_eq!(num(&mut e, "stats", "evicted_keys"), 100);
    assert_eq!(must(&mut e, &["DBSIZE"]), Frame::Integer(0));
    wait_for(20, "the other replica synced", || {
        must(&mut o, &["DBSIZE"]) == Frame::Integer(100)
    });
    assert_eq!(num(&mut o, "stats", "evicted_keys"), 0);
    // A replica's evictions are its own: the primary keeps every key.
    assert_eq!(must(&mut c, &["DBSIZE"]), Frame::Integer(100));
}
