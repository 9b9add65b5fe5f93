//! FAILOVER as Valkey's failover tests check it (switchover-spec.md §5,
//! failover.tcl, with the newer cases for blocked clients): its errors, a
//! handover to a named or to any replica with partial resyncs only, FORCE
//! after the timeout, the abort paths (timeout, FAILOVER ABORT, a target
//! refusing PSYNC) and what blocked and held clients get. Three in-process
//! nodes per test over real sockets; a "stopped" node is under CLIENT
//! PAUSE ALL (see `common::nodes`).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::nodes::{
    assert_closed, assert_same_digest, blocked_clients, capture_logs, client, count_log_lines,
    failover_state, info_text, node, num, pair, port, role, send, stop, stop_with, trio,
    wait_blocked, wait_failover_state, wait_resumed, wait_resumed_on, wait_synced,
};
use common::workload::{must, wait_for};
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::Frame;

fn stat(s: &TestServer, name: &str) -> i64 {
    num(&mut s.connect(), "stats", name)
}

/// sync_partial_ok and sync_full of a node.
fn syncs(s: &TestServer) -> (i64, i64) {
    (stat(s, "sync_partial_ok"), stat(s, "sync_full"))
}

/// `args` on `s` is answered with the error `text`.
fn refused(s: &TestServer, args: &[&str], text: &str) {
    assert_eq!(call(&mut s.connect(), args), err(text), "{args:?}");
}

fn roles(nodes: &[&TestServer]) -> Vec<String> {
    nodes.iter().map(|n| role(&mut n.connect())).collect()
}

#[test]
fn failover_without_a_connected_replica_is_refused() {
    let lone = node();
    let other = node();
    refused(
        &lone,
        &["FAILOVER", "TO", "127.0.0.1", &port(&other)],
        "ERR FAILOVER requires connected replicas.",
    );
}

#[test]
fn two_replicas_attach_to_the_primary_and_come_online() {
    let (p, r1, r2) = trio();
    let mut pc = p.connect();
    let info = info_text(&mut pc, "replication");
    for r in [&r1, &r2] {
        let line = format!("ip=127.0.0.1,port={},state=online", port(r));
        assert!(info.contains(&line), "{info}");
        assert_eq!(role(&mut r.connect()), "slave");
    }
    assert_eq!(num(&mut pc, "replication", "connected_slaves"), 2);
}

#[test]
fn failover_to_a_host_that_is_no_replica_is_refused() {
    let (p, r) = pair();
    refused(
        &p,
        &["FAILOVER", "TO", "invalidhost", &port(&r)],
        "ERR FAILOVER target HOST and PORT is not a replica.",
    );
}

#[test]
fn failover_to_a_port_that_is_not_a_number_is_refused() {
    let (p, _r) = pair();
    refused(
        &p,
        &["FAILOVER", "TO", "127.0.0.1", "invalidport"],
        "ERR value is not an integer or out of range",
    );
}

#[test]
fn failover_with_force_and_timeout_but_no_target_is_refused() {
    let (p, _r) = pair();
    refused(
        &p,
        &["FAILOVER", "FORCE", "TIMEOUT", "100"],
        "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
    );
}

#[test]
fn failover_sent_to_a_replica_is_refused() {
    let (_p, r) = pair();
    refused(
        &r,
        &["FAILOVER", "TO", "127.0.0.1", &port(&r)],
        "ERR FAILOVER is not valid when server is a replica.",
    );
}

#[test]
fn failover_with_force_but_no_timeout_is_refused() {
    let (p, r) = pair();
    refused(
        &p,
        &["FAILOVER", "TO", "127.0.0.1", &port(&r), "FORCE"],
        "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
    );
}

/// Writes to `s` from another thread until stopped; errors (held writes
/// answered READONLY after the switch) are ignored, as a load generator
/// would.
struct WriteLoad {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl WriteLoad {
    fn start(s: &TestServer) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut c = s.connect();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut n = 0u64;
            while !flag.load(Ordering::Relaxed) {
                let k = format!("load:{}", n % 500);
                if c.call(&["SET", &k, &n.to_string()]).is_err() {
                    break;
                }
                n += 1;
            }
            n
        });
        WriteLoad {
            stop,
            thread: Some(thread),
        }
    }

    fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the load and waits until its last command was answered.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().unwrap())
    }
}

#[test]
fn failover_to_a_named_replica_under_write_load_resyncs_everyone_partially() {
    let (n0, n1, n2) = trio();
    let (partial0, full0) = syncs(&n1);
    let mut c0 = n0.connect();
    let before = num(&mut c0, "stats", "total_commands_processed");
    let load = WriteLoad::start(&n0);
    // The target falls behind while stopped, then catches up under load.
    stop(&n1, 150);
    wait_for(10, "the primary to take writes", || {
        num(&mut c0, "stats", "total_commands_processed") > before + 100
    });
    wait_resumed(&n1);
    assert!(load.running());

    must(&mut c0, &["FAILOVER", "TO", "127.0.0.1", &port(&n1)]);
    wait_failover_state(&mut c0, "no-failover");
    assert!(load.finish() > 100);

    must(&mut n2.connect(), &["REPLICAOF", "127.0.0.1", &port(&n1)]);
    wait_synced(&n1, &[&n0, &n2]);
    assert_eq!(roles(&[&n0, &n1, &n2]), ["slave", "master", "slave"]);
    let (partial, full) = syncs(&n1);
    assert_eq!(partial - partial0, 2, "the old primary and the sibling");
    assert_eq!(full - full0, 0);
    assert_same_digest(&[&n0, &n1, &n2]);
}

#[test]
fn failover_without_a_target_hands_over_to_the_replica_that_caught_up() {
    let (n0, n1, n2) = trio();
    wait_synced(&n0, &[&n1, &n2]);
    let (partial0, full0) = syncs(&n2);
    let mut c0 = n0.connect();
    // n1 cannot acknowledge this write, so n2 must be chosen.
    stop(&n1, 600);
    must(&mut c0, &["SET", "case", "1"]);
    must(&mut c0, &["FAILOVER"]);
    wait_failover_state(&mut c0, "no-failover");
    assert_eq!(role(&mut n2.connect()), "master");
    wait_resumed(&n1);
    must(&mut n1.connect(), &["REPLICAOF", "127.0.0.1", &port(&n2)]);

    wait_synced(&n2, &[&n0, &n1]);
    assert_eq!(roles(&[&n0, &n1, &n2]), ["slave", "slave", "master"]);
    let (partial, full) = syncs(&n2);
    assert_eq!(partial - partial0, 2);
    assert_eq!(full - full0, 0);
    assert_same_digest(&[&n0, &n1, &n2]);
}

/// FORCE switches once TIMEOUT passes without an acknowledgement. Meanwhile
/// the old primary is already a replica, so no moment has two primaries,
/// and (Valkey 9) a client blocked on a key stays blocked until the switch
/// is over; without the redirect capability it then gets -UNBLOCKED and is
/// disconnected.
#[test]
fn a_forced_failover_switches_after_the_timeout_with_no_two_primaries_meanwhile() {
    capture_logs();
    let (n0, n1, n2) = trio();
    let (partial0, full0) = syncs(&n1);
    let mut c0 = n0.connect();
    let mut blocked = client(&n0, false);
    send(&mut blocked, &["BRPOP", "FOO_LIST", "0"]);
    wait_blocked(&mut c0, 1);

    stop(&n1, 1000);
    // n1 acknowledges this only after the timeout.
    must(&mut c0, &["SET", "case", "2"]);
    must(
        &mut c0,
        &[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &port(&n1),
            "TIMEOUT",
            "100",
            "FORCE",
        ],
    );
    wait_failover_state(&mut c0, "failover-in-progress");
    assert_eq!(roles(&[&n0, &n2]), ["slave", "slave"]);
    assert_eq!(blocked_clients(&mut c0), 1, "still blocked while switching");

    wait_resumed(&n1);
    wait_failover_state(&mut c0, "no-failover");
    assert_eq!(
        blocked.read_frame().unwrap(),
        err("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")
    );
    assert_closed(&mut blocked);
    wait_blocked(&mut c0, 0);

    must(&mut n2.connect(), &["REPLICAOF", "127.0.0.1", &port(&n1)]);
    wait_synced(&n1, &[&n0, &n2]);
    assert_eq!(roles(&[&n0, &n1, &n2]), ["slave", "master", "slave"]);
    let line = format!(
        "FAILOVER to 127.0.0.1:{} time out exceeded, failing over.",
        port(&n1)
    );
    assert_eq!(count_log_lines(&line), 1);
    let (partial, full) = syncs(&n1);
    assert_eq!(partial - partial0, 2);
    assert_eq!(full - full0, 0);
    assert_same_digest(&[&n0, &n1, &n2]);
    assert_eq!(must(&mut n1.connect(), &["GET", "case"]), bulk("2"));
}

#[test]
fn a_failover_whose_target_never_catches_up_times_out_and_keeps_the_primary() {
    let (n0, n1, n2) = trio();
    let (partial0, full0) = syncs(&n0);
    let mut c0 = n0.connect();
    stop(&n1, 800);
    must(&mut c0, &["SET", "case", "1"]);
    must(
        &mut c0,
        &["FAILOVER", "TO", "127.0.0.1", &port(&n1), "TIMEOUT", "300"],
    );
    wait_failover_state(&mut c0, "no-failover");
    wait_resumed(&n1);

    wait_synced(&n0, &[&n1, &n2]);
    assert_eq!(roles(&[&n0, &n1, &n2]), ["master", "slave", "slave"]);
    assert_eq!(syncs(&n0), (partial0, full0), "no resync at all");
    assert_same_digest(&[&n0, &n1, &n2]);
}

#[test]
fn a_failover_waiting_for_sync_can_be_aborted_and_serves_reads_meanwhile() {
    let (n0, n1, n2) = trio();
    let (partial0, full0) = syncs(&n0);
    let mut c0 = n0.connect();
    stop(&n1, 500);
    must(&mut c0, &["SET", "case", "2"]);
    must(
        &mut c0,
        &[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &port(&n1),
            "TIMEOUT",
            "60000",
        ],
    );
    assert_eq!(failover_state(&mut c0), "waiting-for-sync");
    assert_eq!(must(&mut c0, &["GET", "case"]), bulk("2"));
    assert_eq!(must(&mut c0, &["FAILOVER", "ABORT"]), simple("OK"));
    assert_eq!(failover_state(&mut c0), "no-failover");
    wait_resumed(&n1);

    wait_synced(&n0, &[&n1, &n2]);
    assert_eq!(roles(&[&n0, &n1, &n2]), ["master", "slave", "slave"]);
    assert_eq!(syncs(&n0), (partial0, full0), "no resync at all");
    assert_same_digest(&[&n0, &n1, &n2]);
}

/// Valkey's test forbids PSYNC on the target through ACL; handoff has no
/// ACL, so the target asks for a password it is not given: its `-NOAUTH`
/// to PSYNC is a refusal just the same (Valkey 9.1 aborts on it too). The
/// failover aborts, the node is a primary again under a new replication
/// id, both replicas resync partially, and clients blocked or held
/// meanwhile run here as if nothing happened.
#[test]
fn a_failover_whose_target_refuses_psync_aborts_and_held_clients_run_here() {
    capture_logs();
    let (n0, n1, n2) = trio();
    let (partial0, full0) = syncs(&n0);
    let mut c0 = n0.connect();
    let mut c1 = n1.connect();
    must(&mut c1, &["CONFIG", "SET", "requirepass", "psync-refused"]);

    stop_with(&mut c1, 1000);
    // Not acknowledged until the target runs again.
    must(&mut c0, &["SET", "case", "3"]);
    let mut brpop_before = client(&n0, false);
    send(&mut brpop_before, &["BRPOP", "FOO_LIST", "0"]);
    wait_blocked(&mut c0, 1);
    must(&mut c0, &["FAILOVER", "TO", "127.0.0.1", &port(&n1)]);
    assert_eq!(failover_state(&mut c0), "waiting-for-sync");
    let mut brpop_after = client(&n0, false);
    send(&mut brpop_after, &["BRPOP", "FOO_LIST", "0"]);
    let mut lpush = client(&n0, false);
    send(&mut lpush, &["LPUSH", "FOO_LIST", "BAR1", "BAR2"]);
    wait_blocked(&mut c0, 3);
    assert_eq!(failover_state(&mut c0), "waiting-for-sync");

    wait_resumed_on(&mut c1);
    wait_failover_state(&mut c0, "no-failover");
    assert_eq!(lpush.read_frame().unwrap(), Frame::Integer(2));
    let pair = |a: &str, b: &str| Frame::Array(vec![bulk(a), bulk(b)]);
    assert_eq!(brpop_before.read_frame().unwrap(), pair("FOO_LIST", "BAR1"));
    assert_eq!(brpop_after.read_frame().unwrap(), pair("FOO_LIST", "BAR2"));

    must(&mut c1, &["CONFIG", "SET", "requirepass", ""]);
    wait_synced(&n0, &[&n1, &n2]);
    assert_eq!(roles(&[&n0, &n1, &n2]), ["master", "slave", "slave"]);
    let (partial, full) = syncs(&n0);
    assert_eq!(partial - partial0, 2, "both replicas follow the new id");
    assert_eq!(full - full0, 0);
    let line = format!(
        "FAILOVER to 127.0.0.1:{} aborted: Failover target rejected psync request",
        port(&n1)
    );
    assert_eq!(count_log_lines(&line), 1);
    assert_same_digest(&[&n0, &n1, &n2]);
}
