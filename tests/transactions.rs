//! MULTI / EXEC / DISCARD / WATCH / UNWATCH over real sockets.

mod common;

use std::time::Duration;

use common::*;
use handoff::protocol::Frame;

#[test]
fn exec_runs_the_queued_commands_and_returns_every_reply() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(call(&mut c, &["MULTI"]), simple("OK"));
    assert_eq!(call(&mut c, &["SET", "k", "1"]), simple("QUEUED"));
    assert_eq!(call(&mut c, &["INCR", "k"]), simple("QUEUED"));
    assert_eq!(call(&mut c, &["GET", "k"]), simple("QUEUED"));
    assert_eq!(
        call(&mut c, &["EXEC"]),
        Frame::Array(vec![simple("OK"), Frame::Integer(2), bulk("2")])
    );
}

#[test]
fn a_queueing_error_aborts_exec() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["MULTI"]);
    assert_eq!(call(&mut c, &["SET", "k", "1"]), simple("QUEUED"));
    assert!(call(&mut c, &["NOSUCHCOMMAND"]).is_error());
    assert_eq!(
        call(&mut c, &["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        call(&mut c, &["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(call(&mut c, &["EXISTS", "k"]), Frame::Integer(0));
}

#[test]
fn a_runtime_error_stays_inside_the_exec_reply() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SET", "s", "text"]);
    call(&mut c, &["MULTI"]);
    call(&mut c, &["INCR", "s"]);
    call(&mut c, &["SET", "after", "ok"]);
    assert_eq!(
        call(&mut c, &["EXEC"]),
        Frame::Array(vec![
            err("ERR value is not an integer or out of range"),
            simple("OK")
        ])
    );
    assert_eq!(call(&mut c, &["GET", "after"]), bulk("ok"));
}

#[test]
fn a_write_by_another_client_to_a_watched_key_makes_exec_return_null() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut other = server.connect();
    call(&mut c, &["SET", "w", "1"]);
    assert_eq!(call(&mut c, &["WATCH", "w"]), simple("OK"));
    call(&mut other, &["SET", "w", "2"]);
    call(&mut c, &["MULTI"]);
    call(&mut c, &["SET", "w", "3"]);
    assert_eq!(call(&mut c, &["EXEC"]), Frame::NullArray);
    assert_eq!(call(&mut c, &["GET", "w"]), bulk("2"));
    // RESP3 null, and the watch is gone after EXEC: the next transaction runs.
    call(&mut c, &["HELLO", "3"]);
    call(&mut c, &["WATCH", "w"]);
    call(&mut other, &["DEL", "w"]);
    call(&mut c, &["MULTI"]);
    call(&mut c, &["SET", "w", "3"]);
    assert_eq!(call(&mut c, &["EXEC"]), Frame::Null);
    call(&mut c, &["MULTI"]);
    call(&mut c, &["SET", "w", "4"]);
    assert_eq!(call(&mut c, &["EXEC"]), Frame::Array(vec![simple("OK")]));
}

#[test]
fn a_failed_write_to_a_watched_key_does_not_invalidate_the_transaction() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut other = server.connect();
    call(&mut c, &["SET", "w", "text"]);
    call(&mut c, &["WATCH", "w"]);
    assert!(call(&mut other, &["INCR", "w"]).is_error());
    call(&mut c, &["MULTI"]);
    call(&mut c, &["GET", "w"]);
    assert_eq!(call(&mut c, &["EXEC"]), Frame::Array(vec![bulk("text")]));
}

#[test]
fn flushall_swapdb_and_expiry_invalidate_watched_keys() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut other = server.connect();
    for change in [
        vec!["FLUSHALL"],
        vec!["SWAPDB", "0", "1"],
        vec!["PEXPIRE", "w", "1"],
    ] {
        call(&mut c, &["SET", "w", "1"]);
        call(&mut c, &["WATCH", "w"]);
        call(&mut other, &change);
        std::thread::sleep(Duration::from_millis(5));
        call(&mut c, &["MULTI"]);
        call(&mut c, &["PING"]);
        assert_eq!(
            call(&mut c, &["EXEC"]),
            Frame::NullArray,
            "after {change:?}"
        );
        call(&mut c, &["FLUSHALL"]);
    }
}

#[test]
fn a_watched_key_that_expires_unnoticed_still_aborts_exec() {
    let server = TestServer::with(|c| {
        c.hz = 1;
        c.enable_debug_command = handoff_server::config::EnableMode::Yes;
    });
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        simple("OK")
    );
    call(&mut c, &["SET", "w", "1", "PX", "20"]);
    call(&mut c, &["WATCH", "w"]);
    std::thread::sleep(Duration::from_millis(40));
    call(&mut c, &["MULTI"]);
    call(&mut c, &["PING"]);
    assert_eq!(call(&mut c, &["EXEC"]), Frame::NullArray);
}

#[test]
fn discard_unwatch_and_misuse_give_redis_errors() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(call(&mut c, &["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(call(&mut c, &["DISCARD"]), err("ERR DISCARD without MULTI"));
    call(&mut c, &["MULTI"]);
    assert_eq!(
        call(&mut c, &["MULTI"]),
        err("ERR MULTI calls can not be nested")
    );
    assert_eq!(
        call(&mut c, &["WATCH", "x"]),
        err("ERR WATCH inside MULTI is not allowed")
    );
    call(&mut c, &["SET", "d", "1"]);
    assert_eq!(call(&mut c, &["DISCARD"]), simple("OK"));
    assert_eq!(call(&mut c, &["EXISTS", "d"]), Frame::Integer(0));
    let mut other = server.connect();
    call(&mut c, &["WATCH", "u"]);
    assert_eq!(call(&mut c, &["UNWATCH"]), simple("OK"));
    call(&mut other, &["SET", "u", "x"]);
    call(&mut c, &["MULTI"]);
    call(&mut c, &["GET", "u"]);
    assert_eq!(call(&mut c, &["EXEC"]), Frame::Array(vec![bulk("x")]));
}

#[test]
fn reset_and_disconnect_drop_transactions_and_watches() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["WATCH", "r"]);
    call(&mut c, &["MULTI"]);
    call(&mut c, &["SET", "r", "1"]);
    assert_eq!(call(&mut c, &["RESET"]), simple("RESET"));
    assert_eq!(call(&mut c, &["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(call(&mut c, &["EXISTS", "r"]), Frame::Integer(0));
    let mut gone = server.connect();
    call(&mut gone, &["WATCH", "r"]);
    drop(gone);
    std::thread::sleep(Duration::from_millis(50));
    call(&mut c, &["SET", "r", "1"]);
    assert_eq!(call(&mut c, &["GET", "r"]), bulk("1"));
}
