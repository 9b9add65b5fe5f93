//! Every command handoff declares, checked against a real redis-server's
//! COMMAND INFO: name, arity, flags, first/last/step and ACL categories must
//! be identical. Commands the reference server does not know (newer than its
//! version) are listed explicitly; any other difference fails.

mod common;

use common::{call, ExternalServer, TestServer};
use handoff::protocol::Frame;

/// Commands newer than redis-server 7.0 (the reference installed here):
/// they exist in Redis 7.2+, Valkey or Redis 8 (MAINT_NOTIFICATIONS) and
/// are checked by their own tests.
const NOT_IN_REFERENCE: &[&str] = &[
    "client|setinfo",
    "client|no-touch",
    "client|capa",
    "client|maint_notifications",
];

/// Arities Redis 7.2 changed after 7.0 (the reference here): ZRANK and
/// ZREVRANK gained WITHSCORE. Each entry is (command, 7.0 arity, our arity).
const ARITY_CHANGED_IN_7_2: &[(&str, i64, i64)] = &[("zrank", 3, -3), ("zrevrank", 3, -3)];

/// The comparable part of a COMMAND INFO entry.
#[derive(Debug, Clone, PartialEq)]
struct Meta {
    name: String,
    arity: i64,
    flags: Vec<String>,
    first: i64,
    last: i64,
    step: i64,
    acl: Vec<String>,
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a string, got {other:?}"),
    }
}

fn int(f: &Frame) -> i64 {
    match f {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn strings(f: &Frame) -> Vec<String> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v.iter().map(text).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Parses one COMMAND INFO entry and, recursively, its subcommands.
fn collect(entry: &Frame, out: &mut Vec<Meta>) {
    let Frame::Array(v) = entry else {
        panic!("COMMAND INFO entry is not an array: {entry:?}")
    };
    assert_eq!(v.len(), 10, "COMMAND INFO entry has 10 elements: {entry:?}");
    out.push(Meta {
        name: text(&v[0]),
        arity: int(&v[1]),
        flags: strings(&v[2]),
        first: int(&v[3]),
        last: int(&v[4]),
        step: int(&v[5]),
        acl: strings(&v[6]),
    });
    if let Frame::Array(subs) = &v[9] {
        for s in subs {
            collect(s, out);
        }
    }
}

#[test]
fn every_declared_command_matches_the_real_redis_command_info() {
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let server = TestServer::start();
    let mut ours = server.connect();
    let mut theirs = redis.connect();

    let Frame::Array(all) = call(&mut ours, &["COMMAND"]) else {
        panic!("COMMAND is an array")
    };
    let mut declared = Vec::new();
    for e in &all {
        collect(e, &mut declared);
    }
    assert!(declared.len() > 20, "COMMAND lists the declared commands");

    let mut differences = Vec::new();
    let mut unknown_to_reference = Vec::new();
    for meta in &declared {
        let reply = call(&mut theirs, &["COMMAND", "INFO", &meta.name]);
        let Frame::Array(items) = reply else {
            panic!("COMMAND INFO reply: {reply:?}")
        };
        match &items[0] {
            Frame::NullBulk | Frame::NullArray | Frame::Null => {
                unknown_to_reference.push(meta.name.clone());
                continue;
            }
            entry => {
                let mut reference = Vec::new();
                collect(entry, &mut reference);
                if let Some((_, old, new)) =
                    ARITY_CHANGED_IN_7_2.iter().find(|(n, ..)| *n == meta.name)
                {
                    if reference[0].arity == *old && meta.arity == *new {
                        reference[0].arity = *new;
                    }
                }
                if &reference[0] != meta {
                    differences.push(format!("ours:   {meta:?}\nredis:  {:?}", reference[0]));
                }
            }
        }
    }
    assert!(
        differences.is_empty(),
        "COMMAND INFO differs from redis-server:\n{}",
        differences.join("\n")
    );
    let mut expected: Vec<String> = NOT_IN_REFERENCE
        .iter()
        .filter(|n| declared.iter().any(|m| m.name == **n))
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    unknown_to_reference.sort();
    assert_eq!(
        unknown_to_reference, expected,
        "commands redis-server does not know must be listed in NOT_IN_REFERENCE"
    );
}

#[test]
fn the_comparison_notices_a_changed_flag() {
    // The checker itself: two entries differing in one flag are different.
    let a = Meta {
        name: "get".into(),
        arity: 2,
        flags: vec!["readonly".into(), "fast".into()],
        first: 1,
        last: 1,
        step: 1,
        acl: vec!["@read".into()],
    };
    let b = Meta {
        flags: vec!["readonly".into()],
        ..a.clone()
    };
    assert_ne!(a, b);
}
