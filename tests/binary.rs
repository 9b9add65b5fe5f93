//! The `handoff-server` binary as a process: startup log lines, config file
//! and command-line directives, fatal config errors, port conflicts,
//! pidfile, and prompt shutdown on SIGTERM / SIGINT.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::free_port;
use handoff::protocol::{Connection, Frame};

const BIN: &str = env!("CARGO_BIN_EXE_handoff-server");

/// A running binary whose stdout lines are collected in the background.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    /// Starts the binary in a directory of its own: a server stopped by a
    /// signal saves `dump.rdb` in its working directory, which another
    /// test's server must not load.
    fn spawn(args: &[&str]) -> Proc {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cwd = std::env::temp_dir().join(format!("handoff-bin-cwd-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cwd);
        std::fs::create_dir_all(&cwd).unwrap();
        let mut child = Command::new(BIN)
            .current_dir(&cwd)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn handoff-server");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Proc {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a log line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(l.clone());
                if l.contains(needle) {
                    return l;
                }
            }
        }
        panic!("no log line containing {needle:?}; saw {:#?}", self.seen);
    }

    fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    fn wait_exit(&mut self, within: Duration) -> i32 {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit in {within:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_log_line_shape(line: &str) -> bool {
    // "1234:M 22 Nov 2026 10:00:00.123 * message"
    let mut parts = line.splitn(2, ':');
    let pid_ok = parts
        .next()
        .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    let rest = parts.next().unwrap_or("");
    pid_ok && rest.starts_with("M ") && rest.len() > 28
}

#[test]
fn the_binary_logs_like_redis_and_stops_promptly_on_sigterm() {
    let port = free_port();
    let mut p = Proc::spawn(&[
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ]);
    let banner = p.wait_for("PID: ");
    assert!(
        banner.contains(&format!("PID: {}", p.child.id())),
        "{banner}"
    );
    let init = p.wait_for("Server initialized");
    assert!(redis_log_line_shape(&init), "{init}");
    p.wait_for("Ready to accept connections tcp");
    let mut c = Connection::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(c.call(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
    let sent = Instant::now();
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_exit(Duration::from_secs(5)), 0);
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        sent.elapsed()
    );
}

#[test]
fn sigint_also_shuts_down_cleanly() {
    let port = free_port();
    let mut p = Proc::spawn(&["--port", &port.to_string(), "--bind", "127.0.0.1"]);
    p.wait_for("Ready to accept connections tcp");
    p.signal(libc::SIGINT);
    assert_eq!(p.wait_exit(Duration::from_secs(5)), 0);
}

#[test]
fn a_config_file_and_command_line_directives_are_both_applied() {
    let dir = std::env::temp_dir().join(format!("handoff-bin-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("redis.conf");
    let port = free_port();
    std::fs::write(
        &conf,
        format!("# test config\nport {port}\nbind 127.0.0.1\ndatabases 4\n"),
    )
    .unwrap();
    let pidfile = dir.join("handoff.pid");
    let mut p = Proc::spawn(&[
        conf.to_str().unwrap(),
        "--pidfile",
        pidfile.to_str().unwrap(),
        "--loglevel",
        "verbose",
    ]);
    p.wait_for("Ready to accept connections tcp");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, p.child.id());
    let mut c = Connection::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(
        c.call(&["SELECT", "4"]).unwrap(),
        Frame::Error("ERR DB index is out of range".into())
    );
    assert_eq!(
        c.call(&["SELECT", "3"]).unwrap(),
        Frame::Simple("OK".into())
    );
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_exit(Duration::from_secs(5)), 0);
    assert!(!pidfile.exists(), "the pidfile is removed on shutdown");
}

#[test]
fn an_unwritable_pidfile_is_a_warning_not_a_failure() {
    let port = free_port();
    let mut p = Proc::spawn(&[
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--pidfile",
        "/nonexistent-dir/x.pid",
    ]);
    p.wait_for("Failed to write PID file");
    p.wait_for("Ready to accept connections tcp");
}

#[test]
fn a_taken_port_fails_startup_with_redis_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut p = Proc::spawn(&["--port", &port.to_string(), "--bind", "127.0.0.1"]);
    p.wait_for(&format!("Failed listening on port {port} (tcp), aborting."));
    assert_eq!(p.wait_exit(Duration::from_secs(5)), 1);
}

#[test]
fn a_bad_config_value_prints_the_fatal_config_block_and_exits() {
    let mut p = Proc::spawn(&["--port", "notaport"]);
    assert_eq!(p.wait_exit(Duration::from_secs(5)), 1);
    let mut err = String::new();
    p.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("*** FATAL CONFIG FILE ERROR ("), "{err}");
    assert!(err.contains(">>> 'port \"notaport\"'"), "{err}");
}
