//! Stream integration tests against an in-process handoff server: IDs,
//! node boundaries with approximate trimming, consumer groups and a
//! job-queue scenario (producer, two consumers, one of which dies and has
//! its entries auto-claimed).

mod common;

use common::{bulk, call, err, TestServer};
use handoff::protocol::Frame;

fn int(f: &Frame) -> i64 {
    match f {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn arr(f: &Frame) -> &Vec<Frame> {
    match f {
        Frame::Array(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn parse_id(s: &str) -> (u64, u64) {
    let (a, b) = s.split_once('-').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

#[test]
fn auto_ids_are_increasing_and_explicit_ids_must_grow() {
    let server = TestServer::start();
    let mut c = server.connect();
    let a = text(&call(&mut c, &["XADD", "s", "*", "f", "v"]));
    let b = text(&call(&mut c, &["XADD", "s", "*", "f", "v"]));
    assert!(parse_id(&b) > parse_id(&a), "{a} then {b}");
    let (ms, _) = parse_id(&b);
    let next = format!("{ms}-*");
    let c3 = text(&call(&mut c, &["XADD", "s", &next, "f", "v"]));
    assert!(parse_id(&c3) > parse_id(&b));
    assert_eq!(
        call(&mut c, &["XADD", "s", "1-1", "f", "v"]),
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
    assert_eq!(int(&call(&mut c, &["XLEN", "s"])), 3);
    assert_eq!(call(&mut c, &["TYPE", "s"]), common::simple("stream"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "s"]), bulk("stream"));
}

#[test]
fn approximate_trimming_removes_whole_nodes_of_one_hundred_entries() {
    let server = TestServer::start();
    let mut c = server.connect();
    for i in 1..=1000 {
        let id = format!("{i}-0");
        call(&mut c, &["XADD", "big", &id, "field", "value"]);
    }
    assert_eq!(
        int(&call(&mut c, &["XTRIM", "big", "MAXLEN", "~", "850"])),
        100
    );
    assert_eq!(int(&call(&mut c, &["XLEN", "big"])), 900);
    assert_eq!(int(&call(&mut c, &["XTRIM", "big", "MAXLEN", "850"])), 50);
    let first = call(&mut c, &["XRANGE", "big", "-", "+", "COUNT", "1"]);
    assert_eq!(text(&arr(&arr(&first)[0])[0]), "151-0");
    let last = call(&mut c, &["XREVRANGE", "big", "+", "-", "COUNT", "2"]);
    assert_eq!(text(&arr(&arr(&last)[1])[0]), "999-0");
    assert_eq!(
        int(&call(&mut c, &["XTRIM", "big", "MINID", "~", "500"])),
        250
    );
    assert_eq!(int(&call(&mut c, &["XLEN", "big"])), 600);
    let info = call(&mut c, &["XINFO", "STREAM", "big"]);
    let v = arr(&info);
    assert_eq!(text(&v[2]), "radix-tree-keys");
    assert_eq!(int(&v[3]), 6);
}

#[test]
fn consumers_created_explicitly_report_never_active() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(
        int(&call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"])),
        1
    );
    let info = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]);
    let c1 = arr(&arr(&info)[0]);
    assert_eq!(text(&c1[6]), "inactive");
    assert_eq!(int(&c1[7]), -1);
    assert_eq!(
        call(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]
        ),
        Frame::NullArray
    );
}

#[test]
fn a_job_queue_survives_a_dead_consumer_through_xautoclaim() {
    let server = TestServer::start();
    let mut producer = server.connect();
    let mut alice = server.connect();
    let mut bob = server.connect();
    assert_eq!(
        call(
            &mut producer,
            &["XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"]
        ),
        common::simple("OK")
    );
    for i in 1..=6 {
        let id = format!("{i}-0");
        let job = format!("job{i}");
        call(&mut producer, &["XADD", "jobs", &id, "task", &job]);
    }

    let got = call(
        &mut alice,
        &[
            "XREADGROUP",
            "GROUP",
            "workers",
            "alice",
            "COUNT",
            "3",
            "STREAMS",
            "jobs",
            ">",
        ],
    );
    let entries = arr(&arr(&arr(&got)[0])[1]);
    assert_eq!(entries.len(), 3);
    assert_eq!(text(&arr(&arr(&entries[0])[1])[1]), "job1");
    let got = call(
        &mut bob,
        &[
            "XREADGROUP",
            "GROUP",
            "workers",
            "bob",
            "STREAMS",
            "jobs",
            ">",
        ],
    );
    let bob_ids: Vec<String> = arr(&arr(&arr(&got)[0])[1])
        .iter()
        .map(|e| text(&arr(e)[0]))
        .collect();
    assert_eq!(bob_ids, vec!["4-0", "5-0", "6-0"]);

    assert_eq!(
        int(&call(
            &mut alice,
            &["XACK", "jobs", "workers", "1-0", "2-0", "3-0"]
        )),
        3
    );
    // Bob dies without acknowledging anything.
    drop(bob);
    let summary = call(&mut producer, &["XPENDING", "jobs", "workers"]);
    let s = arr(&summary);
    assert_eq!(int(&s[0]), 3);
    assert_eq!(text(&s[1]), "4-0");
    assert_eq!(text(&s[2]), "6-0");
    assert_eq!(arr(&s[3]).len(), 1);
    assert_eq!(text(&arr(&arr(&s[3])[0])[0]), "bob");

    std::thread::sleep(std::time::Duration::from_millis(30));
    // Too recent for a long idle threshold.
    let none = call(
        &mut alice,
        &["XAUTOCLAIM", "jobs", "workers", "alice", "60000", "0"],
    );
    assert_eq!(arr(&arr(&none)[1]).len(), 0);
    let claimed = call(
        &mut alice,
        &[
            "XAUTOCLAIM",
            "jobs",
            "workers",
            "alice",
            "20",
            "0",
            "COUNT",
            "2",
        ],
    );
    let v = arr(&claimed);
    assert_eq!(
        text(&v[0]),
        "6-0",
        "cursor points at the next pending entry"
    );
    assert_eq!(arr(&v[1]).len(), 2);
    let claimed = call(
        &mut alice,
        &["XAUTOCLAIM", "jobs", "workers", "alice", "20", "6-0"],
    );
    let v = arr(&claimed);
    assert_eq!(text(&v[0]), "0-0");
    assert_eq!(arr(&v[1]).len(), 1);
    assert_eq!(arr(&v[2]).len(), 0);

    let detail = call(
        &mut producer,
        &["XPENDING", "jobs", "workers", "-", "+", "10"],
    );
    for row in arr(&detail) {
        let r = arr(row);
        assert_eq!(text(&r[1]), "alice");
        assert_eq!(int(&r[3]), 2, "delivered to bob, then claimed by alice");
    }
    assert_eq!(
        int(&call(
            &mut alice,
            &["XACK", "jobs", "workers", "4-0", "5-0", "6-0"]
        )),
        3
    );
    assert_eq!(
        int(&arr(&call(&mut producer, &["XPENDING", "jobs", "workers"]))[0]),
        0
    );
    assert_eq!(
        int(&call(
            &mut producer,
            &["XGROUP", "DELCONSUMER", "jobs", "workers", "bob"]
        )),
        0
    );

    let groups = call(&mut producer, &["XINFO", "GROUPS", "jobs"]);
    let g = arr(&arr(&groups)[0]);
    assert_eq!(text(&g[6]), "last-delivered-id");
    assert_eq!(text(&g[7]), "6-0");
    assert_eq!(int(&g[9]), 6, "entries-read");
    assert_eq!(int(&g[11]), 0, "lag");
}

#[test]
fn stream_commands_refuse_other_types() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SET", "k", "v"]);
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["XADD", "k", "1-1", "f", "v"][..],
        &["XLEN", "k"],
        &["XRANGE", "k", "-", "+"],
        &["XREAD", "STREAMS", "k", "0"],
        &["XGROUP", "CREATE", "k", "g", "0"],
        &["XINFO", "STREAM", "k"],
    ] {
        assert_eq!(call(&mut c, cmd), wrongtype, "{cmd:?}");
    }
}
