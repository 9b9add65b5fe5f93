//! Integration tests for the sorted set commands through real sockets:
//! encoding transitions, ranks on a big set checked against a sorted Vec,
//! 7.2-only replies (ZRANK WITHSCORE), random and scan commands whose output
//! is not byte-comparable with redis-server, and the keyspace bookkeeping.
//! Byte-for-byte agreement with redis-server is in zsets_vs_redis.rs.

mod common;

use bytes::Bytes;
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

fn dbl(s: &str) -> Frame {
    Frame::Double(Bytes::copy_from_slice(s.as_bytes()))
}

fn resp3(c: &mut Connection) {
    assert!(!call(c, &["HELLO", "3"]).is_error());
}

fn encoding(c: &mut Connection, key: &str) -> Frame {
    call(c, &["OBJECT", "ENCODING", key])
}

fn bulks(f: Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// Sends many commands pipelined and reads all replies.
fn pipeline(c: &mut Connection, cmds: &[Vec<String>]) -> Vec<Frame> {
    for chunk in cmds.chunks(500) {
        for cmd in chunk {
            c.send(cmd).unwrap();
        }
        c.flush().unwrap();
    }
    cmds.iter().map(|_| c.read_raw_frame().unwrap().0).collect()
}

#[test]
fn a_sorted_set_becomes_a_skiplist_past_the_entry_limit_and_stays_one() {
    let s = TestServer::start();
    let mut c = s.connect();
    for i in 0..128 {
        call(&mut c, &["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    assert_eq!(encoding(&mut c, "z"), bulk("listpack"));
    call(&mut c, &["ZADD", "z", "500", "m128"]);
    assert_eq!(encoding(&mut c, "z"), bulk("skiplist"));
    assert_eq!(call(&mut c, &["ZCARD", "z"]), int(129));
    assert_eq!(call(&mut c, &["ZRANK", "z", "m128"]), int(128));
    call(&mut c, &["ZREMRANGEBYRANK", "z", "0", "120"]);
    assert_eq!(encoding(&mut c, "z"), bulk("skiplist"));
    assert_eq!(
        bulks(call(&mut c, &["ZRANGE", "z", "0", "-1"])),
        (121..129).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
}

#[test]
fn a_long_member_makes_the_set_a_skiplist_and_store_results_pick_their_encoding() {
    let s = TestServer::start();
    let mut c = s.connect();
    let long = "x".repeat(65);
    call(&mut c, &["ZADD", "z", "1", "short"]);
    assert_eq!(encoding(&mut c, "z"), bulk("listpack"));
    call(&mut c, &["ZADD", "z", "2", &long]);
    assert_eq!(encoding(&mut c, "z"), bulk("skiplist"));
    call(&mut c, &["ZADD", "fresh", "1", &long]);
    assert_eq!(encoding(&mut c, "fresh"), bulk("skiplist"));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "d", "z", "0", "0"]), int(1));
    assert_eq!(encoding(&mut c, "d"), bulk("listpack"));
    assert_eq!(call(&mut c, &["ZUNIONSTORE", "u", "2", "z", "d"]), int(2));
    assert_eq!(encoding(&mut c, "u"), bulk("skiplist"));
    assert_eq!(
        call(&mut c, &["ZRANGE", "u", "0", "-1", "WITHSCORES"]),
        arr(vec![bulk("short"), bulk("2"), bulk(&long), bulk("2")])
    );
}

#[test]
fn the_listpack_limits_follow_config_set() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "2"]),
        simple("OK")
    );
    call(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(encoding(&mut c, "z"), bulk("listpack"));
    call(&mut c, &["ZADD", "z", "3", "c"]);
    assert_eq!(encoding(&mut c, "z"), bulk("skiplist"));
    call(&mut c, &["ZADD", "many", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(encoding(&mut c, "many"), bulk("skiplist"));
    call(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    call(&mut c, &["ZADD", "zero", "1", "a"]);
    assert_eq!(encoding(&mut c, "zero"), bulk("skiplist"));
}

#[test]
fn ranks_of_a_hundred_thousand_members_match_a_sorted_vec() {
    let s = TestServer::start();
    let mut c = s.connect();
    let mut model: Vec<(f64, String)> = Vec::new();
    let mut cmds = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..100_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let score = (x % 5000) as f64 / 4.0;
        let member = format!("m{i}");
        model.push((score, member.clone()));
        if cmds.len() < 1000 {
            cmds.push(vec!["ZADD".to_string(), "big".into()]);
        }
        let last = cmds.last_mut().unwrap();
        last.push(score.to_string());
        last.push(member);
        if last.len() >= 2 + 2 * 100 {
            cmds.push(vec!["ZADD".to_string(), "big".into()]);
        }
    }
    cmds.retain(|c| c.len() > 2);
    let replies = pipeline(&mut c, &cmds);
    assert!(replies.iter().all(|r| matches!(r, Frame::Integer(_))));
    model.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then_with(|| a.1.cmp(&b.1)));
    assert_eq!(call(&mut c, &["ZCARD", "big"]), int(100_000));
    assert_eq!(encoding(&mut c, "big"), bulk("skiplist"));

    // Every 97th member: ZRANK and ZREVRANK against the model.
    let picks: Vec<usize> = (0..model.len()).step_by(97).collect();
    let mut q = Vec::new();
    for &i in &picks {
        q.push(vec!["ZRANK".to_string(), "big".into(), model[i].1.clone()]);
        q.push(vec![
            "ZREVRANK".to_string(),
            "big".into(),
            model[i].1.clone(),
        ]);
    }
    let replies = pipeline(&mut c, &q);
    for (k, &i) in picks.iter().enumerate() {
        assert_eq!(replies[2 * k], int(i as i64), "ZRANK of {}", model[i].1);
        assert_eq!(replies[2 * k + 1], int((model.len() - 1 - i) as i64));
    }
    // Range by rank and by score agree with the model too.
    let got = bulks(call(&mut c, &["ZRANGE", "big", "50000", "50009"]));
    let want: Vec<String> = model[50000..50010].iter().map(|p| p.1.clone()).collect();
    assert_eq!(got, want);
    let lo = model.partition_point(|p| p.0 < 300.0);
    let hi = model.partition_point(|p| p.0 <= 301.0);
    assert_eq!(
        call(&mut c, &["ZCOUNT", "big", "300", "301"]),
        int((hi - lo) as i64)
    );

    // Remove a third and check again.
    let mut rem = vec!["ZREM".to_string(), "big".into()];
    for p in model.iter().step_by(3) {
        rem.push(p.1.clone());
    }
    let removed = call(&mut c, &rem.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(removed, int(model.iter().step_by(3).count() as i64));
    let kept: Vec<&(f64, String)> = model
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(_, p)| p)
        .collect();
    let mut q = Vec::new();
    let picks: Vec<usize> = (0..kept.len()).step_by(101).collect();
    for &i in &picks {
        q.push(vec!["ZRANK".to_string(), "big".into(), kept[i].1.clone()]);
    }
    let replies = pipeline(&mut c, &q);
    for (k, &i) in picks.iter().enumerate() {
        assert_eq!(replies[k], int(i as i64));
    }
}

#[test]
fn zrank_withscore_replies_the_rank_and_score_as_redis_7_2() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["ZADD", "z", "1.5", "a", "2", "b"]);
    assert_eq!(
        call(&mut c, &["ZRANK", "z", "b", "WITHSCORE"]),
        arr(vec![int(1), bulk("2")])
    );
    assert_eq!(
        call(&mut c, &["ZREVRANK", "z", "a", "withscore"]),
        arr(vec![int(1), bulk("1.5")])
    );
    assert_eq!(
        call(&mut c, &["ZRANK", "z", "nope", "WITHSCORE"]),
        Frame::NullArray
    );
    assert_eq!(
        call(&mut c, &["ZRANK", "missing", "a", "WITHSCORE"]),
        Frame::NullArray
    );
    assert_eq!(call(&mut c, &["ZRANK", "z", "nope"]), Frame::NullBulk);
    assert_eq!(
        call(&mut c, &["ZRANK", "z", "a", "foo"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["ZRANK", "z", "a", "WITHSCORE", "x"]),
        err("ERR wrong number of arguments for 'zrank' command")
    );
    resp3(&mut c);
    assert_eq!(
        call(&mut c, &["ZRANK", "z", "a", "WITHSCORE"]),
        arr(vec![int(0), dbl("1.5")])
    );
    assert_eq!(
        call(&mut c, &["ZRANK", "z", "nope", "WITHSCORE"]),
        Frame::Null
    );
}

#[test]
fn zrandmember_with_a_positive_count_returns_distinct_members() {
    let s = TestServer::start();
    let mut c = s.connect();
    for (key, n) in [("small", 50), ("big", 1000)] {
        let mut cmd = vec!["ZADD".to_string(), key.into()];
        for i in 0..n {
            cmd.push(i.to_string());
            cmd.push(format!("m{i}"));
        }
        call(&mut c, &cmd.iter().map(String::as_str).collect::<Vec<_>>());
        for count in [1, 5, 20, 40, n - 1] {
            let mut got = bulks(call(&mut c, &["ZRANDMEMBER", key, &count.to_string()]));
            assert_eq!(got.len(), count);
            got.sort();
            got.dedup();
            assert_eq!(got.len(), count, "{key} count {count}");
        }
        let got = bulks(call(&mut c, &["ZRANDMEMBER", key, "-3000"]));
        assert_eq!(got.len(), 3000);
        let pairs = bulks(call(&mut c, &["ZRANDMEMBER", key, "7", "WITHSCORES"]));
        assert_eq!(pairs.len(), 14);
        for p in pairs.chunks(2) {
            assert_eq!(format!("m{}", p[1]), p[0]);
        }
    }
}

#[test]
fn zscan_of_a_skiplist_returns_every_member_with_its_score() {
    let s = TestServer::start();
    let mut c = s.connect();
    let mut cmd = vec!["ZADD".to_string(), "z".into()];
    for i in 0..1000 {
        cmd.push(i.to_string());
        cmd.push(format!("m{i}"));
    }
    call(&mut c, &cmd.iter().map(String::as_str).collect::<Vec<_>>());
    let mut cursor = "0".to_string();
    let mut seen = std::collections::BTreeMap::new();
    let mut rounds = 0;
    loop {
        let reply = call(&mut c, &["ZSCAN", "z", &cursor, "COUNT", "50"]);
        let Frame::Array(mut parts) = reply else {
            panic!("bad reply")
        };
        let items = bulks(parts.pop().unwrap());
        let Frame::Bulk(next) = parts.pop().unwrap() else {
            panic!("bad cursor")
        };
        for p in items.chunks(2) {
            seen.insert(p[0].clone(), p[1].clone());
        }
        cursor = String::from_utf8(next.to_vec()).unwrap();
        rounds += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(rounds > 10);
    assert_eq!(seen.len(), 1000);
    assert!(seen.iter().all(|(m, s)| m[1..] == *s));
    let matched = bulks(
        match call(
            &mut c,
            &["ZSCAN", "z", "0", "MATCH", "m99*", "COUNT", "2000"],
        ) {
            Frame::Array(mut p) => p.pop().unwrap(),
            _ => panic!(),
        },
    );
    assert_eq!(matched.len(), 2 * 11);
}

#[test]
fn empty_sets_are_deleted_and_changes_count_as_dirty() {
    let s = TestServer::start();
    let mut c = s.connect();
    let dirty = |c: &mut Connection| -> i64 {
        let Frame::Bulk(info) = call(c, &["INFO", "persistence"]) else {
            panic!("INFO")
        };
        let text = String::from_utf8_lossy(&info).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let d0 = dirty(&mut c);
    call(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(dirty(&mut c) - d0, 3);
    call(&mut c, &["ZADD", "z", "1", "a"]);
    assert_eq!(dirty(&mut c) - d0, 3);
    call(&mut c, &["ZPOPMIN", "z", "2"]);
    assert_eq!(dirty(&mut c) - d0, 5);
    call(&mut c, &["ZREM", "z", "c"]);
    assert_eq!(call(&mut c, &["EXISTS", "z"]), int(0));
    call(&mut c, &["ZADD", "z", "1", "a"]);
    call(&mut c, &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]);
    assert_eq!(call(&mut c, &["EXISTS", "z"]), int(0));
    call(&mut c, &["ZADD", "z", "1", "a"]);
    call(&mut c, &["ZMPOP", "1", "z", "MIN"]);
    assert_eq!(call(&mut c, &["EXISTS", "z"]), int(0));
}

#[test]
fn zadd_incr_to_nan_is_an_error_and_leaves_the_score() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["ZADD", "z", "inf", "a"]);
    assert_eq!(
        call(&mut c, &["ZINCRBY", "z", "-inf", "a"]),
        err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]), bulk("inf"));
    resp3(&mut c);
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]), dbl("inf"));
    assert_eq!(call(&mut c, &["ZADD", "z", "INCR", "1", "b"]), dbl("1"));
}
