//! Persistence through real sockets: SAVE, BGSAVE (forked child), LASTSAVE,
//! save points, SHUTDOWN SAVE/NOSAVE, DEBUG RELOAD, FLUSHALL, INFO
//! persistence, the startup load, and DUMP/RESTORE between handoff servers.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::dataset::{assert_same, dump_restore_all, fill_every_type, snapshot, snapshot_dbs};
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};
use handoff::Config;
use handoff_server::config::EnableMode;

fn scratch_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("handoff-persist-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn server_in(dir: &std::path::Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let d = dir.to_string_lossy().into_owned();
    TestServer::with(move |c| {
        c.dir = d;
        c.enable_debug_command = EnableMode::Yes;
        tweak(c);
    })
}

fn info_field(c: &mut Connection, name: &str) -> String {
    let Frame::Bulk(info) = call(c, &["INFO", "persistence"]) else {
        panic!("INFO")
    };
    let text = String::from_utf8_lossy(&info).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("{name} missing from INFO persistence"))
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_closed(c: &mut Connection) {
    c.flush().unwrap();
    assert!(c.read_frame().is_err(), "the connection is closed");
}

#[test]
fn save_writes_every_type_and_a_restarted_server_loads_it_back() {
    let dir = scratch_dir();
    let before;
    {
        let s = server_in(&dir, |_| {});
        let mut c = s.connect();
        fill_every_type(&mut c);
        call(
            &mut c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=lib1\nredis.register_function('hello', function() return 'hi' end)",
            ],
        );
        assert_ne!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
        let t0 = match call(&mut c, &["LASTSAVE"]) {
            Frame::Integer(t) => t,
            other => panic!("{other:?}"),
        };
        assert_eq!(call(&mut c, &["SAVE"]), simple("OK"));
        assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
        assert_eq!(info_field(&mut c, "rdb_saves"), "1");
        assert!(matches!(call(&mut c, &["LASTSAVE"]), Frame::Integer(t) if t >= t0));
        assert!(dir.join("dump.rdb").is_file());
        assert!(std::fs::read(dir.join("dump.rdb"))
            .unwrap()
            .starts_with(b"REDIS0010"));
        before = snapshot(&mut c);
    }
    let s = server_in(&dir, |_| {});
    let mut c = s.connect();
    assert_same(&before, &snapshot(&mut c), "after restart");
    assert_eq!(call(&mut c, &["FCALL", "hello", "0"]), bulk("hi"));
    assert_eq!(
        info_field(&mut c, "rdb_last_load_keys_loaded"),
        before.len().to_string()
    );
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
}

#[test]
fn save_with_compression_and_checksum_off_still_round_trips() {
    let dir = scratch_dir();
    let before;
    {
        let s = server_in(&dir, |c| {
            c.rdbcompression = false;
            c.rdbchecksum = false;
        });
        let mut c = s.connect();
        fill_every_type(&mut c);
        call(&mut c, &["SAVE"]);
        before = snapshot(&mut c);
    }
    let data = std::fs::read(dir.join("dump.rdb")).unwrap();
    assert_eq!(&data[data.len() - 8..], &[0; 8], "zero CRC trailer");
    let s = server_in(&dir, |_| {});
    let mut c = s.connect();
    assert_same(&before, &snapshot(&mut c), "after restart");
}

#[test]
fn bgsave_forks_a_child_while_the_server_keeps_serving() {
    let dir = scratch_dir();
    let s = server_in(&dir, |_| {});
    let mut c = s.connect();
    fill_every_type(&mut c);
    let before = snapshot_dbs(&mut c, 0..4);
    // Enough data in db 5 for the child to take a moment.
    call(&mut c, &["SELECT", "5"]);
    call(&mut c, &["DEBUG", "POPULATE", "200000", "k", "50"]);
    call(&mut c, &["SELECT", "0"]);
    assert_eq!(
        call(&mut c, &["BGSAVE"]),
        simple("Background saving started")
    );
    // The parent answers while the child writes.
    assert_eq!(
        call(&mut c, &["SET", "written-during-bgsave", "1"]),
        simple("OK")
    );
    let second = call(&mut c, &["BGSAVE"]);
    if info_field(&mut c, "rdb_bgsave_in_progress") == "1" {
        assert_eq!(second, err("ERR Background save already in progress"));
    }
    assert_eq!(call(&mut c, &["BGSAVE", "foo"]), err("ERR syntax error"));
    wait_until("the BGSAVE child to finish", || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    });
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    // One change after the fork is not in the file.
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "1");
    assert!(dir.join("dump.rdb").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    drop(c);
    drop(s);
    let s2 = server_in(&dir, |_| {});
    let mut c2 = s2.connect();
    assert_eq!(
        call(&mut c2, &["EXISTS", "written-during-bgsave"]),
        Frame::Integer(0)
    );
    assert_same(&before, &snapshot_dbs(&mut c2, 0..4), "BGSAVE image");
    call(&mut c2, &["SELECT", "5"]);
    assert_eq!(call(&mut c2, &["DBSIZE"]), Frame::Integer(200000));
}

#[test]
fn a_save_point_triggers_a_background_save() {
    let dir = scratch_dir();
    let s = server_in(&dir, |c| c.save = vec![(1, 3)]);
    let mut c = s.connect();
    call(&mut c, &["SET", "a", "1"]);
    call(&mut c, &["SET", "b", "2"]);
    std::thread::sleep(Duration::from_millis(2200));
    assert!(!dir.join("dump.rdb").exists(), "2 changes < 3: no save yet");
    call(&mut c, &["SET", "c", "3"]);
    wait_until("the save point to write dump.rdb", || {
        dir.join("dump.rdb").exists()
    });
    wait_until("the child to be reaped", || {
        info_field(&mut c, "rdb_changes_since_last_save") == "0"
    });
}

#[test]
fn shutdown_save_writes_the_dump_before_exiting() {
    let dir = scratch_dir();
    {
        let s = server_in(&dir, |_| {});
        let mut c = s.connect();
        call(&mut c, &["SET", "survivor", "yes"]);
        c.send(&["SHUTDOWN", "SAVE"]).unwrap();
        wait_closed(&mut c);
        drop(s);
    }
    let s = server_in(&dir, |_| {});
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["GET", "survivor"]), bulk("yes"));
}

#[test]
fn shutdown_saves_by_default_only_when_save_points_are_configured() {
    let dir = scratch_dir();
    {
        let s = server_in(&dir, |_| {});
        let mut c = s.connect();
        call(&mut c, &["SET", "k", "v"]);
        c.send(&["SHUTDOWN"]).unwrap();
        wait_closed(&mut c);
    }
    assert!(!dir.join("dump.rdb").exists(), "no save points: no save");
    {
        let s = server_in(&dir, |c| c.save = vec![(3600, 1)]);
        let mut c = s.connect();
        call(&mut c, &["SET", "k", "v"]);
        c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
        wait_closed(&mut c);
    }
    assert!(!dir.join("dump.rdb").exists(), "NOSAVE: no save");
    {
        let s = server_in(&dir, |c| c.save = vec![(3600, 1)]);
        let mut c = s.connect();
        call(&mut c, &["SET", "k", "v"]);
        c.send(&["SHUTDOWN"]).unwrap();
        wait_closed(&mut c);
    }
    assert!(dir.join("dump.rdb").exists(), "save points: saved");
}

#[test]
fn shutdown_save_fails_without_force_when_the_dump_cannot_be_written() {
    let dir = scratch_dir();
    let s = server_in(&dir, |c| c.dbfilename = "no-such-dir/dump.rdb".into());
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["SHUTDOWN", "SAVE"]),
        err("ERR Errors trying to SHUTDOWN. Check logs.")
    );
    assert_eq!(call(&mut c, &["SAVE"]), err("ERR"));
    assert_eq!(call(&mut c, &["PING"]), simple("PONG"));
    c.send(&["SHUTDOWN", "SAVE", "FORCE"]).unwrap();
    wait_closed(&mut c);
}

#[test]
fn debug_reload_saves_and_loads_the_dataset_back() {
    let dir = scratch_dir();
    let s = server_in(&dir, |_| {});
    let mut c = s.connect();
    fill_every_type(&mut c);
    let before = snapshot(&mut c);
    assert_eq!(call(&mut c, &["DEBUG", "RELOAD"]), simple("OK"));
    assert_same(&before, &snapshot(&mut c), "after DEBUG RELOAD");
    // NOSAVE reloads the file as it is: later changes are dropped.
    call(&mut c, &["SET", "later", "1"]);
    call(&mut c, &["DEL", "str:small"]);
    assert_eq!(call(&mut c, &["DEBUG", "RELOAD", "NOSAVE"]), simple("OK"));
    assert_same(&before, &snapshot(&mut c), "after DEBUG RELOAD NOSAVE");
    // MERGE keeps keys that are not in the file.
    call(&mut c, &["SET", "extra", "1"]);
    assert_eq!(
        call(&mut c, &["DEBUG", "RELOAD", "NOSAVE", "MERGE"]),
        simple("OK")
    );
    assert_eq!(call(&mut c, &["GET", "extra"]), bulk("1"));
    assert_eq!(
        call(&mut c, &["DEBUG", "RELOAD", "BOGUS"]),
        err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    );
}

#[test]
fn flushall_saves_the_empty_dataset_when_save_points_are_configured() {
    let dir = scratch_dir();
    let s = server_in(&dir, |c| c.save = vec![(3600, 1)]);
    let mut c = s.connect();
    call(&mut c, &["SET", "a", "1"]);
    call(&mut c, &["SET", "b", "2"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "2");
    assert_eq!(call(&mut c, &["FLUSHALL"]), simple("OK"));
    // As redis-server 7.0: the flush writes the dump and resets the counter,
    // without counting in rdb_saves.
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(info_field(&mut c, "rdb_saves"), "0");
    assert!(dir.join("dump.rdb").exists());
}

#[test]
fn info_persistence_reports_redis_field_names() {
    let s = TestServer::start();
    let mut c = s.connect();
    for f in [
        "loading",
        "rdb_changes_since_last_save",
        "rdb_bgsave_in_progress",
        "rdb_last_save_time",
        "rdb_last_bgsave_status",
        "rdb_last_bgsave_time_sec",
        "rdb_current_bgsave_time_sec",
        "rdb_saves",
        "rdb_last_cow_size",
        "rdb_last_load_keys_expired",
        "rdb_last_load_keys_loaded",
    ] {
        info_field(&mut c, f);
    }
    assert_eq!(info_field(&mut c, "loading"), "0");
    assert_eq!(info_field(&mut c, "rdb_current_bgsave_time_sec"), "-1");
}

#[test]
fn dump_and_restore_move_every_type_between_servers() {
    let a = TestServer::start();
    let b = TestServer::start();
    let mut ca = a.connect();
    let mut cb = b.connect();
    fill_every_type(&mut ca);
    dump_restore_all(&mut ca, &mut cb, "after DUMP/RESTORE");
}

#[test]
fn restore_checks_its_arguments_and_payload_like_redis() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["SET", "s", "1"]);
    let Frame::Bulk(p) = call(&mut c, &["DUMP", "s"]) else {
        panic!()
    };
    // The exact bytes redis-server 7.0 produces for the integer 1.
    assert_eq!(
        &p[..],
        b"\x00\xc0\x01\x0a\x00\x26\x78\xe7\xb6\xd1\x01\x11\xfc"
    );
    assert_eq!(call(&mut c, &["DUMP", "missing"]), Frame::NullBulk);
    let r = |c: &mut Connection, args: &[&[u8]]| c.call(args).unwrap();
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"s", b"0", &p]),
        err("BUSYKEY Target key name already exists.")
    );
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"-1", &p]),
        err("ERR Invalid TTL value, must be >= 0")
    );
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"abc", &p]),
        err("ERR value is not an integer or out of range")
    );
    let mut bad = p.to_vec();
    bad[2] ^= 1;
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"0", &bad]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"0", b"short"]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(
        r(
            &mut c,
            &[b"RESTORE", b"x", b"0", &p, b"IDLETIME", b"1", b"FREQ", b"2"]
        ),
        err("ERR syntax error")
    );
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"0", &p, b"IDLETIME", b"-1"]),
        err("ERR Invalid IDLETIME value, must be >= 0")
    );
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"0", &p, b"FREQ", b"256"]),
        err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"0", &p, b"foo"]),
        err("ERR syntax error")
    );
    // A function payload is not a key value.
    call(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=l\nredis.register_function('f', function() return 1 end)",
        ],
    );
    let Frame::Bulk(fp) = call(&mut c, &["FUNCTION", "DUMP"]) else {
        panic!()
    };
    assert_eq!(fp[0], 0xF5, "FUNCTION DUMP uses the FUNCTION2 opcode");
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"x", b"0", &fp]),
        err("ERR Bad data format")
    );
    assert_eq!(
        r(&mut c, &[b"FUNCTION", b"RESTORE", &p]),
        err("ERR given type is not a function")
    );
    assert_eq!(
        r(&mut c, &[b"FUNCTION", b"RESTORE", &fp, b"REPLACE"]),
        simple("OK")
    );
    // REPLACE, relative TTL, and a TTL in the past deletes the old key.
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"s", b"5000", &p, b"REPLACE"]),
        simple("OK")
    );
    assert!(matches!(call(&mut c, &["PTTL", "s"]), Frame::Integer(t) if t > 4000 && t <= 5000));
    assert_eq!(
        r(
            &mut c,
            &[b"RESTORE", b"s", b"1000", &p, b"REPLACE", b"ABSTTL"]
        ),
        simple("OK")
    );
    assert_eq!(call(&mut c, &["EXISTS", "s"]), Frame::Integer(0));
    assert_eq!(
        r(&mut c, &[b"RESTORE", b"s", b"0", &p, b"IDLETIME", b"100"]),
        simple("OK")
    );
    assert!(
        matches!(call(&mut c, &["OBJECT", "IDLETIME", "s"]), Frame::Integer(t) if (99..=102).contains(&t))
    );
}

/// The handoff-server binary: SIGTERM saves (save points set), and the next
/// start loads the dump and logs it as redis-server does.
#[test]
fn the_binary_saves_on_sigterm_and_logs_the_load_at_startup() {
    const BIN: &str = env!("CARGO_BIN_EXE_handoff-server");
    let dir = scratch_dir();
    let log = dir.join("server.log");
    let start = |port: u16| {
        std::process::Command::new(BIN)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "3600",
                "1",
            ])
            .args([
                "--dir",
                dir.to_str().unwrap(),
                "--logfile",
                log.to_str().unwrap(),
            ])
            .spawn()
            .expect("spawn handoff-server")
    };
    let connect = |port: u16| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut c) = Connection::connect(("127.0.0.1", port)) {
                if c.call(&["PING"]).is_ok() {
                    return c;
                }
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let port = common::free_port();
    let mut child = start(port);
    let mut c = connect(port);
    call(&mut c, &["SET", "kept", "across-restart"]);
    // SAFETY: signals the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    assert!(dir.join("dump.rdb").is_file(), "SIGTERM saved the dataset");

    let port = common::free_port();
    let mut child = start(port);
    let mut c = connect(port);
    assert_eq!(call(&mut c, &["GET", "kept"]), bulk("across-restart"));
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    for line in [
        "Saving the final RDB snapshot before exiting.",
        "DB saved on disk",
        "Loading RDB produced by version",
        "Done loading RDB, keys loaded: 1, keys expired: 0.",
        "DB loaded from disk:",
    ] {
        assert!(text.contains(line), "log lacks {line:?}:\n{text}");
    }
}

#[test]
fn a_running_bgsave_refuses_other_saves_and_shutdown_kills_it() {
    let dir = scratch_dir();
    let s = server_in(&dir, |c| {
        // 1 ms per key: the child runs for about 2 seconds.
        c.other.insert("rdb-key-save-delay", "1000".into());
    });
    let mut c = s.connect();
    call(&mut c, &["DEBUG", "POPULATE", "2000"]);
    assert_eq!(
        call(&mut c, &["BGSAVE"]),
        simple("Background saving started")
    );
    assert_eq!(
        call(&mut c, &["BGSAVE"]),
        err("ERR Background save already in progress")
    );
    assert_eq!(
        call(&mut c, &["BGSAVE", "SCHEDULE"]),
        err("ERR Background save already in progress")
    );
    assert_eq!(
        call(&mut c, &["SAVE"]),
        err("ERR Background save already in progress")
    );
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    assert_ne!(info_field(&mut c, "rdb_current_bgsave_time_sec"), "-1");
    wait_until("the child's temp file", || {
        std::fs::read_dir(&dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("temp-")
        })
    });
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    wait_closed(&mut c);
    drop(s);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.is_empty(),
        "the killed child's files were removed: {names:?}"
    );
}

/// The API replication uses: a forked child streams the RDB into a pipe
/// (with the replication AUX fields), the parent reaps it from cron, and the
/// incremental loader rebuilds the same dataset on the other side.
#[test]
fn fork_snapshot_streams_an_rdb_into_a_pipe_that_the_loader_reads_back() {
    use handoff_server::persist::{self, ChildPurpose, ReplAux, SnapshotTarget};
    use handoff_server::server::Server;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    // A dataset of every type, saved by a running server and loaded into a
    // bare server state that this test drives directly.
    let dir = scratch_dir();
    let source = server_in(&dir, |_| {});
    let mut c = source.connect();
    fill_every_type(&mut c);
    let expected = snapshot(&mut c);
    assert_eq!(call(&mut c, &["SAVE"]), simple("OK"));
    let blob = std::fs::read(dir.join("dump.rdb")).unwrap();
    let mut srv = Server::new(Config::default());
    persist::load_bytes(&mut srv, bytes::Bytes::from(blob), Default::default()).unwrap();
    assert_eq!(srv.keyspace.total_keys(), expected.len());

    let mut fds = [0; 2];
    // SAFETY: creating a pipe.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let aux = ReplAux {
        stream_db: 3,
        replid: "a".repeat(40),
        offset: 12345,
    };
    let pid = persist::fork_snapshot(
        &mut srv,
        SnapshotTarget::Fd(fds[1]),
        Some(aux),
        ChildPurpose::ReplicationSocket,
    )
    .unwrap();
    assert!(pid > 0);
    assert!(
        persist::fork_snapshot(
            &mut srv,
            SnapshotTarget::File(scratch_dir().join("x.rdb")),
            None,
            ChildPurpose::Bgsave
        )
        .is_err(),
        "one child at a time"
    );
    // SAFETY: the read end is ours.
    let mut reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let mut data = Vec::new();
    reader.read_to_end(&mut data).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let finished = loop {
        if let Some(f) = persist::reap_child(&mut srv) {
            break f;
        }
        assert!(Instant::now() < deadline, "child not reaped");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(finished, (ChildPurpose::ReplicationSocket, true));
    assert!(srv.persist.child.is_none());

    let mut replica = Server::new(Config::default());
    let mut loader = handoff_server::rdb::RdbLoader::new(
        bytes::Bytes::from(data),
        handoff_server::rdb::LoadOptions {
            keep_expired: true,
            ..Default::default()
        },
    )
    .unwrap();
    while !loader.step(&mut replica, 10).unwrap() {}
    assert_eq!(loader.aux("repl-id"), Some("a".repeat(40).as_bytes()));
    assert_eq!(loader.aux("repl-offset"), Some(&b"12345"[..]));
    assert_eq!(loader.aux("repl-stream-db"), Some(&b"3"[..]));
    assert_eq!(loader.keys_loaded() as usize, expected.len());

    // The synchronous form gives the same keys.
    let v = persist::rdb_to_vec(&replica, None);
    let mut third = Server::new(Config::default());
    persist::load_bytes(&mut third, bytes::Bytes::from(v), Default::default()).unwrap();
    assert_eq!(third.keyspace.total_keys(), expected.len());
    for db in 0..16 {
        assert_eq!(third.keyspace.dbs[db].len(), replica.keyspace.dbs[db].len());
        for e in replica.keyspace.dbs[db].iter() {
            let other = third.keyspace.dbs[db].get_raw(&e.key).expect("key present");
            assert_eq!(other.expire_at, e.expire_at);
            assert_eq!(other.value.digest_items(), e.value.digest_items());
        }
    }
}

/// What INFO persistence showed during and after a BGSAVE whose child runs
/// for about 2 s while the parent rewrites every value.
#[derive(Debug)]
struct CowSeen {
    keys_total: u64,
    max_processed: u64,
    max_perc: f64,
    max_current: u64,
    max_peak: u64,
    last_cow: u64,
    after: Vec<String>,
}

fn bgsave_while_rewriting(c: &mut Connection) -> CowSeen {
    let n = 20_000;
    must_ok(c, &["DEBUG", "POPULATE", &n.to_string(), "key", "1000"]);
    assert_eq!(call(c, &["BGSAVE"]), simple("Background saving started"));
    let value = "w".repeat(1000);
    let num = |c: &mut Connection, f: &str| -> f64 { info_field(c, f).parse().unwrap() };
    let mut seen = CowSeen {
        keys_total: 0,
        max_processed: 0,
        max_perc: 0.0,
        max_current: 0,
        max_peak: 0,
        last_cow: 0,
        after: Vec::new(),
    };
    let observe = |c: &mut Connection, seen: &mut CowSeen| {
        seen.keys_total = seen
            .keys_total
            .max(num(c, "current_save_keys_total") as u64);
        seen.max_processed = seen
            .max_processed
            .max(num(c, "current_save_keys_processed") as u64);
        seen.max_perc = seen.max_perc.max(num(c, "current_fork_perc"));
        seen.max_current = seen.max_current.max(num(c, "current_cow_size") as u64);
        seen.max_peak = seen.max_peak.max(num(c, "current_cow_peak") as u64);
    };
    for batch in 0..n / 500 {
        let kv: Vec<String> = (0..500)
            .flat_map(|i| [format!("key:{}", batch * 500 + i), value.clone()])
            .collect();
        let mut args = vec!["MSET"];
        args.extend(kv.iter().map(String::as_str));
        assert_eq!(call(c, &args), simple("OK"));
        observe(c, &mut seen);
    }
    while info_field(c, "rdb_bgsave_in_progress") == "1" {
        observe(c, &mut seen);
        std::thread::sleep(Duration::from_millis(100));
    }
    seen.last_cow = num(c, "rdb_last_cow_size") as u64;
    seen.after = [
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
        "current_fork_perc",
        "current_save_keys_processed",
        "current_save_keys_total",
    ]
    .iter()
    .map(|f| info_field(c, f))
    .collect();
    seen
}

fn must_ok(c: &mut Connection, args: &[&str]) {
    assert_eq!(call(c, args), simple("OK"), "{args:?}");
}

#[test]
fn a_bgsave_child_reports_its_progress_and_copy_on_write_cost_as_redis_does() {
    let dir = scratch_dir();
    let s = server_in(&dir, |c| {
        c.other.insert("rdb-key-save-delay", "100".into());
    });
    let ours = bgsave_while_rewriting(&mut s.connect());
    eprintln!("handoff: {ours:?}");
    let idle = ["0", "0", "0", "0.00", "0", "0"];
    assert_eq!(ours.after, idle, "nothing current once the child is gone");
    assert_eq!(ours.keys_total, 20_000);
    assert!(
        ours.max_processed > 0 && ours.max_processed <= 20_000,
        "{ours:?}"
    );
    assert!(ours.max_perc > 0.0 && ours.max_perc <= 100.0, "{ours:?}");
    // The parent rewrote every 1000-byte value while the child ran: the
    // child kept the old pages, megabytes of them.
    assert!(ours.max_current > 1 << 20, "{ours:?}");
    assert!(ours.last_cow >= ours.max_current, "{ours:?}");
    assert!(ours.last_cow >= ours.max_peak, "{ours:?}");
    let Some(redis) = common::ExternalServer::start(
        "redis-server",
        &[
            "--enable-debug-command",
            "yes",
            "--rdb-key-save-delay",
            "100",
        ],
    ) else {
        return;
    };
    let theirs = bgsave_while_rewriting(&mut redis.connect());
    eprintln!("redis-server: {theirs:?}");
    assert_eq!(theirs.after, idle, "{theirs:?}");
    // (0 if no INFO happened to land while Redis's child ran.)
    assert!(
        theirs.keys_total == 0 || theirs.keys_total == ours.keys_total,
        "{theirs:?}"
    );
    assert!(theirs.last_cow > 1 << 20, "{theirs:?}");
}

#[test]
fn a_snapshot_child_does_not_keep_another_servers_port_open() {
    // Two servers in one process; the first forks a child that writes for
    // about 2 s. The second server stops meanwhile: its port must refuse
    // connections at once, not keep accepting them into a listening socket
    // the child inherited until the child exits.
    let dir = scratch_dir();
    let saver = server_in(&dir, |c| {
        c.other.insert("rdb-key-save-delay", "1000".into());
    });
    let other = TestServer::start();
    let other_addr = other.addr();
    let mut s = saver.connect();
    call(&mut s, &["DEBUG", "POPULATE", "2000"]);
    assert_eq!(
        call(&mut s, &["BGSAVE"]),
        simple("Background saving started")
    );
    drop(other);
    let refused = std::net::TcpStream::connect_timeout(&other_addr, Duration::from_millis(500));
    assert_eq!(
        refused.as_ref().map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::ConnectionRefused),
        "a stopped server's port while another server's snapshot runs: {refused:?}"
    );
    assert_eq!(info_field(&mut s, "rdb_bgsave_in_progress"), "1");
    drop(saver); // kills its child
    let _ = std::fs::remove_dir_all(&dir);
}
