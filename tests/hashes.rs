//! Integration tests for the hash commands: replies in RESP2 and RESP3,
//! encoding transitions (listpack -> hashtable, including the Redis 7.2
//! rules the 7.0 oracle lacks), HSCAN cursors over big hashes, HRANDFIELD
//! sampling rules, empty-hash deletion, errors and the dirty counter.

mod common;

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

fn resp3(c: &mut Connection) {
    assert!(!call(c, &["HELLO", "3"]).is_error());
}

fn encoding(c: &mut Connection, key: &str) -> Frame {
    call(c, &["OBJECT", "ENCODING", key])
}

fn bytes_of(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("not a bulk: {other:?}"),
    }
}

fn items(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) => v,
        other => panic!("not an array: {other:?}"),
    }
}

/// Fills `key` with fields f0..f{n-1} (values v0..) in one HSET.
fn fill(c: &mut Connection, key: &str, n: usize) {
    let mut args = vec!["HSET".to_string(), key.to_string()];
    for i in 0..n {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    assert_eq!(c.call(&args).unwrap(), int(n as i64));
}

fn dirty(c: &mut Connection) -> i64 {
    let Frame::Bulk(info) = call(c, &["INFO", "persistence"]) else {
        panic!("INFO reply");
    };
    let text = String::from_utf8_lossy(&info).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .expect("rdb_changes_since_last_save")
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn hset_counts_new_fields_and_updates_existing_ones_in_place() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(call(&mut c, &["HSET", "h", "a", "10", "c", "3"]), int(1));
    assert_eq!(
        call(&mut c, &["HGETALL", "h"]),
        arr(vec![
            bulk("a"),
            bulk("10"),
            bulk("b"),
            bulk("2"),
            bulk("c"),
            bulk("3")
        ])
    );
    assert_eq!(call(&mut c, &["HMSET", "h", "d", "4"]), simple("OK"));
    assert_eq!(call(&mut c, &["HLEN", "h"]), int(4));
}

#[test]
fn an_odd_number_of_hset_arguments_is_an_arity_error_naming_the_command() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["HSET", "h", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        call(&mut c, &["hmset", "h", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hmset' command")
    );
    assert_eq!(call(&mut c, &["EXISTS", "h"]), int(0));
}

#[test]
fn hgetall_is_a_map_in_resp3_and_a_flat_array_in_resp2() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "f", "v"]);
    assert_eq!(
        call(&mut c, &["HGETALL", "h"]),
        arr(vec![bulk("f"), bulk("v")])
    );
    assert_eq!(call(&mut c, &["HGETALL", "nope"]), arr(vec![]));
    resp3(&mut c);
    assert_eq!(
        call(&mut c, &["HGETALL", "h"]),
        Frame::Map(vec![(bulk("f"), bulk("v"))])
    );
    assert_eq!(call(&mut c, &["HGETALL", "nope"]), Frame::Map(vec![]));
    assert_eq!(call(&mut c, &["HGET", "h", "zz"]), Frame::Null);
    assert_eq!(
        call(&mut c, &["HMGET", "h", "f", "zz"]),
        arr(vec![bulk("v"), Frame::Null])
    );
}

#[test]
fn reads_of_missing_keys_and_fields_reply_nulls_and_zeros() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["HGET", "h", "f"]), Frame::NullBulk);
    assert_eq!(
        call(&mut c, &["HMGET", "h", "f", "g"]),
        arr(vec![Frame::NullBulk, Frame::NullBulk])
    );
    assert_eq!(call(&mut c, &["HLEN", "h"]), int(0));
    assert_eq!(call(&mut c, &["HSTRLEN", "h", "f"]), int(0));
    assert_eq!(call(&mut c, &["HEXISTS", "h", "f"]), int(0));
    assert_eq!(call(&mut c, &["HKEYS", "h"]), arr(vec![]));
    assert_eq!(call(&mut c, &["HVALS", "h"]), arr(vec![]));
    call(&mut c, &["HSET", "h", "f", "hello"]);
    assert_eq!(call(&mut c, &["HSTRLEN", "h", "f"]), int(5));
    assert_eq!(call(&mut c, &["HEXISTS", "h", "f"]), int(1));
}

#[test]
fn every_hash_command_refuses_a_string_key_with_wrongtype() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["SET", "s", "x"]);
    let wrong = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["HSET", "s", "a", "1"][..],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HDEL", "s", "a"],
        &["HLEN", "s"],
        &["HSTRLEN", "s", "a"],
        &["HEXISTS", "s", "a"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HGETALL", "s"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "2"],
        &["HSCAN", "s", "0"],
    ] {
        assert_eq!(call(&mut c, cmd), wrong, "{cmd:?}");
    }
    assert_eq!(call(&mut c, &["GET", "s"]), bulk("x"));
}

#[test]
fn deleting_the_last_field_deletes_the_key() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(call(&mut c, &["HDEL", "h", "a", "zz", "a"]), int(1));
    assert_eq!(call(&mut c, &["EXISTS", "h"]), int(1));
    assert_eq!(call(&mut c, &["HDEL", "h", "b", "b"]), int(1));
    assert_eq!(call(&mut c, &["EXISTS", "h"]), int(0));
    assert_eq!(call(&mut c, &["HDEL", "h", "b"]), int(0));
    // The same for a hashtable-encoded hash.
    fill(&mut c, "big", 600);
    let mut args = vec!["HDEL".to_string(), "big".to_string()];
    args.extend((0..600).map(|i| format!("f{i}")));
    assert_eq!(c.call(&args).unwrap(), int(600));
    assert_eq!(call(&mut c, &["EXISTS", "big"]), int(0));
}

#[test]
fn hsetnx_only_sets_missing_fields() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["HSETNX", "h", "f", "1"]), int(1));
    assert_eq!(call(&mut c, &["HSETNX", "h", "f", "2"]), int(0));
    assert_eq!(call(&mut c, &["HGET", "h", "f"]), bulk("1"));
}

#[test]
fn hincrby_checks_the_stored_value_and_overflow() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["HINCRBY", "h", "n", "5"]), int(5));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "n", "-8"]), int(-3));
    call(
        &mut c,
        &["HSET", "h", "t", "abc", "m", "9223372036854775807"],
    );
    assert_eq!(
        call(&mut c, &["HINCRBY", "h", "t", "1"]),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        call(&mut c, &["HINCRBY", "h", "m", "1"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        call(&mut c, &["HINCRBY", "h", "n", "x"]),
        err("ERR value is not an integer or out of range")
    );
    // A failed increment on a missing key leaves no empty hash behind.
    assert_eq!(
        call(&mut c, &["HINCRBY", "fresh", "n", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(call(&mut c, &["EXISTS", "fresh"]), int(0));
}

#[test]
fn hincrbyfloat_formats_like_incrbyfloat_and_rejects_nan_and_infinity() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "f", "10.5"]),
        bulk("10.5")
    );
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "f", "0.1"]),
        bulk("10.6")
    );
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "g", "3.0e3"]),
        bulk("3000")
    );
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "f", "inf"]),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "f", "abc"]),
        err("ERR value is not a valid float")
    );
    call(&mut c, &["HSET", "h", "t", "abc", "big", "1e308"]);
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "t", "1"]),
        err("ERR hash value is not a float")
    );
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "big", "1e308"]),
        err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(call(&mut c, &["HGET", "h", "big"]), bulk("1e308"));
}

#[test]
fn small_hashes_are_listpacks_until_a_threshold_is_crossed() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "3"]);
    call(&mut c, &["CONFIG", "SET", "hash-max-listpack-value", "5"]);
    call(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(encoding(&mut c, "h"), bulk("listpack"));
    call(&mut c, &["HSET", "h", "d", "4"]);
    assert_eq!(encoding(&mut c, "h"), bulk("hashtable"));
    // Shrinking never converts back.
    call(&mut c, &["HDEL", "h", "a", "b", "c"]);
    assert_eq!(encoding(&mut c, "h"), bulk("hashtable"));
    assert_eq!(
        call(&mut c, &["HGETALL", "h"]),
        arr(vec![bulk("d"), bulk("4")])
    );

    call(&mut c, &["HSET", "v", "f", "12345"]);
    assert_eq!(encoding(&mut c, "v"), bulk("listpack"));
    call(&mut c, &["HSET", "v", "f", "123456"]);
    assert_eq!(encoding(&mut c, "v"), bulk("hashtable"));
    call(&mut c, &["HSET", "k", "123456", "v"]);
    assert_eq!(encoding(&mut c, "k"), bulk("hashtable"));
    // Values written by the server itself count too.
    call(&mut c, &["HINCRBY", "i", "f", "123456"]);
    assert_eq!(encoding(&mut c, "i"), bulk("hashtable"));
    call(&mut c, &["HINCRBYFLOAT", "x", "f", "1.5"]);
    assert_eq!(encoding(&mut c, "x"), bulk("listpack"));
}

#[test]
fn an_hset_with_more_pairs_than_the_entry_limit_converts_even_with_duplicates() {
    // Redis 7.2 pre-sizes a hashtable from the argument count (7.0 did not).
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    assert_eq!(
        call(&mut c, &["HSET", "h", "a", "1", "a", "2", "a", "3"]),
        int(1)
    );
    assert_eq!(encoding(&mut c, "h"), bulk("hashtable"));
    assert_eq!(
        call(&mut c, &["HGETALL", "h"]),
        arr(vec![bulk("a"), bulk("3")])
    );
    assert_eq!(call(&mut c, &["HSET", "g", "a", "1", "a", "2"]), int(1));
    assert_eq!(encoding(&mut c, "g"), bulk("listpack"));
}

#[test]
fn big_hashes_keep_every_field_through_the_conversion() {
    let s = TestServer::start();
    let mut c = s.connect();
    fill(&mut c, "h", 1000);
    assert_eq!(encoding(&mut c, "h"), bulk("hashtable"));
    assert_eq!(call(&mut c, &["HLEN", "h"]), int(1000));
    for i in [0, 1, 511, 512, 999] {
        assert_eq!(
            call(&mut c, &["HGET", "h", &format!("f{i}")]),
            bulk(&format!("v{i}"))
        );
    }
    let all = items(call(&mut c, &["HGETALL", "h"]));
    let map: HashMap<Vec<u8>, Vec<u8>> = all
        .chunks(2)
        .map(|p| (bytes_of(&p[0]), bytes_of(&p[1])))
        .collect();
    assert_eq!(map.len(), 1000);
    assert_eq!(items(call(&mut c, &["HKEYS", "h"])).len(), 1000);
    assert_eq!(items(call(&mut c, &["HVALS", "h"])).len(), 1000);
}

#[test]
fn hscan_returns_small_hashes_whole_with_cursor_zero() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(
        call(&mut c, &["HSCAN", "h", "0", "COUNT", "1"]),
        arr(vec![
            bulk("0"),
            arr(vec![
                bulk("a"),
                bulk("1"),
                bulk("b"),
                bulk("2"),
                bulk("c"),
                bulk("3")
            ])
        ])
    );
    assert_eq!(
        call(&mut c, &["HSCAN", "h", "0", "MATCH", "b*"]),
        arr(vec![bulk("0"), arr(vec![bulk("b"), bulk("2")])])
    );
    assert_eq!(
        call(&mut c, &["HSCAN", "nope", "0"]),
        arr(vec![bulk("0"), arr(vec![])])
    );
    assert_eq!(
        call(&mut c, &["HSCAN", "h", "x"]),
        err("ERR invalid cursor")
    );
    assert_eq!(
        call(&mut c, &["HSCAN", "h", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
    // NOVALUES arrived in Redis 7.4.
    assert_eq!(
        call(&mut c, &["HSCAN", "h", "0", "NOVALUES"]),
        err("ERR syntax error")
    );
}

/// Scans `key` to the end with `count`, calling `between` after each step.
fn full_scan(
    c: &mut Connection,
    key: &str,
    count: usize,
    mut between: impl FnMut(&mut Connection, usize),
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut steps = 0;
    loop {
        let reply = items(call(
            c,
            &["HSCAN", key, &cursor, "COUNT", &count.to_string()],
        ));
        cursor = String::from_utf8(bytes_of(&reply[0])).unwrap();
        for p in items(reply[1].clone()).chunks(2) {
            out.push((bytes_of(&p[0]), bytes_of(&p[1])));
        }
        between(c, steps);
        steps += 1;
        assert!(steps < 10_000, "scan terminates");
        if cursor == "0" {
            return out;
        }
    }
}

#[test]
fn hscan_cursors_return_every_field_present_throughout_despite_changes() {
    let s = TestServer::start();
    let mut c = s.connect();
    fill(&mut c, "h", 2000);
    // Fields f0..f999 stay; f1000.. are deleted and new ones added during the scan.
    let got = full_scan(&mut c, "h", 25, |c, step| {
        call(c, &["HDEL", "h", &format!("f{}", 1000 + step)]);
        call(c, &["HSET", "h", &format!("new{step}"), "x"]);
    });
    let seen: HashSet<Vec<u8>> = got.iter().map(|(k, _)| k.clone()).collect();
    for i in 0..1000 {
        assert!(seen.contains(format!("f{i}").as_bytes()), "f{i} missing");
    }
    // Without changes, every field exactly once.
    let got = full_scan(&mut c, "h", 7, |_, _| {});
    let len = match call(&mut c, &["HLEN", "h"]) {
        Frame::Integer(n) => n as usize,
        other => panic!("{other:?}"),
    };
    assert_eq!(got.len(), len);
    let unique: HashSet<_> = got.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(unique.len(), len);
}

#[test]
fn hscan_match_filters_fields_of_big_hashes() {
    let s = TestServer::start();
    let mut c = s.connect();
    fill(&mut c, "h", 1000);
    let mut cursor = "0".to_string();
    let mut found = Vec::new();
    loop {
        let reply = items(call(
            &mut c,
            &["HSCAN", "h", &cursor, "MATCH", "f99*", "COUNT", "50"],
        ));
        cursor = String::from_utf8(bytes_of(&reply[0])).unwrap();
        for p in items(reply[1].clone()).chunks(2) {
            found.push(String::from_utf8(bytes_of(&p[0])).unwrap());
        }
        if cursor == "0" {
            break;
        }
    }
    found.sort();
    assert_eq!(
        found,
        vec!["f99", "f990", "f991", "f992", "f993", "f994", "f995", "f996", "f997", "f998", "f999"]
    );
}

#[test]
fn hrandfield_positive_counts_are_distinct_and_negative_counts_repeat() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    for key_fill in [false, true] {
        let key = if key_fill {
            fill(&mut c, "big", 600);
            "big"
        } else {
            "h"
        };
        let fields = items(call(&mut c, &["HRANDFIELD", key, "2"]));
        assert_eq!(fields.len(), 2);
        assert_ne!(fields[0], fields[1]);
        let all = items(call(&mut c, &["HRANDFIELD", key, "5000"]));
        let unique: HashSet<Vec<u8>> = all.iter().map(bytes_of).collect();
        assert_eq!(unique.len(), all.len());
        let rep = items(call(&mut c, &["HRANDFIELD", key, "-5000"]));
        assert_eq!(rep.len(), 5000);
        let unique: HashSet<Vec<u8>> = rep.iter().map(bytes_of).collect();
        assert!(unique.len() < 5000);
    }
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "0"]), arr(vec![]));
    assert_eq!(call(&mut c, &["HRANDFIELD", "nope"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["HRANDFIELD", "nope", "3"]), arr(vec![]));
    // The whole hash, in order, when the count covers it.
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "3", "WITHVALUES"]),
        arr(vec![
            bulk("a"),
            bulk("1"),
            bulk("b"),
            bulk("2"),
            bulk("c"),
            bulk("3")
        ])
    );
}

#[test]
fn hrandfield_withvalues_nests_pairs_in_resp3_only() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "-2", "WITHVALUES"]),
        arr(vec![bulk("a"), bulk("1"), bulk("a"), bulk("1")])
    );
    resp3(&mut c);
    let pair = arr(vec![bulk("a"), bulk("1")]);
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "-2", "WITHVALUES"]),
        arr(vec![pair.clone(), pair.clone()])
    );
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUES"]),
        arr(vec![pair])
    );
    assert_eq!(call(&mut c, &["HRANDFIELD", "nope"]), Frame::Null);
}

#[test]
fn hrandfield_rejects_counts_out_of_range_and_extra_arguments() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        call(
            &mut c,
            &["HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"]
        ),
        err("ERR value is out of range")
    );
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "1", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "x"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn fields_and_values_are_binary_safe() {
    let s = TestServer::start();
    let mut c = s.connect();
    let field: &[u8] = b"\x00\xff\r\n";
    let value: &[u8] = b"\r\n\x00";
    let r = c.call(&[&b"HSET"[..], b"h", field, value]).unwrap();
    assert_eq!(r, int(1));
    let r = c.call(&[&b"HGET"[..], b"h", field]).unwrap();
    assert_eq!(r, Frame::Bulk(Bytes::copy_from_slice(value)));
    // Long binary fields in the hashtable encoding too.
    let long = vec![0u8; 300];
    let r = c.call(&[&b"HSET"[..], b"h", &long, value]).unwrap();
    assert_eq!(r, int(1));
    assert_eq!(encoding(&mut c, "h"), bulk("hashtable"));
    let r = c.call(&[&b"HGET"[..], b"h", &long]).unwrap();
    assert_eq!(r, Frame::Bulk(Bytes::copy_from_slice(value)));
    let r = c.call(&[&b"HGET"[..], b"h", field]).unwrap();
    assert_eq!(r, Frame::Bulk(Bytes::copy_from_slice(value)));
}

#[test]
fn writes_add_to_the_dirty_counter_as_redis_does() {
    let s = TestServer::start();
    let mut c = s.connect();
    let d0 = dirty(&mut c);
    call(&mut c, &["HSET", "h", "a", "1", "b", "2", "a", "3"]);
    assert_eq!(dirty(&mut c) - d0, 3);
    call(&mut c, &["HSETNX", "h", "a", "9"]);
    assert_eq!(dirty(&mut c) - d0, 3);
    call(&mut c, &["HDEL", "h", "a", "zz"]);
    assert_eq!(dirty(&mut c) - d0, 4);
    call(&mut c, &["HINCRBY", "h", "n", "1"]);
    call(&mut c, &["HINCRBYFLOAT", "h", "n", "1"]);
    assert_eq!(dirty(&mut c) - d0, 6);
}

#[test]
fn an_expired_hash_is_missing_and_a_write_recreates_it() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "a", "1"]);
    call(&mut c, &["PEXPIRE", "h", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(call(&mut c, &["HGET", "h", "a"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["HSET", "h", "b", "2"]), int(1));
    assert_eq!(
        call(&mut c, &["HGETALL", "h"]),
        arr(vec![bulk("b"), bulk("2")])
    );
    assert_eq!(call(&mut c, &["PTTL", "h"]), int(-1));
}

#[test]
fn type_and_encoding_report_a_hash() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(call(&mut c, &["TYPE", "h"]), simple("hash"));
    assert_eq!(encoding(&mut c, "h"), bulk("listpack"));
}
