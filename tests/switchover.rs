//! FAILOVER between handoff servers in one process, over real sockets: the
//! role change with a partial resync, the write pause and what held
//! clients get afterwards (-REDIRECT, READONLY, or execution after an
//! abort), CLIENT PAUSE, and the FAILOVER errors of switchover-spec.md §2.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{node, num, pair, port, role, wait_failover_state};
use common::workload::{info_field, must, wait_for, wait_link_up};
use common::{bulk, err, simple};
use handoff::protocol::{Connection, Frame};

fn wait_no_failover(c: &mut Connection) {
    wait_failover_state(c, "no-failover");
}

#[test]
fn failover_hands_the_primary_role_to_the_replica_with_a_partial_resync() {
    let (p, r) = pair();
    let mut pc = p.connect();
    let mut rc = r.connect();
    for i in 0..100 {
        must(&mut pc, &["SET", &format!("k{i}"), &i.to_string()]);
    }
    let started = Instant::now();
    assert_eq!(must(&mut pc, &["FAILOVER"]), simple("OK"));
    wait_no_failover(&mut pc);
    let took = started.elapsed();
    assert_eq!(role(&mut pc), "slave");
    assert_eq!(role(&mut rc), "master");
    wait_link_up(&mut pc, "replica");
    assert_eq!(num(&mut rc, "stats", "sync_partial_ok"), 1);
    assert_eq!(num(&mut rc, "stats", "sync_full"), 0);
    assert_eq!(must(&mut rc, &["GET", "k99"]), bulk("99"));
    assert!(
        took < Duration::from_secs(1),
        "the switch waited for no periodic ACK: {took:?}"
    );
    // And back again.
    assert_eq!(must(&mut rc, &["FAILOVER"]), simple("OK"));
    wait_no_failover(&mut rc);
    assert_eq!(role(&mut pc), "master");
    assert_eq!(role(&mut rc), "slave");
}

#[test]
fn a_redirect_capable_write_held_by_the_failover_is_redirected_to_the_new_primary() {
    let (p, r) = pair();
    let mut pc = p.connect();
    let mut capa = p.connect();
    must(&mut capa, &["CLIENT", "CAPA", "redirect"]);
    // A client paused first so the FAILOVER's hold is observable.
    must(&mut pc, &["CLIENT", "PAUSE", "300", "WRITE"]);
    capa.send(&["SET", "held", "1"]).unwrap();
    capa.flush().unwrap();
    wait_for(5, "the SET to be held", || {
        num(&mut pc, "clients", "blocked_clients") == 1
    });
    must(&mut pc, &["FAILOVER"]);
    wait_no_failover(&mut pc);
    let reply = capa.read_frame().unwrap();
    assert_eq!(reply, err(&format!("REDIRECT 127.0.0.1:{}", port(&r))));
    // A plain client gets Valkey's READONLY for writes, reads are served.
    let mut plain = p.connect();
    assert_eq!(
        plain.call(&["SET", "x", "1"]).unwrap(),
        err("READONLY You can't write against a read only replica.")
    );
    assert_eq!(must(&mut plain, &["GET", "held"]), Frame::NullBulk);
}

#[test]
fn failover_errors_match_valkey() {
    let lone = node();
    let mut c = lone.connect();
    assert_eq!(
        c.call(&["FAILOVER"]).unwrap(),
        err("ERR FAILOVER requires connected replicas.")
    );
    assert_eq!(
        c.call(&["FAILOVER", "ABORT"]).unwrap(),
        err("ERR No failover in progress.")
    );
    assert_eq!(
        c.call(&["FAILOVER", "ABORT", "TIMEOUT", "5"]).unwrap(),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["FAILOVER", "TIMEOUT", "0"]).unwrap(),
        err("ERR FAILOVER timeout must be greater than 0")
    );
    assert_eq!(
        c.call(&["FAILOVER", "TIMEOUT", "x"]).unwrap(),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["FAILOVER", "TO", "h"]).unwrap(),
        err("ERR syntax error")
    );
    let (p, r) = pair();
    let mut pc = p.connect();
    let mut rc = r.connect();
    assert_eq!(
        pc.call(&["FAILOVER", "FORCE", "TIMEOUT", "100"]).unwrap(),
        err("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
    );
    assert_eq!(
        pc.call(&["FAILOVER", "TO", "localhost", &port(&r)])
            .unwrap(),
        err("ERR FAILOVER target HOST and PORT is not a replica.")
    );
    assert_eq!(
        rc.call(&["FAILOVER"]).unwrap(),
        err("ERR FAILOVER is not valid when server is a replica.")
    );
}

#[test]
fn client_pause_write_holds_writes_serves_reads_and_releases_in_order() {
    let s = node();
    let mut admin = s.connect();
    let mut w = s.connect();
    must(&mut admin, &["SET", "k", "v"]);
    must(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    assert_eq!(
        info_field(&mut admin, "clients", "paused_actions").as_deref(),
        Some("write")
    );
    w.send(&["SET", "k", "1"]).unwrap();
    w.send(&["INCR", "k"]).unwrap();
    w.flush().unwrap();
    let mut r = s.connect();
    assert_eq!(must(&mut r, &["GET", "k"]), bulk("v"));
    wait_for(5, "the SET to be held", || {
        num(&mut admin, "clients", "blocked_clients") == 1
    });
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "10", "bogus"]).unwrap(),
        err("ERR CLIENT PAUSE mode must be WRITE or ALL")
    );
    must(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(w.read_frame().unwrap(), simple("OK"));
    assert_eq!(w.read_frame().unwrap(), Frame::Integer(2));
    assert_eq!(
        info_field(&mut admin, "clients", "paused_reason").as_deref(),
        Some("none")
    );
}

#[test]
fn a_blocking_command_held_by_a_pause_keeps_its_own_timeout() {
    let s = node();
    let mut admin = s.connect();
    let mut b = s.connect();
    must(&mut admin, &["CLIENT", "PAUSE", "300", "WRITE"]);
    let sent = Instant::now();
    assert_eq!(
        b.call(&["BLPOP", "nothing", "0.2"]).unwrap(),
        Frame::NullArray
    );
    let took = sent.elapsed();
    assert!(
        took < Duration::from_millis(480),
        "released with its timeout already spent: {took:?}"
    );
}

/// Issue 5's in-process acceptance: 8 connections of the project's own
/// following client (half RESP2 with `CLIENT CAPA redirect`, half RESP3 with
/// maintenance notifications too) doing reads, writes and INCRs through 10
/// FAILOVERs back and forth.
#[test]
fn eight_following_clients_ride_ten_failovers_back_and_forth_with_zero_errors() {
    use handoff::protocol::follow::{FollowConfig, FollowingClient};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let (a, b) = pair();
    let full_a = num(&mut a.connect(), "stats", "sync_full");
    let full_b = num(&mut b.connect(), "stats", "sync_full");
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let stop = stop.clone();
            let endpoint = a.addr().to_string();
            std::thread::spawn(move || {
                let config = FollowConfig {
                    resp3: w % 2 == 1,
                    maint_notifications: w % 2 == 1,
                    client_name: Some(format!("worker{w}")),
                    ..FollowConfig::default()
                };
                let mut c = FollowingClient::connect(endpoint, config).unwrap();
                let mut errors = Vec::new();
                let mut incrs = 0i64;
                let mut acked: HashMap<String, String> = HashMap::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let key = format!("w{w}:k{}", i % 50);
                    let val = i.to_string();
                    match c.call(&["SET", &key, &val]) {
                        Ok(Frame::Simple(_)) => {
                            acked.insert(key.clone(), val.clone());
                        }
                        other => errors.push(format!("SET {other:?}")),
                    }
                    match c.call(&["GET", &key]) {
                        Ok(Frame::Bulk(v)) if v == val.as_bytes() => {}
                        other => errors.push(format!("GET {key} {other:?} want {val}")),
                    }
                    match c.call(&["INCR", "total"]) {
                        Ok(Frame::Integer(_)) => incrs += 1,
                        other => errors.push(format!("INCR {other:?}")),
                    }
                }
                (errors, incrs, acked)
            })
        })
        .collect();
    let nodes = [&a, &b];
    for i in 0..10 {
        std::thread::sleep(Duration::from_millis(150));
        let (from, to) = (nodes[i % 2], nodes[(i + 1) % 2]);
        let mut fc = from.connect();
        let partial_before = num(&mut to.connect(), "stats", "sync_partial_ok");
        assert_eq!(
            must(&mut fc, &["FAILOVER", "TIMEOUT", "5000"]),
            simple("OK")
        );
        wait_no_failover(&mut fc);
        assert_eq!(role(&mut fc), "slave", "failover {i}");
        let mut tc = to.connect();
        assert_eq!(role(&mut tc), "master", "failover {i}");
        wait_for(20, "the demoted primary to rejoin", || {
            info_field(&mut tc, "replication", "slave0").is_some_and(|l| l.contains("state=online"))
        });
        assert_eq!(
            num(&mut tc, "stats", "sync_partial_ok"),
            partial_before + 1,
            "failover {i}: the demoted primary continued with +CONTINUE"
        );
    }
    std::thread::sleep(Duration::from_millis(150));
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut primary = a.connect();
    assert_eq!(role(&mut primary), "master");
    for w in workers {
        let (errors, incrs, acked) = w.join().unwrap();
        assert_eq!(errors, Vec::<String>::new());
        total += incrs;
        for (k, v) in acked {
            assert_eq!(must(&mut primary, &["GET", &k]), bulk(&v), "{k}");
        }
    }
    assert!(total > 0);
    assert_eq!(
        must(&mut primary, &["GET", "total"]),
        bulk(&total.to_string())
    );
    assert_eq!(
        (full_a, full_b),
        (
            num(&mut a.connect(), "stats", "sync_full"),
            num(&mut b.connect(), "stats", "sync_full")
        ),
        "no full sync after the first one"
    );
}

/// Reads frames until a push arrives; returns it with its exact bytes.
fn next_push(c: &mut Connection) -> (Frame, bytes::Bytes) {
    loop {
        let (frame, raw) = c.read_raw_frame().unwrap();
        if raw.starts_with(b">") {
            return (frame, raw);
        }
    }
}

#[test]
fn a_maint_connection_gets_moving_with_exact_bytes_before_the_switch_and_after_it() {
    let (p, r) = pair();
    let target = format!("127.0.0.1:{}", port(&r));
    let mut resp2 = p.connect();
    assert_eq!(
        resp2
            .call(&["CLIENT", "MAINT_NOTIFICATIONS", "ON"])
            .unwrap(),
        err("ERR CLIENT MAINT_NOTIFICATIONS requires RESP3 (HELLO 3)")
    );
    let mut sch = p.connect();
    must(&mut sch, &["HELLO", "3"]);
    let on = [
        "CLIENT",
        "MAINT_NOTIFICATIONS",
        "ON",
        "moving-endpoint-type",
        "internal-ip",
    ];
    assert_eq!(must(&mut sch, &on), simple("OK"));
    let mut admin = p.connect();
    must(&mut admin, &["FAILOVER"]);
    let (_, raw) = next_push(&mut sch);
    let want = format!(
        ">4\r\n$6\r\nMOVING\r\n:1\r\n:15\r\n${}\r\n{target}\r\n",
        target.len()
    );
    assert_eq!(raw, want.as_bytes(), "{}", String::from_utf8_lossy(&raw));
    wait_no_failover(&mut admin);
    // A moved connection's next keyspace command is not run: the
    // connection closes (the client retries where MOVING said).
    sch.send(&["SET", "after", "1"]).unwrap();
    sch.flush().unwrap();
    assert!(sch.read_frame().is_err(), "closed without a reply");
    assert_eq!(
        must(&mut r.connect(), &["EXISTS", "after"]),
        Frame::Integer(0)
    );
    // A late maint connection to the demoted node is told at once, with a
    // fresh sequence id.
    let mut late = p.connect();
    must(&mut late, &["HELLO", "3"]);
    assert_eq!(must(&mut late, &on), simple("OK"));
    let (push, _) = next_push(&mut late);
    let Frame::Push(parts) = push else {
        panic!("{push:?}")
    };
    assert_eq!(parts[0], bulk("MOVING"));
    assert!(
        matches!(parts[1], Frame::Integer(seq) if seq > 1),
        "{parts:?}"
    );
    assert_eq!(parts[3], bulk(&target));
    let mut none = p.connect();
    must(&mut none, &["HELLO", "3"]);
    let on_none = [
        "CLIENT",
        "MAINT_NOTIFICATIONS",
        "ON",
        "moving-endpoint-type",
        "none",
    ];
    assert_eq!(must(&mut none, &on_none), simple("OK"));
    assert_eq!(must(&mut none, &["PING"]), simple("PONG"));
    assert!(none.pushes().is_empty(), "a null MOVING only when floating");
}
