//! HyperLogLog commands against a handoff server: representation changes,
//! the cached cardinality, write side effects (dirty counter, WATCH) and
//! errors. Byte-level equality with Redis is in hyperloglog_vs_redis.rs.

mod common;

use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

fn get_bytes(c: &mut Connection, key: &str) -> Vec<u8> {
    match call(c, &["GET", key]) {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("GET {key}: {other:?}"),
    }
}

fn int(c: &mut Connection, args: &[&str]) -> i64 {
    call(c, args)
        .as_int()
        .unwrap_or_else(|| panic!("{args:?} is not an integer"))
}

fn pfadd_range(c: &mut Connection, key: &str, from: u32, to: u32) {
    for start in (from..to).step_by(1000) {
        let mut args = vec!["PFADD".to_string(), key.to_string()];
        args.extend((start..to.min(start + 1000)).map(|i| format!("e{i}")));
        assert!(!c.call(&args).unwrap().is_error());
    }
}

fn dirty(c: &mut Connection) -> i64 {
    let info = call(c, &["INFO", "persistence"]).to_string_lossy();
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save in INFO")
}

#[test]
fn pfadd_creates_a_sparse_hll_and_reports_whether_registers_changed() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["PFADD", "h"]), Frame::Integer(1));
    let empty = get_bytes(&mut c, "h");
    assert_eq!(&empty[..5], b"HYLL\x01");
    assert_eq!(empty.len(), 18);
    assert_eq!(call(&mut c, &["PFADD", "h"]), Frame::Integer(0));
    assert_eq!(
        call(&mut c, &["PFADD", "h", "a", "b", "c"]),
        Frame::Integer(1)
    );
    assert_eq!(call(&mut c, &["PFADD", "h", "a", "b"]), Frame::Integer(0));
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]), Frame::Integer(3));
    assert_eq!(
        call(&mut c, &["PFDEBUG", "ENCODING", "h"]),
        simple("sparse")
    );
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "h"]), bulk("raw"));
}

#[test]
fn pfcount_caches_the_cardinality_in_the_value_and_counts_as_a_change() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["PFADD", "h", "x", "y"]);
    let before = get_bytes(&mut c, "h");
    assert_eq!(before[15] & 0x80, 0x80, "cache invalid after PFADD");
    let d0 = dirty(&mut c);
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]), Frame::Integer(2));
    assert_eq!(dirty(&mut c), d0 + 1);
    let after = get_bytes(&mut c, "h");
    assert_eq!(&after[8..16], &[2, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(after[16..], before[16..]);
    // A valid cache is answered as is: no further change.
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]), Frame::Integer(2));
    assert_eq!(dirty(&mut c), d0 + 1);
}

#[test]
fn pfcount_refreshing_the_cache_aborts_a_transaction_watching_the_key() {
    let s = TestServer::start();
    let mut c = s.connect();
    let mut other = s.connect();
    call(&mut c, &["PFADD", "h", "x"]);
    assert_eq!(call(&mut c, &["WATCH", "h"]), simple("OK"));
    assert_eq!(call(&mut other, &["PFCOUNT", "h"]), Frame::Integer(1));
    call(&mut c, &["MULTI"]);
    call(&mut c, &["SET", "k", "v"]);
    assert!(call(&mut c, &["EXEC"]).is_null());
}

#[test]
fn large_sets_become_dense_and_estimate_within_two_percent() {
    let s = TestServer::start();
    let mut c = s.connect();
    pfadd_range(&mut c, "big", 0, 100_000);
    assert_eq!(
        call(&mut c, &["PFDEBUG", "ENCODING", "big"]),
        simple("dense")
    );
    assert_eq!(get_bytes(&mut c, "big").len(), 16 + 12288);
    let n = int(&mut c, &["PFCOUNT", "big"]);
    assert!((n - 100_000).abs() < 2000, "estimate {n}");
    let regs = call(&mut c, &["PFDEBUG", "GETREG", "big"]);
    let regs = regs.as_array().expect("array of registers");
    assert_eq!(regs.len(), 16384);
    assert!(regs.iter().all(|r| matches!(r, Frame::Integer(0..=63))));
}

#[test]
fn pfcount_of_several_keys_is_the_union_and_leaves_the_keys_alone() {
    let s = TestServer::start();
    let mut c = s.connect();
    pfadd_range(&mut c, "a", 0, 3000);
    pfadd_range(&mut c, "b", 2000, 5000);
    let (a, b) = (get_bytes(&mut c, "a"), get_bytes(&mut c, "b"));
    let d0 = dirty(&mut c);
    let union = int(&mut c, &["PFCOUNT", "a", "b", "missing"]);
    assert!((union - 5000).abs() < 150, "union {union}");
    assert_eq!(dirty(&mut c), d0);
    assert_eq!(get_bytes(&mut c, "a"), a);
    assert_eq!(get_bytes(&mut c, "b"), b);
    assert_eq!(
        call(&mut c, &["PFCOUNT", "missing", "missing2"]),
        Frame::Integer(0)
    );
    assert_eq!(call(&mut c, &["PFCOUNT", "missing"]), Frame::Integer(0));
}

#[test]
fn pfmerge_stores_the_union_and_keeps_sparse_inputs_sparse() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["PFADD", "s1", "a", "b", "c"]);
    call(&mut c, &["PFADD", "s2", "c", "d"]);
    assert_eq!(
        call(&mut c, &["PFMERGE", "dst", "s1", "s2", "nosuch"]),
        simple("OK")
    );
    assert_eq!(call(&mut c, &["PFCOUNT", "dst"]), Frame::Integer(4));
    assert_eq!(
        call(&mut c, &["PFDEBUG", "ENCODING", "dst"]),
        simple("sparse")
    );
    // The destination takes part in the union.
    call(&mut c, &["PFADD", "s3", "e"]);
    call(&mut c, &["PFMERGE", "dst", "s3"]);
    assert_eq!(call(&mut c, &["PFCOUNT", "dst"]), Frame::Integer(5));

    pfadd_range(&mut c, "big", 0, 20_000);
    call(&mut c, &["PFMERGE", "dst", "big"]);
    assert_eq!(
        call(&mut c, &["PFDEBUG", "ENCODING", "dst"]),
        simple("dense")
    );
    assert_eq!(call(&mut c, &["PFMERGE", "fresh"]), simple("OK"));
    assert_eq!(call(&mut c, &["PFCOUNT", "fresh"]), Frame::Integer(0));
}

#[test]
fn strings_that_are_not_hlls_are_rejected_and_corruption_is_detected() {
    let s = TestServer::start();
    let mut c = s.connect();
    let not_hll = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
    call(&mut c, &["SET", "str", "hello"]);
    call(&mut c, &["SET", "int", "42"]);
    for key in ["str", "int"] {
        assert_eq!(call(&mut c, &["PFADD", key, "x"]), not_hll);
        assert_eq!(call(&mut c, &["PFCOUNT", key]), not_hll);
        assert_eq!(call(&mut c, &["PFCOUNT", "nosuch", key]), not_hll);
        assert_eq!(call(&mut c, &["PFMERGE", "d", key]), not_hll);
    }
    assert_eq!(call(&mut c, &["GET", "str"]), bulk("hello"));
    // A sparse header without opcodes describes no registers.
    let mut corrupt = Vec::from(&b"HYLL\x01\x00\x00\x00"[..]);
    corrupt.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x80]);
    c.call(&[&b"SET"[..], b"bad", &corrupt]).unwrap();
    let invalid = err("INVALIDOBJ Corrupted HLL object detected");
    assert_eq!(call(&mut c, &["PFCOUNT", "bad"]), invalid);
    assert_eq!(call(&mut c, &["PFADD", "bad", "x"]), invalid);
    assert_eq!(call(&mut c, &["PFMERGE", "d", "bad"]), invalid);
    assert_eq!(call(&mut c, &["PFDEBUG", "GETREG", "bad"]), invalid);
}

#[test]
fn pfdebug_reports_decodes_and_converts() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(
        call(&mut c, &["PFDEBUG", "DECODE", "h"]),
        bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
    );
    assert_eq!(
        call(&mut c, &["PFDEBUG", "TODENSE", "h"]),
        Frame::Integer(1)
    );
    assert_eq!(
        call(&mut c, &["PFDEBUG", "TODENSE", "h"]),
        Frame::Integer(0)
    );
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h"]), simple("dense"));
    assert_eq!(
        call(&mut c, &["PFDEBUG", "DECODE", "h"]),
        err("ERR HLL encoding is not sparse")
    );
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]), Frame::Integer(3));
    assert_eq!(
        call(&mut c, &["PFDEBUG", "what", "h"]),
        err("ERR Unknown PFDEBUG subcommand 'what'")
    );
    assert_eq!(
        call(&mut c, &["PFDEBUG", "getreg", "nosuch"]),
        err("ERR The specified key does not exist")
    );
}

#[test]
fn the_sparse_limit_follows_hll_sparse_max_bytes() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "40"]),
        simple("OK")
    );
    for i in 0..30 {
        call(&mut c, &["PFADD", "h", &format!("e{i}")]);
        let len = get_bytes(&mut c, "h").len();
        assert!(len <= 40 || len == 16 + 12288, "length {len}");
    }
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h"]), simple("dense"));
}

#[test]
#[ignore = "adds 10 million elements twice: about 12 s in a debug build"]
fn pfselftest_passes() {
    let s = TestServer::start();
    let mut c = s.connect();
    c.set_read_timeout(Some(std::time::Duration::from_secs(300)))
        .unwrap();
    assert_eq!(call(&mut c, &["PFSELFTEST"]), simple("OK"));
}

#[test]
fn pfadd_and_pfmerge_raise_pfadd_keyspace_events_only_on_change() {
    let s = TestServer::start();
    let mut c = s.connect();
    let mut sub = s.connect();
    call(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    call(&mut sub, &["SUBSCRIBE", "__keyevent@0__:pfadd"]);
    call(&mut c, &["PFADD", "h", "a"]);
    call(&mut c, &["PFADD", "h", "a"]);
    call(&mut c, &["PFMERGE", "d", "h"]);
    call(&mut c, &["PUBLISH", "__keyevent@0__:pfadd", "end"]);
    let mut keys = Vec::new();
    loop {
        let msg = sub.read_frame().unwrap();
        let items = msg.as_array().expect("message").to_vec();
        let payload = items[2].as_bytes().unwrap().to_vec();
        if payload == b"end" {
            break;
        }
        keys.push(String::from_utf8(payload).unwrap());
    }
    assert_eq!(keys, ["h", "d"]);
}
