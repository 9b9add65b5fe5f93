//! Every RDB fixture written by real Redis 7.0.15 and Valkey servers
//! (`../shared/fixtures/rdb/`) loads at startup and matches its manifest key
//! by key: type, content (encoding-independent), TTL, stream metadata and
//! function libraries. Corrupted copies are refused with clear errors.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use common::{call, TestServer};
use handoff::protocol::{Connection, Frame};
use handoff::{Config, Server};
use serde_json::Value as Json;

/// The fixtures, relative to the workspace root.
const FIXTURES: &str = "../shared/fixtures/rdb";

fn fixtures_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: RDB fixtures not found at {}", dir.display());
        None
    }
}

fn scratch_dir(tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("handoff-rdbfix-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts a handoff server whose `dir/dbfilename` is a copy of `data`.
fn server_loading(data: &[u8], tweak: impl FnOnce(&mut Config)) -> (TestServer, PathBuf) {
    let dir = scratch_dir("srv");
    std::fs::write(dir.join("dump.rdb"), data).unwrap();
    let d = dir.clone();
    let s = TestServer::with(move |c| {
        c.dir = d.to_string_lossy().into_owned();
        c.dbfilename = "dump.rdb".into();
        tweak(c);
    });
    (s, dir)
}

fn json_bytes(v: &Json) -> Vec<u8> {
    match v {
        Json::String(s) => s.as_bytes().to_vec(),
        Json::Object(o) => hex(o["hex"].as_str().unwrap()),
        other => panic!("unexpected manifest value {other}"),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key_bytes(k: &str) -> Vec<u8> {
    match k.strip_prefix("hex:") {
        Some(h) => hex(h),
        None => k.as_bytes().to_vec(),
    }
}

fn bytes_of(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => b.to_vec(),
        Frame::Integer(n) => n.to_string().into_bytes(),
        other => panic!("expected a string, got {other:?}"),
    }
}

fn items(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

fn score(s: &[u8]) -> f64 {
    match s {
        b"inf" | b"+inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        _ => std::str::from_utf8(s).unwrap().parse().unwrap(),
    }
}

/// A flat RESP2 key/value array as a map.
fn kv(f: Frame) -> HashMap<String, Frame> {
    let v = items(f);
    v.chunks(2)
        .map(|p| (String::from_utf8(bytes_of(&p[0])).unwrap(), p[1].clone()))
        .collect()
}

fn int(f: &Frame) -> i64 {
    match f {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn check_key(c: &mut Connection, name: &str, spec: &Json, what: &str) {
    let key = key_bytes(name);
    let ctx = format!("{what}: key {name}");
    let ty = spec["type"].as_str().unwrap();
    assert_eq!(
        bytes_of(&c.call(&[b"TYPE".to_vec(), key.clone()]).unwrap()),
        ty.as_bytes(),
        "{ctx}"
    );
    let ttl = int(&c.call(&[b"PEXPIRETIME".to_vec(), key.clone()]).unwrap());
    let want_ttl = spec["expire_at_ms"].as_i64().unwrap_or(-1);
    assert_eq!(ttl, want_ttl, "{ctx}: TTL");
    let value = &spec["value"];
    let cmd = |c: &mut Connection, args: &[&str]| {
        let mut v: Vec<Vec<u8>> = vec![args[0].as_bytes().to_vec(), key.clone()];
        v.extend(args[1..].iter().map(|a| a.as_bytes().to_vec()));
        c.call(&v).unwrap()
    };
    match ty {
        "string" => assert_eq!(bytes_of(&cmd(c, &["GET"])), json_bytes(value), "{ctx}"),
        "list" => {
            let got: Vec<Vec<u8>> = items(cmd(c, &["LRANGE", "0", "-1"]))
                .iter()
                .map(bytes_of)
                .collect();
            let want: Vec<Vec<u8>> = value.as_array().unwrap().iter().map(json_bytes).collect();
            assert_eq!(got, want, "{ctx}");
        }
        "set" => {
            let mut got: Vec<Vec<u8>> = items(cmd(c, &["SMEMBERS"])).iter().map(bytes_of).collect();
            let mut want: Vec<Vec<u8>> = value.as_array().unwrap().iter().map(json_bytes).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{ctx}");
        }
        "hash" => {
            let got: BTreeMap<Vec<u8>, Vec<u8>> = items(cmd(c, &["HGETALL"]))
                .chunks(2)
                .map(|p| (bytes_of(&p[0]), bytes_of(&p[1])))
                .collect();
            let want: BTreeMap<Vec<u8>, Vec<u8>> = value
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), json_bytes(v)))
                .collect();
            assert_eq!(got, want, "{ctx}");
        }
        "zset" => {
            let got: Vec<(Vec<u8>, f64)> = items(cmd(c, &["ZRANGE", "0", "-1", "WITHSCORES"]))
                .chunks(2)
                .map(|p| (bytes_of(&p[0]), score(&bytes_of(&p[1]))))
                .collect();
            let want: Vec<(Vec<u8>, f64)> = value
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (json_bytes(&p[0]), score(&json_bytes(&p[1]))))
                .collect();
            assert_eq!(got, want, "{ctx}");
        }
        "stream" => check_stream(c, &key, spec, &ctx),
        other => panic!("{ctx}: unknown type {other}"),
    }
}

fn check_stream(c: &mut Connection, key: &[u8], spec: &Json, ctx: &str) {
    let got: Vec<(Vec<u8>, Vec<Vec<u8>>)> =
        items(c.call(&[&b"XRANGE"[..], key, b"-", b"+"]).unwrap())
            .into_iter()
            .map(|e| {
                let mut p = items(e).into_iter();
                let id = bytes_of(&p.next().unwrap());
                let fields = items(p.next().unwrap()).iter().map(bytes_of).collect();
                (id, fields)
            })
            .collect();
    let want: Vec<(Vec<u8>, Vec<Vec<u8>>)> = spec["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                json_bytes(&e[0]),
                e[1].as_array().unwrap().iter().map(json_bytes).collect(),
            )
        })
        .collect();
    assert_eq!(got, want, "{ctx}: entries");
    let meta = &spec["stream_meta"];
    let info = kv(c.call(&[&b"XINFO"[..], b"STREAM", key, b"FULL"]).unwrap());
    assert_eq!(
        int(&info["length"]),
        meta["length"].as_i64().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        int(&info["entries-added"]),
        meta["entries-added"].as_i64().unwrap(),
        "{ctx}"
    );
    for (field, name) in [
        ("last-generated-id", "last-generated-id"),
        ("max-deleted-entry-id", "max-deleted-entry-id"),
        ("recorded-first-entry-id", "recorded-first-entry-id"),
    ] {
        assert_eq!(
            bytes_of(&info[field]),
            meta[name].as_str().unwrap().as_bytes(),
            "{ctx}: {field}"
        );
    }
    let groups = items(info["groups"].clone());
    let want_groups = meta["groups"].as_array().unwrap();
    assert_eq!(groups.len(), want_groups.len(), "{ctx}: groups");
    for (g, wg) in groups.into_iter().zip(want_groups) {
        let g = kv(g);
        assert_eq!(
            bytes_of(&g["name"]),
            wg["name"].as_str().unwrap().as_bytes()
        );
        assert_eq!(
            bytes_of(&g["last-delivered-id"]),
            wg["last-delivered-id"].as_str().unwrap().as_bytes()
        );
        match wg["entries-read"].as_i64() {
            Some(n) => assert_eq!(int(&g["entries-read"]), n, "{ctx}: entries-read"),
            None => assert!(
                matches!(g["entries-read"], Frame::NullBulk | Frame::Null),
                "{ctx}: entries-read {:?}",
                g["entries-read"]
            ),
        }
        let pending: Vec<(Vec<u8>, Vec<u8>, i64)> = items(g["pending"].clone())
            .into_iter()
            .map(|p| {
                let p = items(p);
                (bytes_of(&p[0]), bytes_of(&p[1]), int(&p[3]))
            })
            .collect();
        let want_pending: Vec<(Vec<u8>, Vec<u8>, i64)> = wg["pel"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (json_bytes(&p[0]), json_bytes(&p[1]), p[2].as_i64().unwrap()))
            .collect();
        assert_eq!(pending, want_pending, "{ctx}: group PEL");
        let consumers: Vec<(Vec<u8>, Vec<Vec<u8>>)> = items(g["consumers"].clone())
            .into_iter()
            .map(|cf| {
                let cm = kv(cf);
                let pel = items(cm["pending"].clone())
                    .into_iter()
                    .map(|p| bytes_of(&items(p)[0]))
                    .collect();
                (bytes_of(&cm["name"]), pel)
            })
            .collect();
        let want_consumers: Vec<(Vec<u8>, Vec<Vec<u8>>)> = wg["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|cm| {
                (
                    json_bytes(&cm["name"]),
                    cm["pel"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(json_bytes)
                        .collect(),
                )
            })
            .collect();
        assert_eq!(consumers, want_consumers, "{ctx}: consumers");
    }
}

/// Checks a running server against the `dbs` of a manifest entry.
fn check_dataset(c: &mut Connection, dbs: &serde_json::Map<String, Json>, what: &str) {
    let mut total = 0;
    for db in 0..16 {
        call(c, &["SELECT", &db.to_string()]);
        let keys = dbs.get(&db.to_string()).and_then(Json::as_object);
        let want = keys.map_or(0, |k| k.len());
        total += want;
        assert_eq!(
            int(&call(c, &["DBSIZE"])),
            want as i64,
            "{what}: DBSIZE of db {db}"
        );
        for (name, spec) in keys.into_iter().flatten() {
            check_key(c, name, spec, what);
        }
    }
    assert!(total > 0 || dbs.is_empty());
}

fn manifests(dir: &Path) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with("-manifest.json") {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((name, serde_json::from_str(&text).unwrap()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_fixture_loads_at_startup_and_matches_its_manifest() {
    let Some(dir) = fixtures_dir() else { return };
    let mut checked = 0;
    for (_, manifest) in manifests(&dir) {
        let fixtures = manifest["fixtures"].as_object().unwrap();
        for (file, entry) in fixtures {
            let data = std::fs::read(dir.join(file)).unwrap();
            let dbs = match &entry["dbs"] {
                Json::String(s) => {
                    let other = s.strip_prefix("identical to ").unwrap();
                    fixtures[other]["dbs"].as_object().unwrap().clone()
                }
                Json::Object(o) => o.clone(),
                other => panic!("{file}: dbs is {other}"),
            };
            let (server, _dir) = server_loading(&data, |_| {});
            let mut c = server.connect();
            check_dataset(&mut c, &dbs, file);
            if let Some(libs) = entry.get("function_libraries").and_then(Json::as_array) {
                let list = items(call(&mut c, &["FUNCTION", "LIST", "WITHCODE"]));
                assert_eq!(list.len(), libs.len(), "{file}: libraries");
                for (lib, want) in list.into_iter().zip(libs) {
                    let lib = kv(lib);
                    assert_eq!(
                        bytes_of(&lib["library_code"]),
                        want.as_str().unwrap().as_bytes(),
                        "{file}"
                    );
                }
                assert_eq!(
                    call(&mut c, &["FCALL", "echo1", "0", "hi"]),
                    common::bulk("hi"),
                    "{file}: the loaded function runs"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 10, "fixtures checked");
}

#[test]
fn the_minimal_writer_fixture_loads_with_its_documented_keys() {
    let Some(dir) = fixtures_dir() else { return };
    let data = std::fs::read(dir.join("writer-minimal-v10.rdb")).unwrap();
    let (server, _d) = server_loading(&data, |_| {});
    let mut c = server.connect();
    assert_eq!(call(&mut c, &["DBSIZE"]), Frame::Integer(10));
    assert_eq!(call(&mut c, &["GET", "m:str"]), common::bulk("hello"));
    assert_eq!(
        call(&mut c, &["OBJECT", "ENCODING", "m:int-as-text"]),
        common::bulk("int")
    );
    assert_eq!(call(&mut c, &["LLEN", "m:list"]), Frame::Integer(300));
    assert_eq!(
        call(&mut c, &["OBJECT", "ENCODING", "m:set-int"]),
        common::bulk("intset")
    );
    assert_eq!(call(&mut c, &["HLEN", "m:hash-big"]), Frame::Integer(1000));
    assert_eq!(
        call(&mut c, &["ZSCORE", "m:zset", "c"]),
        common::bulk("inf")
    );
    assert_eq!(
        call(&mut c, &["PEXPIRETIME", "m:hash-ttl"]),
        Frame::Integer(4102444800123)
    );
    call(&mut c, &["SELECT", "3"]);
    assert_eq!(call(&mut c, &["GET", "m:db3"]), common::bulk("three"));
}

/// Loads `data` into a fresh server state directly (no sockets).
fn load(data: Vec<u8>, check_crc: bool) -> Result<(u64, u64), String> {
    let mut srv = handoff_server::server::Server::new(Config::default());
    let opts = handoff_server::rdb::LoadOptions {
        check_crc,
        ..Default::default()
    };
    handoff_server::persist::load_bytes(&mut srv, Bytes::from(data), opts).map_err(|e| e.0)
}

#[test]
fn corrupted_fixtures_are_refused_with_clear_errors() {
    let Some(dir) = fixtures_dir() else { return };
    let good = std::fs::read(dir.join("redis-7.0.15-types.rdb")).unwrap();
    assert_eq!(load(good.clone(), true).map(|r| r.0), Ok(41));

    // A flipped byte inside a value: the CRC catches it.
    let mut flipped = good.clone();
    let at = good.len() / 2;
    flipped[at] ^= 0x01;
    let e = load(flipped.clone(), true).unwrap_err();
    assert!(
        e.contains("checksum") || e.contains("Corrupt") || e.contains("Invalid"),
        "{e}"
    );

    // Version 13 is newer than we read.
    let mut v13 = good.clone();
    v13[5..9].copy_from_slice(b"0013");
    assert_eq!(
        load(v13, true).unwrap_err(),
        "Can't handle RDB format version 13"
    );

    // Not an RDB at all.
    assert!(load(b"HELLO0010".to_vec(), true)
        .unwrap_err()
        .contains("Wrong signature"));

    // Truncated anywhere: an error, never a panic.
    for cut in (0..good.len())
        .step_by(97)
        .chain([good.len() - 1, good.len() - 8])
    {
        assert!(load(good[..cut].to_vec(), true).is_err(), "cut at {cut}");
    }

    // Random single-byte damage with the CRC check off: errors or loads, never panics.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut d = good.clone();
        let i = 9 + (x as usize % (good.len() - 9));
        d[i] = (x >> 32) as u8;
        let _ = load(d, false);
    }
}

#[test]
fn a_server_refuses_to_start_on_a_corrupt_dump() {
    let Some(dir) = fixtures_dir() else { return };
    let mut bad = std::fs::read(dir.join("redis-7.0.15-types.rdb")).unwrap();
    let n = bad.len();
    bad[n - 3] ^= 0xFF; // damage the CRC trailer
    let scratch = scratch_dir("bad");
    std::fs::write(scratch.join("dump.rdb"), &bad).unwrap();
    let config = Config {
        port: 0,
        bind: vec!["127.0.0.1".into()],
        save: Vec::new(),
        dir: scratch.to_string_lossy().into_owned(),
        ..Default::default()
    };
    let err = Server::new(config).start().err().expect("start must fail");
    assert!(err.to_string().contains("Wrong RDB checksum"), "{err}");

    // With rdbchecksum no the same file loads.
    let (server, _d) = server_loading(&bad, |c| c.rdbchecksum = false);
    let mut c = server.connect();
    assert_eq!(call(&mut c, &["DBSIZE"]), Frame::Integer(33));
}

#[test]
fn a_selectdb_beyond_the_configured_databases_is_refused() {
    let Some(dir) = fixtures_dir() else { return };
    let data = std::fs::read(dir.join("redis-7.0.15-types.rdb")).unwrap();
    let mut srv = handoff_server::server::Server::new(Config {
        databases: 2,
        ..Default::default()
    });
    let e = handoff_server::persist::load_bytes(&mut srv, Bytes::from(data), Default::default())
        .unwrap_err();
    assert!(e.0.contains("databases"), "{e}");
}

#[test]
fn a_module_aux_record_is_refused_naming_the_module() {
    let mut rdb = b"REDIS0010".to_vec();
    rdb.push(247); // MODULE_AUX
                   // Module id for "testmodul" version 1 as a 64-bit length.
    let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id: u64 = 0;
    for ch in b"testmodul" {
        id = (id << 6) | charset.iter().position(|c| c == ch).unwrap() as u64;
    }
    id = (id << 10) | 1;
    rdb.push(0x81);
    rdb.extend_from_slice(&id.to_be_bytes());
    rdb.extend_from_slice(&[2, 0, 0, 0xFF]);
    let e = load(rdb, false).unwrap_err();
    assert!(e.contains("testmodul"), "{e}");
}

#[test]
fn duplicate_keys_and_unknown_aux_fields_are_handled_as_redis_does() {
    // AUX "x-unknown"="1", then key "k" twice in db 0.
    let mut rdb = b"REDIS0010".to_vec();
    rdb.extend_from_slice(&[250, 9]);
    rdb.extend_from_slice(b"x-unknown");
    rdb.extend_from_slice(&[1, b'1']);
    rdb.extend_from_slice(&[254, 0]);
    rdb.extend_from_slice(&[0, 1, b'k', 1, b'v']);
    let mut dup = rdb.clone();
    dup.extend_from_slice(&[0, 1, b'k', 1, b'w']);
    rdb.push(255);
    rdb.extend_from_slice(&[0; 8]);
    dup.push(255);
    dup.extend_from_slice(&[0; 8]);
    assert_eq!(load(rdb, true), Ok((1, 0)));
    assert!(load(dup, true).unwrap_err().contains("Duplicated key"));
}

#[test]
fn expired_keys_are_dropped_by_a_primary_and_kept_by_a_replica() {
    let mut rdb = b"REDIS0010".to_vec();
    rdb.extend_from_slice(&[254, 0]);
    rdb.push(252);
    rdb.extend_from_slice(&1000i64.to_le_bytes()); // 1970: long gone
    rdb.extend_from_slice(&[0, 3, b'o', b'l', b'd', 1, b'v']);
    rdb.extend_from_slice(&[0, 3, b'n', b'e', b'w', 1, b'v']);
    rdb.push(255);
    rdb.extend_from_slice(&[0; 8]);
    assert_eq!(load(rdb.clone(), true), Ok((1, 1)));
    let mut srv = handoff_server::server::Server::new(Config::default());
    let opts = handoff_server::rdb::LoadOptions {
        keep_expired: true,
        ..Default::default()
    };
    assert_eq!(
        handoff_server::persist::load_bytes(&mut srv, Bytes::from(rdb), opts).unwrap(),
        (2, 0)
    );
}

#[test]
fn the_incremental_loader_stops_between_keys_and_reports_aux_fields() {
    let Some(dir) = fixtures_dir() else { return };
    let data = std::fs::read(dir.join("valkey-unstable-55bbbe09-types.rdb")).unwrap();
    let mut srv = handoff_server::server::Server::new(Config::default());
    let mut loader =
        handoff_server::rdb::RdbLoader::new(Bytes::from(data), Default::default()).unwrap();
    let mut steps = 0;
    while !loader.step(&mut srv, 3).unwrap() {
        steps += 1;
        assert!(loader.keys_loaded() <= 3 * steps);
    }
    assert!(steps >= 13, "{steps}");
    assert_eq!(loader.keys_loaded(), 41);
    assert!(loader.aux("valkey-ver").is_some());
    assert_eq!(loader.aux("redis-bits"), Some(&b"64"[..]));
    assert_eq!(srv.keyspace.total_keys(), 41);
}
