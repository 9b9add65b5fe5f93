//! What a client sees on a replica, with and without `CLIENT CAPA
//! redirect`, as Valkey's replica-redirect tests check it
//! (switchover-spec.md §5, replica-redirect.tcl, and the newer Valkey 9
//! cases for blocked clients around a FAILOVER, §1.7): one test per fact,
//! in-process servers, real sockets.

mod common;

use common::nodes::{
    assert_closed, assert_no_reply, blocked_clients, client, failover_state, node, pair, port,
    redirect_to, replicate, role, send, stop, wait_blocked, wait_failover_state, wait_resumed,
};
use common::workload::{must, wait_for};
use common::{bulk, call, err, simple};
use handoff::protocol::Frame;

const READONLY: &str = "READONLY You can't write against a read only replica.";

#[test]
fn a_write_queued_while_the_node_was_a_primary_makes_exec_redirect_once_it_is_a_replica() {
    let p = node();
    let r = node();
    let mut c = client(&r, true);
    assert_eq!(call(&mut c, &["MULTI"]), simple("OK"));
    assert_eq!(call(&mut c, &["SET", "foo", "bar"]), simple("QUEUED"));
    replicate(&r, &p);
    // Plain -REDIRECT, not wrapped in EXECABORT; the transaction is gone.
    assert_eq!(call(&mut c, &["EXEC"]), redirect_to(&p));
    assert_eq!(
        call(&mut c, &["EXEC"]),
        err("ERR EXEC without MULTI"),
        "the transaction was discarded"
    );
    assert_eq!(must(&mut r.connect(), &["DBSIZE"]), Frame::Integer(0));
}

#[test]
fn a_write_queued_on_a_replica_is_redirected_and_exec_aborts() {
    let (p, r) = pair();
    let mut c = client(&r, true);
    assert_eq!(call(&mut c, &["MULTI"]), simple("OK"));
    assert_eq!(call(&mut c, &["SET", "foo", "bar"]), redirect_to(&p));
    // Later commands still queue; the redirect marked the transaction.
    assert_eq!(call(&mut c, &["PING"]), simple("QUEUED"));
    assert_eq!(
        call(&mut c, &["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
}

#[test]
fn a_replica_serves_reads_to_a_plain_client() {
    let (_p, r) = pair();
    let mut c = client(&r, false);
    assert_eq!(call(&mut c, &["GET", "foo"]), Frame::NullBulk);
}

#[test]
fn a_replica_refuses_writes_from_a_plain_client_with_readonly() {
    let (_p, r) = pair();
    let mut c = client(&r, false);
    assert_eq!(call(&mut c, &["SET", "foo", "bar"]), err(READONLY));
}

#[test]
fn a_redirect_capable_client_is_redirected_for_reads_and_writes() {
    let (p, r) = pair();
    let mut c = client(&r, true);
    assert_eq!(call(&mut c, &["SET", "foo", "bar"]), redirect_to(&p));
    assert_eq!(call(&mut c, &["GET", "foo"]), redirect_to(&p));
}

/// [NEWER] Valkey 8.1 shows the capability as `capa=r` between `flags=` and
/// `db=`. handoff's CLIENT INFO otherwise keeps Redis 7.2's field list:
/// Valkey's `watch=`, `tot-net-in=`, `tot-net-out=` and `tot-cmds=` are not
/// there.
#[test]
fn client_info_shows_the_redirect_capability_between_flags_and_db() {
    let (_p, r) = pair();
    let mut c = client(&r, true);
    let info = call(&mut c, &["CLIENT", "INFO"]).to_string_lossy();
    assert!(
        info.contains(" flags=N capa=r db=0 sub=0 psub=0 ssub=0 multi=-1 "),
        "{info}"
    );
    assert!(
        info.contains(" cmd=client|info user=default redir=-1 resp=2 "),
        "{info}"
    );
    let mut plain = client(&r, false);
    let info = call(&mut plain, &["CLIENT", "INFO"]).to_string_lossy();
    assert!(info.contains(" flags=N db=0 "), "{info}");
}

#[test]
fn commands_that_touch_no_data_are_not_redirected() {
    let (_p, r) = pair();
    let mut c = client(&r, true);
    assert_eq!(call(&mut c, &["PING"]), simple("PONG"));
    assert_eq!(call(&mut c, &["ECHO", "hi"]), bulk("hi"));
    assert!(matches!(call(&mut c, &["ROLE"]), Frame::Array(_)));
}

#[test]
fn after_readonly_reads_are_served_by_the_replica_and_writes_still_redirected() {
    let (p, r) = pair();
    let mut c = client(&r, true);
    assert_eq!(call(&mut c, &["READONLY"]), simple("OK"));
    assert_eq!(call(&mut c, &["GET", "foo"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["SET", "foo", "bar"]), redirect_to(&p));
}

/// While the old primary is `failover-in-progress` both nodes are replicas:
/// redirect-capable clients are held instead of being sent back and forth,
/// and learn the new primary once the target took over. A client blocked
/// on a key stays blocked meanwhile and is redirected afterwards (Valkey 9).
#[test]
fn redirect_capable_clients_are_held_during_failover_in_progress_then_redirected() {
    let (p, r) = pair();
    let mut pc = p.connect();
    let mut blocked = client(&p, true);
    send(&mut blocked, &["BRPOP", "list", "0"]);
    wait_blocked(&mut pc, 1);

    stop(&r, 1000);
    must(&mut pc, &["SET", "foo", "before"]);
    must(
        &mut pc,
        &[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &port(&r),
            "TIMEOUT",
            "100",
            "FORCE",
        ],
    );
    wait_failover_state(&mut pc, "failover-in-progress");
    let mut writer = client(&p, true);
    send(&mut writer, &["SET", "foo", "bar"]);
    let mut reader = client(&p, true);
    send(&mut reader, &["GET", "foo"]);
    wait_blocked(&mut pc, 3);
    assert_no_reply(&mut blocked, 10);

    wait_resumed(&r);
    wait_failover_state(&mut pc, "no-failover");
    assert_eq!(role(&mut pc), "slave");
    assert_eq!(role(&mut r.connect()), "master");
    assert_eq!(writer.read_frame().unwrap(), redirect_to(&r));
    assert_eq!(reader.read_frame().unwrap(), redirect_to(&r));
    assert_eq!(blocked.read_frame().unwrap(), redirect_to(&r));
}

/// [NEWER] Valkey 9: in `waiting-for-sync`, a redirect-capable BRPOP blocked
/// before the FAILOVER and one held by its write pause are both redirected
/// once the target took over; a WAIT for the target completes; a READONLY
/// client blocked in XREAD keeps waiting and is served by the (now) replica.
#[test]
fn blocked_and_held_clients_of_waiting_for_sync_get_their_answers_after_the_switch() {
    let (p, r) = pair();
    let mut pc = p.connect();
    let mut brpop_before = client(&p, true);
    send(&mut brpop_before, &["BRPOP", "list", "0"]);
    wait_blocked(&mut pc, 1);

    stop(&r, 1000);
    let mut waiter = client(&p, true);
    assert_eq!(call(&mut waiter, &["SET", "foo", "bar"]), simple("OK"));
    send(&mut waiter, &["WAIT", "1", "0"]);
    let mut xread = client(&p, true);
    assert_eq!(call(&mut xread, &["READONLY"]), simple("OK"));
    send(&mut xread, &["XREAD", "BLOCK", "0", "STREAMS", "k", "0"]);
    wait_blocked(&mut pc, 3);

    must(&mut pc, &["FAILOVER"]);
    assert_eq!(
        failover_state(&mut pc),
        "waiting-for-sync",
        "the stopped replica cannot acknowledge"
    );
    let mut brpop_after = client(&p, true);
    send(&mut brpop_after, &["BRPOP", "list", "0"]);
    wait_blocked(&mut pc, 4);

    wait_resumed(&r);
    wait_failover_state(&mut pc, "no-failover");
    let mut rc = r.connect();
    assert_eq!(role(&mut pc), "slave");
    assert_eq!(role(&mut rc), "master");
    assert_eq!(brpop_before.read_frame().unwrap(), redirect_to(&r));
    assert_eq!(brpop_after.read_frame().unwrap(), redirect_to(&r));
    assert_eq!(waiter.read_frame().unwrap(), Frame::Integer(1));

    wait_blocked(&mut pc, 1);
    let id = must(&mut rc, &["XADD", "k", "*", "foo", "bar"]);
    let got = xread.read_frame().unwrap().to_string_lossy();
    let id = id.to_string_lossy();
    assert!(got.contains(&id) && got.contains("foo"), "{got}");
}

/// [NEWER] Valkey 9: at the switch a redirect-capable client blocked on a
/// key of the old primary gets `-REDIRECT`; READONLY clients blocked in a
/// read, on either node, keep waiting and are served. A client without the
/// capability gets `-UNBLOCKED` and is disconnected, as before.
#[test]
fn blocked_clients_at_the_switch_follow_their_capability_and_readonly_mode() {
    let (p, r) = pair();
    let mut pc = p.connect();
    let mut rc = r.connect();
    let mut capa_blpop = client(&p, true);
    send(&mut capa_blpop, &["BLPOP", "mylist", "0"]);
    let mut plain_blpop = client(&p, false);
    send(&mut plain_blpop, &["BLPOP", "mylist", "0"]);
    let mut ro_on_primary = client(&p, true);
    assert_eq!(call(&mut ro_on_primary, &["READONLY"]), simple("OK"));
    send(
        &mut ro_on_primary,
        &["XREAD", "BLOCK", "0", "STREAMS", "mystream", "0-0"],
    );
    let mut ro_on_replica = client(&r, true);
    assert_eq!(call(&mut ro_on_replica, &["READONLY"]), simple("OK"));
    send(
        &mut ro_on_replica,
        &["XREAD", "BLOCK", "0", "STREAMS", "k", "0-0"],
    );
    wait_blocked(&mut pc, 3);
    wait_blocked(&mut rc, 1);

    must(&mut pc, &["FAILOVER", "TO", "127.0.0.1", &port(&r)]);
    wait_for(10, "the roles to swap", || {
        role(&mut pc) == "slave" && role(&mut rc) == "master"
    });
    assert_eq!(capa_blpop.read_frame().unwrap(), redirect_to(&r));
    assert_eq!(
        plain_blpop.read_frame().unwrap(),
        err("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")
    );
    assert_closed(&mut plain_blpop);
    assert_eq!(
        blocked_clients(&mut pc),
        1,
        "the READONLY reader still waits"
    );
    assert_eq!(
        blocked_clients(&mut rc),
        1,
        "and so does the one on the target"
    );

    let id = must(&mut rc, &["XADD", "k", "*", "foo", "bar"]).to_string_lossy();
    let got = ro_on_replica.read_frame().unwrap().to_string_lossy();
    assert!(got.contains(&id), "{got}");
    let id = must(&mut rc, &["XADD", "mystream", "*", "foo", "bar"]).to_string_lossy();
    let got = ro_on_primary.read_frame().unwrap().to_string_lossy();
    assert!(got.contains(&id), "{got}");
}
