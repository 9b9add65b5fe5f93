//! Integration tests for the list commands: replies in RESP2 and RESP3,
//! Redis 7.2 encodings (listpack while small, quicklist past
//! list-max-listpack-size, back to listpack after shrinking under half the
//! limit), key deletion when a list empties, and errors.

mod common;

use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::Frame;

fn encoding(c: &mut handoff::protocol::Connection, key: &str) -> Frame {
    call(c, &["OBJECT", "ENCODING", key])
}

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn small_lists_are_listpacks_and_big_elements_make_a_quicklist() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["RPUSH", "l", "a", "b", "c"]),
        Frame::Integer(3)
    );
    assert_eq!(encoding(&mut c, "l"), bulk("listpack"));
    let big = "x".repeat(9000);
    assert_eq!(call(&mut c, &["RPUSH", "l", &big]), Frame::Integer(4));
    assert_eq!(encoding(&mut c, "l"), bulk("quicklist"));
    assert_eq!(call(&mut c, &["LINDEX", "l", "-1"]), bulk(&big));
    // Popping the big element leaves one small node: back to a listpack.
    assert_eq!(call(&mut c, &["RPOP", "l"]), bulk(&big));
    assert_eq!(encoding(&mut c, "l"), bulk("listpack"));
    // A fresh key pushed with a big element starts as a quicklist.
    call(&mut c, &["LPUSH", "big", &big]);
    assert_eq!(encoding(&mut c, "big"), bulk("quicklist"));
}

#[test]
fn count_limits_convert_past_the_limit_and_back_under_half_of_it() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "4"]),
        simple("OK")
    );
    call(&mut c, &["RPUSH", "l", "1", "2", "3", "4"]);
    assert_eq!(encoding(&mut c, "l"), bulk("listpack"));
    call(&mut c, &["RPUSH", "l", "5"]);
    assert_eq!(encoding(&mut c, "l"), bulk("quicklist"));
    call(&mut c, &["RPOP", "l"]);
    // One node of 4 elements: not under half of the limit yet.
    assert_eq!(encoding(&mut c, "l"), bulk("quicklist"));
    call(&mut c, &["RPOP", "l", "2"]);
    assert_eq!(encoding(&mut c, "l"), bulk("listpack"));
    assert_eq!(
        call(&mut c, &["LRANGE", "l", "0", "-1"]),
        bulks(&["1", "2"])
    );
    // LPUSH of several elements at once checks the total before pushing.
    call(&mut c, &["LPUSH", "m", "a", "b", "c", "d", "e"]);
    assert_eq!(encoding(&mut c, "m"), bulk("quicklist"));
    assert_eq!(
        call(&mut c, &["LRANGE", "m", "0", "-1"]),
        bulks(&["e", "d", "c", "b", "a"])
    );
    // Nodes are [e][d c b a]: trimming to two elements leaves two nodes
    // (still a quicklist, as in Redis), trimming to one leaves one.
    call(&mut c, &["LTRIM", "m", "0", "1"]);
    assert_eq!(encoding(&mut c, "m"), bulk("quicklist"));
    call(&mut c, &["LTRIM", "m", "0", "0"]);
    assert_eq!(encoding(&mut c, "m"), bulk("listpack"));
}

#[test]
fn lset_and_linsert_convert_before_looking_like_redis_7_2() {
    let s = TestServer::start();
    let mut c = s.connect();
    let big = "y".repeat(9000);
    call(&mut c, &["RPUSH", "l", "a", "b"]);
    assert_eq!(
        call(&mut c, &["LSET", "l", "10", &big]),
        err("ERR index out of range")
    );
    assert_eq!(encoding(&mut c, "l"), bulk("quicklist"));
    call(&mut c, &["RPUSH", "k", "a", "b"]);
    assert_eq!(
        call(&mut c, &["LINSERT", "k", "BEFORE", "zz", &big]),
        Frame::Integer(-1)
    );
    assert_eq!(encoding(&mut c, "k"), bulk("quicklist"));
    // A successful LSET of a small value over a big one shrinks back.
    // (A big element sits alone in its node; replacing it leaves one node.)
    call(&mut c, &["RPUSH", "j", &big]);
    assert_eq!(encoding(&mut c, "j"), bulk("quicklist"));
    assert_eq!(call(&mut c, &["LSET", "j", "0", "small"]), simple("OK"));
    assert_eq!(encoding(&mut c, "j"), bulk("listpack"));
    assert_eq!(call(&mut c, &["LRANGE", "j", "0", "-1"]), bulks(&["small"]));
}

#[test]
fn pop_with_count_on_a_missing_key_is_a_null_array_in_resp2_and_null_in_resp3() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["LPOP", "none", "2"]), Frame::NullArray);
    assert_eq!(call(&mut c, &["LPOP", "none"]), Frame::NullBulk);
    assert_eq!(
        call(&mut c, &["LMPOP", "1", "none", "LEFT"]),
        Frame::NullArray
    );
    call(&mut c, &["RPUSH", "l", "a"]);
    assert_eq!(call(&mut c, &["LPOP", "l", "0"]), Frame::Array(vec![]));
    call(&mut c, &["HELLO", "3"]);
    assert_eq!(call(&mut c, &["LPOP", "none", "2"]), Frame::Null);
    assert_eq!(call(&mut c, &["RPOP", "none"]), Frame::Null);
    assert_eq!(call(&mut c, &["LMPOP", "1", "none", "LEFT"]), Frame::Null);
    assert_eq!(call(&mut c, &["LPOP", "none", "0"]), Frame::Null);
    assert_eq!(call(&mut c, &["LINDEX", "l", "5"]), Frame::Null);
}

#[test]
fn a_list_that_empties_deletes_its_key() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "a", "b"]);
    assert_eq!(call(&mut c, &["RPOP", "l", "5"]), bulks(&["b", "a"]));
    assert_eq!(call(&mut c, &["EXISTS", "l"]), Frame::Integer(0));
    call(&mut c, &["RPUSH", "l", "a"]);
    assert_eq!(
        call(&mut c, &["LMOVE", "l", "m", "LEFT", "RIGHT"]),
        bulk("a")
    );
    assert_eq!(call(&mut c, &["EXISTS", "l"]), Frame::Integer(0));
    assert_eq!(call(&mut c, &["LREM", "m", "0", "a"]), Frame::Integer(1));
    assert_eq!(call(&mut c, &["EXISTS", "m"]), Frame::Integer(0));
}

#[test]
fn lmove_on_one_key_rotates_the_list() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(call(&mut c, &["RPOPLPUSH", "l", "l"]), bulk("c"));
    assert_eq!(
        call(&mut c, &["LMOVE", "l", "l", "LEFT", "RIGHT"]),
        bulk("c")
    );
    assert_eq!(
        call(&mut c, &["LRANGE", "l", "0", "-1"]),
        bulks(&["a", "b", "c"])
    );
    call(&mut c, &["RPUSH", "one", "x"]);
    assert_eq!(
        call(&mut c, &["LMOVE", "one", "one", "LEFT", "LEFT"]),
        bulk("x")
    );
    assert_eq!(call(&mut c, &["LLEN", "one"]), Frame::Integer(1));
}

#[test]
fn wrong_types_are_rejected_before_anything_changes() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["SET", "s", "v"]);
    call(&mut c, &["RPUSH", "l", "a"]);
    let wt = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(call(&mut c, &["LPUSH", "s", "a"]), wt);
    assert_eq!(call(&mut c, &["LMOVE", "l", "s", "LEFT", "LEFT"]), wt);
    assert_eq!(call(&mut c, &["LLEN", "l"]), Frame::Integer(1));
    assert_eq!(
        call(&mut c, &["LMPOP", "2", "l", "s", "LEFT"]),
        Frame::Array(vec![bulk("l"), bulks(&["a"]),])
    );
    assert_eq!(call(&mut c, &["LMPOP", "2", "l", "s", "LEFT"]), wt);
}

#[test]
fn lpos_rejects_the_rank_redis_7_2_rejects() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["RPUSH", "l", "a", "b", "a"]);
    assert_eq!(
        call(&mut c, &["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        call(&mut c, &["LPOS", "l", "a", "RANK", "0"]),
        err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
    );
    assert_eq!(
        call(&mut c, &["LPOS", "l", "a", "RANK", "-1", "COUNT", "0"]),
        Frame::Array(vec![Frame::Integer(2), Frame::Integer(0)])
    );
}

#[test]
fn big_lists_keep_order_through_pushes_pops_and_middle_edits() {
    let s = TestServer::start();
    let mut c = s.connect();
    let mut model: std::collections::VecDeque<String> = Default::default();
    for i in 0..3000 {
        let v = format!("value-{i}");
        if i % 2 == 0 {
            call(&mut c, &["RPUSH", "l", &v]);
            model.push_back(v);
        } else {
            call(&mut c, &["LPUSH", "l", &v]);
            model.push_front(v);
        }
    }
    assert_eq!(encoding(&mut c, "l"), bulk("quicklist"));
    assert_eq!(call(&mut c, &["LINDEX", "l", "1500"]), bulk(&model[1500]));
    assert_eq!(
        call(&mut c, &["LSET", "l", "-1200", "changed"]),
        simple("OK")
    );
    model[3000 - 1200] = "changed".into();
    assert_eq!(
        call(&mut c, &["LINSERT", "l", "AFTER", "value-1001", "ins"]),
        Frame::Integer(3001)
    );
    let p = model.iter().position(|x| x == "value-1001").unwrap();
    model.insert(p + 1, "ins".into());
    call(&mut c, &["LTRIM", "l", "100", "-100"]);
    let model: Vec<String> = model.into_iter().skip(100).take(3001 - 199).collect();
    let Frame::Array(got) = call(&mut c, &["LRANGE", "l", "0", "-1"]) else {
        panic!("array expected");
    };
    let want: Vec<Frame> = model.iter().map(|s| bulk(s)).collect();
    assert_eq!(got, want);
}
