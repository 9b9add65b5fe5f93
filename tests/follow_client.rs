//! The protocol crate's `FollowingClient` against real peers: a valkey-server pair whose
//! roles are swapped under load, and a handoff pair failed over back and forth, must be
//! followed through `-REDIRECT` with zero errors, exact counters, and the connection's
//! name and db kept on every new connection. Then each rule of the client on its own,
//! against handoff nodes put in the state that makes them send it: `-REDIRECT` (and a
//! bound on redirect hops), `MOVING` before a reply, during the handshake or with a null
//! endpoint, a close after `MOVING` (retried) and a close without one (not retried).

mod common;

use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::workload::wait_for;
use common::{nodes, ExternalServer, TestServer};
use handoff::protocol::{Connection, FollowConfig, FollowingClient, Frame};

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
    let offset = nodes::field(&mut a, "replication", "master_repl_offset");
    wait_for(20, "the replica to catch up", || {
        nodes::field(&mut b, "replication", "master_repl_offset") == offset
    });
    ok(&mut b, &["REPLICAOF", "NO", "ONE"]);
    ok(&mut a, &["REPLICAOF", "127.0.0.1", &to.port.to_string()]);
    ok(&mut a, &["CLIENT", "UNPAUSE"]);
    wait_for(20, "the demoted node's link", || {
        nodes::field(&mut a, "replication", "master_link_status") == "up"
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
    wait_for(20, "the replica link", || {
        nodes::field(&mut b, "replication", "master_link_status") == "up"
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

/// Waits until `primary` is primary with an online replica and no failover running.
fn wait_settled(primary: &mut Connection) {
    wait_for(20, "a settled pair", || {
        nodes::field(primary, "replication", "role") == "master"
            && nodes::field(primary, "replication", "master_failover_state") == "no-failover"
            && nodes::field(primary, "replication", "slave0").contains("state=online")
    });
}

/// Four FAILOVERs back and forth of a handoff pair while a following client made with
/// `config` runs INCRs: zero errors, exact total, name and db kept. Returns its counters
/// and the endpoints it went through (for the assertion messages).
fn ride_handoff_failovers(
    config: FollowConfig,
) -> (handoff::protocol::FollowCounters, Vec<String>) {
    let a = nodes::node();
    let b = nodes::node();
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

// The cases below each pin one rule of the client against a real handoff node: what it
// does with `-REDIRECT`, with a `MOVING` push read before a reply, during the handshake
// or with a null endpoint, and with a close that follows a `MOVING` or not.

/// The connection the tests follow: named, in db 3, redirect-capable.
fn app() -> FollowConfig {
    FollowConfig {
        client_name: Some("app".into()),
        db: 3,
        io_timeout: Some(Duration::from_secs(5)),
        ..FollowConfig::default()
    }
}

/// [`app`] in RESP3 with maintenance notifications on.
fn maint_app() -> FollowConfig {
    FollowConfig {
        resp3: true,
        maint_notifications: true,
        ..app()
    }
}

fn endpoint(s: &TestServer) -> String {
    s.addr().to_string()
}

/// `key` in db 3 of `s`, as an integer (0 when missing).
fn int_in_db3(s: &TestServer, key: &str) -> i64 {
    let mut c = s.connect();
    ok(&mut c, &["SELECT", "3"]);
    match c.call(&["GET", key]).unwrap() {
        Frame::NullBulk | Frame::Null => 0,
        other => String::from_utf8_lossy(other.as_bytes().expect("GET gives a bulk"))
            .parse()
            .expect("an integer"),
    }
}

fn stat(s: &TestServer, name: &str) -> i64 {
    nodes::num(&mut s.connect(), "stats", name)
}

/// The CLIENT LIST line of the connection named `name` on `s`.
fn client_line(s: &TestServer, name: &str) -> String {
    let reply = s.connect().call(&["CLIENT", "LIST"]).unwrap();
    let list = String::from_utf8_lossy(reply.as_bytes().expect("CLIENT LIST text")).into_owned();
    let needle = format!(" name={name} ");
    let lines: Vec<&str> = list.lines().filter(|l| l.contains(&needle)).collect();
    assert_eq!(lines.len(), 1, "one connection named {name}:\n{list}");
    lines[0].to_string()
}

/// FAILOVER on `old`, then waits until `new` is primary with `old` online as its replica
/// and both nodes have finished the failover.
fn fail_over(old: &TestServer, new: &TestServer) {
    ok(&mut old.connect(), &["FAILOVER", "TIMEOUT", "5000"]);
    wait_switched(old, new);
}

fn wait_switched(old: &TestServer, new: &TestServer) {
    let mut o = old.connect();
    let mut n = new.connect();
    wait_for(10, "the switch", || {
        nodes::role(&mut o) == "slave"
            && nodes::failover_state(&mut o) == "no-failover"
            && nodes::field(&mut o, "replication", "master_link_status") == "up"
    });
    wait_settled(&mut n);
}

fn is_close(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
    )
}

#[test]
fn a_redirect_is_followed_with_the_handshake_replayed_and_the_command_retried() {
    let (primary, replica) = nodes::pair();
    let mut c = FollowingClient::new(endpoint(&replica), app());
    assert_eq!(
        c.call(&["INCR", "n"]).unwrap(),
        Frame::Integer(1),
        "{:?}",
        c.counters()
    );
    assert_eq!(c.endpoint(), endpoint(&primary));
    assert_eq!(c.counters().redirects, 1, "{:?}", c.counters());
    assert_eq!(c.counters().connects, 2, "{:?}", c.counters());
    assert_eq!(stat(&replica, "redirected_commands"), 1);
    // The connection the redirect made is named, in db 3 and redirect-capable, like the
    // first one: the INCR ran once, in db 3 of the primary.
    let line = client_line(&primary, "app");
    assert!(line.contains(" capa=r "), "{line}");
    assert!(line.contains(" db=3 "), "{line}");
    assert!(line.contains(" cmd=incr "), "{line}");
    assert_eq!(int_in_db3(&primary, "n"), 1);
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(2));
    assert_eq!(c.counters().connects, 2, "the new connection is kept");
}

#[test]
fn redirect_hops_between_two_replicas_of_each_other_are_bounded_and_the_last_is_returned() {
    let x = nodes::node();
    let y = nodes::node();
    ok(
        &mut x.connect(),
        &["REPLICAOF", "127.0.0.1", &nodes::port(&y)],
    );
    ok(
        &mut y.connect(),
        &["REPLICAOF", "127.0.0.1", &nodes::port(&x)],
    );
    let mut c = FollowingClient::new(
        endpoint(&x),
        FollowConfig {
            max_hops: 3,
            ..app()
        },
    );
    // x -> y -> x -> y, whose redirect back to x is the reply.
    let reply = c.call(&["INCR", "n"]).unwrap();
    assert_eq!(
        reply.error_text(),
        Some(format!("REDIRECT {}", endpoint(&x)).as_bytes()),
        "{reply:?}"
    );
    assert_eq!(c.counters().redirects, 3, "{:?}", c.counters());
    assert_eq!(c.counters().connects, 4, "{:?}", c.counters());
    assert_eq!(stat(&x, "redirected_commands"), 2);
    assert_eq!(stat(&y, "redirected_commands"), 2);
}

#[test]
fn a_moving_push_before_the_reply_is_obeyed_after_the_reply() {
    let (old, new) = nodes::pair();
    // Moved connections that keep talking hold the switch back this long, so the INCR
    // sent right after FAILOVER runs on the old primary, behind the MOVING push.
    ok(
        &mut old.connect(),
        &["CONFIG", "SET", "maint-drain-quiet", "1000"],
    );
    let mut c = FollowingClient::connect(endpoint(&old), maint_app()).unwrap();
    assert!(c.counters().maint_accepted);
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(1));
    ok(&mut old.connect(), &["FAILOVER", "TIMEOUT", "5000"]);

    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(2));
    assert_eq!(c.endpoint(), endpoint(&new), "{:?}", c.counters());
    assert_eq!(c.counters().moves, 1, "{:?}", c.counters());
    assert!(!c.is_connected(), "the moved connection is left");
    assert_eq!(stat(&old, "maint_moving_sent"), 1);

    // The next INCR goes to the new node, which holds it until it is primary.
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(3));
    let counters = c.counters();
    assert_eq!(counters.connects, 2, "{counters:?}");
    assert_eq!(counters.redirects, 0, "{counters:?}");
    assert_eq!(counters.retries_after_close, 0, "{counters:?}");
    wait_switched(&old, &new);
    assert_eq!(int_in_db3(&new, "n"), 3);
    let line = client_line(&new, "app");
    assert!(line.contains(" db=3 "), "{line}");
    assert!(line.contains(" resp=3 "), "{line}");
    assert!(line.contains(" maint=internal-ip"), "{line}");
    assert_eq!(stat(&old, "maint_moved_closed"), 0);
}

#[test]
fn a_close_after_moving_retries_the_command_on_the_new_endpoint() {
    let (old, new) = nodes::pair();
    // Without `CLIENT CAPA redirect` the old node closes a moved connection that sends a
    // keyspace command after the switch, without running it.
    let config = FollowConfig {
        capa_redirect: false,
        ..maint_app()
    };
    let mut c = FollowingClient::connect(endpoint(&old), config).unwrap();
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(1));
    fail_over(&old, &new);
    assert_eq!(stat(&old, "maint_moving_sent"), 1);

    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(2));
    let counters = c.counters();
    assert_eq!(counters.retries_after_close, 1, "{counters:?}");
    assert_eq!(counters.moves, 1, "{counters:?}");
    assert_eq!(counters.connects, 2, "{counters:?}");
    assert_eq!(c.endpoint(), endpoint(&new));
    assert_eq!(stat(&old, "maint_moved_closed"), 1);
    assert_eq!(int_in_db3(&new, "n"), 2);
    assert!(client_line(&new, "app").contains(" db=3 "));
}

#[test]
fn a_connection_killed_without_moving_is_an_error_and_the_command_is_not_resent() {
    let s = nodes::node();
    let mut c = FollowingClient::connect(endpoint(&s), app()).unwrap();
    let id = c.call(&["CLIENT", "ID"]).unwrap().as_int().expect("an id");
    assert_eq!(
        s.connect()
            .call(&["CLIENT", "KILL", "ID", &id.to_string()])
            .unwrap(),
        Frame::Integer(1)
    );
    let err = c.call(&["INCR", "n"]).unwrap_err();
    assert!(is_close(err.kind()), "{err:?}");
    assert!(!c.is_connected());
    assert_eq!(c.counters().connects, 1, "{:?}", c.counters());
    assert_eq!(int_in_db3(&s, "n"), 0, "the INCR was sent again");
    // The next command reconnects.
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(1));
    assert_eq!(c.counters().connects, 2, "{:?}", c.counters());
}

#[test]
fn a_close_after_the_command_ran_without_moving_is_an_error_and_the_command_is_not_run_twice() {
    let s = nodes::node();
    // A reply over the hard output limit closes the connection after the command ran
    // and before any byte of its reply is sent.
    ok(
        &mut s.connect(),
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 64kb 0 0",
        ],
    );
    let mut c = FollowingClient::connect(endpoint(&s), app()).unwrap();
    let script = "redis.call('INCR', KEYS[1]) return string.rep('x', 100000)";
    let err = c.call(&["EVAL", script, "1", "n"]).unwrap_err();
    assert!(is_close(err.kind()), "{err:?}");
    assert!(!c.is_connected());
    assert_eq!(c.counters().connects, 1, "{:?}", c.counters());
    assert_eq!(c.counters().retries_after_close, 0, "{:?}", c.counters());
    assert_eq!(stat(&s, "client_output_buffer_limit_disconnections"), 1);
    assert_eq!(int_in_db3(&s, "n"), 1, "the INCR ran twice");
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(2));
}

#[test]
fn a_moving_with_a_null_endpoint_keeps_the_connection_where_it_is() {
    let (primary, _replica) = nodes::pair();
    let mut admin = primary.connect();
    // `none` clients are moved (sent a null endpoint) only where the address floats.
    ok(
        &mut admin,
        &["CONFIG", "SET", "maint-none-endpoint-floats", "yes"],
    );
    // Keeps the node primary while this connection keeps talking.
    ok(&mut admin, &["CONFIG", "SET", "maint-drain-quiet", "1000"]);
    let config = FollowConfig {
        moving_endpoint_type: "none".into(),
        ..maint_app()
    };
    let mut c = FollowingClient::connect(endpoint(&primary), config).unwrap();
    assert!(c.counters().maint_accepted);
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(1));
    ok(&mut admin, &["FAILOVER", "TIMEOUT", "5000"]);

    // The MOVING with `_` arrives before this reply; the connection stays.
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(2));
    assert_eq!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(3));
    assert_eq!(stat(&primary, "maint_moving_sent"), 1);
    let info = c.call(&["CLIENT", "INFO"]).unwrap();
    let info = String::from_utf8_lossy(info.as_bytes().expect("CLIENT INFO text")).into_owned();
    assert!(info.contains(" maint=none moved=1"), "{info}");
    let counters = c.counters();
    assert_eq!(counters.connects, 1, "{counters:?}");
    assert_eq!(counters.moves, 0, "{counters:?}");
    assert!(c.is_connected());
    assert_eq!(c.endpoint(), endpoint(&primary));
}

#[test]
fn a_moving_pushed_during_the_handshake_sends_the_first_command_to_the_new_endpoint() {
    let (old, new) = nodes::pair();
    fail_over(&old, &new);
    // A new maint connection to the demoted node is told at once where the primary is.
    let mut c = FollowingClient::connect(endpoint(&old), maint_app()).unwrap();
    assert_eq!(c.counters().connects, 1, "{:?}", c.counters());
    assert_eq!(c.counters().moves, 1, "{:?}", c.counters());
    assert_eq!(c.endpoint(), endpoint(&new));
    assert_eq!(stat(&old, "maint_moving_sent"), 1);

    assert_eq!(
        c.call(&["SET", "k", "v"]).unwrap(),
        Frame::Simple("OK".into())
    );
    let counters = c.counters();
    assert_eq!(counters.connects, 2, "{counters:?}");
    // Sent to the demoted node, the SET would have met -REDIRECT.
    assert_eq!(counters.redirects, 0, "{counters:?}");
    assert_eq!(stat(&old, "redirected_commands"), 0);
    let mut n = new.connect();
    ok(&mut n, &["SELECT", "3"]);
    assert_eq!(n.call(&["GET", "k"]).unwrap(), common::bulk("v"));
}
