//! Blocking list commands over real sockets: served by a push in the same
//! loop turn, FIFO among waiters, sub-second timeouts, pipelined input after
//! a block, CLIENT UNBLOCK, and no blocking inside MULTI.

mod common;

use std::time::{Duration, Instant};

use common::*;
use handoff::protocol::Frame;

fn arr(items: &[Frame]) -> Frame {
    Frame::Array(items.to_vec())
}

#[test]
fn blpop_returns_at_once_when_a_list_has_elements() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["RPUSH", "b", "x"]);
    assert_eq!(
        call(&mut c, &["BLPOP", "a", "b", "0"]),
        arr(&[bulk("b"), bulk("x")])
    );
    assert_eq!(call(&mut c, &["EXISTS", "b"]), Frame::Integer(0));
}

#[test]
fn a_blocked_client_is_served_by_another_clients_push() {
    let server = TestServer::start();
    let mut waiter = server.connect();
    let mut pusher = server.connect();
    waiter.send(&["BRPOP", "q", "5"]).unwrap();
    waiter.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(call(&mut pusher, &["LPUSH", "q", "job"]), Frame::Integer(1));
    assert_eq!(waiter.read_frame().unwrap(), arr(&[bulk("q"), bulk("job")]));
    assert_eq!(call(&mut pusher, &["LLEN", "q"]), Frame::Integer(0));
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let server = TestServer::start();
    let mut first = server.connect();
    let mut second = server.connect();
    let mut pusher = server.connect();
    first.send(&["BLPOP", "q", "5"]).unwrap();
    first.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    second.send(&["BLPOP", "q", "5"]).unwrap();
    second.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    call(&mut pusher, &["RPUSH", "q", "one"]);
    assert_eq!(first.read_frame().unwrap(), arr(&[bulk("q"), bulk("one")]));
    call(&mut pusher, &["RPUSH", "q", "two", "three"]);
    assert_eq!(second.read_frame().unwrap(), arr(&[bulk("q"), bulk("two")]));
    assert_eq!(
        call(&mut pusher, &["LRANGE", "q", "0", "-1"]),
        arr(&[bulk("three")])
    );
}

#[test]
fn a_sub_second_timeout_returns_null_on_time() {
    let server = TestServer::start();
    let mut c = server.connect();
    let started = Instant::now();
    assert_eq!(call(&mut c, &["BLPOP", "none", "0.15"]), Frame::NullArray);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(140) && waited < Duration::from_millis(900),
        "{waited:?}"
    );
    assert_eq!(
        call(&mut c, &["BLMOVE", "none", "d", "LEFT", "RIGHT", "0.05"]),
        Frame::NullBulk
    );
    call(&mut c, &["HELLO", "3"]);
    assert_eq!(call(&mut c, &["BRPOP", "none", "0.05"]), Frame::Null);
}

#[test]
fn blmove_moves_the_pushed_element_when_it_arrives() {
    let server = TestServer::start();
    let mut waiter = server.connect();
    let mut pusher = server.connect();
    waiter
        .send(&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "5"])
        .unwrap();
    waiter.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    call(&mut pusher, &["RPUSH", "src", "a", "b"]);
    assert_eq!(waiter.read_frame().unwrap(), bulk("b"));
    assert_eq!(
        call(&mut pusher, &["LRANGE", "dst", "0", "-1"]),
        arr(&[bulk("b")])
    );
    assert_eq!(
        call(&mut pusher, &["LRANGE", "src", "0", "-1"]),
        arr(&[bulk("a")])
    );
}

#[test]
fn commands_pipelined_behind_a_blocking_one_run_after_it() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut pusher = server.connect();
    c.send(&["BLPOP", "p", "5"]).unwrap();
    c.send(&["ECHO", "after"]).unwrap();
    c.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    call(&mut pusher, &["RPUSH", "p", "v"]);
    assert_eq!(c.read_frame().unwrap(), arr(&[bulk("p"), bulk("v")]));
    assert_eq!(c.read_frame().unwrap(), bulk("after"));
}

#[test]
fn client_unblock_releases_a_waiter_with_a_timeout_or_an_error() {
    let server = TestServer::start();
    let mut waiter = server.connect();
    let Frame::Integer(id) = call(&mut waiter, &["CLIENT", "ID"]) else {
        panic!()
    };
    let mut admin = server.connect();
    waiter.send(&["BLPOP", "k", "0"]).unwrap();
    waiter.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let info = String::from_utf8_lossy(
        call(&mut admin, &["CLIENT", "LIST", "ID", &id.to_string()])
            .as_bytes()
            .unwrap(),
    )
    .into_owned();
    assert!(info.contains("flags=b"), "{info}");
    assert_eq!(
        call(&mut admin, &["CLIENT", "UNBLOCK", &id.to_string()]),
        Frame::Integer(1)
    );
    assert_eq!(waiter.read_frame().unwrap(), Frame::NullArray);
    waiter.send(&["BLPOP", "k", "0"]).unwrap();
    waiter.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(
        call(&mut admin, &["CLIENT", "UNBLOCK", &id.to_string(), "ERROR"]),
        Frame::Integer(1)
    );
    assert_eq!(
        waiter.read_frame().unwrap(),
        err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    );
    assert_eq!(
        call(&mut admin, &["CLIENT", "UNBLOCK", &id.to_string()]),
        Frame::Integer(0)
    );
    assert_eq!(
        call(&mut admin, &["CLIENT", "UNBLOCK", &id.to_string(), "MAYBE"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
}

#[test]
fn blocking_commands_inside_exec_do_not_block() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["MULTI"]);
    call(&mut c, &["BLPOP", "empty", "0"]);
    call(&mut c, &["BLMOVE", "empty", "x", "LEFT", "LEFT", "0"]);
    assert_eq!(
        call(&mut c, &["EXEC"]),
        arr(&[Frame::NullArray, Frame::NullBulk])
    );
}

#[test]
fn timeouts_are_validated_like_redis() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["BLPOP", "k", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        call(&mut c, &["BLPOP", "k", "abc"]),
        err("ERR timeout is not a float or out of range")
    );
    call(&mut c, &["SET", "s", "x"]);
    assert!(call(&mut c, &["BLPOP", "s", "1"])
        .error_text()
        .unwrap()
        .starts_with(b"WRONGTYPE"));
}

#[test]
fn a_disconnected_waiter_is_forgotten() {
    let server = TestServer::start();
    let mut gone = server.connect();
    gone.send(&["BLPOP", "k", "0"]).unwrap();
    gone.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    drop(gone);
    std::thread::sleep(Duration::from_millis(50));
    let mut c = server.connect();
    call(&mut c, &["RPUSH", "k", "kept"]);
    assert_eq!(
        call(&mut c, &["LRANGE", "k", "0", "-1"]),
        arr(&[bulk("kept")])
    );
}

#[test]
fn blocking_sorted_set_pops_match_redis_shapes_and_wake_on_zadd() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(
        call(&mut c, &["BZPOPMIN", "z", "0"]),
        arr(&[bulk("z"), bulk("a"), bulk("1")])
    );
    assert_eq!(
        call(&mut c, &["BZMPOP", "0", "1", "z", "MAX"]),
        arr(&[bulk("z"), arr(&[arr(&[bulk("b"), bulk("2")])])])
    );
    assert_eq!(call(&mut c, &["BZPOPMAX", "z", "0.01"]), Frame::NullArray);
    let mut waiter = server.connect();
    waiter.send(&["BZPOPMAX", "z", "5"]).unwrap();
    waiter.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    call(&mut c, &["ZADD", "z", "3", "c", "4", "d"]);
    assert_eq!(
        waiter.read_frame().unwrap(),
        arr(&[bulk("z"), bulk("d"), bulk("4")])
    );
    call(&mut waiter, &["HELLO", "3"]);
    assert_eq!(
        call(&mut waiter, &["BZPOPMIN", "z", "0"]),
        arr(&[bulk("z"), bulk("c"), Frame::Double("3".into())])
    );
}

#[test]
fn xread_block_with_dollar_waits_for_the_next_entry_only() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["XADD", "s", "1-1", "f", "old"]);
    let mut reader = server.connect();
    reader
        .send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"])
        .unwrap();
    reader.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    call(&mut c, &["XADD", "s", "2-1", "f", "new"]);
    let entry = arr(&[bulk("2-1"), arr(&[bulk("f"), bulk("new")])]);
    assert_eq!(
        reader.read_frame().unwrap(),
        arr(&[arr(&[bulk("s"), arr(&[entry])])])
    );
    assert_eq!(
        call(&mut reader, &["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]),
        Frame::NullArray
    );
    assert_eq!(
        call(&mut reader, &["XREAD", "BLOCK", "-1", "STREAMS", "s", "$"]),
        err("ERR timeout is negative")
    );
}

#[test]
fn xreadgroup_block_delivers_new_entries_to_the_waiting_consumer() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["XGROUP", "CREATE", "jobs", "g", "$", "MKSTREAM"]);
    let mut worker = server.connect();
    worker
        .send(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "w1",
            "BLOCK",
            "5000",
            "STREAMS",
            "jobs",
            ">",
        ])
        .unwrap();
    worker.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    call(&mut c, &["XADD", "jobs", "5-0", "task", "a"]);
    let entry = arr(&[bulk("5-0"), arr(&[bulk("task"), bulk("a")])]);
    assert_eq!(
        worker.read_frame().unwrap(),
        arr(&[arr(&[bulk("jobs"), arr(&[entry])])])
    );
    let pending = call(&mut c, &["XPENDING", "jobs", "g"]);
    assert_eq!(pending.as_array().unwrap()[0], Frame::Integer(1));
}

#[test]
fn a_waiter_woken_without_data_keeps_its_original_deadline() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut waiter = server.connect();
    let started = std::time::Instant::now();
    waiter.send(&["BLPOP", "k", "0.3"]).unwrap();
    waiter.flush().unwrap();
    // Touch the key repeatedly without giving it elements it can pop.
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(80));
        call(&mut c, &["RPUSH", "k", "x"]);
        call(&mut c, &["DEL", "k"]);
    }
    let reply = waiter.read_frame().unwrap();
    // Either it got an element or it timed out, but not later than 0.3 s plus slack.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?} {reply:?}",
        started.elapsed()
    );
}

#[test]
fn the_idle_timeout_does_not_close_a_blocked_client() {
    let server = TestServer::with(|c| {
        c.timeout = 1;
        c.hz = 100;
    });
    let mut waiter = server.connect();
    waiter.send(&["BLPOP", "k", "5"]).unwrap();
    waiter.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let mut pusher = server.connect();
    call(&mut pusher, &["RPUSH", "k", "late"]);
    assert_eq!(
        waiter.read_frame().unwrap(),
        arr(&[bulk("k"), bulk("late")])
    );
}
