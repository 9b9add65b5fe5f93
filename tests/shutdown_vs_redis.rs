//! SHUTDOWN's wait for lagging replicas against redis-server 7.0: each
//! scenario runs the same script on a redis-server pair and on a
//! handoff-server pair (real processes, the replica stalled with SIGSTOP)
//! and compares the replies byte for byte and the shutdown's log lines
//! (level mark and text; the replica's port and `lag=` seconds are
//! normalized, offsets are kept). The handoff run also checks its own
//! behaviour, so it runs (and is the binary's SIGTERM / SIGINT test) even
//! where redis-server is missing.
//!
//! Known difference, kept out of these scripts: a replica that answered the
//! GETACK ends handoff's wait at once (Redis waits for the replica's next
//! once-a-second ACK), so a SHUTDOWN right after a cancelled wait may count
//! that replica's GETACK bytes differently in "reported offset N behind".
//! Redis 7.0.15 crashes on a second command from a client whose waiting
//! SHUTDOWN was answered with an error, so every SHUTDOWN here has its own
//! connection.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::nodes::{assert_closed, assert_no_reply, send};
use common::workload::{info_field, wait_for};
use common::{call, peers_required, which, ExternalServer};
use handoff::protocol::{Connection, Frame};

const HANDOFF: &str = env!("CARGO_BIN_EXE_handoff-server");

/// What a script saw: one line per reply or observation, then the log.
type Transcript = Vec<String>;

/// A primary and a replica of it, both processes of `binary`.
struct Pair {
    p: ExternalServer,
    r: ExternalServer,
    /// Script steps and replies.
    out: Transcript,
}

impl Pair {
    fn start(binary: &Path, extra: &[&str]) -> Pair {
        // No PING to replicas during a test (offsets stay comparable), a
        // full sync at once, and CONFIG SET dir allowed.
        let mut args = vec![
            "--repl-diskless-sync-delay",
            "0",
            "--repl-ping-replica-period",
            "60",
            "--enable-protected-configs",
            "yes",
        ];
        args.extend_from_slice(extra);
        let p = ExternalServer::start_at(binary, &args);
        let pport = p.port.to_string();
        let r = ExternalServer::start_at(binary, &["--replicaof", "127.0.0.1", &pport]);
        let pair = Pair {
            p,
            r,
            out: Vec::new(),
        };
        // The first write after the full sync carries the stream's SELECT.
        let mut pc = pair.p.connect();
        let me = format!("port={},state=online", pair.r.port);
        wait_for(20, "the replica online", || {
            info_field(&mut pc, "replication", "slave0").is_some_and(|s| s.contains(&me))
        });
        call(&mut pc, &["SET", "k0", "v0"]);
        wait_for(20, "the replica caught up", || {
            let offset = info_field(&mut pc, "replication", "master_repl_offset");
            let slave = info_field(&mut pc, "replication", "slave0").unwrap_or_default();
            slave.contains(&me) && offset.is_some_and(|o| slave.contains(&format!(",offset={o},")))
        });
        pair
    }

    fn connect(&self) -> Connection {
        self.p.connect()
    }

    /// Records a step's reply.
    fn note(&mut self, what: &str, reply: Frame) {
        self.out.push(format!("{what}: {reply:?}"));
    }

    /// `args` on a new connection; its reply recorded.
    fn call_new(&mut self, what: &str, args: &[&str]) {
        let mut c = self.connect();
        let f = call(&mut c, args);
        self.note(what, f);
    }

    /// INFO replication's master offset minus the replica's acknowledged
    /// offset, plus `extra` bytes still to come (a GETACK).
    fn behind(&mut self, extra: i64) -> i64 {
        let mut c = self.connect();
        let master: i64 = info_field(&mut c, "replication", "master_repl_offset")
            .unwrap()
            .parse()
            .unwrap();
        let slave = info_field(&mut c, "replication", "slave0").unwrap();
        let acked: i64 = slave
            .split(',')
            .find_map(|kv| kv.strip_prefix("offset="))
            .unwrap()
            .parse()
            .unwrap();
        master + extra - acked
    }

    /// Waits for the primary to exit; its exit code is recorded.
    fn exited(&mut self, within: Duration) {
        let status = self.p.wait_exit(within).expect("the primary exits");
        self.out.push(format!("exit code {:?}", status.code()));
    }

    /// The transcript followed by the primary's shutdown log lines.
    fn finish(mut self) -> Transcript {
        let log = self.p.log();
        let replica = format!("127.0.0.1:{}", self.r.port);
        self.out.extend(shutdown_lines(&log, &replica));
        self.out
    }
}

/// The log lines of the shutdown machinery as `<mark> <text>` (`S` for the
/// signal handler's lines), the replica's address and lag normalized.
fn shutdown_lines(log: &str, replica: &str) -> Vec<String> {
    const EXACT: &[&str] = &[
        "User requested shutdown...",
        "Waiting for replicas before shutting down.",
        "Shutdown manually aborted.",
        "Saving the final RDB snapshot before exiting.",
        "Error trying to save the DB, can't exit.",
        "Error trying to save the DB. Exit anyway.",
        "Errors trying to shut down the server. Check the logs for more information.",
        "Received SIGTERM scheduling shutdown...",
        "Received SIGINT scheduling shutdown...",
        "You insist... exiting now.",
        "Redis is now ready to exit, bye bye...",
    ];
    let mut out = Vec::new();
    for line in log.lines() {
        let (mark, text) = if let Some(i) = line.find(":signal-handler (") {
            let rest = &line[i..];
            let text = rest.split_once(") ").map_or("", |(_, t)| t);
            ("S", text)
        } else {
            // pid:R dd Mon yyyy hh:mm:ss.mmm <mark> <text>
            let parts: Vec<&str> = line.splitn(7, ' ').collect();
            if parts.len() < 7 {
                continue;
            }
            (parts[5], parts[6])
        };
        let keep = EXACT.contains(&text)
            || text.starts_with("Lagging replica ")
            || text.ends_with(" replicas are in sync when shutting down.");
        if !keep {
            continue;
        }
        let mut text = text.replace(replica, "<replica>");
        if let Some(i) = text.find("lag=") {
            let end = text[i..].find(',').map_or(text.len(), |e| i + e);
            text.replace_range(i..end, "lag=<s>");
        }
        out.push(format!("{mark} {text}"));
    }
    out
}

/// redis-server's path, or None (after saying why) when it is missing.
fn redis() -> Option<PathBuf> {
    let found = which("redis-server");
    if found.is_none() {
        assert!(!peers_required(), "redis-server not found on PATH");
        eprintln!("SKIPPED the comparison: redis-server not found on PATH");
    }
    found
}

/// Runs `script` on a handoff pair and, when redis-server is there, on a
/// redis pair, and compares what they saw.
fn differential(extra: &[&str], script: fn(&mut Pair, bool)) {
    let mut ours = Pair::start(Path::new(HANDOFF), extra);
    script(&mut ours, true);
    let ours = ours.finish();
    let Some(path) = redis() else { return };
    let mut theirs = Pair::start(&path, extra);
    script(&mut theirs, false);
    let theirs = theirs.finish();
    assert_eq!(
        ours, theirs,
        "handoff (left) and redis-server (right) differ"
    );
}

/// A write the replica has not acknowledged: the replica is stopped first.
fn stall_and_write(pair: &mut Pair) {
    pair.r.signal(libc::SIGSTOP);
    let mut c = pair.connect();
    let f = call(&mut c, &["SET", "k1", "v1"]);
    pair.note("SET k1 while the replica is stalled", f);
}

/// After [`stall_and_write`], a SHUTDOWN that waits and a second write it
/// holds: neither gets a reply. Returns both connections.
fn waiting_shutdown_holding_a_write(pair: &mut Pair) -> (Connection, Connection) {
    stall_and_write(pair);
    let mut sd = pair.connect();
    send(&mut sd, &["SHUTDOWN"]);
    assert_no_reply(&mut sd, 300);
    let mut w = pair.connect();
    send(&mut w, &["SET", "k2", "v2"]);
    assert_no_reply(&mut w, 300);
    (sd, w)
}

#[test]
fn a_waiting_shutdown_holds_writes_and_abort_releases_everyone_as_redis_does() {
    differential(&[], |pair, _| {
        let (mut sd, mut w) = waiting_shutdown_holding_a_write(pair);
        let blocked = info_field(&mut pair.connect(), "clients", "blocked_clients");
        pair.out
            .push(format!("blocked_clients while waiting: {blocked:?}"));
        let mut sd2 = pair.connect();
        send(&mut sd2, &["SHUTDOWN", "NOSAVE", "NOW"]);
        assert_no_reply(&mut sd2, 300);
        for args in [
            &["SHUTDOWN", "ABORT", "NOW"][..],
            &["SHUTDOWN", "SAVE", "NOSAVE"],
            &["SHUTDOWN", "FOO"],
            &["SHUTDOWN", "ABORT"],
        ] {
            pair.call_new(&args.join(" "), args);
        }
        for (what, c) in [("first caller", &mut sd), ("second caller", &mut sd2)] {
            let f = c.read_frame().unwrap();
            pair.note(what, f);
        }
        let f = w.read_frame().unwrap();
        pair.note("held SET", f);
        pair.call_new("SHUTDOWN ABORT again", &["SHUTDOWN", "ABORT"]);
        pair.call_new("GET k2", &["GET", "k2"]);
        // The replica is still stalled: NOW exits without waiting and
        // reports it behind by exactly what it has not acknowledged.
        let behind = pair.behind(0);
        let mut now = pair.connect();
        send(&mut now, &["SHUTDOWN", "NOW"]);
        assert_closed(&mut now);
        pair.exited(Duration::from_secs(5));
        pair.out.push(format!("expected offset behind: {behind}"));
    });
}

#[test]
fn a_waiting_shutdown_exits_once_the_replica_catches_up_as_redis_does() {
    differential(&[], |pair, ours| {
        let (mut sd, mut w) = waiting_shutdown_holding_a_write(pair);
        let resumed = Instant::now();
        pair.r.signal(libc::SIGCONT);
        pair.exited(Duration::from_secs(5));
        let took = resumed.elapsed();
        eprintln!(
            "{}: exited {took:?} after the replica resumed",
            if ours { "handoff" } else { "redis" }
        );
        if ours {
            // The answer to the GETACK ends the wait (Redis waits for the
            // replica's next once-a-second ACK); tens of ms here, with
            // room for a loaded machine.
            assert!(took < Duration::from_millis(1500), "{took:?}");
        }
        assert_closed(&mut sd);
        assert_closed(&mut w);
        let mut rc = pair.r.connect();
        for k in ["k1", "k2"] {
            let f = call(&mut rc, &["GET", k]);
            pair.note(&format!("replica GET {k}"), f);
        }
    });
}

#[test]
fn a_replica_stalled_past_shutdown_timeout_is_reported_lagging_as_redis_does() {
    differential(&["--shutdown-timeout", "1"], |pair, _| {
        stall_and_write(pair);
        // The wait sends REPLCONF GETACK * (37 bytes) the replica never sees.
        let behind = pair.behind(37);
        let started = Instant::now();
        let mut sd = pair.connect();
        send(&mut sd, &["SHUTDOWN"]);
        assert_closed(&mut sd);
        pair.exited(Duration::from_secs(5));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(4),
            "{took:?}"
        );
        pair.out.push(format!("expected offset behind: {behind}"));
    });
}

#[test]
fn sigterm_waits_for_the_replica_like_shutdown_as_redis_does() {
    differential(&[], |pair, _| {
        stall_and_write(pair);
        pair.p.signal(libc::SIGTERM);
        std::thread::sleep(Duration::from_millis(300));
        let mut w = pair.connect();
        send(&mut w, &["SET", "k2", "v2"]);
        assert_no_reply(&mut w, 300);
        pair.call_new("PING while waiting", &["PING"]);
        assert!(pair.p.wait_exit(Duration::from_millis(500)).is_none());
        pair.r.signal(libc::SIGCONT);
        pair.exited(Duration::from_secs(5));
        assert_closed(&mut w);
        let mut rc = pair.r.connect();
        let f = call(&mut rc, &["GET", "k1"]);
        pair.note("replica GET k1", f);
    });
}

#[test]
fn a_second_sigterm_only_logs_and_a_sigint_during_the_wait_exits_at_once_as_redis_does() {
    differential(&[], |pair, _| {
        stall_and_write(pair);
        pair.p.signal(libc::SIGTERM);
        std::thread::sleep(Duration::from_millis(300));
        pair.p.signal(libc::SIGTERM);
        std::thread::sleep(Duration::from_millis(300));
        pair.call_new("PING after a second SIGTERM", &["PING"]);
        pair.p.signal(libc::SIGINT);
        pair.exited(Duration::from_secs(2));
    });
}

#[test]
fn shutdown_abort_cancels_a_signalled_wait_as_redis_does() {
    differential(&[], |pair, _| {
        stall_and_write(pair);
        pair.p.signal(libc::SIGTERM);
        std::thread::sleep(Duration::from_millis(300));
        pair.call_new("SHUTDOWN ABORT", &["SHUTDOWN", "ABORT"]);
        pair.call_new("SHUTDOWN ABORT again", &["SHUTDOWN", "ABORT"]);
        pair.call_new("SET after the abort", &["SET", "k2", "v2"]);
        // The abort made the next SIGINT a first one: it starts a shutdown
        // (NOW from shutdown-on-sigint) instead of exiting with code 1.
        pair.call_new(
            "CONFIG SET shutdown-on-sigint",
            &["CONFIG", "SET", "shutdown-on-sigint", "now nosave"],
        );
        pair.call_new(
            "CONFIG GET shutdown-on-sigint",
            &["CONFIG", "GET", "shutdown-on-sigint"],
        );
        let behind = pair.behind(0);
        pair.p.signal(libc::SIGINT);
        pair.exited(Duration::from_secs(5));
        pair.out.push(format!("expected offset behind: {behind}"));
    });
}

#[test]
fn a_failed_final_save_is_refused_and_force_exits_anyway_as_redis_does() {
    differential(&[], |pair, _| {
        let gone = std::env::temp_dir().join(format!("handoff-gone-{}", pair.p.port));
        std::fs::create_dir_all(&gone).unwrap();
        pair.call_new(
            "CONFIG SET dir",
            &["CONFIG", "SET", "dir", gone.to_str().unwrap()],
        );
        std::fs::remove_dir(&gone).unwrap();
        // Replicas in sync: the save is tried at once.
        pair.call_new("SHUTDOWN SAVE", &["SHUTDOWN", "SAVE"]);
        stall_and_write(pair);
        let mut sd = pair.connect();
        send(&mut sd, &["SHUTDOWN", "SAVE"]);
        assert_no_reply(&mut sd, 300);
        pair.r.signal(libc::SIGCONT);
        sd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let f = sd.read_frame().unwrap();
        pair.note("SHUTDOWN SAVE after the wait", f);
        pair.call_new("PING", &["PING"]);
        let mut force = pair.connect();
        send(&mut force, &["SHUTDOWN", "SAVE", "FORCE"]);
        assert_closed(&mut force);
        pair.exited(Duration::from_secs(5));
    });
}
