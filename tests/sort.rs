//! Integration tests for SORT and SORT_RO: numeric and ALPHA order, BY and
//! GET patterns, LIMIT, STORE (the stored list, its Redis 7.2 encoding, the
//! destination's deletion, the dirty counter, wake-ups and WATCH), the
//! sorted-set conversion SORT performs, RESP3 nulls and the error replies.
//! Byte-for-byte comparison with a real redis-server is in sort_vs_redis.rs.

mod common;

use std::time::Duration;

use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

fn dirty(c: &mut Connection) -> i64 {
    let Frame::Bulk(info) = call(c, &["INFO", "persistence"]) else {
        panic!("INFO reply");
    };
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save")
}

const SCORE_ERR: &str = "ERR One or more scores can't be converted into double";

#[test]
fn a_list_of_numbers_sorts_numerically_ascending_and_descending() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "3", "10", "-2", "1.5", "2"]);
    assert_eq!(
        call(&mut c, &["SORT", "l"]),
        bulks(&["-2", "1.5", "2", "3", "10"])
    );
    assert_eq!(
        call(&mut c, &["SORT", "l", "DESC"]),
        bulks(&["10", "3", "2", "1.5", "-2"])
    );
    assert_eq!(
        call(&mut c, &["SORT_RO", "l", "LIMIT", "1", "2"]),
        bulks(&["1.5", "2"])
    );
}

#[test]
fn equal_scores_are_ordered_by_the_bytes_of_the_elements() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "1.0", "1", "01", "1e0"]);
    assert_eq!(
        call(&mut c, &["SORT", "l"]),
        bulks(&["01", "1", "1.0", "1e0"])
    );
    assert_eq!(
        call(&mut c, &["SORT", "l", "DESC"]),
        bulks(&["1e0", "1.0", "1", "01"])
    );
}

#[test]
fn alpha_sorts_strings_by_bytes_and_non_numbers_fail_without_it() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["SADD", "s", "banana", "Apple", "apple", "_"]);
    assert_eq!(
        call(&mut c, &["SORT", "s", "ALPHA"]),
        bulks(&["Apple", "_", "apple", "banana"])
    );
    assert_eq!(call(&mut c, &["SORT", "s"]), err(SCORE_ERR));
    assert_eq!(call(&mut c, &["SORT", "s", "STORE", "d"]), err(SCORE_ERR));
    assert_eq!(call(&mut c, &["EXISTS", "d"]), Frame::Integer(0));
}

#[test]
fn alpha_without_store_stops_comparing_at_a_nul_byte() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "a\0z", "a\0b"]);
    // Equal as C strings: the stable sort keeps list order.
    assert_eq!(
        call(&mut c, &["SORT", "l", "ALPHA"]),
        bulks(&["a\0z", "a\0b"])
    );
    // With STORE, Redis compares whole byte strings.
    assert_eq!(
        call(&mut c, &["SORT", "l", "ALPHA", "STORE", "d"]),
        Frame::Integer(2)
    );
    assert_eq!(
        call(&mut c, &["LRANGE", "d", "0", "-1"]),
        bulks(&["a\0b", "a\0z"])
    );
}

#[test]
fn by_pattern_sorts_by_external_keys_and_missing_weights_count_as_zero() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "a", "b", "c", "d"]);
    call(&mut c, &["MSET", "w_a", "3", "w_b", "-1", "w_c", "2"]);
    assert_eq!(
        call(&mut c, &["SORT", "l", "BY", "w_*"]),
        bulks(&["b", "d", "c", "a"])
    );
    assert_eq!(
        call(
            &mut c,
            &["SORT", "l", "BY", "w_*", "DESC", "LIMIT", "0", "2"]
        ),
        bulks(&["a", "c"])
    );
    call(&mut c, &["SET", "w_d", "heavy"]);
    assert_eq!(call(&mut c, &["SORT", "l", "BY", "w_*"]), err(SCORE_ERR));
    assert_eq!(
        call(&mut c, &["SORT", "l", "BY", "w_*", "ALPHA"]),
        bulks(&["b", "c", "a", "d"])
    );
}

#[test]
fn by_a_constant_pattern_keeps_list_and_sorted_set_order() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "c", "a", "b", "x"]);
    assert_eq!(
        call(&mut c, &["SORT", "l", "BY", "nosort"]),
        bulks(&["c", "a", "b", "x"])
    );
    assert_eq!(
        call(
            &mut c,
            &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"]
        ),
        bulks(&["b", "a"])
    );
    call(&mut c, &["ZADD", "z", "1", "c", "2", "a", "3", "b"]);
    assert_eq!(
        call(&mut c, &["SORT", "z", "BY", "nosort"]),
        bulks(&["c", "a", "b"])
    );
    assert_eq!(
        call(
            &mut c,
            &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"]
        ),
        bulks(&["a", "c"])
    );
    // Without BY a sorted set sorts by its members, not its scores.
    assert_eq!(
        call(&mut c, &["SORT", "z", "ALPHA"]),
        bulks(&["a", "b", "c"])
    );
}

#[test]
fn sorting_a_sorted_set_converts_it_to_a_skiplist() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["ZADD", "z", "1", "2", "2", "1"]);
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    assert_eq!(call(&mut c, &["SORT_RO", "z"]), bulks(&["1", "2"]));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
}

#[test]
fn a_set_sorted_by_nosort_into_store_is_sorted_alpha() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["SADD", "s", "10", "9", "100"]);
    assert_eq!(
        call(&mut c, &["SORT", "s", "BY", "nosort", "STORE", "d"]),
        Frame::Integer(3)
    );
    assert_eq!(
        call(&mut c, &["LRANGE", "d", "0", "-1"]),
        bulks(&["10", "100", "9"])
    );
}

#[test]
fn get_patterns_project_values_and_hash_the_element_itself() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "2", "1"]);
    call(&mut c, &["MSET", "name_1", "one", "name_2", "two"]);
    assert_eq!(
        call(
            &mut c,
            &["SORT", "l", "GET", "#", "GET", "name_*", "GET", "none_*"]
        ),
        Frame::Array(vec![
            bulk("1"),
            bulk("one"),
            Frame::NullBulk,
            bulk("2"),
            bulk("two"),
            Frame::NullBulk,
        ])
    );
    // A pattern without '*' never names a key.
    call(&mut c, &["SET", "fixed", "v"]);
    assert_eq!(
        call(&mut c, &["SORT", "l", "GET", "fixed"]),
        Frame::Array(vec![Frame::NullBulk, Frame::NullBulk])
    );
    // Non-string keys are missing values.
    call(&mut c, &["RPUSH", "name_1", "x"]);
    call(&mut c, &["DEL", "name_1"]);
    call(&mut c, &["RPUSH", "name_1", "x"]);
    assert_eq!(
        call(&mut c, &["SORT", "l", "GET", "name_*"]),
        Frame::Array(vec![Frame::NullBulk, bulk("two")])
    );
    assert!(!call(&mut c, &["HELLO", "3"]).is_error());
    assert_eq!(
        call(&mut c, &["SORT", "l", "GET", "name_*"]),
        Frame::Array(vec![Frame::Null, bulk("two")])
    );
}

#[test]
fn expired_pattern_keys_are_missing() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "a"]);
    call(&mut c, &["SET", "v_a", "x", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(
        call(&mut c, &["SORT", "l", "BY", "nosort", "GET", "v_*"]),
        Frame::Array(vec![Frame::NullBulk])
    );
}

#[test]
fn store_writes_a_list_with_empty_strings_for_missing_values() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "2", "1"]);
    call(&mut c, &["SET", "v_1", "one"]);
    call(&mut c, &["SET", "d", "old", "EX", "100"]);
    let before = dirty(&mut c);
    assert_eq!(
        call(
            &mut c,
            &["SORT", "l", "GET", "#", "GET", "v_*", "STORE", "d"]
        ),
        Frame::Integer(4)
    );
    assert_eq!(dirty(&mut c) - before, 4);
    assert_eq!(
        call(&mut c, &["LRANGE", "d", "0", "-1"]),
        bulks(&["1", "one", "2", ""])
    );
    assert_eq!(call(&mut c, &["TTL", "d"]), Frame::Integer(-1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "d"]), bulk("listpack"));
}

#[test]
fn a_large_stored_result_is_a_quicklist() {
    let s = TestServer::start();
    let mut c = s.connect();
    let mut args = vec!["RPUSH".to_string(), "l".to_string()];
    // 200 elements of ~100 bytes: past the default 8 KB listpack limit.
    args.extend((0..200).map(|i| format!("{i:0100}")));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    call(&mut c, &refs);
    assert_eq!(
        call(&mut c, &["SORT", "l", "DESC", "STORE", "d"]),
        Frame::Integer(200)
    );
    assert_eq!(
        call(&mut c, &["OBJECT", "ENCODING", "d"]),
        bulk("quicklist")
    );
    assert_eq!(
        call(&mut c, &["LINDEX", "d", "0"]),
        bulk(&format!("{:0100}", 199))
    );
    assert_eq!(
        call(&mut c, &["SORT", "l", "LIMIT", "0", "3", "STORE", "d"]),
        Frame::Integer(3)
    );
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "d"]), bulk("listpack"));
}

#[test]
fn an_empty_result_deletes_the_destination() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["SET", "d", "x"]);
    let before = dirty(&mut c);
    assert_eq!(
        call(&mut c, &["SORT", "missing", "STORE", "d"]),
        Frame::Integer(0)
    );
    assert_eq!(dirty(&mut c) - before, 1);
    assert_eq!(call(&mut c, &["EXISTS", "d"]), Frame::Integer(0));
    assert_eq!(
        call(&mut c, &["SORT", "missing", "STORE", "d"]),
        Frame::Integer(0)
    );
    assert_eq!(dirty(&mut c) - before, 1);
}

#[test]
fn store_wakes_a_client_blocked_on_the_destination() {
    let s = TestServer::start();
    let mut waiter = s.connect();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "b", "a"]);
    waiter.send(&["BLPOP", "d", "5"]).unwrap();
    waiter.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        call(&mut c, &["SORT", "l", "ALPHA", "STORE", "d"]),
        Frame::Integer(2)
    );
    assert_eq!(waiter.read_frame().unwrap(), bulks(&["d", "a"]));
}

#[test]
fn store_invalidates_a_watch_on_the_destination() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "1"]);
    assert_eq!(call(&mut c, &["WATCH", "d"]), simple("OK"));
    call(&mut c, &["SORT", "l", "STORE", "d"]);
    call(&mut c, &["MULTI"]);
    call(&mut c, &["PING"]);
    assert_eq!(call(&mut c, &["EXEC"]), Frame::NullArray);
}

#[test]
fn errors_follow_redis() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["SET", "str", "x"]);
    call(&mut c, &["RPUSH", "l", "1"]);
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(call(&mut c, &["SORT", "str"]), wrongtype);
    assert_eq!(call(&mut c, &["SORT_RO", "str"]), wrongtype);
    // Options are parsed before the key is looked at.
    assert_eq!(
        call(&mut c, &["SORT", "str", "FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["SORT", "l", "LIMIT", "x", "1"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, &["SORT", "l", "LIMIT", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["SORT_RO", "l", "STORE", "d"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["SORT", "l", "STORE"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["SORT"]),
        err("ERR wrong number of arguments for 'sort' command")
    );
    assert_eq!(call(&mut c, &["SORT", "missing"]), Frame::Array(vec![]));
}

#[test]
fn command_info_matches_redis_metadata() {
    let s = TestServer::start();
    let mut c = s.connect();
    let Frame::Array(info) = call(&mut c, &["COMMAND", "INFO", "sort", "sort_ro"]) else {
        panic!("COMMAND INFO reply");
    };
    let head = |f: &Frame| -> Vec<Frame> {
        let Frame::Array(v) = f else { panic!("entry") };
        v[..7].to_vec()
    };
    let words = |w: &[&str]| Frame::Set(w.iter().map(|s| simple(s)).collect());
    let flags = |f: &Frame| match f {
        Frame::Array(v) | Frame::Set(v) => words(
            &v.iter()
                .map(|x| match x {
                    Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        other => other.clone(),
    };
    let sort = head(&info[0]);
    assert_eq!(sort[0], bulk("sort"));
    assert_eq!(sort[1], Frame::Integer(-2));
    assert_eq!(flags(&sort[2]), words(&["write", "denyoom", "movablekeys"]));
    assert_eq!(
        &sort[3..6],
        &[Frame::Integer(1), Frame::Integer(1), Frame::Integer(1)]
    );
    assert_eq!(
        flags(&sort[6]),
        words(&[
            "@write",
            "@set",
            "@sortedset",
            "@list",
            "@slow",
            "@dangerous"
        ])
    );
    let ro = head(&info[1]);
    assert_eq!(ro[0], bulk("sort_ro"));
    assert_eq!(ro[1], Frame::Integer(-2));
    assert_eq!(flags(&ro[2]), words(&["readonly", "movablekeys"]));
    assert_eq!(
        flags(&ro[6]),
        words(&[
            "@read",
            "@set",
            "@sortedset",
            "@list",
            "@slow",
            "@dangerous"
        ])
    );
}

/// Needs the Hash type (HSET and `Hash::get`) from the hashes branch: see
/// `hash_field` in server/src/commands/sort.rs.
#[test]
fn hash_field_patterns_read_hash_fields() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "a", "b", "c"]);
    call(&mut c, &["HSET", "h_a", "w", "3", "n", "A"]);
    call(&mut c, &["HSET", "h_b", "w", "1", "n", "B"]);
    call(&mut c, &["SET", "h_c", "notahash"]);
    assert_eq!(
        call(
            &mut c,
            &[
                "SORT",
                "l",
                "BY",
                "h_*->w",
                "GET",
                "h_*->n",
                "GET",
                "h_*->none"
            ]
        ),
        Frame::Array(vec![
            Frame::NullBulk,
            Frame::NullBulk,
            bulk("B"),
            Frame::NullBulk,
            bulk("A"),
            Frame::NullBulk,
        ])
    );
    // "->" at the very end is part of the key name.
    call(&mut c, &["SET", "k_a->", "arrow"]);
    assert_eq!(
        call(&mut c, &["SORT", "l", "BY", "nosort", "GET", "k_*->"]),
        Frame::Array(vec![bulk("arrow"), Frame::NullBulk, Frame::NullBulk])
    );
}
