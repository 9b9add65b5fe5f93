//! A dataset of every type in small and big encodings (with TTLs, binary
//! keys, streams with consumer groups and pending entries, several
//! databases), and an encoding-independent snapshot of whatever a server
//! holds, so two servers (handoff, redis-server, valkey-server) can be
//! compared key by key after a save/load or DUMP/RESTORE.
#![allow(dead_code)]

use std::collections::BTreeMap;

use handoff::protocol::{Connection, Frame};

/// TTL used by the dataset: 2100-01-01T00:00:00.123Z.
pub const FAR_TTL_MS: i64 = 4_102_444_800_123;

pub fn run(c: &mut Connection, args: &[&[u8]]) -> Frame {
    let f = c.call(args).expect("command round trip");
    if let Frame::Error(e) = &f {
        panic!(
            "{:?} failed: {}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(e)
        );
    }
    f
}

fn run_s(c: &mut Connection, args: &[&str]) -> Frame {
    let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    run(c, &v)
}

/// Fills the selected server with the dataset (db 0 and db 3).
pub fn fill_every_type(c: &mut Connection) {
    run_s(c, &["SELECT", "0"]);
    run_s(c, &["SET", "str:small", "hello"]);
    run_s(c, &["SET", "str:int", "-123456"]);
    run_s(c, &["SET", "str:int64", "9223372036854775807"]);
    run_s(c, &["SET", "str:notint", "0123"]);
    run_s(c, &["SET", "str:empty", ""]);
    run_s(c, &["SET", "str:compressible", &"abcdef".repeat(500)]);
    let binary: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    run(c, &[b"SET", b"str:binary", &binary]);
    run(c, &[b"SET", b"key:\x00\xff\r\nbinary", b"binary key"]);
    run_s(
        c,
        &[
            "SET",
            "str:ttl",
            "expiring",
            "PXAT",
            &FAR_TTL_MS.to_string(),
        ],
    );

    run_s(c, &["RPUSH", "list:small", "a", "b", "1", "300", "-70000"]);
    let big: Vec<String> = (0..2000).map(|i| format!("item:{i:05}")).collect();
    let mut args = vec!["RPUSH", "list:big"];
    args.extend(big.iter().map(String::as_str));
    run_s(c, &args);
    run_s(c, &["RPUSH", "list:long-elem", "x", &"L".repeat(3000), "y"]);
    run_s(c, &["RPUSH", "list:ttl", "x", "y"]);
    run_s(c, &["PEXPIREAT", "list:ttl", &FAR_TTL_MS.to_string()]);

    run_s(c, &["SADD", "set:ints", "-5", "1", "2", "5000000000"]);
    run_s(c, &["SADD", "set:strings", "apple", "banana", "cherry"]);
    let ints: Vec<String> = (0..700).map(|i| (i * 3).to_string()).collect();
    let mut args = vec!["SADD", "set:big-ints"];
    args.extend(ints.iter().map(String::as_str));
    run_s(c, &args);
    let strs: Vec<String> = (0..300).map(|i| format!("member-{i}")).collect();
    let mut args = vec!["SADD", "set:big-strings"];
    args.extend(strs.iter().map(String::as_str));
    run_s(c, &args);
    run_s(c, &["SADD", "set:ttl", "10", "20"]);
    run_s(c, &["PEXPIREAT", "set:ttl", &FAR_TTL_MS.to_string()]);

    run_s(c, &["HSET", "hash:small", "f1", "v1", "f2", "2", "f3", ""]);
    let pairs: Vec<String> = (0..600)
        .flat_map(|i| [format!("field:{i:03}"), format!("value:{i:03}")])
        .collect();
    let mut args = vec!["HSET", "hash:big"];
    args.extend(pairs.iter().map(String::as_str));
    run_s(c, &args);
    run_s(c, &["HSET", "hash:longvalue", "k", &"v".repeat(100)]);
    run_s(c, &["HSET", "hash:ttl", "a", "1"]);
    run_s(c, &["PEXPIREAT", "hash:ttl", &FAR_TTL_MS.to_string()]);

    run_s(
        c,
        &[
            "ZADD",
            "zset:small",
            "-3",
            "minus-three",
            "1",
            "one",
            "2.5",
            "two-and-half",
        ],
    );
    run_s(
        c,
        &[
            "ZADD",
            "zset:special",
            "-inf",
            "bottom",
            "0",
            "zero",
            "0.1",
            "tenth",
            "1e300",
            "huge",
            "+inf",
            "top",
        ],
    );
    let zs: Vec<String> = (0..300)
        .flat_map(|i| [format!("{}", i as f64 * 1.5), format!("member:{i:03}")])
        .collect();
    let mut args = vec!["ZADD", "zset:big"];
    args.extend(zs.iter().map(String::as_str));
    run_s(c, &args);
    run_s(c, &["ZADD", "zset:ttl", "1", "a"]);
    run_s(c, &["PEXPIREAT", "zset:ttl", &FAR_TTL_MS.to_string()]);

    run_s(
        c,
        &[
            "XADD",
            "stream:small",
            "1700000000000-0",
            "temp",
            "20",
            "hum",
            "55",
        ],
    );
    run_s(
        c,
        &["XADD", "stream:small", "1700000000000-1", "temp", "21"],
    );
    run_s(
        c,
        &[
            "XADD",
            "stream:small",
            "1700000000001-0",
            "name",
            "sensor-a",
            "temp",
            "19",
        ],
    );
    run_s(c, &["XGROUP", "CREATE", "stream:small", "grp", "0"]);
    run_s(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "stream:small",
            ">",
        ],
    );
    run_s(c, &["XGROUP", "CREATE", "stream:small", "grp2", "$"]);
    run_s(
        c,
        &["XGROUP", "CREATECONSUMER", "stream:small", "grp2", "bob"],
    );
    for i in 0..500u64 {
        run_s(
            c,
            &[
                "XADD",
                "stream:big",
                &format!("1700000000{i:03}-0"),
                "i",
                &i.to_string(),
                "sq",
                &(i * i).to_string(),
            ],
        );
    }
    run_s(c, &["XDEL", "stream:big", "1700000000005-0"]);
    run_s(
        c,
        &[
            "XGROUP",
            "CREATE",
            "stream:big",
            "readers",
            "1700000000100-0",
        ],
    );
    run_s(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "readers",
            "r1",
            "COUNT",
            "50",
            "STREAMS",
            "stream:big",
            ">",
        ],
    );
    run_s(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "readers",
            "r2",
            "COUNT",
            "10",
            "STREAMS",
            "stream:big",
            ">",
        ],
    );
    run_s(c, &["XACK", "stream:big", "readers", "1700000000101-0"]);
    run_s(
        c,
        &["XGROUP", "CREATE", "stream:empty", "g", "$", "MKSTREAM"],
    );
    run_s(c, &["XADD", "stream:ttl", "1-1", "a", "b"]);
    run_s(c, &["PEXPIREAT", "stream:ttl", &FAR_TTL_MS.to_string()]);

    run_s(c, &["SELECT", "3"]);
    run_s(c, &["SET", "db3:str", "in db three"]);
    run_s(c, &["SET", "str:small", "db3 copy"]);
    run_s(c, &["RPUSH", "db3:list", "one", "two"]);
    run_s(c, &["HSET", "db3:hash", "name", "three", "n", "3"]);
    run_s(c, &["PEXPIREAT", "db3:hash", &FAR_TTL_MS.to_string()]);
    run_s(c, &["SELECT", "0"]);
}

/// The content of one key, in a form that does not depend on encodings.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyState {
    pub ty: String,
    pub ttl_at: i64,
    pub content: Vec<Vec<u8>>,
}

fn bytes_of(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => b.to_vec(),
        Frame::Integer(n) => n.to_string().into_bytes(),
        Frame::NullBulk | Frame::Null | Frame::NullArray => b"(nil)".to_vec(),
        Frame::Array(v) => {
            let mut out = b"[".to_vec();
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend(bytes_of(x));
            }
            out.push(b']');
            out
        }
        other => format!("{other:?}").into_bytes(),
    }
}

fn items(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

fn canonical_score(s: &[u8]) -> Vec<u8> {
    let v: f64 = match s {
        b"inf" | b"+inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        _ => std::str::from_utf8(s).unwrap().parse().unwrap(),
    };
    format!("{v:?}").into_bytes()
}

/// Stream state: entries, then metadata and groups (delivery and seen times excluded).
fn stream_state(c: &mut Connection, key: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = items(run(c, &[b"XRANGE", key, b"-", b"+"]))
        .iter()
        .map(bytes_of)
        .collect();
    let info = items(run(c, &[b"XINFO", b"STREAM", key, b"FULL"]));
    let mut groups = None;
    for p in info.chunks(2) {
        let name = bytes_of(&p[0]);
        match &name[..] {
            b"length"
            | b"last-generated-id"
            | b"max-deleted-entry-id"
            | b"entries-added"
            | b"recorded-first-entry-id" => {
                let mut line = name.clone();
                line.push(b'=');
                line.extend(bytes_of(&p[1]));
                out.push(line);
            }
            b"groups" => groups = Some(p[1].clone()),
            _ => {}
        }
    }
    for g in items(groups.unwrap_or(Frame::Array(vec![]))) {
        let g = items(g);
        for p in g.chunks(2) {
            let name = bytes_of(&p[0]);
            match &name[..] {
                b"name" | b"last-delivered-id" | b"entries-read" | b"pel-count" => {
                    let mut line = b"group.".to_vec();
                    line.extend(&name);
                    line.push(b'=');
                    line.extend(bytes_of(&p[1]));
                    out.push(line);
                }
                b"pending" => {
                    for pe in items(p[1].clone()) {
                        let pe = items(pe);
                        // id, consumer, delivery time, count
                        out.push(
                            [
                                b"pel ".to_vec(),
                                bytes_of(&pe[0]),
                                b" ".to_vec(),
                                bytes_of(&pe[1]),
                                b" ".to_vec(),
                                bytes_of(&pe[3]),
                            ]
                            .concat(),
                        );
                    }
                }
                b"consumers" => {
                    for cf in items(p[1].clone()) {
                        let cf = items(cf);
                        let mut cname = Vec::new();
                        let mut pel = Vec::new();
                        for q in cf.chunks(2) {
                            match &bytes_of(&q[0])[..] {
                                b"name" => cname = bytes_of(&q[1]),
                                b"pending" => {
                                    pel = items(q[1].clone())
                                        .into_iter()
                                        .map(|x| bytes_of(&items(x)[0]))
                                        .collect()
                                }
                                _ => {}
                            }
                        }
                        out.push(
                            [
                                b"consumer ".to_vec(),
                                cname,
                                b" ".to_vec(),
                                pel.join(&b","[..]),
                            ]
                            .concat(),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Every key of every database (0..16) with its type, content and absolute TTL.
pub fn snapshot(c: &mut Connection) -> BTreeMap<(usize, Vec<u8>), KeyState> {
    snapshot_dbs(c, 0..16)
}

/// Like [`snapshot`] for some databases only.
pub fn snapshot_dbs(
    c: &mut Connection,
    dbs: impl IntoIterator<Item = usize>,
) -> BTreeMap<(usize, Vec<u8>), KeyState> {
    let mut out = BTreeMap::new();
    for db in dbs {
        run_s(c, &["SELECT", &db.to_string()]);
        let mut cursor = b"0".to_vec();
        let mut keys = Vec::new();
        loop {
            let mut r = items(run(c, &[b"SCAN", &cursor, b"COUNT", b"1000"])).into_iter();
            cursor = bytes_of(&r.next().unwrap());
            keys.extend(items(r.next().unwrap()).iter().map(bytes_of));
            if cursor == b"0" {
                break;
            }
        }
        for key in keys {
            let ty = String::from_utf8(bytes_of(&run(c, &[b"TYPE", &key]))).unwrap();
            let ttl_at = match run(c, &[b"PEXPIRETIME", &key]) {
                Frame::Integer(n) => n,
                other => panic!("PEXPIRETIME gave {other:?}"),
            };
            let content: Vec<Vec<u8>> = match ty.as_str() {
                "string" => vec![bytes_of(&run(c, &[b"GET", &key]))],
                "list" => items(run(c, &[b"LRANGE", &key, b"0", b"-1"]))
                    .iter()
                    .map(bytes_of)
                    .collect(),
                "set" => {
                    let mut v: Vec<Vec<u8>> = items(run(c, &[b"SMEMBERS", &key]))
                        .iter()
                        .map(bytes_of)
                        .collect();
                    v.sort();
                    v
                }
                "hash" => {
                    let mut v: Vec<Vec<u8>> = items(run(c, &[b"HGETALL", &key]))
                        .chunks(2)
                        .map(|p| [bytes_of(&p[0]), b"=".to_vec(), bytes_of(&p[1])].concat())
                        .collect();
                    v.sort();
                    v
                }
                "zset" => items(run(c, &[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"]))
                    .chunks(2)
                    .map(|p| {
                        [
                            bytes_of(&p[0]),
                            b"=".to_vec(),
                            canonical_score(&bytes_of(&p[1])),
                        ]
                        .concat()
                    })
                    .collect(),
                "stream" => stream_state(c, &key),
                other => panic!("unexpected type {other}"),
            };
            out.insert(
                (db, key),
                KeyState {
                    ty,
                    ttl_at,
                    content,
                },
            );
        }
    }
    run_s(c, &["SELECT", "0"]);
    out
}

/// Asserts two snapshots are equal, naming the first differing key.
pub fn assert_same(
    a: &BTreeMap<(usize, Vec<u8>), KeyState>,
    b: &BTreeMap<(usize, Vec<u8>), KeyState>,
    what: &str,
) {
    let ka: Vec<_> = a.keys().collect();
    let kb: Vec<_> = b.keys().collect();
    assert_eq!(ka, kb, "{what}: key sets differ");
    for (k, va) in a {
        let vb = &b[k];
        assert_eq!(
            va,
            vb,
            "{what}: key {:?} in db {}",
            String::from_utf8_lossy(&k.1),
            k.0
        );
    }
}

/// Moves every key from `src` to `dst` with DUMP + RESTORE ... ABSTTL.
pub fn dump_restore_all(src: &mut Connection, dst: &mut Connection, what: &str) {
    let keys = snapshot(src);
    for ((db, key), state) in &keys {
        let sel = db.to_string();
        super::call(src, &["SELECT", &sel]);
        super::call(dst, &["SELECT", &sel]);
        let Frame::Bulk(payload) = src.call(&[&b"DUMP"[..], key]).unwrap() else {
            panic!("{what}: DUMP")
        };
        let ttl = if state.ttl_at > 0 {
            state.ttl_at.to_string()
        } else {
            "0".into()
        };
        let r = dst
            .call(&[&b"RESTORE"[..], key, ttl.as_bytes(), &payload, b"ABSTTL"])
            .unwrap();
        assert_eq!(
            r,
            super::simple("OK"),
            "{what}: RESTORE {:?}",
            String::from_utf8_lossy(key)
        );
    }
    super::call(src, &["SELECT", "0"]);
    super::call(dst, &["SELECT", "0"]);
    assert_same(&keys, &snapshot(dst), what);
}
