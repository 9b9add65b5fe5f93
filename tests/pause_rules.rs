//! CLIENT PAUSE and UNPAUSE as Valkey's pause tests check them
//! (switchover-spec.md §5, pause.tcl, with the newer INFO fields,
//! eviction and RANDOMKEY cases, and the standalone counterpart of the
//! cluster failover one): what a WRITE pause holds and what it serves, how
//! two pauses combine, held clients released in order, expiry suspended,
//! a pause issued inside a transaction, and a paused replica that reads its
//! primary's stream without applying it. In-process servers, real sockets.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{
    assert_no_reply, blocked_clients, field, node, num, pair, send, stop, wait_blocked,
    wait_failover_state, wait_resumed,
};
use common::workload::{must, repl_offset, wait_for};
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

/// Exact used memory, so that maxmemory (the eviction test) has effect
/// in-process as in the `handoff-server` binary.
#[global_allocator]
static ALLOC: handoff_server::alloc::CountingAlloc = handoff_server::alloc::CountingAlloc;

fn paused(c: &mut Connection) -> (String, String, i64) {
    (
        field(c, "clients", "paused_reason"),
        field(c, "clients", "paused_actions"),
        num(c, "clients", "paused_timeout_milliseconds"),
    )
}

fn none() -> (String, String, i64) {
    ("none".into(), "none".into(), 0)
}

fn array(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// [NEWER] Valkey 8.1's INFO clients fields.
#[test]
fn info_clients_shows_the_pause_reason_actions_and_time_left() {
    let s = node();
    let mut c = s.connect();
    assert_eq!(paused(&mut c), none());
    must(&mut c, &["CLIENT", "PAUSE", "10000", "WRITE"]);
    let (reason, actions, left) = paused(&mut c);
    assert_eq!(
        (reason.as_str(), actions.as_str()),
        ("client_pause", "write")
    );
    assert!(left > 0 && left <= 10_000, "{left}");
    std::thread::sleep(Duration::from_millis(30));
    let (_, _, later) = paused(&mut c);
    assert!(
        later > 0 && later < left,
        "the time left counts down: {later}"
    );
    must(&mut c, &["CLIENT", "UNPAUSE"]);

    // The pause registers inside the transaction, so its INFO shows it.
    must(&mut c, &["MULTI"]);
    must(&mut c, &["CLIENT", "PAUSE", "200", "ALL"]);
    must(&mut c, &["INFO", "clients"]);
    let exec = must(&mut c, &["EXEC"]);
    let info = exec.as_array().unwrap()[1].to_string_lossy();
    assert!(info.contains("paused_reason:client_pause"), "{info}");
    assert!(info.contains("paused_actions:all"), "{info}");
    // Under ALL this UNPAUSE itself waits for the pause to end.
    must(&mut c, &["CLIENT", "UNPAUSE"]);
    assert_eq!(paused(&mut c), none());
}

#[test]
fn reads_are_not_held_by_a_write_pause() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["GET", "FOO"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["PING"]), simple("PONG"));
    assert!(matches!(call(&mut c, &["INFO"]), Frame::Bulk(_)));
    assert_eq!(blocked_clients(&mut admin), 0);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
}

/// Two pauses issued together (inside one transaction, so that the second
/// is not itself held by the first): WRITE for 20 ms while ALL holds for
/// 200 ms stays ALL until 200 ms.
#[test]
fn an_older_pause_all_outlasts_a_newer_shorter_pause_write() {
    let s = node();
    let mut admin = s.connect();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "FOO", "BAR"]), simple("OK"));
    must(&mut admin, &["MULTI"]);
    must(&mut admin, &["CLIENT", "PAUSE", "200", "ALL"]);
    must(&mut admin, &["CLIENT", "PAUSE", "20", "WRITE"]);
    must(&mut admin, &["EXEC"]);
    let paused_at = Instant::now();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(call(&mut c, &["GET", "FOO"]), bulk("BAR"));
    let waited = paused_at.elapsed();
    assert!(
        waited >= Duration::from_millis(190),
        "a read was served under the ALL pause after {waited:?}"
    );
}

#[test]
fn a_newer_shorter_pause_keeps_the_older_end() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    must(&mut admin, &["CLIENT", "PAUSE", "10", "WRITE"]);
    std::thread::sleep(Duration::from_millis(50));
    let mut w = s.connect();
    send(&mut w, &["SET", "FOO", "BAR"]);
    wait_blocked(&mut admin, 1);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(w.read_frame().unwrap(), simple("OK"));
}

#[test]
fn writes_are_held_by_a_write_pause_and_run_after_unpause() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    let mut w = s.connect();
    send(&mut w, &["SET", "FOO", "BAR"]);
    wait_blocked(&mut admin, 1);
    assert_no_reply(&mut w, 20);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(w.read_frame().unwrap(), simple("OK"));
}

#[test]
fn pfcount_and_publish_are_held_by_a_write_pause() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["PFADD", "pause-hll", "test"]);
    must(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    // PFCOUNT may write its cache; PUBLISH goes into the stream.
    let mut pfcount = s.connect();
    send(&mut pfcount, &["PFCOUNT", "pause-hll"]);
    wait_blocked(&mut admin, 1);
    let mut publish = s.connect();
    send(&mut publish, &["PUBLISH", "foo", "bar"]);
    wait_blocked(&mut admin, 2);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(pfcount.read_frame().unwrap(), Frame::Integer(1));
    assert_eq!(publish.read_frame().unwrap(), Frame::Integer(0));
}

#[test]
fn a_transaction_of_reads_and_admin_commands_is_not_held() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["SET", "FOO", "BAR"]);
    must(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["MULTI"]), simple("OK"));
    assert_eq!(call(&mut c, &["PING"]), simple("QUEUED"));
    assert_eq!(call(&mut c, &["GET", "FOO"]), simple("QUEUED"));
    assert_eq!(
        call(&mut c, &["EXEC"]),
        array(vec![simple("PONG"), bulk("BAR")])
    );
    assert_eq!(blocked_clients(&mut admin), 0);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
}

#[test]
fn a_transaction_with_a_write_is_held_at_exec() {
    let s = node();
    let mut admin = s.connect();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["MULTI"]), simple("OK"));
    assert_eq!(call(&mut c, &["SET", "FOO", "BAR"]), simple("QUEUED"));
    must(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    send(&mut c, &["EXEC"]);
    wait_blocked(&mut admin, 1);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(c.read_frame().unwrap(), array(vec![simple("OK")]));
}

#[test]
fn scripts_that_may_write_are_held() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    let mut plain = s.connect();
    send(&mut plain, &["EVAL", "return 1", "0"]);
    // A shebang without flags declares a script that may write.
    let mut shebang = s.connect();
    send(&mut shebang, &["EVAL", "#!lua\nreturn 1", "0"]);
    wait_blocked(&mut admin, 2);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(plain.read_frame().unwrap(), Frame::Integer(1));
    assert_eq!(shebang.read_frame().unwrap(), Frame::Integer(1));
}

#[test]
fn read_only_scripts_are_not_held() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["SET", "x", "y"]);
    must(
        &mut admin,
        &[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=f1\nredis.register_function{function_name='f1', \
             callback=function() return 'hello' end, flags={'no-writes'}}",
        ],
    );
    must(&mut admin, &["CLIENT", "PAUSE", "6000000", "WRITE"]);
    let mut c = s.connect();
    let no_writes = "#!lua flags=no-writes\nreturn 'a script seen once'";
    // Not in the script cache yet, then cached.
    for _ in 0..2 {
        assert_eq!(
            call(&mut c, &["EVAL", no_writes, "0"]),
            bulk("a script seen once")
        );
    }
    assert_eq!(
        call(
            &mut c,
            &[
                "EVAL_RO",
                "return redis.call('GET', KEYS[1])..' read'",
                "1",
                "x"
            ]
        ),
        bulk("y read")
    );
    let sha = must(
        &mut c,
        &["SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 2"],
    );
    let sha = String::from_utf8(sha.as_bytes().unwrap().to_vec()).unwrap();
    assert_eq!(call(&mut c, &["EVALSHA", &sha, "0"]), Frame::Integer(2));
    assert_eq!(call(&mut c, &["FCALL", "f1", "0"]), bulk("hello"));
    assert_eq!(blocked_clients(&mut admin), 0);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
}

#[test]
fn read_only_scripts_in_a_transaction_are_not_held() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["MULTI"]), simple("OK"));
    for n in ["12", "13"] {
        let script = format!("#!lua flags=no-writes\nreturn {n}");
        assert_eq!(call(&mut c, &["EVAL", &script, "0"]), simple("QUEUED"));
    }
    assert_eq!(
        call(&mut c, &["EXEC"]),
        array(vec![Frame::Integer(12), Frame::Integer(13)])
    );
    assert_eq!(blocked_clients(&mut admin), 0);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
}

#[test]
fn write_scripts_in_a_transaction_are_held_at_exec() {
    let s = node();
    let mut admin = s.connect();
    let mut shebang = s.connect();
    let mut plain = s.connect();
    for (c, script) in [
        (&mut shebang, "#!lua\nreturn 12"),
        (&mut plain, "return 13"),
    ] {
        assert_eq!(call(c, &["MULTI"]), simple("OK"));
        assert_eq!(call(c, &["EVAL", script, "0"]), simple("QUEUED"));
    }
    must(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    send(&mut shebang, &["EXEC"]);
    send(&mut plain, &["EXEC"]);
    wait_blocked(&mut admin, 2);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(
        shebang.read_frame().unwrap(),
        array(vec![Frame::Integer(12)])
    );
    assert_eq!(plain.read_frame().unwrap(), array(vec![Frame::Integer(13)]));
}

/// What makes CLIENT PAUSE WRITE safe to skip for read-only scripts.
#[test]
fn read_only_scripts_may_not_publish() {
    let s = node();
    let mut c = s.connect();
    let refused = "ERR Write commands are not allowed from read-only scripts. script:";
    let publish = "return redis.call('publish','ch','msg')";
    for args in [
        vec!["EVAL_RO", publish, "0"],
        vec![
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('publish','ch','msg')",
            "0",
        ],
    ] {
        let reply = call(&mut c, &args);
        let text = String::from_utf8_lossy(reply.error_text().unwrap_or_default()).into_owned();
        assert!(text.starts_with(refused), "{args:?}: {reply:?}");
    }
    assert_eq!(call(&mut c, &["EVAL", publish, "0"]), Frame::Integer(0));
}

#[test]
fn several_held_clients_are_all_released_by_unpause() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    let mut clients: Vec<Connection> = (0..3).map(|_| s.connect()).collect();
    for c in clients.iter_mut() {
        send(c, &["SET", "FOO", "BAR"]);
    }
    wait_blocked(&mut admin, 3);
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    for c in clients.iter_mut() {
        assert_eq!(c.read_frame().unwrap(), simple("OK"));
    }
}

#[test]
fn a_command_with_the_wrong_arity_is_answered_during_a_pause() {
    let s = node();
    let mut admin = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    assert_eq!(
        call(&mut s.connect(), &["SET", "FOO"]),
        err("ERR wrong number of arguments for 'set' command")
    );
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
}

/// [NEWER] Eviction waits for the end of a pause: CONFIG SET maxmemory
/// starts eviction from the event loop, which finds writes paused and
/// stops; the first command after UNPAUSE evicts.
#[test]
fn eviction_waits_for_the_end_of_a_pause() {
    handoff_server::alloc::CountingAlloc::activate();
    let s = node();
    let mut c = s.connect();
    let evicted = num(&mut c, "stats", "evicted_keys");
    must(&mut c, &["MULTI"]);
    must(&mut c, &["SET", "foo", "bar"]);
    must(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
    );
    must(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    must(&mut c, &["CLIENT", "PAUSE", "50000", "WRITE"]);
    must(&mut c, &["EXEC"]);
    assert_eq!(num(&mut c, "stats", "evicted_keys"), evicted);
    must(&mut c, &["CLIENT", "UNPAUSE"]);
    wait_for(10, "the key to be evicted", || {
        num(&mut c, "stats", "evicted_keys") == evicted + 1
    });
    must(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
}

#[test]
fn expiry_is_suspended_during_a_pause_and_resumes_after() {
    let s = node();
    let mut c = s.connect();
    let expired = num(&mut c, "stats", "expired_keys");
    must(&mut c, &["MULTI"]);
    must(&mut c, &["SET", "foo", "bar", "PX", "10"]);
    must(&mut c, &["SET", "bar", "foo", "PX", "10"]);
    must(&mut c, &["CLIENT", "PAUSE", "50000", "WRITE"]);
    must(&mut c, &["EXEC"]);
    wait_for(5, "the keys to read as expired", || {
        call(&mut c, &["GET", "foo"]).is_null() && call(&mut c, &["GET", "bar"]).is_null()
    });
    // Hidden from reads, but not deleted: neither lazily nor actively.
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(num(&mut c, "stats", "expired_keys"), expired);
    assert_eq!(must(&mut c, &["DBSIZE"]), Frame::Integer(2));
    must(&mut c, &["CLIENT", "UNPAUSE"]);
    assert!(call(&mut c, &["GET", "foo"]).is_null());
    assert!(call(&mut c, &["GET", "bar"]).is_null());
    assert_eq!(num(&mut c, "stats", "expired_keys"), expired + 2);
}

#[test]
fn a_pause_issued_inside_a_transaction_starts_after_exec() {
    let s = node();
    let mut c = s.connect();
    must(&mut c, &["MULTI"]);
    must(&mut c, &["SET", "FOO1", "BAR"]);
    must(&mut c, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    must(&mut c, &["SET", "FOO2", "BAR"]);
    assert_eq!(
        must(&mut c, &["EXEC"]),
        array(vec![simple("OK"), simple("OK"), simple("OK")])
    );
    let mut w = s.connect();
    send(&mut w, &["SET", "FOO3", "BAR"]);
    wait_blocked(&mut c, 1);
    assert_eq!(call(&mut c, &["GET", "FOO1"]), bulk("BAR"));
    assert_eq!(call(&mut c, &["GET", "FOO2"]), bulk("BAR"));
    assert_eq!(call(&mut c, &["GET", "FOO3"]), Frame::NullBulk);
    must(&mut c, &["CLIENT", "UNPAUSE"]);
    assert_eq!(w.read_frame().unwrap(), simple("OK"));
}

/// A replica (its primary pings it rarely, so only writes move the
/// offset) under CLIENT PAUSE WRITE with one write of the primary read but
/// not applied. Returns the primary, the replica and the replica's
/// connection that paused it.
fn paused_replica_behind() -> (TestServer, TestServer, Connection) {
    let p = TestServer::with(|c| {
        c.repl_diskless_sync_delay = 0;
        c.repl_ping_replica_period = 3600;
    });
    let r = node();
    common::nodes::replicate(&r, &p);
    let mut pc = p.connect();
    let mut rc = r.connect();
    must(&mut pc, &["SET", "foo", "bar"]);
    wait_for(10, "the replica to apply the first write", || {
        num(&mut rc, "replication", "slave_repl_offset") == repl_offset(&mut pc)
    });
    let applied = repl_offset(&mut pc);
    must(&mut rc, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    must(&mut pc, &["SET", "foo2", "bar2"]);
    let sent = repl_offset(&mut pc);
    wait_for(10, "the replica to read the second write", || {
        num(&mut rc, "replication", "slave_read_repl_offset") == sent
    });
    assert_eq!(
        num(&mut rc, "replication", "slave_repl_offset"),
        applied,
        "read but not applied"
    );
    (p, r, rc)
}

#[test]
fn a_paused_replica_reads_its_primary_stream_without_applying_it() {
    let (_p, _r, mut rc) = paused_replica_behind();
    assert_eq!(call(&mut rc, &["GET", "foo2"]), Frame::NullBulk);
    assert_eq!(call(&mut rc, &["GET", "foo"]), bulk("bar"));
}

#[test]
fn a_paused_replica_applies_what_it_read_once_unpaused() {
    let (p, _r, mut rc) = paused_replica_behind();
    must(&mut rc, &["CLIENT", "UNPAUSE"]);
    let mut pc = p.connect();
    wait_for(10, "the replica to catch up", || {
        num(&mut rc, "replication", "slave_repl_offset") == repl_offset(&mut pc)
    });
    assert_eq!(call(&mut rc, &["GET", "foo2"]), bulk("bar2"));
}

/// [NEWER] Valkey 8.1 fixed RANDOMKEY looping forever when every key is
/// logically expired and expiry is suspended: after some tries it answers
/// with an expired key (Valkey 9.1 and handoff alike), and with nothing
/// once the pause is over and the key is gone.
#[test]
fn randomkey_answers_while_every_key_is_expired_under_a_pause() {
    let s = node();
    let mut c = s.connect();
    must(&mut c, &["SET", "key", "value", "PX", "20"]);
    must(&mut c, &["CLIENT", "PAUSE", "5000", "WRITE"]);
    std::thread::sleep(Duration::from_millis(40));
    assert!(call(&mut c, &["GET", "key"]).is_null(), "logically expired");
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let reply = c.call(&["RANDOMKEY"]).expect("RANDOMKEY answers");
    assert_eq!(reply, bulk("key"));
    must(&mut c, &["CLIENT", "UNPAUSE"]);
    wait_for(5, "the expired key to go", || {
        call(&mut c, &["RANDOMKEY"]).is_null()
    });
}

/// The standalone counterpart of Valkey's cluster test of these INFO
/// fields: a FAILOVER waiting for its (stopped) target pauses writes for
/// the failover, and everything is back to none once it completed. This
/// pause has no end of its own: Valkey 9.1 prints the distance to its
/// "forever" (`LLONG_MAX` ms since the epoch) as the time left, so does
/// handoff.
#[test]
fn info_clients_shows_the_pause_of_a_failover_until_it_completes() {
    let (p, r) = pair();
    let mut pc = p.connect();
    stop(&r, 400);
    must(&mut pc, &["SET", "x", "1"]);
    must(&mut pc, &["FAILOVER"]);
    assert_eq!(
        field(&mut pc, "replication", "master_failover_state"),
        "waiting-for-sync"
    );
    let unix_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    };
    // The server reads its clock between these two readings.
    let before = unix_ms();
    let (reason, actions, left) = paused(&mut pc);
    let after = unix_ms();
    assert_eq!(
        (reason.as_str(), actions.as_str()),
        ("failover_in_progress", "write")
    );
    assert!(
        (i64::MAX - after..=i64::MAX - before).contains(&left),
        "{left}"
    );
    wait_resumed(&r);
    wait_failover_state(&mut pc, "no-failover");
    assert_eq!(field(&mut pc, "replication", "role"), "slave");
    assert_eq!(paused(&mut pc), none());
}
