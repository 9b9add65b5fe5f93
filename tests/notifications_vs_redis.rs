//! Keyspace notifications compared with a real redis-server: the same writes
//! on both, with `notify-keyspace-events KEA` (and then `KEAnm`... minus
//! classes), and the messages a pattern subscriber receives must be equal,
//! in order.

mod common;

use std::time::Duration;

use common::{ExternalServer, TestServer};
use handoff::protocol::{Connection, Frame};

const WRITES: &[&[&str]] = &[
    &["SET", "s", "1"],
    &["SET", "s", "2", "EX", "100"],
    &["INCR", "s"],
    &["INCRBYFLOAT", "s", "1.5"],
    &["APPEND", "s", "x"],
    &["SETRANGE", "s", "0", "y"],
    &["GETSET", "s", "z"],
    &["MSET", "a", "1", "b", "2"],
    &["EXPIRE", "a", "100"],
    &["PERSIST", "a"],
    &["PEXPIRE", "b", "-1"],
    &["RENAME", "a", "c"],
    &["COPY", "c", "d"],
    &["MOVE", "d", "1"],
    &["DEL", "c", "nokey"],
    &["SETBIT", "bits", "3", "1"],
    &["RPUSH", "l", "1", "2", "3"],
    &["LPUSH", "l", "0"],
    &["LPOP", "l"],
    &["LSET", "l", "0", "x"],
    &["LINSERT", "l", "BEFORE", "x", "w"],
    &["LREM", "l", "1", "w"],
    &["LTRIM", "l", "0", "0"],
    &["RPOPLPUSH", "l", "l2"],
    &["SADD", "st", "a", "b", "c"],
    &["SADD", "st", "a"],
    &["SREM", "st", "a"],
    &["SMOVE", "st", "st2", "b"],
    &["SINTERSTORE", "st3", "st", "st2"],
    &["SUNIONSTORE", "st3", "st", "st2"],
    &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    &["ZINCRBY", "z", "5", "a"],
    &["ZREM", "z", "b"],
    &["ZPOPMIN", "z"],
    &["ZREMRANGEBYSCORE", "z", "0", "100"],
    &["HSET", "h", "a", "1", "b", "2"],
    &["HSETNX", "h", "c", "3"],
    &["HINCRBY", "h", "a", "5"],
    &["HINCRBYFLOAT", "h", "b", "0.5"],
    &["HDEL", "h", "a", "b", "c"],
    &["XADD", "x", "1-1", "f", "v"],
    &["XADD", "x", "2-1", "f", "v"],
    &["XGROUP", "CREATE", "x", "g", "0"],
    &["XGROUP", "CREATECONSUMER", "x", "g", "c1"],
    &["XDEL", "x", "1-1"],
    &["XTRIM", "x", "MAXLEN", "0"],
    &["XSETID", "x", "5-0"],
    &["XGROUP", "DESTROY", "x", "g"],
    &["GEOADD", "geo", "13.361389", "38.115556", "Palermo"],
    &[
        "GEOSEARCHSTORE",
        "geo2",
        "geo",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
    ],
    &["RPUSH", "srt", "3", "1", "2"],
    &["SORT", "srt", "STORE", "srt2"],
    &["GETDEL", "s"],
    &["FLUSHALL"],
];

/// Runs the writes with notifications on; returns the messages received.
fn messages(writer: &mut Connection, sub: &mut Connection, flags: &str) -> Vec<Frame> {
    writer.call(&["FLUSHALL"]).unwrap();
    writer
        .call(&["CONFIG", "SET", "notify-keyspace-events", flags])
        .unwrap();
    sub.send(&["PSUBSCRIBE", "__key*__:*"]).unwrap();
    sub.flush().unwrap();
    sub.read_frame().unwrap();
    for w in WRITES {
        writer.call(w).unwrap();
    }
    writer.call(&["GET", "missing"]).unwrap();
    // A second subscription marks the end: every notification raised by the
    // writes above was delivered before its confirmation.
    sub.send(&["PSUBSCRIBE", "end"]).unwrap();
    sub.flush().unwrap();
    let mut got = Vec::new();
    loop {
        let f = sub
            .read_frame()
            .unwrap_or_else(|e| panic!("after {} messages: {e}; last {:?}", got.len(), got.last()));
        let word = |i: usize| match &f {
            Frame::Array(v) => v.get(i).and_then(|c| c.as_bytes()).map(|b| b.to_vec()),
            _ => None,
        };
        if word(0).as_deref() == Some(b"psubscribe") {
            if word(1).as_deref() == Some(b"end") {
                break;
            }
            continue;
        }
        got.push(f);
    }
    sub.send(&["PUNSUBSCRIBE"]).unwrap();
    sub.flush().unwrap();
    sub.read_frame().unwrap();
    sub.read_frame().unwrap();
    writer
        .call(&["CONFIG", "SET", "notify-keyspace-events", ""])
        .unwrap();
    got
}

#[test]
fn keyspace_notifications_match_redis_message_for_message() {
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let ours = TestServer::start();
    for flags in ["KEA", "Kg$lsz", "E$", "KEAn", "KEm"] {
        let theirs = messages(&mut redis.connect(), &mut timed(redis.connect()), flags);
        let mine = messages(&mut ours.connect(), &mut timed(ours.connect()), flags);
        let render = |v: &[Frame]| {
            v.iter()
                .map(|f| f.to_string_lossy())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            render(&mine),
            render(&theirs),
            "notify-keyspace-events {flags}"
        );
    }
}

fn timed(c: Connection) -> Connection {
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c
}
