//! Pub/sub over real sockets: delivery in RESP2 and RESP3, pattern and shard
//! subscriptions, subscribed-mode rules, introspection, expiry notifications.

mod common;

use std::time::Duration;

use common::*;
use handoff::protocol::Frame;

fn arr(items: &[Frame]) -> Frame {
    Frame::Array(items.to_vec())
}

#[test]
fn a_published_message_reaches_channel_and_pattern_subscribers() {
    let server = TestServer::start();
    let mut sub = server.connect();
    let mut psub = server.connect();
    let mut publisher = server.connect();
    assert_eq!(
        call(&mut sub, &["SUBSCRIBE", "news"]),
        arr(&[bulk("subscribe"), bulk("news"), Frame::Integer(1)])
    );
    assert_eq!(
        call(&mut psub, &["PSUBSCRIBE", "n*"]),
        arr(&[bulk("psubscribe"), bulk("n*"), Frame::Integer(1)])
    );
    assert_eq!(
        call(&mut publisher, &["PUBLISH", "news", "hello"]),
        Frame::Integer(2)
    );
    assert_eq!(
        sub.read_frame().unwrap(),
        arr(&[bulk("message"), bulk("news"), bulk("hello")])
    );
    assert_eq!(
        psub.read_frame().unwrap(),
        arr(&[bulk("pmessage"), bulk("n*"), bulk("news"), bulk("hello")])
    );
    assert_eq!(
        call(&mut publisher, &["PUBLISH", "other", "x"]),
        Frame::Integer(0)
    );
}

#[test]
fn resp3_subscribers_get_push_frames_and_keep_using_commands() {
    let server = TestServer::start();
    let mut sub = server.connect();
    call(&mut sub, &["HELLO", "3"]);
    sub.send(&["SUBSCRIBE", "c"]).unwrap();
    sub.flush().unwrap();
    assert_eq!(
        sub.read_frame().unwrap(),
        Frame::Push(vec![bulk("subscribe"), bulk("c"), Frame::Integer(1)])
    );
    assert_eq!(call(&mut sub, &["SET", "k", "v"]), simple("OK"));
    assert_eq!(call(&mut sub, &["PUBLISH", "c", "self"]), Frame::Integer(1));
    assert_eq!(
        sub.pushes(),
        vec![Frame::Push(vec![bulk("message"), bulk("c"), bulk("self")])]
    );
}

#[test]
fn a_subscribed_resp2_client_may_only_send_subscription_commands_and_ping() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SUBSCRIBE", "a"]);
    assert_eq!(
        call(&mut c, &["GET", "k"]),
        err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(call(&mut c, &["PING"]), arr(&[bulk("pong"), bulk("")]));
    assert_eq!(
        call(&mut c, &["PING", "x"]),
        arr(&[bulk("pong"), bulk("x")])
    );
    assert_eq!(
        call(&mut c, &["UNSUBSCRIBE"]),
        arr(&[bulk("unsubscribe"), bulk("a"), Frame::Integer(0)])
    );
    assert_eq!(
        call(&mut c, &["UNSUBSCRIBE"]),
        arr(&[bulk("unsubscribe"), Frame::NullBulk, Frame::Integer(0)])
    );
    assert_eq!(call(&mut c, &["GET", "k"]), Frame::NullBulk);
}

#[test]
fn pubsub_introspection_counts_subscribers_and_forgets_closed_clients() {
    let server = TestServer::start();
    let mut a = server.connect();
    let mut b = server.connect();
    let mut q = server.connect();
    call(&mut a, &["SUBSCRIBE", "x", "y"]);
    call(&mut b, &["SUBSCRIBE", "x"]);
    call(&mut b, &["PSUBSCRIBE", "p*"]);
    a.read_frame().unwrap();
    assert_eq!(
        call(&mut q, &["PUBSUB", "NUMSUB", "x", "y", "z"]),
        arr(&[
            bulk("x"),
            Frame::Integer(2),
            bulk("y"),
            Frame::Integer(1),
            bulk("z"),
            Frame::Integer(0)
        ])
    );
    assert_eq!(call(&mut q, &["PUBSUB", "NUMPAT"]), Frame::Integer(1));
    assert_eq!(
        call(&mut q, &["PUBSUB", "CHANNELS", "y*"]),
        arr(&[bulk("y")])
    );
    let list = String::from_utf8_lossy(
        call(&mut q, &["CLIENT", "LIST", "TYPE", "pubsub"])
            .as_bytes()
            .unwrap(),
    )
    .into_owned();
    assert_eq!(list.lines().count(), 2, "{list}");
    drop(a);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        call(&mut q, &["PUBSUB", "NUMSUB", "x", "y"]),
        arr(&[bulk("x"), Frame::Integer(1), bulk("y"), Frame::Integer(0)])
    );
}

#[test]
fn shard_channels_have_their_own_messages_and_counts() {
    let server = TestServer::start();
    let mut s = server.connect();
    let mut p = server.connect();
    assert_eq!(
        call(&mut s, &["SSUBSCRIBE", "sh"]),
        arr(&[bulk("ssubscribe"), bulk("sh"), Frame::Integer(1)])
    );
    assert_eq!(call(&mut p, &["SPUBLISH", "sh", "m"]), Frame::Integer(1));
    assert_eq!(call(&mut p, &["PUBLISH", "sh", "m"]), Frame::Integer(0));
    assert_eq!(
        s.read_frame().unwrap(),
        arr(&[bulk("smessage"), bulk("sh"), bulk("m")])
    );
    assert_eq!(
        call(&mut p, &["PUBSUB", "SHARDCHANNELS"]),
        arr(&[bulk("sh")])
    );
    assert_eq!(
        call(&mut p, &["PUBSUB", "SHARDNUMSUB", "sh"]),
        arr(&[bulk("sh"), Frame::Integer(1)])
    );
}

#[test]
fn expired_keys_raise_keyevent_notifications() {
    let server = TestServer::with(|c| {
        c.notify_keyspace_events = "Ex".into();
        c.hz = 100;
    });
    let mut sub = server.connect();
    call(&mut sub, &["SUBSCRIBE", "__keyevent@0__:expired"]);
    let mut c = server.connect();
    call(&mut c, &["SET", "gone", "v", "PX", "30"]);
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        sub.read_frame().unwrap(),
        arr(&[
            bulk("message"),
            bulk("__keyevent@0__:expired"),
            bulk("gone")
        ])
    );
}

#[test]
fn reset_leaves_subscribed_mode() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SUBSCRIBE", "a"]);
    assert_eq!(call(&mut c, &["RESET"]), simple("RESET"));
    assert_eq!(call(&mut c, &["GET", "k"]), Frame::NullBulk);
    let mut q = server.connect();
    assert_eq!(
        call(&mut q, &["PUBSUB", "NUMSUB", "a"]),
        arr(&[bulk("a"), Frame::Integer(0)])
    );
}
