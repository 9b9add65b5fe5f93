//! Integration tests for the set commands: Redis 7.2 encodings and their
//! transitions (intset, listpack, hashtable — the listpack and the size-hint
//! rules are not in the 7.0 oracle, so they are checked here), random
//! commands by counts and membership, SSCAN over a changing hash table,
//! RESP3 reply types, key deletion when a set empties, and type errors.

mod common;

use std::collections::BTreeSet;

use common::{bulk, call, err, TestServer};
use handoff::protocol::{Connection, Frame};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn encoding(c: &mut Connection, key: &str) -> String {
    match call(c, &["OBJECT", "ENCODING", key]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("OBJECT ENCODING {key}: {other:?}"),
    }
}

fn int(f: Frame) -> i64 {
    match f {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// The bulk strings of an array or set reply, in reply order.
fn items(f: Frame) -> Vec<String> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v
            .into_iter()
            .map(|x| match x {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("expected bulk, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array or set, got {other:?}"),
    }
}

fn members(c: &mut Connection, key: &str) -> BTreeSet<String> {
    items(call(c, &["SMEMBERS", key])).into_iter().collect()
}

fn sadd(c: &mut Connection, key: &str, ms: &[String]) -> i64 {
    let mut args = vec!["SADD".to_string(), key.to_string()];
    args.extend(ms.iter().cloned());
    int(c.call(&args).unwrap())
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn integer_sets_are_intsets_in_ascending_order_until_the_entry_limit() {
    let server = TestServer::with(|c| c.set_max_intset_entries = 4);
    let mut c = server.connect();
    assert_eq!(
        int(call(&mut c, &["SADD", "s", "10", "-3", "7", "70000"])),
        4
    );
    assert_eq!(encoding(&mut c, "s"), "intset");
    assert_eq!(
        items(call(&mut c, &["SMEMBERS", "s"])),
        ["-3", "7", "10", "70000"]
    );
    assert_eq!(int(call(&mut c, &["SADD", "s", "1"])), 1);
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    // Never back to a small encoding after removals.
    call(&mut c, &["SREM", "s", "1", "10", "7"]);
    assert_eq!(encoding(&mut c, "s"), "hashtable");
}

#[test]
fn small_string_sets_are_listpacks_in_insertion_order() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SADD", "s", "zebra", "apple", "5", "mango"]);
    assert_eq!(encoding(&mut c, "s"), "listpack");
    assert_eq!(
        items(call(&mut c, &["SMEMBERS", "s"])),
        ["zebra", "apple", "5", "mango"]
    );
    call(&mut c, &["SREM", "s", "apple"]);
    assert_eq!(
        items(call(&mut c, &["SMEMBERS", "s"])),
        ["zebra", "5", "mango"]
    );
}

#[test]
fn an_intset_gaining_a_string_becomes_a_listpack_keeping_its_order() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SADD", "s", "3", "1", "2"]);
    call(&mut c, &["SADD", "s", "x"]);
    assert_eq!(encoding(&mut c, "s"), "listpack");
    assert_eq!(
        items(call(&mut c, &["SMEMBERS", "s"])),
        ["1", "2", "3", "x"]
    );
}

#[test]
fn listpack_limits_on_entries_and_value_length_convert_to_a_hashtable() {
    let server = TestServer::with(|c| {
        c.set_max_listpack_entries = 3;
        c.set_max_listpack_value = 5;
    });
    let mut c = server.connect();
    call(&mut c, &["SADD", "a", "x", "y", "z"]);
    assert_eq!(encoding(&mut c, "a"), "listpack");
    call(&mut c, &["SADD", "a", "w"]);
    assert_eq!(encoding(&mut c, "a"), "hashtable");

    call(&mut c, &["SADD", "b", "xxxxx"]);
    assert_eq!(encoding(&mut c, "b"), "listpack");
    call(&mut c, &["SADD", "b", "xxxxxx"]);
    assert_eq!(encoding(&mut c, "b"), "hashtable");

    // An intset whose integers are longer than the listpack value limit
    // goes straight to a hash table when a string arrives.
    call(&mut c, &["SADD", "c", "1234567"]);
    call(&mut c, &["SADD", "c", "x"]);
    assert_eq!(encoding(&mut c, "c"), "hashtable");
    // So does a big intset.
    call(&mut c, &["SADD", "d", "1", "2", "3"]);
    call(&mut c, &["SADD", "d", "x"]);
    assert_eq!(encoding(&mut c, "d"), "hashtable");
    assert_eq!(members(&mut c, "d").len(), 4);
}

#[test]
fn sadd_with_many_arguments_picks_the_big_encoding_up_front() {
    let server = TestServer::start();
    let mut c = server.connect();
    // More strings than set-max-listpack-entries (128) in one SADD.
    sadd(&mut c, "s", &names("m", 129));
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    // 128 strings fit a listpack.
    sadd(&mut c, "t", &names("m", 128));
    assert_eq!(encoding(&mut c, "t"), "listpack");
    // More integers than set-max-intset-entries (512) in one SADD.
    let ints: Vec<String> = (0..513).map(|i| i.to_string()).collect();
    sadd(&mut c, "i", &ints);
    assert_eq!(encoding(&mut c, "i"), "hashtable");
    // The hint counts arguments, duplicates included (Redis 7.2 converts
    // an existing intset before adding).
    call(&mut c, &["SADD", "j", "1"]);
    let dups = vec!["1".to_string(); 513];
    assert_eq!(sadd(&mut c, "j", &dups), 0);
    assert_eq!(encoding(&mut c, "j"), "hashtable");
}

#[test]
fn sinterstore_of_integer_hashtables_stores_an_intset() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut a: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    a.push("x".into());
    sadd(&mut c, "a", &a);
    sadd(&mut c, "b", &a);
    assert_eq!(encoding(&mut c, "a"), "hashtable");
    call(&mut c, &["SREM", "b", "x"]);
    assert_eq!(int(call(&mut c, &["SINTERSTORE", "d", "a", "b"])), 200);
    assert_eq!(encoding(&mut c, "d"), "intset");
    // Strings in the result: a listpack while small.
    call(&mut c, &["SADD", "p", "k", "l", "1"]);
    call(&mut c, &["SADD", "q", "k", "1", "z"]);
    assert_eq!(int(call(&mut c, &["SINTERSTORE", "d", "p", "q"])), 2);
    assert_eq!(encoding(&mut c, "d"), "listpack");
    assert_eq!(items(call(&mut c, &["SMEMBERS", "d"])), ["k", "1"]);
}

#[test]
fn union_and_difference_results_start_small_like_redis() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SADD", "a", "1", "2", "3"]);
    call(&mut c, &["SADD", "b", "3", "4", "y"]);
    assert_eq!(int(call(&mut c, &["SUNIONSTORE", "u", "a", "b"])), 5);
    assert_eq!(encoding(&mut c, "u"), "listpack");
    assert_eq!(int(call(&mut c, &["SDIFFSTORE", "d", "a", "b"])), 2);
    assert_eq!(encoding(&mut c, "d"), "intset");
    assert_eq!(items(call(&mut c, &["SDIFF", "b", "a"])), ["4", "y"]);
    sadd(&mut c, "big", &names("e", 300));
    assert_eq!(int(call(&mut c, &["SUNIONSTORE", "u", "big", "a"])), 303);
    assert_eq!(encoding(&mut c, "u"), "hashtable");
}

#[test]
fn smove_creates_the_destination_with_the_members_encoding() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SADD", "src", "1", "abc"]);
    assert_eq!(int(call(&mut c, &["SMOVE", "src", "ints", "1"])), 1);
    assert_eq!(encoding(&mut c, "ints"), "intset");
    assert_eq!(int(call(&mut c, &["SMOVE", "src", "strs", "abc"])), 1);
    assert_eq!(encoding(&mut c, "strs"), "listpack");
    assert_eq!(int(call(&mut c, &["EXISTS", "src"])), 0);
    // Moving a member the destination already has still removes it.
    call(&mut c, &["SADD", "src", "abc", "q"]);
    assert_eq!(int(call(&mut c, &["SMOVE", "src", "strs", "abc"])), 1);
    assert_eq!(members(&mut c, "src"), BTreeSet::from(["q".to_string()]));
}

#[test]
fn sets_that_become_empty_delete_their_key() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SADD", "a", "x", "y"]);
    assert_eq!(int(call(&mut c, &["SREM", "a", "x", "y", "z"])), 2);
    assert_eq!(int(call(&mut c, &["EXISTS", "a"])), 0);
    call(&mut c, &["SADD", "a", "x"]);
    assert_eq!(call(&mut c, &["SPOP", "a"]), bulk("x"));
    assert_eq!(int(call(&mut c, &["EXISTS", "a"])), 0);
    call(&mut c, &["SADD", "a", "x", "y"]);
    assert_eq!(items(call(&mut c, &["SPOP", "a", "5"])).len(), 2);
    assert_eq!(int(call(&mut c, &["EXISTS", "a"])), 0);
    call(&mut c, &["SADD", "a", "1"]);
    call(&mut c, &["SET", "a2", "x"]);
    assert_eq!(int(call(&mut c, &["SINTERSTORE", "a2", "a", "missing"])), 0);
    assert_eq!(int(call(&mut c, &["EXISTS", "a2"])), 0);
}

#[test]
fn spop_with_a_count_removes_that_many_distinct_members_in_every_encoding() {
    let server = TestServer::start();
    let mut c = server.connect();
    let sets: [(&str, Vec<String>); 3] = [
        ("ints", (0..300).map(|i| i.to_string()).collect()),
        ("lp", names("m", 100)),
        ("ht", names("m", 1000)),
    ];
    for (key, all) in &sets {
        sadd(&mut c, key, all);
        let all: BTreeSet<String> = all.iter().cloned().collect();
        let mut left = all.len();
        for count in [1usize, 7, 50, 10] {
            let popped = items(call(&mut c, &["SPOP", key, &count.to_string()]));
            let distinct: BTreeSet<String> = popped.iter().cloned().collect();
            assert_eq!(popped.len(), count, "{key}");
            assert_eq!(distinct.len(), count, "{key}");
            assert!(distinct.is_subset(&all));
            left -= count;
            assert_eq!(int(call(&mut c, &["SCARD", key])), left as i64);
            let now = members(&mut c, key);
            assert!(now.is_disjoint(&distinct));
        }
        // Popping most of what is left.
        let n = left - 3;
        let popped = items(call(&mut c, &["SPOP", key, &n.to_string()]));
        assert_eq!(popped.iter().collect::<BTreeSet<_>>().len(), n);
        assert_eq!(int(call(&mut c, &["SCARD", key])), 3);
    }
}

#[test]
fn srandmember_returns_distinct_members_for_positive_counts_and_repeats_for_negative() {
    let server = TestServer::start();
    let mut c = server.connect();
    let sets: [(&str, Vec<String>); 3] = [
        ("ints", (0..300).map(|i| i.to_string()).collect()),
        ("lp", names("m", 100)),
        ("ht", names("m", 1000)),
    ];
    for (key, all) in &sets {
        sadd(&mut c, key, all);
        let all: BTreeSet<String> = all.iter().cloned().collect();
        for count in [1usize, 2, 30, 90, 99] {
            let got = items(call(&mut c, &["SRANDMEMBER", key, &count.to_string()]));
            let distinct: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(got.len(), count, "{key} {count}");
            assert_eq!(distinct.len(), count, "{key} {count}");
            assert!(distinct.is_subset(&all));
        }
        let got = items(call(&mut c, &["SRANDMEMBER", key, "-2000"]));
        assert_eq!(got.len(), 2000);
        let distinct: BTreeSet<String> = got.iter().cloned().collect();
        assert!(distinct.is_subset(&all));
        assert!(
            distinct.len() > all.len() / 2,
            "{key}: samples cover the set"
        );
        let whole = items(call(&mut c, &["SRANDMEMBER", key, "5000"]));
        assert_eq!(whole.into_iter().collect::<BTreeSet<_>>(), all);
        let Frame::Bulk(one) = call(&mut c, &["SRANDMEMBER", key]) else {
            panic!("bulk expected")
        };
        assert!(all.contains(&*String::from_utf8_lossy(&one)));
        assert_eq!(int(call(&mut c, &["SCARD", key])), all.len() as i64);
    }
}

#[test]
fn sscan_returns_every_member_present_throughout_while_the_set_changes() {
    let server = TestServer::start();
    let mut c = server.connect();
    let stable = names("s", 600);
    sadd(&mut c, "h", &stable);
    sadd(&mut c, "h", &names("v", 400));
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0;
    loop {
        let Frame::Array(reply) = call(&mut c, &["SSCAN", "h", &cursor, "COUNT", "20"]) else {
            panic!("array expected")
        };
        let [Frame::Bulk(next), list] = &reply[..] else {
            panic!("two elements expected")
        };
        seen.extend(items(list.clone()));
        cursor = String::from_utf8_lossy(next).into_owned();
        // Churn: volatile members go, new ones come.
        call(&mut c, &["SREM", "h", &format!("v{step}")]);
        call(
            &mut c,
            &["SADD", "h", &format!("new{step}"), &format!("new{step}b")],
        );
        step += 1;
        if cursor == "0" {
            break;
        }
        assert!(step < 1000, "scan terminates");
    }
    for m in &stable {
        assert!(
            seen.contains(m),
            "{m} was present throughout but not returned"
        );
    }
    // MATCH filters, small encodings come back whole with cursor 0.
    call(&mut c, &["SADD", "small", "a1", "b1", "a2"]);
    let Frame::Array(reply) = call(&mut c, &["SSCAN", "small", "0", "MATCH", "a*"]) else {
        panic!("array expected")
    };
    assert_eq!(reply[0], bulk("0"));
    assert_eq!(items(reply[1].clone()), ["a1", "a2"]);
}

#[test]
fn resp3_uses_the_set_type_where_redis_does() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["HELLO", "3"]);
    call(&mut c, &["SADD", "a", "1", "2", "x"]);
    call(&mut c, &["SADD", "b", "2", "x"]);
    for cmd in [
        &["SMEMBERS", "a"][..],
        &["SINTER", "a", "b"],
        &["SUNION", "a", "b"],
        &["SDIFF", "a", "b"],
        &["SMEMBERS", "missing"],
        &["SPOP", "missing", "1"],
    ] {
        assert!(matches!(call(&mut c, cmd), Frame::Set(_)), "{cmd:?}");
    }
    assert!(matches!(
        call(&mut c, &["SRANDMEMBER", "a", "2"]),
        Frame::Array(_)
    ));
    assert!(matches!(
        call(&mut c, &["SRANDMEMBER", "missing", "2"]),
        Frame::Array(_)
    ));
    assert_eq!(call(&mut c, &["SPOP", "missing"]), Frame::Null);
    assert_eq!(call(&mut c, &["SRANDMEMBER", "missing"]), Frame::Null);
    assert!(matches!(call(&mut c, &["SPOP", "a", "2"]), Frame::Set(v) if v.len() == 2));
}

#[test]
fn every_set_command_refuses_other_types() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SET", "str", "v"]);
    call(&mut c, &["SADD", "s", "1"]);
    for cmd in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SCARD", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SMEMBERS", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SMOVE", "str", "s", "a"],
        &["SMOVE", "s", "str", "1"],
        &["SINTER", "s", "str"],
        &["SINTER", "missing", "str"],
        &["SINTERCARD", "2", "s", "str"],
        &["SINTERSTORE", "d", "s", "str"],
        &["SUNION", "s", "str"],
        &["SUNIONSTORE", "d", "s", "str"],
        &["SDIFF", "s", "str"],
        &["SDIFF", "missing", "str"],
        &["SDIFFSTORE", "d", "s", "str"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(call(&mut c, cmd), err(WRONGTYPE), "{cmd:?}");
    }
    // Nothing changed.
    assert_eq!(members(&mut c, "s"), BTreeSet::from(["1".to_string()]));
    assert_eq!(call(&mut c, &["GET", "str"]), bulk("v"));
}

#[test]
fn sintercard_validates_numkeys_and_limit() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SADD", "a", "1", "2", "3"]);
    call(&mut c, &["SADD", "b", "2", "3", "4"]);
    assert_eq!(int(call(&mut c, &["SINTERCARD", "2", "a", "b"])), 2);
    assert_eq!(
        int(call(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "1"])),
        1
    );
    assert_eq!(
        call(&mut c, &["SINTERCARD", "0", "a"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        call(&mut c, &["SINTERCARD", "1", "a", "LIMIT", "-1"]),
        err("ERR LIMIT can't be negative")
    );
    assert_eq!(
        call(&mut c, &["SINTERCARD", "5", "a", "b"]),
        err("ERR Number of keys can't be greater than number of args")
    );
}
