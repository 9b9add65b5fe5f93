//! RDB and DUMP interop with real peers: a dataset of every type saved by
//! handoff loads in redis-server 7.0 and valkey-server (started with
//! `--dir/--dbfilename`), and their saves load in handoff at startup; DUMP
//! payloads move in both directions. Compared key by key with an
//! encoding-independent snapshot (type, content, absolute TTL).
//!
//! A missing peer skips its part unless HANDOFF_REQUIRE_PEERS=1.

mod common;

use std::path::{Path, PathBuf};

use common::dataset::{assert_same, dump_restore_all, fill_every_type, snapshot};
use common::{call, peers_required, simple, which, ExternalServer, TestServer};
use handoff::protocol::{Connection, Frame};

const LIB: &str = "#!lua name=interlib\nredis.register_function('echo1', function(keys, args) return args[1] end)";

fn scratch_dir(tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("handoff-interop-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// redis-server and valkey-server (see `common::which`), each skipped when
/// missing unless peers are required.
fn peer_binaries() -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    for name in ["redis-server", "valkey-server"] {
        match which(name) {
            Some(p) => out.push((name, p)),
            None if peers_required() => panic!("{name} not found and HANDOFF_REQUIRE_PEERS=1"),
            None => eprintln!("SKIPPED: {name} not found"),
        }
    }
    out
}

/// A peer process serving `dir/dump.rdb`, killed on drop.
fn peer_in(binary: &Path, dir: &Path) -> ExternalServer {
    ExternalServer::start_at(
        binary,
        &["--dir", dir.to_str().unwrap(), "--dbfilename", "dump.rdb"],
    )
}

fn handoff_in(dir: &Path) -> TestServer {
    let d = dir.to_string_lossy().into_owned();
    TestServer::with(move |c| c.dir = d)
}

fn library_codes(c: &mut Connection) -> Vec<Vec<u8>> {
    let Frame::Array(libs) = call(c, &["FUNCTION", "LIST", "WITHCODE"]) else {
        panic!("FUNCTION LIST")
    };
    libs.into_iter()
        .map(|l| {
            let Frame::Array(kv) = l else { panic!() };
            let pos = kv
                .iter()
                .position(|f| *f == Frame::Bulk("library_code".into()))
                .unwrap();
            match &kv[pos + 1] {
                Frame::Bulk(b) => b.to_vec(),
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

#[test]
fn a_dump_saved_by_handoff_loads_in_redis_and_valkey_with_the_same_keys() {
    let peers = peer_binaries();
    for compress in [true, false] {
        let dir = scratch_dir("to-peer");
        let expected = {
            let s = TestServer::with({
                let d = dir.to_string_lossy().into_owned();
                move |c| {
                    c.dir = d;
                    c.rdbcompression = compress;
                    c.rdbchecksum = compress;
                }
            });
            let mut c = s.connect();
            fill_every_type(&mut c);
            call(&mut c, &["FUNCTION", "LOAD", LIB]);
            assert_eq!(call(&mut c, &["SAVE"]), simple("OK"));
            snapshot(&mut c)
        };
        for (name, bin) in &peers {
            let peer = peer_in(bin, &dir);
            let mut c = peer.connect();
            let what = format!("{name} loading handoff's dump (compression {compress})");
            assert_same(&expected, &snapshot(&mut c), &what);
            assert_eq!(
                library_codes(&mut c),
                vec![LIB.as_bytes().to_vec()],
                "{what}"
            );
            assert_eq!(
                call(&mut c, &["FCALL", "echo1", "0", "x"]),
                common::bulk("x")
            );
        }
    }
}

#[test]
fn dumps_saved_by_redis_and_valkey_load_in_handoff_at_startup() {
    for (name, bin) in peer_binaries() {
        let dir = scratch_dir("from-peer");
        let expected = {
            let peer = peer_in(&bin, &dir);
            let mut c = peer.connect();
            fill_every_type(&mut c);
            call(&mut c, &["FUNCTION", "LOAD", LIB]);
            assert_eq!(call(&mut c, &["SAVE"]), simple("OK"));
            snapshot(&mut c)
        };
        let s = handoff_in(&dir);
        let mut c = s.connect();
        let what = format!("handoff loading {name}'s dump");
        assert_same(&expected, &snapshot(&mut c), &what);
        assert_eq!(
            library_codes(&mut c),
            vec![LIB.as_bytes().to_vec()],
            "{what}"
        );
    }
}

#[test]
fn dump_payloads_move_between_handoff_and_redis_or_valkey_both_ways() {
    for (name, bin) in peer_binaries() {
        let peer_dir = scratch_dir("dump");
        // Peer -> handoff.
        let peer = peer_in(&bin, &peer_dir);
        let mut pc = peer.connect();
        fill_every_type(&mut pc);
        let h = TestServer::start();
        let mut hc = h.connect();
        dump_restore_all(&mut pc, &mut hc, &format!("{name} DUMP -> handoff RESTORE"));
        // Handoff -> a fresh peer.
        call(&mut pc, &["FLUSHALL"]);
        dump_restore_all(&mut hc, &mut pc, &format!("handoff DUMP -> {name} RESTORE"));
        // FUNCTION DUMP/RESTORE both ways.
        call(&mut pc, &["FUNCTION", "LOAD", LIB]);
        let Frame::Bulk(fp) = call(&mut pc, &["FUNCTION", "DUMP"]) else {
            panic!()
        };
        assert_eq!(
            hc.call(&[&b"FUNCTION"[..], b"RESTORE", &fp]).unwrap(),
            simple("OK"),
            "{name} FUNCTION DUMP -> handoff"
        );
        call(&mut pc, &["FUNCTION", "FLUSH"]);
        let Frame::Bulk(hp) = call(&mut hc, &["FUNCTION", "DUMP"]) else {
            panic!()
        };
        assert_eq!(
            pc.call(&[&b"FUNCTION"[..], b"RESTORE", &hp]).unwrap(),
            simple("OK"),
            "handoff FUNCTION DUMP -> {name}"
        );
        assert_eq!(
            call(&mut pc, &["FCALL", "echo1", "0", "y"]),
            common::bulk("y")
        );
    }
}

/// OBJECT `sub` (FREQ or IDLETIME) of each key.
fn access_of(c: &mut Connection, sub: &str, keys: &[&str]) -> Vec<i64> {
    keys.iter()
        .map(|k| match call(c, &["OBJECT", sub, k]) {
            Frame::Integer(n) => n,
            other => panic!("OBJECT {sub} {k}: {other:?}"),
        })
        .collect()
}

/// Idle times read a moment apart may differ by a second or two.
fn close_idle(a: &[i64], b: &[i64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 2)
}

#[test]
fn lfu_counters_and_lru_idle_times_travel_through_rdb_files_as_in_redis() {
    let Some(redis) = which("redis-server") else {
        assert!(!peers_required(), "redis-server not found");
        eprintln!("SKIPPED: redis-server not found");
        return;
    };
    use handoff_server::config::MaxmemoryPolicy as P;
    let keys = ["k:a", "k:b", "k:c", "k:d"];
    let cases = [
        (
            "allkeys-lfu",
            P::AllkeysLfu,
            "FREQ",
            ["42", "3", "255", "0"],
        ),
        (
            "allkeys-lru",
            P::AllkeysLru,
            "IDLETIME",
            ["1000", "3", "86400", "0"],
        ),
    ];
    for (policy, p, sub, values) in cases {
        // Redis writes: keys RESTOREd with FREQ/IDLETIME, saved under the policy.
        let dir = scratch_dir("access-from-redis");
        let d = dir.to_str().unwrap();
        let from_redis = {
            let peer = ExternalServer::start_at(
                &redis,
                &[
                    "--dir",
                    d,
                    "--dbfilename",
                    "dump.rdb",
                    "--maxmemory-policy",
                    policy,
                ],
            );
            let mut c = peer.connect();
            call(&mut c, &["SET", "tmp", "value"]);
            let Frame::Bulk(payload) = call(&mut c, &["DUMP", "tmp"]) else {
                panic!("DUMP")
            };
            for (k, v) in keys.iter().zip(values) {
                let args: [&[u8]; 6] = [
                    b"RESTORE",
                    k.as_bytes(),
                    b"0",
                    &payload,
                    sub.as_bytes(),
                    v.as_bytes(),
                ];
                assert_eq!(c.call(&args).unwrap(), simple("OK"));
            }
            let got = access_of(&mut c, sub, &keys);
            assert_eq!(call(&mut c, &["SAVE"]), simple("OK"));
            got
        };
        // handoff loads Redis's file, and RESTORE takes the same options.
        let s = TestServer::with({
            let d = d.to_string();
            move |c| {
                c.dir = d;
                c.maxmemory_policy = p;
            }
        });
        let mut hc = s.connect();
        let loaded = access_of(&mut hc, sub, &keys);
        let what = format!("{policy}: handoff loading redis's dump, {loaded:?} vs {from_redis:?}");
        if sub == "FREQ" {
            assert_eq!(loaded, from_redis, "{what}");
        } else {
            assert!(close_idle(&loaded, &from_redis), "{what}");
        }
        // (DUMP counts as an access, so not of a key compared here.)
        call(&mut hc, &["SET", "tmp2", "value"]);
        let Frame::Bulk(payload) = call(&mut hc, &["DUMP", "tmp2"]) else {
            panic!("DUMP")
        };
        for (k, v) in keys.iter().zip(values) {
            let key = format!("r{k}");
            let args: [&[u8]; 7] = [
                b"RESTORE",
                key.as_bytes(),
                b"0",
                &payload,
                b"REPLACE",
                sub.as_bytes(),
                v.as_bytes(),
            ];
            assert_eq!(hc.call(&args).unwrap(), simple("OK"));
        }
        let rkeys: Vec<String> = keys.iter().map(|k| format!("r{k}")).collect();
        let rkeys: Vec<&str> = rkeys.iter().map(String::as_str).collect();
        let restored = access_of(&mut hc, sub, &rkeys);
        assert!(
            close_idle(&restored, &from_redis),
            "{policy}: RESTORE {sub}: {restored:?} vs {from_redis:?}"
        );
        // handoff writes them back over Redis's file (FREQ / IDLE before
        // each key); Redis loads that.
        assert_eq!(call(&mut hc, &["SAVE"]), simple("OK"));
        let peer = ExternalServer::start_at(
            &redis,
            &[
                "--dir",
                d,
                "--dbfilename",
                "dump.rdb",
                "--maxmemory-policy",
                policy,
            ],
        );
        let mut c = peer.connect();
        let back = access_of(&mut c, sub, &keys);
        let what = format!("{policy}: redis loading handoff's dump, {back:?} vs {from_redis:?}");
        if sub == "FREQ" {
            assert_eq!(back, from_redis, "{what}");
        } else {
            assert!(close_idle(&back, &from_redis), "{what}");
        }
    }
}

#[test]
fn the_lfu_and_lru_fixtures_give_the_access_data_redis_gives() {
    let Some(redis) = which("redis-server") else {
        assert!(!peers_required(), "redis-server not found");
        eprintln!("SKIPPED: redis-server not found");
        return;
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/rdb");
    use handoff_server::config::MaxmemoryPolicy as P;
    for (file, policy, p, sub, keys) in [
        (
            "redis-7.0.15-lfu.rdb",
            "allkeys-lfu",
            P::AllkeysLfu,
            "FREQ",
            ["lfu:a", "lfu:h"],
        ),
        (
            "redis-7.0.15-functions-lru.rdb",
            "allkeys-lru",
            P::AllkeysLru,
            "IDLETIME",
            ["lru:a", "lru:b"],
        ),
    ] {
        let Ok(data) = std::fs::read(fixtures.join(file)) else {
            eprintln!("SKIPPED: fixture {file} not found");
            continue;
        };
        let dir = scratch_dir("access-fixture");
        std::fs::write(dir.join("dump.rdb"), &data).unwrap();
        let d = dir.to_str().unwrap().to_string();
        let peer = ExternalServer::start_at(
            &redis,
            &[
                "--dir",
                &d,
                "--dbfilename",
                "dump.rdb",
                "--maxmemory-policy",
                policy,
            ],
        );
        let want = access_of(&mut peer.connect(), sub, &keys);
        let s = TestServer::with(move |c| {
            c.dir = d;
            c.maxmemory_policy = p;
        });
        let got = access_of(&mut s.connect(), sub, &keys);
        assert!(
            close_idle(&got, &want),
            "{file}: handoff {got:?}, redis {want:?}"
        );
        if sub == "FREQ" {
            assert_eq!(got, want, "{file}");
        }
    }
}

/// HGETALL as a sorted list of (field, value).
fn hash_of(c: &mut Connection, key: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Frame::Array(items) = call(c, &["HGETALL", key]) else {
        panic!("HGETALL {key}")
    };
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = items
        .chunks(2)
        .map(|p| match (&p[0], &p[1]) {
            (Frame::Bulk(f), Frame::Bulk(v)) => (f.to_vec(), v.to_vec()),
            other => panic!("{other:?}"),
        })
        .collect();
    out.sort();
    out
}

#[test]
fn hashes_with_field_ttls_written_by_valkey_9_load_without_the_ttls_and_without_expired_fields() {
    let Some(valkey) = which("valkey-server") else {
        assert!(!peers_required(), "valkey-server not found");
        eprintln!("SKIPPED: valkey-server not found");
        return;
    };
    let dir = scratch_dir("hash-field-ttl");
    let peer = peer_in(&valkey, &dir);
    let mut vc = peer.connect();
    if let Frame::Error(e) = call(&mut vc, &["HEXPIRE", "nokey", "10", "FIELDS", "1", "f"]) {
        eprintln!(
            "SKIPPED: this valkey-server has no hash field expiration ({})",
            String::from_utf8_lossy(&e)
        );
        return;
    }
    call(&mut vc, &["HSET", "h:small", "a", "1", "b", "2", "c", "3"]);
    call(
        &mut vc,
        &["HEXPIRE", "h:small", "100000", "FIELDS", "1", "a"],
    );
    call(
        &mut vc,
        &[
            "HSETEX", "h:px", "PX", "100000", "FIELDS", "2", "x", "1", "y", "2",
        ],
    );
    let mut big = vec!["HSET".to_string(), "h:big".to_string()];
    for i in 0..300 {
        big.push(format!("f{i}"));
        big.push(format!("v{i}"));
    }
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    call(&mut vc, &big);
    call(
        &mut vc,
        &["HEXPIRE", "h:big", "100000", "FIELDS", "2", "f1", "f2"],
    );
    // Fields that expire between the save and the load.
    call(&mut vc, &["HSET", "h:soon", "s", "1", "t", "2"]);
    call(&mut vc, &["HPEXPIRE", "h:soon", "400", "FIELDS", "1", "s"]);
    call(
        &mut vc,
        &["HSETEX", "h:gone", "PX", "400", "FIELDS", "1", "g", "1"],
    );
    call(&mut vc, &["HSET", "h:plain", "p", "1"]);
    let before: Vec<_> = ["h:small", "h:px", "h:big", "h:plain"]
        .iter()
        .map(|k| hash_of(&mut vc, k))
        .collect();
    let Frame::Bulk(payload) = call(&mut vc, &["DUMP", "h:small"]) else {
        panic!("DUMP")
    };
    let Frame::Bulk(soon_payload) = call(&mut vc, &["DUMP", "h:soon"]) else {
        panic!("DUMP")
    };
    assert_eq!(call(&mut vc, &["SAVE"]), simple("OK"));
    drop(peer);
    let file = std::fs::read(dir.join("dump.rdb")).unwrap();
    assert!(file.starts_with(b"VALKEY"), "a Valkey 9 RDB");
    assert!(
        file.windows(9).any(|w| w == b"\x16\x07h:small"),
        "h:small is saved as type 22 (RDB_TYPE_HASH_2)"
    );
    std::thread::sleep(std::time::Duration::from_millis(600));

    let s = handoff_in(&dir);
    let mut hc = s.connect();
    for (k, want) in ["h:small", "h:px", "h:big", "h:plain"].iter().zip(&before) {
        assert_eq!(
            &hash_of(&mut hc, k),
            want,
            "{k}: every live field, with its value"
        );
        assert_eq!(call(&mut hc, &["TTL", k]), Frame::Integer(-1), "{k}");
    }
    assert_eq!(
        hash_of(&mut hc, "h:soon"),
        vec![(b"t".to_vec(), b"2".to_vec())],
        "the expired field is dropped"
    );
    assert_eq!(
        call(&mut hc, &["EXISTS", "h:gone"]),
        Frame::Integer(0),
        "all its fields expired"
    );
    // The DUMP payloads (type 22, version 80) RESTORE the same way.
    for (key, p, want) in [
        ("r:small", &payload, before[0].clone()),
        (
            "r:soon",
            &soon_payload,
            vec![(b"t".to_vec(), b"2".to_vec())],
        ),
    ] {
        let args: [&[u8]; 4] = [b"RESTORE", key.as_bytes(), b"0", p];
        assert_eq!(hc.call(&args).unwrap(), simple("OK"), "{key}");
        assert_eq!(hash_of(&mut hc, key), want, "{key}");
    }
}
