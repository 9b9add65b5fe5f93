//! FAILOVER across implementations, with real peers no one here wrote:
//! a real redis-server 7.0 (or valkey-server) primary hands over to a
//! handoff replica, and a handoff primary hands over to a real valkey-server
//! (or redis-server) replica. Each time a writer keeps writing through the
//! switch; afterwards the roles are swapped, the demoted primary continued
//! with `+CONTINUE` (the new primary counts one partial resync and no full
//! sync), every acknowledged write is on the new primary, and both nodes
//! hold the same data (every type, TTLs, several dbs).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::dataset::{assert_same, fill_every_type, snapshot};
use common::workload::{info_field, must, wait_for, wait_link_up, wait_offsets, write_mixed};
use common::{ExternalServer, TestServer};
use handoff::protocol::{Connection, Frame};

fn stat(c: &mut Connection, field: &str) -> i64 {
    info_field(c, "stats", field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO stats has no {field}"))
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) => String::from_utf8_lossy(b).into(),
        Frame::Integer(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// ROLE as strings: `[master, offset, ...]` or `[slave, host, port, state, offset]`.
fn role(c: &mut Connection) -> Vec<String> {
    match must(c, &["ROLE"]) {
        Frame::Array(items) => items.iter().map(text).collect(),
        other => panic!("ROLE gave {other:?}"),
    }
}

/// What a writer got acknowledged: INCRs of `fo:ctr` and `SET fo:w:<i> <i>`.
#[derive(Default)]
struct Acked {
    incrs: i64,
    sets: Vec<u64>,
    errors: Vec<String>,
}

/// A client writing to `port` until `stop`: one INCR and one SET per round.
/// Errors are kept (a plain client may get -READONLY after the switch);
/// only acknowledged writes are counted.
fn start_writer(port: u16, stop: Arc<AtomicBool>) -> JoinHandle<Acked> {
    std::thread::spawn(move || {
        let mut c = Connection::connect(("127.0.0.1", port)).expect("writer connects");
        c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut acked = Acked::default();
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            i += 1;
            match c.call(&["INCR", "fo:ctr"]) {
                Ok(Frame::Integer(_)) => acked.incrs += 1,
                Ok(other) => acked.errors.push(text(&other)),
                Err(e) => acked.errors.push(e.to_string()),
            }
            let n = i.to_string();
            match c.call(&["SET", &format!("fo:w:{i}"), &n]) {
                Ok(Frame::Simple(s)) if &s[..] == b"OK" => acked.sets.push(i),
                Ok(other) => acked.errors.push(text(&other)),
                Err(e) => acked.errors.push(e.to_string()),
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        acked
    })
}

/// Every acknowledged write of `acked` is on the node behind `c`.
fn assert_has_acked(c: &mut Connection, acked: &Acked, who: &str) {
    assert!(
        acked.incrs > 0 && !acked.sets.is_empty(),
        "the writer got nothing acknowledged: {:?}",
        &acked.errors[..acked.errors.len().min(5)]
    );
    assert_eq!(
        must(c, &["GET", "fo:ctr"]),
        Frame::Bulk(acked.incrs.to_string().into()),
        "{who}: fo:ctr must equal the acknowledged INCRs"
    );
    for i in &acked.sets {
        let v = must(c, &["GET", &format!("fo:w:{i}")]);
        assert_eq!(
            v,
            Frame::Bulk(i.to_string().into()),
            "{who}: acknowledged SET fo:w:{i} lost"
        );
    }
}

/// Runs `FAILOVER TO 127.0.0.1 <target_port> TIMEOUT 5000` on `old` while a
/// writer writes to it, waits until `old` is a connected replica of the
/// target and the target a primary, and returns what the writer got
/// acknowledged.
fn failover_under_writes(
    old: &mut Connection,
    old_port: u16,
    new: &mut Connection,
    new_port: u16,
) -> Acked {
    let stop = Arc::new(AtomicBool::new(false));
    let writer = start_writer(old_port, stop.clone());
    std::thread::sleep(Duration::from_millis(300));
    let target = new_port.to_string();
    let reply = old
        .call(&["FAILOVER", "TO", "127.0.0.1", &target, "TIMEOUT", "5000"])
        .expect("FAILOVER round trip");
    assert_eq!(reply, common::simple("OK"), "FAILOVER reply");
    wait_for(20, "the roles to swap", || {
        let r_old = role(old);
        let r_new = role(new);
        r_new[0] == "master"
            && r_old[0] == "slave"
            && r_old[1] == "127.0.0.1"
            && r_old[2] == target
            && r_old[3] == "connected"
    });
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let acked = writer.join().expect("writer thread");
    assert_eq!(
        info_field(old, "replication", "master_failover_state").as_deref(),
        Some("no-failover")
    );
    acked
}

/// After a clean switchover: the new primary counts exactly one partial
/// resync (the demoted primary's `PSYNC ... FAILOVER` answered `+CONTINUE`)
/// and no full sync; every acknowledged write is on it and, once the new
/// replica caught up, on that one too.
fn assert_clean_handover(
    new: &mut Connection,
    old: &mut Connection,
    acked: &Acked,
    new_name: &str,
    old_name: &str,
) {
    assert_eq!(
        (stat(new, "sync_full"), stat(new, "sync_partial_ok")),
        (0, 1),
        "{new_name} (new primary): (sync_full, sync_partial_ok); {old_name} must continue with +CONTINUE, not a full sync"
    );
    assert_has_acked(new, acked, new_name);
    // A write on the new primary reaches the demoted one.
    must(new, &["SET", "fo:after", "1"]);
    wait_offsets(new, old, old_name);
    assert_eq!(must(old, &["GET", "fo:after"]), common::bulk("1"));
    assert_has_acked(old, acked, old_name);
    assert!(snapshot(new).len() > 100, "the dataset is there");
}

/// A real `binary` primary with a handoff replica: `FAILOVER TO` handoff on
/// the real server. A second replica of the same kind (the oracle) is
/// attached beside handoff and stays chained below the demoted primary: it
/// holds what the replication stream carried, which for a Redis 7.0 primary
/// is not all it holds itself (it does not replicate a consumer group's
/// `entries-read`), so handoff is compared with the oracle and, where the
/// stream carries everything (valkey), with the old primary too.
fn real_primary_hands_over_to_handoff(binary: &str) {
    let Some(peer) = ExternalServer::start(binary, &["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let Some(oracle) = ExternalServer::start(binary, &[]) else {
        return;
    };
    let h = TestServer::with(|c| c.repl_diskless_sync_delay = 0);
    let hport = h.addr().port();
    let mut pc = peer.connect();
    let mut hc = h.connect();
    let mut oc = oracle.connect();
    // The dataset goes over in the full sync's RDB; later writes (every
    // type again, in the stream) and the writer's go over the stream.
    fill_every_type(&mut pc);
    let port = peer.port.to_string();
    must(&mut hc, &["REPLICAOF", "127.0.0.1", &port]);
    must(&mut oc, &["REPLICAOF", "127.0.0.1", &port]);
    wait_link_up(&mut hc, "handoff");
    wait_link_up(&mut oc, "the oracle");
    write_mixed(&mut pc, "stream", 3);
    wait_offsets(&mut pc, &mut hc, "handoff");
    let acked = failover_under_writes(&mut pc, peer.port, &mut hc, hport);
    assert_clean_handover(&mut hc, &mut pc, &acked, "handoff", binary);
    assert_eq!(role(&mut hc)[0], "master");
    wait_offsets(
        &mut hc,
        &mut oc,
        "the oracle (chained below the demoted primary)",
    );
    assert_has_acked(&mut oc, &acked, "the oracle");
    let expected = snapshot(&mut hc);
    assert_same(&expected, &snapshot(&mut oc), "handoff vs the oracle");
    if binary != "redis-server" {
        assert_same(
            &expected,
            &snapshot(&mut pc),
            &format!("handoff vs {binary}"),
        );
    }
}

/// A handoff primary with a real `binary` replica: `FAILOVER TO` that
/// replica on handoff.
fn handoff_hands_over_to_real_replica(binary: &str) {
    let Some(peer) = ExternalServer::start(binary, &["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let h = TestServer::with(|c| c.repl_diskless_sync_delay = 0);
    let hport = h.addr().port();
    let mut pc = peer.connect();
    let mut hc = h.connect();
    fill_every_type(&mut hc);
    must(&mut pc, &["REPLICAOF", "127.0.0.1", &hport.to_string()]);
    wait_link_up(&mut pc, binary);
    write_mixed(&mut hc, "stream", 3);
    wait_offsets(&mut hc, &mut pc, binary);
    let acked = failover_under_writes(&mut hc, hport, &mut pc, peer.port);
    assert_clean_handover(&mut pc, &mut hc, &acked, binary, "handoff");
    assert_eq!(role(&mut pc)[0], "master");
    assert_same(
        &snapshot(&mut pc),
        &snapshot(&mut hc),
        &format!("{binary} vs handoff"),
    );
}

#[test]
fn a_real_redis_server_primary_fails_over_to_a_handoff_replica_which_keeps_every_write() {
    real_primary_hands_over_to_handoff("redis-server");
}

#[test]
fn a_real_valkey_server_primary_fails_over_to_a_handoff_replica_which_keeps_every_write() {
    real_primary_hands_over_to_handoff("valkey-server");
}

#[test]
fn a_handoff_primary_fails_over_to_a_real_valkey_server_replica_which_keeps_every_write() {
    handoff_hands_over_to_real_replica("valkey-server");
}

#[test]
fn a_handoff_primary_fails_over_to_a_real_redis_server_replica_which_keeps_every_write() {
    handoff_hands_over_to_real_replica("redis-server");
}
