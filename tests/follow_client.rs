//! The protocol crate's `FollowingClient` against real peers: a valkey-server pair whose
//! roles are swapped under load, and a handoff pair failed over back and forth, must be
//! followed through `-REDIRECT` with zero errors, exact counters, and the connection's
//! name and db kept on every new connection.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::ExternalServer;
use handoff::protocol::{Connection, FollowConfig, FollowingClient, Frame};

fn info_field(c: &mut Connection, field: &str) -> String {
    let Frame::Bulk(info) = c.call(&["INFO", "replication"]).unwrap() else {
        panic!("INFO replication is not a bulk");
    };
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn ok(c: &mut Connection, args: &[&str]) {
    let reply = c.call(args).unwrap();
    assert!(!reply.is_error(), "{args:?}: {}", reply.to_string_lossy());
}

/// Moves the primary role from `from` to `to` without losing a write: writes held on
/// `from`, `to` catches up and is promoted, `from` follows it, and the held writes are
/// released (to meet `-REDIRECT` on a capable connection).
fn swap(from: &ExternalServer, to: &ExternalServer) {
    let mut a = from.connect();
    let mut b = to.connect();
    ok(&mut a, &["CLIENT", "PAUSE", "10000", "WRITE"]);
    let offset = info_field(&mut a, "master_repl_offset");
    wait_for("the replica to catch up", || {
        info_field(&mut b, "master_repl_offset") == offset
    });
    ok(&mut b, &["REPLICAOF", "NO", "ONE"]);
    ok(&mut a, &["REPLICAOF", "127.0.0.1", &to.port.to_string()]);
    ok(&mut a, &["CLIENT", "UNPAUSE"]);
    wait_for("the demoted node's link", || {
        info_field(&mut a, "master_link_status") == "up"
    });
}

fn valkey() -> Option<ExternalServer> {
    ExternalServer::start("valkey-server", &["--repl-diskless-sync-delay", "0"])
}

#[test]
fn the_following_client_follows_valkey_redirects_through_role_swaps_with_zero_errors() {
    let Some(first) = valkey() else { return };
    let Some(second) = valkey() else { return };
    let mut b = second.connect();
    ok(&mut b, &["REPLICAOF", "127.0.0.1", &first.port.to_string()]);
    wait_for("the replica link", || {
        info_field(&mut b, "master_link_status") == "up"
    });

    let stop = Arc::new(AtomicBool::new(false));
    let endpoint = format!("127.0.0.1:{}", first.port);
    let loader = {
        let stop = stop.clone();
        thread::spawn(move || {
            let config = FollowConfig {
                client_name: Some("follower".into()),
                db: 2,
                ..FollowConfig::default()
            };
            let mut c = FollowingClient::connect(endpoint, config).unwrap();
            let mut acked = 0u64;
            let mut errors = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match c.call(&["INCR", "counter"]) {
                    Ok(Frame::Integer(n)) => {
                        acked += 1;
                        assert_eq!(n as u64, acked, "INCR skipped or repeated");
                    }
                    other => errors.push(format!("{other:?}")),
                }
            }
            (c, acked, errors)
        })
    };
    thread::sleep(Duration::from_millis(300));
    swap(&first, &second);
    thread::sleep(Duration::from_millis(300));
    swap(&second, &first);
    thread::sleep(Duration::from_millis(300));
    swap(&first, &second);
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (mut c, acked, errors) = loader.join().unwrap();

    assert_eq!(errors, Vec::<String>::new());
    assert!(acked > 0);
    assert_eq!(c.counters().redirects, 3, "{:?}", c.counters());
    assert_eq!(c.endpoint(), format!("127.0.0.1:{}", second.port));
    // The connection now open was made by a redirect: it must carry the name and db.
    let Frame::Bulk(info) = c.call(&["CLIENT", "INFO"]).unwrap() else {
        panic!("CLIENT INFO is not a bulk");
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(info.contains(" name=follower "), "{info}");
    assert!(info.contains(" db=2 "), "{info}");
    let mut primary = second.connect();
    ok(&mut primary, &["SELECT", "2"]);
    assert_eq!(
        primary.call(&["GET", "counter"]).unwrap().as_int(),
        Some(acked as i64)
    );
}

#[test]
fn the_following_client_returns_the_redirect_when_its_hops_run_out() {
    let Some(first) = valkey() else { return };
    let Some(second) = valkey() else { return };
    let mut b = second.connect();
    ok(&mut b, &["REPLICAOF", "127.0.0.1", &first.port.to_string()]);
    let config = FollowConfig {
        max_hops: 0,
        ..FollowConfig::default()
    };
    let mut c = FollowingClient::connect(format!("127.0.0.1:{}", second.port), config).unwrap();
    assert!(c.counters().capa_accepted);
    let reply = c.call(&["SET", "k", "v"]).unwrap();
    assert_eq!(
        reply.error_text(),
        Some(format!("REDIRECT 127.0.0.1:{}", first.port).as_bytes())
    );
    // With one hop allowed the same write lands on the primary.
    let mut c = FollowingClient::connect(
        format!("127.0.0.1:{}", second.port),
        FollowConfig {
            max_hops: 1,
            ..FollowConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        c.call(&["SET", "k", "v"]).unwrap(),
        Frame::Simple("OK".into())
    );
    assert_eq!(c.endpoint(), format!("127.0.0.1:{}", first.port));
}

fn handoff_server() -> common::TestServer {
    common::TestServer::with(|c| c.repl_diskless_sync_delay = 0)
}

fn replication(c: &mut Connection, field: &str) -> String {
    common::workload::info_field(c, "replication", field).unwrap_or_default()
}

/// Waits until `primary` is primary with an online replica and no failover running.
fn wait_settled(primary: &mut Connection) {
    common::workload::wait_for(20, "a settled pair", || {
        replication(primary, "role") == "master"
            && replication(primary, "master_failover_state") == "no-failover"
            && replication(primary, "slave0").contains("state=online")
    });
}

/// Four FAILOVERs back and forth of a handoff pair while a following client made with
/// `config` runs INCRs: zero errors, exact total, name and db kept. Returns its counters
/// and the endpoints it went through (for the assertion messages).
fn ride_handoff_failovers(
    config: FollowConfig,
) -> (handoff::protocol::FollowCounters, Vec<String>) {
    let a = handoff_server();
    let b = handoff_server();
    let mut bc = b.connect();
    ok(
        &mut bc,
        &["REPLICAOF", "127.0.0.1", &a.addr().port().to_string()],
    );
    wait_settled(&mut a.connect());

    let stop = Arc::new(AtomicBool::new(false));
    let endpoint = a.addr().to_string();
    let loader = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut c = FollowingClient::connect(endpoint, config).unwrap();
            let mut acked = 0u64;
            let mut errors = Vec::new();
            let mut path = vec![c.endpoint().to_string()];
            while !stop.load(Ordering::Relaxed) {
                let reply = c.call(&["INCR", "counter"]);
                if path.last().map(String::as_str) != Some(c.endpoint()) {
                    path.push(c.endpoint().to_string());
                }
                match reply {
                    Ok(Frame::Integer(n)) => {
                        acked += 1;
                        assert_eq!(n as u64, acked, "INCR skipped or repeated");
                    }
                    other => errors.push(format!("{other:?}")),
                }
            }
            (c, acked, errors, path)
        })
    };
    let nodes = [&a, &b];
    for i in 0..4 {
        thread::sleep(Duration::from_millis(200));
        let (from, to) = (nodes[i % 2], nodes[(i + 1) % 2]);
        ok(&mut from.connect(), &["FAILOVER", "TIMEOUT", "5000"]);
        wait_settled(&mut to.connect());
    }
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (mut c, acked, errors, path) = loader.join().unwrap();

    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(c.endpoint(), a.addr().to_string());
    // A bulk in RESP2, a verbatim string in RESP3.
    let reply = c.call(&["CLIENT", "INFO"]).unwrap();
    let info = String::from_utf8_lossy(reply.as_bytes().expect("CLIENT INFO text")).into_owned();
    assert!(info.contains(" name=follower "), "{info}");
    assert!(info.contains(" db=2 "), "{info}");
    let mut primary = a.connect();
    ok(&mut primary, &["SELECT", "2"]);
    assert_eq!(
        primary.call(&["GET", "counter"]).unwrap().as_int(),
        Some(acked as i64)
    );
    (c.counters(), path)
}

fn follower() -> FollowConfig {
    FollowConfig {
        client_name: Some("follower".into()),
        db: 2,
        ..FollowConfig::default()
    }
}

#[test]
fn the_following_client_rides_handoff_failovers_back_and_forth_with_zero_errors() {
    let (counters, path) = ride_handoff_failovers(follower());
    assert!(counters.redirects >= 4, "{counters:?} {path:?}");
    assert_eq!(counters.moves, 0, "{counters:?} {path:?}");
}

#[test]
fn the_following_client_is_moved_by_handoff_moving_pushes_with_zero_errors() {
    let (counters, path) = ride_handoff_failovers(FollowConfig {
        resp3: true,
        maint_notifications: true,
        ..follower()
    });
    assert!(counters.maint_accepted, "{counters:?}");
    // MOVING goes out while the old node is still primary, so the client leaves before
    // the switch and needs no redirect. At least one move per failover: more hops within
    // one command cost a reconnect each but no error (they are bounded by max_hops).
    assert!(counters.moves >= 4, "{counters:?} {path:?}");
    assert_eq!(counters.redirects, 0, "{counters:?} {path:?}");
}
