//! A mixed dataset of every type (with TTLs, several dbs, small and big
//! encodings) and a full, order-independent view of a server's data, to
//! check that replicas, snapshots and peers hold exactly the same keys,
//! values, types and expiry times.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use handoff::protocol::{Connection, Frame};

/// Runs `args`, panicking on an I/O error or an error reply.
pub fn must(c: &mut Connection, args: &[&str]) -> Frame {
    let f = c.call(args).expect("call");
    if let Frame::Error(e) = &f {
        panic!("{args:?} failed: {}", String::from_utf8_lossy(e));
    }
    f
}

/// Writes a mix of every data type under `prefix`, `n` keys per type, in
/// dbs 0 and 3, some with a TTL far enough to survive the test.
pub fn write_mixed(c: &mut Connection, prefix: &str, n: usize) {
    for db in ["0", "3"] {
        must(c, &["SELECT", db]);
        for i in 0..n {
            let k = |t: &str| format!("{prefix}:{t}:{i}");
            must(c, &["SET", &k("str"), &format!("v{i}")]);
            must(c, &["SET", &k("int"), &i.to_string()]);
            must(c, &["SET", &k("ttl"), "x", "EX", "1000"]);
            must(c, &["PSETEX", &k("pttl"), "900000", "y"]);
            must(c, &["INCRBYFLOAT", &k("float"), "1.5"]);
            let big = i % 5 == 0;
            let m = if big { 200 } else { 3 };
            for j in 0..m {
                let js = j.to_string();
                must(c, &["RPUSH", &k("list"), &format!("e{j}")]);
                must(c, &["HSET", &k("hash"), &format!("f{j}"), &js]);
                must(c, &["SADD", &k("set"), &format!("m{j}")]);
                must(c, &["SADD", &k("intset"), &js]);
                must(
                    c,
                    &["ZADD", &k("zset"), &format!("{j}.5"), &format!("z{j}")],
                );
            }
            must(c, &["EXPIRE", &k("hash"), "5000"]);
            must(c, &["XADD", &k("stream"), "*", "a", "1", "b", "2"]);
            must(c, &["XADD", &k("stream"), "*", "a", "3"]);
            must(c, &["XGROUP", "CREATE", &k("stream"), "g1", "0"]);
            must(
                c,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g1",
                    "alice",
                    "COUNT",
                    "1",
                    "STREAMS",
                    &k("stream"),
                    ">",
                ],
            );
            must(c, &["PFADD", &k("hll"), "a", "b", "c"]);
            must(c, &["SPOP", &k("set")]);
            must(c, &["LPOP", &k("list")]);
        }
    }
    must(c, &["SELECT", "0"]);
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(b).into_owned()
        }
        Frame::Integer(i) => i.to_string(),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            let parts: Vec<String> = items.iter().map(text).collect();
            format!("[{}]", parts.join(","))
        }
        Frame::Map(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", text(k), text(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        other => format!("{other:?}"),
    }
}

fn sorted_items(f: &Frame) -> String {
    let mut v: Vec<String> = match f {
        Frame::Array(items) | Frame::Set(items) => items.iter().map(text).collect(),
        other => vec![text(other)],
    };
    v.sort();
    v.join(",")
}

fn pairs_sorted(f: &Frame) -> String {
    let items: Vec<String> = match f {
        Frame::Array(items) => items.iter().map(text).collect(),
        other => vec![text(other)],
    };
    let mut pairs: Vec<String> = items.chunks(2).map(|p| p.join("=")).collect();
    pairs.sort();
    pairs.join(",")
}

/// Every key of dbs 0..16 as `db:key` -> `type|content|expiretime-ms`.
pub fn contents(c: &mut Connection) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for db in 0..16 {
        must(c, &["SELECT", &db.to_string()]);
        let mut cursor = "0".to_string();
        let mut keys = Vec::new();
        loop {
            let f = must(c, &["SCAN", &cursor, "COUNT", "1000"]);
            let Frame::Array(parts) = f else {
                panic!("SCAN reply")
            };
            cursor = text(&parts[0]);
            if let Frame::Array(ks) = &parts[1] {
                keys.extend(ks.iter().map(text));
            }
            if cursor == "0" {
                break;
            }
        }
        for key in keys {
            let ty = text(&must(c, &["TYPE", &key]));
            let content = match ty.as_str() {
                "string" => text(&must(c, &["GET", &key])),
                "list" => text(&must(c, &["LRANGE", &key, "0", "-1"])),
                "hash" => pairs_sorted(&must(c, &["HGETALL", &key])),
                "set" => sorted_items(&must(c, &["SMEMBERS", &key])),
                "zset" => text(&must(c, &["ZRANGE", &key, "0", "-1", "WITHSCORES"])),
                "stream" => {
                    let entries = text(&must(c, &["XRANGE", &key, "-", "+"]));
                    let groups = must(c, &["XINFO", "GROUPS", &key]);
                    let pending = match &groups {
                        Frame::Array(gs) if !gs.is_empty() => {
                            text(&must(c, &["XPENDING", &key, "g1", "-", "+", "100"]))
                                .split("],[")
                                .map(|e| e.split(',').take(2).collect::<Vec<_>>().join(","))
                                .collect::<Vec<_>>()
                                .join(";")
                        }
                        _ => String::new(),
                    };
                    let last = text(&must(c, &["XINFO", "STREAM", &key]));
                    let last_id = last
                        .split("last-generated-id,")
                        .nth(1)
                        .and_then(|s| s.split(',').next())
                        .unwrap_or("")
                        .to_string();
                    format!(
                        "{entries} groups={} pending={pending} last={last_id}",
                        group_summary(&groups)
                    )
                }
                other => panic!("unexpected type {other} for {key}"),
            };
            let at = text(&must(c, &["PEXPIRETIME", &key]));
            out.insert(format!("{db}:{key}"), format!("{ty}|{content}|{at}"));
        }
    }
    must(c, &["SELECT", "0"]);
    out
}

/// name, pending count and last-delivered id of each consumer group.
fn group_summary(groups: &Frame) -> String {
    let Frame::Array(gs) = groups else {
        return String::new();
    };
    let mut out = Vec::new();
    for g in gs {
        let Frame::Array(fields) = g else { continue };
        let mut m = BTreeMap::new();
        for p in fields.chunks(2) {
            if let [k, v] = p {
                m.insert(text(k), text(v));
            }
        }
        out.push(format!(
            "{}:{}:{}",
            m.get("name").cloned().unwrap_or_default(),
            m.get("pending").cloned().unwrap_or_default(),
            m.get("last-delivered-id").cloned().unwrap_or_default()
        ));
    }
    out.join(";")
}

/// Asserts two views are equal, naming the first differences.
pub fn assert_same(
    a_name: &str,
    a: &BTreeMap<String, String>,
    b_name: &str,
    b: &BTreeMap<String, String>,
) {
    let mut diffs = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            Some(w) if w == v => {}
            Some(w) => diffs.push(format!("{k}: {a_name}={v} {b_name}={w}")),
            None => diffs.push(format!("{k}: only on {a_name}")),
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            diffs.push(format!("{k}: only on {b_name}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences ({} vs {} keys), first: {:#?}",
        diffs.len(),
        a.len(),
        b.len(),
        &diffs[..diffs.len().min(10)]
    );
}

/// A field of INFO replication (or any INFO section).
pub fn info_field(c: &mut Connection, section: &str, field: &str) -> Option<String> {
    let info = text(&must(c, &["INFO", section]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

/// Polls `check` until it holds or `secs` pass (then panics with `what`).
pub fn wait_for(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}
