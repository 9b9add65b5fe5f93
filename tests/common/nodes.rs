//! Nodes for the switchover rule tests (switchover-spec.md §5): handoff
//! servers made primary and replicas, INFO fields read as values, a node
//! "stopped" for a while, clients whose replies are read later, and the
//! server's log lines captured so a test can count them.
//!
//! A stopped node is one under `CLIENT PAUSE <ms> ALL`: every command it
//! receives waits, its primary's stream and a FAILOVER's handshake included,
//! until the pause runs out. Nothing can end it early (under ALL even
//! CLIENT UNPAUSE waits), which is what a stopped process looks like.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use handoff::protocol::{Connection, Frame};

use super::workload::{info_field, must, repl_offset, wait_for, wait_link_up};
use super::{call, err, TestServer};

/// A server that starts a full sync at once (no diskless delay) and
/// answers DEBUG DIGEST.
pub fn node() -> TestServer {
    TestServer::with(|c| {
        c.repl_diskless_sync_delay = 0;
        c.enable_debug_command = handoff_server::config::EnableMode::Yes;
    })
}

pub fn port(s: &TestServer) -> String {
    s.addr().port().to_string()
}

/// `-REDIRECT 127.0.0.1:<port of s>`.
pub fn redirect_to(s: &TestServer) -> Frame {
    err(&format!("REDIRECT 127.0.0.1:{}", port(s)))
}

/// Makes `replica` replicate `primary` and waits until the link is up and
/// the primary counts it online.
pub fn replicate(replica: &TestServer, primary: &TestServer) {
    let mut rc = replica.connect();
    must(&mut rc, &["REPLICAOF", "127.0.0.1", &port(primary)]);
    wait_link_up(&mut rc, "the replica");
    let me = format!("port={},", port(replica));
    let mut pc = primary.connect();
    wait_for(20, "the primary to count the replica online", || {
        let info = info_text(&mut pc, "replication");
        info.lines()
            .any(|l| l.starts_with("slave") && l.contains(&me) && l.contains("state=online"))
    });
}

/// A primary and one replica of it.
pub fn pair() -> (TestServer, TestServer) {
    let p = node();
    let r = node();
    replicate(&r, &p);
    (p, r)
}

/// A primary and two replicas of it.
pub fn trio() -> (TestServer, TestServer, TestServer) {
    let p = node();
    let r1 = node();
    let r2 = node();
    replicate(&r1, &p);
    replicate(&r2, &p);
    (p, r1, r2)
}

pub fn info_text(c: &mut Connection, section: &str) -> String {
    match must(c, &["INFO", section]) {
        Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("INFO gave {other:?}"),
    }
}

/// An INFO field as text ("" when absent).
pub fn field(c: &mut Connection, section: &str, name: &str) -> String {
    info_field(c, section, name).unwrap_or_default()
}

/// An INFO field as a number (-1 when absent or not a number).
pub fn num(c: &mut Connection, section: &str, name: &str) -> i64 {
    field(c, section, name).parse().unwrap_or(-1)
}

pub fn role(c: &mut Connection) -> String {
    field(c, "replication", "role")
}

pub fn failover_state(c: &mut Connection) -> String {
    field(c, "replication", "master_failover_state")
}

pub fn wait_failover_state(c: &mut Connection, state: &str) {
    wait_for(10, &format!("master_failover_state:{state}"), || {
        failover_state(c) == state
    });
}

pub fn blocked_clients(c: &mut Connection) -> i64 {
    num(c, "clients", "blocked_clients")
}

pub fn wait_blocked(c: &mut Connection, n: i64) {
    wait_for(10, &format!("blocked_clients:{n}"), || {
        blocked_clients(c) == n
    });
}

/// Waits until each replica's link is up and it applied everything the
/// primary wrote (an empty history counts: unlike
/// `workload::wait_offsets`, offset 0 is a valid answer).
pub fn wait_synced(primary: &TestServer, replicas: &[&TestServer]) {
    let mut pc = primary.connect();
    for r in replicas {
        let mut rc = r.connect();
        wait_link_up(&mut rc, "the replica");
        wait_for(20, "the replica's offset to reach the primary's", || {
            repl_offset(&mut rc) == repl_offset(&mut pc)
        });
    }
}

/// DEBUG DIGEST of each node, which must all be equal.
pub fn assert_same_digest(nodes: &[&TestServer]) {
    let digests: Vec<Frame> = nodes
        .iter()
        .map(|n| must(&mut n.connect(), &["DEBUG", "DIGEST"]))
        .collect();
    for (i, d) in digests.iter().enumerate() {
        assert_eq!(d, &digests[0], "digest of node {i} differs from node 0's");
    }
}

/// Stops `s` for `ms` milliseconds (see the module header); returns when
/// the stop is in force.
pub fn stop(s: &TestServer, ms: u64) {
    stop_with(&mut s.connect(), ms);
}

/// [`stop`] through an existing connection to the node.
pub fn stop_with(c: &mut Connection, ms: u64) {
    must(c, &["CLIENT", "PAUSE", &ms.to_string(), "ALL"]);
}

/// Waits until a stopped node runs again (its INFO is answered then).
pub fn wait_resumed(s: &TestServer) {
    wait_resumed_on(&mut s.connect());
}

/// [`wait_resumed`] through an existing connection to the node.
pub fn wait_resumed_on(c: &mut Connection) {
    wait_for(10, "the stopped node to resume", || {
        field(c, "clients", "paused_actions") != "all"
    });
}

/// A new connection, with `CLIENT CAPA redirect` when `capa`.
pub fn client(s: &TestServer, capa: bool) -> Connection {
    let mut c = s.connect();
    if capa {
        assert_eq!(
            call(&mut c, &["CLIENT", "CAPA", "redirect"]),
            Frame::Simple("OK".into())
        );
    }
    c
}

/// Sends a command whose reply is read later (`read_frame`).
pub fn send(c: &mut Connection, args: &[&str]) {
    c.send(args).expect("send");
    c.flush().expect("flush");
}

/// Nothing arrives on `c` for `ms` milliseconds.
pub fn assert_no_reply(c: &mut Connection, ms: u64) {
    assert!(!c.has_buffered_input(), "a reply was already buffered");
    c.set_read_timeout(Some(Duration::from_millis(ms))).unwrap();
    let got = c.read_frame();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    match got {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("expected no reply yet, got {other:?}"),
    }
}

/// The connection was closed by the server (after any reply read before).
pub fn assert_closed(c: &mut Connection) {
    match c.read_frame() {
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
            ),
            "expected the server to close the connection, got {e}"
        ),
        Ok(f) => panic!("expected the server to close the connection, got {f:?}"),
    }
}

static LOG: OnceLock<Mutex<Vec<String>>> = OnceLock::new();

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            if let Some(lines) = LOG.get() {
                lines.lock().unwrap().push(r.args().to_string());
            }
        }
    }
    fn flush(&self) {}
}

/// Keeps the log lines of every server in this test binary from now on
/// (servers log through the `log` facade; a test binary installs no other
/// logger).
pub fn capture_logs() {
    LOG.get_or_init(|| {
        static CAPTURE: Capture = Capture;
        let _ = log::set_logger(&CAPTURE);
        log::set_max_level(log::LevelFilter::Info);
        Mutex::new(Vec::new())
    });
}

/// How many captured log lines contain `text`.
pub fn count_log_lines(text: &str) -> usize {
    LOG.get().map_or(0, |lines| {
        lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .count()
    })
}
