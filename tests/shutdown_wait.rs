//! SHUTDOWN waiting for lagging replicas (Redis 7's graceful shutdown) on
//! in-process handoff pairs over real sockets: writes from other clients
//! are held (not refused) during the wait, the primary exits once the
//! replica has every acknowledged write or after `shutdown-timeout`, NOW
//! skips the wait, ABORT cancels it and the held writes then run. A lagging
//! replica is one "stopped" under CLIENT PAUSE ALL (`common::nodes`); the
//! binary's SIGTERM path and the comparison with redis-server are in
//! `shutdown_vs_redis.rs`.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{
    assert_closed, assert_no_reply, capture_logs, count_log_lines, field, node, port, replicate,
    send, stop, wait_blocked, wait_resumed, wait_synced,
};
use common::workload::{must, wait_for};
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";

/// A primary with `shutdown-timeout secs` and one replica of it, in sync.
fn pair_with_timeout(secs: u64) -> (TestServer, TestServer) {
    let p = TestServer::with(|c| {
        c.repl_diskless_sync_delay = 0;
        c.shutdown_timeout = secs;
    });
    let r = node();
    replicate(&r, &p);
    wait_synced(&p, &[&r]);
    (p, r)
}

/// Waits until `s` accepts no more connections (its loop returned).
fn wait_stopped(s: &TestServer, within: Duration) {
    let deadline = Instant::now() + within;
    while Connection::connect(s.addr()).is_ok() {
        assert!(Instant::now() < deadline, "the primary is still running");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn still_running(s: &TestServer) {
    assert_eq!(call(&mut s.connect(), &["PING"]), simple("PONG"));
}

/// Sends SHUTDOWN `args` on a new connection and waits for the server to
/// close it; returns when the command was sent.
fn shutdown_closing(s: &TestServer, args: &[&str]) -> Instant {
    let started = Instant::now();
    let mut c = s.connect();
    let mut cmd = vec!["SHUTDOWN"];
    cmd.extend_from_slice(args);
    send(&mut c, &cmd);
    assert_closed(&mut c);
    started
}

/// Asserts that less than a second passed since `started`: no wait.
fn within_a_second(started: Instant) {
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

/// Sends SHUTDOWN `args` on a new connection and checks it gets no reply
/// (it waits).
fn waiting_shutdown(p: &TestServer, args: &[&str]) -> Connection {
    let mut c = p.connect();
    let mut cmd = vec!["SHUTDOWN"];
    cmd.extend_from_slice(args);
    send(&mut c, &cmd);
    assert_no_reply(&mut c, 200);
    c
}

#[test]
fn writes_are_held_not_refused_while_shutdown_waits_and_the_replica_gets_every_acknowledged_write()
{
    let (p, r) = pair_with_timeout(10);
    let mut a = p.connect();
    let stall = Instant::now();
    stop(&r, 1500);
    assert_eq!(call(&mut a, &["SET", "acked", "1"]), simple("OK"));
    let mut sd = waiting_shutdown(&p, &[]);
    let mut w = p.connect();
    send(&mut w, &["SET", "held", "1"]);
    assert_no_reply(&mut w, 200);
    // Reads still run; INFO shows the hold.
    assert_eq!(call(&mut a, &["GET", "acked"]), bulk("1"));
    assert_eq!(
        field(&mut a, "clients", "paused_reason"),
        "shutdown_in_progress"
    );
    assert_eq!(field(&mut a, "clients", "paused_actions"), "write");
    assert_eq!(field(&mut a, "clients", "blocked_clients"), "2");
    // The replica resumes, catches up and acknowledges: the primary exits,
    // the waiting caller and the held writer see the connection close.
    wait_stopped(&p, Duration::from_secs(8));
    let took = stall.elapsed();
    assert!(
        took >= Duration::from_millis(1450),
        "exited {took:?} after the stall began, before the replica resumed"
    );
    let after = took - Duration::from_millis(1500);
    eprintln!("exited {after:?} after the replica resumed (its answer to the GETACK)");
    assert!(
        after < Duration::from_millis(1500),
        "exited {after:?} after the replica resumed"
    );
    assert_closed(&mut sd);
    assert_closed(&mut w);
    wait_resumed(&r);
    let mut rc = r.connect();
    assert_eq!(call(&mut rc, &["GET", "acked"]), bulk("1"));
    assert_eq!(
        call(&mut rc, &["GET", "held"]),
        Frame::NullBulk,
        "a held write never ran"
    );
}

#[test]
fn with_the_replica_stalled_past_shutdown_timeout_the_primary_exits_after_the_timeout() {
    capture_logs();
    let (p, r) = pair_with_timeout(1);
    stop(&r, 6000);
    must(&mut p.connect(), &["SET", "k", "v"]);
    let started = Instant::now();
    let mut sd = waiting_shutdown(&p, &[]);
    wait_stopped(&p, Duration::from_secs(5));
    let took = started.elapsed();
    eprintln!("exited {took:?} after SHUTDOWN with shutdown-timeout 1");
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(4000),
        "exited after {took:?} with shutdown-timeout 1"
    );
    assert_closed(&mut sd);
    let lagging = format!("Lagging replica 127.0.0.1:{} reported offset ", port(&r));
    assert!(count_log_lines(&lagging) >= 1, "no lagging-replica line");
    assert!(count_log_lines("0 of 1 replicas are in sync when shutting down.") >= 1);
}

#[test]
fn shutdown_now_skips_the_wait() {
    let (p, r) = pair_with_timeout(10);
    stop(&r, 4000);
    must(&mut p.connect(), &["SET", "k", "v"]);
    let started = shutdown_closing(&p, &["NOW"]);
    wait_stopped(&p, Duration::from_secs(2));
    within_a_second(started);
}

#[test]
fn shutdown_timeout_zero_does_not_wait() {
    let (p, r) = pair_with_timeout(0);
    stop(&r, 4000);
    must(&mut p.connect(), &["SET", "k", "v"]);
    within_a_second(shutdown_closing(&p, &[]));
}

#[test]
fn a_primary_whose_replicas_are_in_sync_exits_at_once() {
    let (p, _r) = pair_with_timeout(10);
    must(&mut p.connect(), &["SET", "k", "v"]);
    let mut probe = p.connect();
    wait_for(10, "the replica's ACK of the write", || {
        let info = common::nodes::info_text(&mut probe, "replication");
        let master = info
            .lines()
            .find_map(|l| l.strip_prefix("master_repl_offset:"))
            .unwrap_or("")
            .to_string();
        info.contains(&format!(",offset={master},"))
    });
    within_a_second(shutdown_closing(&p, &[]));
}

#[test]
fn shutdown_abort_cancels_the_wait_and_the_held_writes_then_run() {
    capture_logs();
    let (p, r) = pair_with_timeout(10);
    let mut a = p.connect();
    stop(&r, 3000);
    must(&mut a, &["SET", "k1", "v1"]);
    let mut sd = waiting_shutdown(&p, &[]);
    let mut w = p.connect();
    send(&mut w, &["SET", "k2", "v2"]);
    assert_no_reply(&mut w, 100);
    // A second SHUTDOWN, whatever its options, waits with the first.
    let mut sd2 = waiting_shutdown(&p, &["NOSAVE", "NOW"]);
    wait_blocked(&mut a, 3);
    assert_eq!(
        call(&mut a, &["SHUTDOWN", "ABORT", "NOW"]),
        err("ERR syntax error")
    );
    assert_eq!(call(&mut a, &["SHUTDOWN", "ABORT"]), simple("OK"));
    assert_eq!(sd.read_frame().unwrap(), err(SHUTDOWN_FAILED));
    assert_eq!(sd2.read_frame().unwrap(), err(SHUTDOWN_FAILED));
    assert_eq!(w.read_frame().unwrap(), simple("OK"), "the held write ran");
    assert_eq!(call(&mut a, &["GET", "k2"]), bulk("v2"));
    assert_eq!(
        call(&mut a, &["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    assert_eq!(field(&mut a, "clients", "paused_reason"), "none");
    assert!(count_log_lines("Shutdown manually aborted.") >= 1);
    // The callers go on as ordinary clients.
    assert_eq!(call(&mut sd, &["PING"]), simple("PONG"));
    still_running(&p);
    wait_resumed(&r);
    wait_synced(&p, &[&r]);
    assert_eq!(call(&mut r.connect(), &["GET", "k2"]), bulk("v2"));
}

#[test]
fn client_unblock_does_not_release_a_waiting_shutdown() {
    let (p, r) = pair_with_timeout(10);
    let mut a = p.connect();
    stop(&r, 3000);
    must(&mut a, &["SET", "k", "v"]);
    let mut sd = p.connect();
    let Frame::Integer(id) = call(&mut sd, &["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    send(&mut sd, &["SHUTDOWN"]);
    assert_no_reply(&mut sd, 200);
    let id = id.to_string();
    assert_eq!(call(&mut a, &["CLIENT", "UNBLOCK", &id]), Frame::Integer(0));
    assert_eq!(
        call(&mut a, &["CLIENT", "UNBLOCK", &id, "ERROR"]),
        Frame::Integer(0)
    );
    assert_no_reply(&mut sd, 100);
    assert_eq!(call(&mut a, &["SHUTDOWN", "ABORT"]), simple("OK"));
    assert_eq!(sd.read_frame().unwrap(), err(SHUTDOWN_FAILED));
}

#[test]
fn a_failed_final_save_cancels_the_wait_with_redis_error_and_force_exits_anyway() {
    capture_logs();
    let p = TestServer::with(|c| {
        c.repl_diskless_sync_delay = 0;
        c.dbfilename = "no-such-dir/dump.rdb".into();
    });
    let r = node();
    replicate(&r, &p);
    wait_synced(&p, &[&r]);
    let mut a = p.connect();
    stop(&r, 1000);
    must(&mut a, &["SET", "k", "v"]);
    let mut sd = waiting_shutdown(&p, &["SAVE"]);
    let mut w = p.connect();
    send(&mut w, &["SET", "held", "1"]);
    // The replica catches up, the save fails: the caller gets the error and
    // the held write runs.
    sd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(sd.read_frame().unwrap(), err(SHUTDOWN_FAILED));
    assert_eq!(w.read_frame().unwrap(), simple("OK"));
    assert!(count_log_lines("Error trying to save the DB, can't exit.") >= 1);
    assert!(
        count_log_lines(
            "Errors trying to shut down the server. Check the logs for more information."
        ) >= 1
    );
    still_running(&p);
    // Without a wait the failure is immediate.
    assert_eq!(
        call(&mut a, &["SHUTDOWN", "SAVE", "NOW"]),
        err(SHUTDOWN_FAILED)
    );
    let mut f = p.connect();
    send(&mut f, &["SHUTDOWN", "SAVE", "FORCE"]);
    assert_closed(&mut f);
    wait_stopped(&p, Duration::from_secs(5));
    assert!(count_log_lines("Error trying to save the DB. Exit anyway.") >= 1);
}

#[test]
fn a_replica_without_replicas_of_its_own_shuts_down_at_once() {
    let (p, r) = pair_with_timeout(10);
    stop(&p, 2000);
    within_a_second(shutdown_closing(&r, &[]));
}
