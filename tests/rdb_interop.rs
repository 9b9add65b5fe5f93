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
