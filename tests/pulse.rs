//! The `handoff-pulse` library against real pairs: it must see the failure a plain client
//! meets on a redis-server 7.0 FAILOVER (READONLY errors), and see none with a
//! redirect-following client on a valkey-server pair or a handoff pair; in every case each acknowledged
//! write must be on the final primary and the INCR total exact.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::ExternalServer;
use handoff::protocol::Frame;
use handoff::pulse::record::ErrorClass;
use handoff::pulse::{self, ClientMode, Options, Report, Workload};

/// A primary and its replica, link up.
fn pair(binary: &str) -> Option<(ExternalServer, ExternalServer)> {
    let extra = ["--repl-diskless-sync-delay", "0"];
    let primary = ExternalServer::start(binary, &extra)?;
    let replica = ExternalServer::start(binary, &extra)?;
    let mut c = replica.connect();
    let port = primary.port.to_string();
    assert!(!c
        .call(&["REPLICAOF", "127.0.0.1", &port])
        .unwrap()
        .is_error());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let Frame::Bulk(info) = c.call(&["INFO", "replication"]).unwrap() else {
            panic!("INFO is not a bulk");
        };
        if String::from_utf8_lossy(&info).contains("master_link_status:up") {
            return Some((primary, replica));
        }
        assert!(
            Instant::now() < deadline,
            "{binary} replica link never came up"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn options(a: &ExternalServer, b: &ExternalServer, client: ClientMode) -> Options {
    let mut o = Options::new(vec![
        format!("127.0.0.1:{}", a.port),
        format!("127.0.0.1:{}", b.port),
    ]);
    o.connections = 4;
    o.client = client;
    o.workload = Workload::Mixed;
    o.duration = Duration::from_secs(4);
    o.switch_at = vec![Duration::from_millis(1500)];
    o.preload = 1000;
    o
}

/// Every acknowledged write survived and the counters are exact.
fn assert_nothing_lost(r: &Report) {
    let v = r.verdict.as_ref().expect("final check ran");
    assert!(v.clean(), "{}", r.to_table());
    assert!(v.keys_checked > 0 && v.incr_acked > 0, "{}", r.to_table());
    assert!(v.incr_exact(), "{}", r.to_table());
    assert_eq!(v.preload_checked, 1000);
}

#[test]
fn pulse_sees_readonly_errors_when_a_plain_client_rides_a_redis_failover() {
    let Some((a, b)) = pair("redis-server") else {
        return;
    };
    let r = pulse::run(&options(&a, &b, ClientMode::Plain)).unwrap();
    println!("{}", r.to_table());
    assert_eq!(r.completed_switchovers(), 1, "{}", r.to_table());
    assert!(r.errors_of(ErrorClass::Readonly) > 0, "{}", r.to_table());
    assert!(r.windows_us()[0] > 0);
    assert_eq!(
        r.verdict.as_ref().unwrap().primary,
        format!("127.0.0.1:{}", b.port)
    );
    assert_nothing_lost(&r);
}

#[test]
fn pulse_sees_no_error_when_redirect_and_follow_clients_ride_valkey_failovers() {
    let Some((a, b)) = pair("valkey-server") else {
        return;
    };
    for client in [ClientMode::Redirect, ClientMode::Follow] {
        let r = pulse::run(&options(&a, &b, client)).unwrap();
        println!("{}", r.to_table());
        assert_eq!(r.completed_switchovers(), 1, "{}", r.to_table());
        assert_eq!(r.total_errors(), 0, "{}", r.to_table());
        assert!(r.clients.redirects > 0, "{}", r.to_table());
        assert_nothing_lost(&r);
        let json = r.to_json();
        assert_eq!(json["errors_total"], 0);
        assert_eq!(json["final_check"]["clean"], true);
    }
}

#[test]
fn pulse_sees_no_error_when_a_follow_client_rides_handoff_failovers() {
    let a = common::TestServer::with(|c| c.repl_diskless_sync_delay = 0);
    let b = common::TestServer::with(|c| c.repl_diskless_sync_delay = 0);
    let mut c = b.connect();
    let port = a.addr().port().to_string();
    assert!(!c
        .call(&["REPLICAOF", "127.0.0.1", &port])
        .unwrap()
        .is_error());
    let mut o = Options::new(vec![a.addr().to_string(), b.addr().to_string()]);
    o.connections = 4;
    o.duration = Duration::from_secs(5);
    o.switch_at = vec![Duration::from_millis(1500), Duration::from_millis(3000)];
    o.preload = 1000;
    for client in [ClientMode::Follow, ClientMode::Redirect] {
        o.client = client;
        // Each run counts its INCRs from zero.
        o.key_prefix = format!("pulse-test-{}", client.name());
        let r = pulse::run(&o).unwrap();
        println!("{}", r.to_table());
        assert_eq!(r.completed_switchovers(), 2, "{}", r.to_table());
        assert_eq!(r.total_errors(), 0, "{}", r.to_table());
        assert_nothing_lost(&r);
        // Once the server takes maintenance notifications, a follow client must be moved
        // by MOVING pushes (before the switch), not only redirected after it.
        if client == ClientMode::Follow && r.clients.maint_accepted > 0 {
            assert!(r.clients.moves > 0, "{}", r.to_table());
        }
    }
}
