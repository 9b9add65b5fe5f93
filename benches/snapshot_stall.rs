//! Event-loop stall of a primary while it serves a full sync: handoff-server against
//! redis-server and valkey-server, in the same run.
//!
//! ```text
//! cargo build --release
//! cargo bench --bench snapshot_stall -- [--keys N] [--rounds N] [--quick]
//!     [--servers handoff,redis,valkey] [--baseline-ms N]
//! ```
//!
//! For each server kind, round by round (rotating which kind goes first so that
//! background load on a shared machine hits all of them alike):
//!
//! 1. a primary starts with `--save '' --repl-diskless-sync yes
//!    --repl-diskless-sync-delay 0` in a temp `--dir`, and `DEBUG POPULATE <keys>`
//!    loads it (`DBSIZE` is checked); an idle replica of the same kind starts too;
//! 2. a probe thread sends PING on its own connection in a tight loop and records every
//!    round trip (it measures event-loop stalls the same way for every server), and
//!    `redis-benchmark -t set,get -c 20 -P 1 -r <keys>` runs against the primary for
//!    the whole measurement;
//! 3. after a baseline (1 s), `REPLICAOF 127.0.0.1 <primary port>` is sent to the
//!    replica, and the sync time runs until the replica's `master_link_status` is `up`
//!    and its `slave_repl_offset` has reached the primary's `master_repl_offset` read
//!    just before (under a write load the two are never equal at one instant);
//! 4. reported: the longest PING round trip in the sync window, its p99, the longest in
//!    the baseline, the sync time, when the longest stall happened (ms after REPLICAOF),
//!    and `latest_fork_usec` from `INFO stats` when the server reports a fork there.
//!
//! Each round trip is also split with the scheduler's own accounting
//! (`/proc/<pid>/task/<tid>/schedstat`, read before and after every PING): the CPU time
//! the server's main thread got during it ("loop busy"), the time that thread was
//! runnable but waiting for a CPU, and the time the probe thread itself waited for a CPU;
//! plus the machine's steal time (`/proc/stat`, 10 ms resolution): on a VM, a thread the
//! guest believes is running may not run at all while the hypervisor serves others.
//! On a small shared machine the longest round trip is usually run-queue waiting (the
//! snapshot child, the replica loading the RDB, redis-benchmark and the probe share the
//! cores); the longest "loop busy" stretch is the loop's own stall (fork, work done in
//! the loop), an upper bound since it also counts the normal work for the other clients
//! done in that round trip. `--stalls` lists every round trip over the bar with its
//! wall-clock time, to line up with `perf record -k CLOCK_REALTIME` or `strace -tt`.
//!
//! The servers that report it (handoff, Valkey; Redis 7.2 too, not 7.0) also give their
//! own longest event-loop cycle over the baseline and over the sync (`eventloop_duration_max`
//! of INFO debug, reset with CONFIG RESETSTAT at the start of each window).
//!
//! Each metric is the median over the rounds. The acceptance bar (issue 4) is a longest
//! stall under 10 ms with 1M keys.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    benchmark_bin, bin_for, info_field, machine_description, now_utc, text, version_of, Server,
};
use handoff_protocol::Frame;

const BAR_MS: f64 = 10.0;

const USAGE: &str = "\
usage: cargo bench --bench snapshot_stall -- [options]
  --keys N          keys loaded with DEBUG POPULATE (default 1000000)
  --rounds N        rounds; each measures every server once (default 3)
  --quick           --keys 100000 --rounds 1
  --servers LIST    comma-separated subset of handoff,redis,valkey (default: all three)
  --baseline-ms N   quiet-period length before REPLICAOF (default 1000)
  --clients N       redis-benchmark -c for the background load (default 20)
  --replica-nice N  nice value of the replica process, every kind alike (default 0;
                    a replica normally has a machine of its own, here it shares
                    the cores with the primary it loads from)
  --stalls          list every PING round trip >= 10 ms with its wall-clock time
                    and the primary's pid (to match with perf sched / strace -tt)
env: HANDOFF_BIN  handoff-server binary (default target/release/handoff-server)
     REDIS_BIN, VALKEY_BIN, REDIS_BENCHMARK  override the other binaries";

struct Options {
    keys: u64,
    rounds: usize,
    servers: Vec<String>,
    baseline: Duration,
    clients: u32,
    /// Nice value given to every thread of the replica process.
    replica_nice: i32,
    /// Print every round trip over the bar with its wall-clock time, for matching
    /// against `perf sched` / `strace -tt` output.
    stalls: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut o = Options {
        keys: 1_000_000,
        rounds: 3,
        servers: vec!["handoff".into(), "redis".into(), "valkey".into()],
        baseline: Duration::from_millis(1000),
        clients: 20,
        replica_nice: 0,
        stalls: false,
    };
    let (mut keys, mut rounds, mut quick) = (None, None, false);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
            v.parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {v}"))
        };
        match a.as_str() {
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            "--quick" => quick = true,
            "--stalls" => o.stalls = true,
            "--keys" => keys = Some(num("--keys")?),
            "--rounds" => rounds = Some(num("--rounds")? as usize),
            "--baseline-ms" => o.baseline = Duration::from_millis(num("--baseline-ms")?),
            "--clients" => o.clients = num("--clients")?.max(1) as u32,
            "--replica-nice" => o.replica_nice = num("--replica-nice")?.min(19) as i32,
            "--servers" => {
                let v = it.next().ok_or("--servers needs a value")?;
                o.servers = v
                    .split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if quick {
        o.keys = 100_000;
        o.rounds = 1;
    }
    if let Some(k) = keys {
        o.keys = k;
    }
    if let Some(r) = rounds {
        o.rounds = r;
    }
    for s in &o.servers {
        if !matches!(s.as_str(), "handoff" | "redis" | "valkey") {
            return Err(format!(
                "unknown server {s:?} (expected handoff, redis, valkey)"
            ));
        }
    }
    if o.servers.is_empty() || o.rounds == 0 || o.keys == 0 {
        return Err("nothing to run".into());
    }
    Ok(o)
}

/// One measurement of one server kind.
#[derive(Clone, Debug)]
struct Sample {
    sync_ms: f64,
    max_sync_ms: f64,
    p99_sync_ms: f64,
    max_base_ms: f64,
    /// When the longest round trip of the sync window started, ms after REPLICAOF.
    max_at_ms: f64,
    /// Round trips in the sync window over the bar.
    over_bar: usize,
    pings_sync: usize,
    fork_usec: Option<u64>,
    /// Longest main-thread CPU time within one PING round trip, sync window and
    /// baseline: how long the loop was busy at a stretch, whatever the machine's load.
    busy_sync_ms: f64,
    busy_base_ms: f64,
    /// The longest round trip of the sync window split up: main-thread CPU,
    /// main thread waiting for a CPU, probe thread waiting for a CPU, and
    /// the machine's steal time meanwhile.
    longest_split: (f64, f64, f64, f64),
    /// The server's own longest event-loop cycle (`eventloop_duration_max` of
    /// INFO debug, Redis 7.2 / Valkey; None where the server lacks it), in the
    /// sync window and in the baseline.
    cycle_sync_ms: Option<f64>,
    cycle_base_ms: Option<f64>,
}

/// One PING round trip, with what the scheduler says about it.
#[derive(Clone, Copy, Debug)]
struct Ping {
    /// When it was sent, relative to the run's origin.
    start: Duration,
    rtt: Duration,
    /// CPU time the server's main (event-loop) thread got during the round trip:
    /// a loop that is busy (fork, copy-on-write faults, serialization in the
    /// loop) shows here; a loop waiting for a CPU or sleeping in epoll does not.
    loop_cpu: Duration,
    /// Time the server's main thread was runnable but waiting for a CPU.
    loop_wait: Duration,
    /// Time the probe thread itself was runnable but waiting for a CPU (a
    /// measurement artefact on a loaded machine, not the server's doing).
    probe_wait: Duration,
    /// Time the hypervisor ran something else on this machine's CPUs (steal,
    /// from /proc/stat, summed over the CPUs, 10 ms resolution): a thread
    /// that was "running" meanwhile neither ran nor waited in the guest's
    /// run queue.
    steal: Duration,
}

/// `/proc/.../schedstat`: on-CPU ns, run-queue wait ns, slices.
struct SchedStat(std::fs::File);

impl SchedStat {
    fn open(path: &str) -> Option<SchedStat> {
        std::fs::File::open(path).ok().map(SchedStat)
    }

    /// (on-CPU, run-queue wait) in ns; zeros when unreadable.
    fn read(&self) -> (u64, u64) {
        use std::os::unix::fs::FileExt;
        let mut buf = [0u8; 96];
        let n = self.0.read_at(&mut buf, 0).unwrap_or(0);
        let text = std::str::from_utf8(&buf[..n]).unwrap_or("");
        let mut it = text
            .split_whitespace()
            .map(|x| x.parse::<u64>().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    }
}

/// Steal time of all CPUs so far, from the first line of /proc/stat.
struct Steal(Option<std::fs::File>);

impl Steal {
    fn open() -> Steal {
        Steal(std::fs::File::open("/proc/stat").ok())
    }

    /// Nanoseconds of steal since boot (0 when unreadable).
    fn read(&self) -> u64 {
        use std::os::unix::fs::FileExt;
        let Some(f) = &self.0 else { return 0 };
        let mut buf = [0u8; 256];
        let n = f.read_at(&mut buf, 0).unwrap_or(0);
        let text = std::str::from_utf8(&buf[..n]).unwrap_or("");
        // cpu  user nice system idle iowait irq softirq steal ... (USER_HZ = 100)
        text.lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(8))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |jiffies| jiffies * 10_000_000)
    }
}

struct Probe {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Result<Vec<Ping>, String>>,
}

fn start_probe(server: &Server, origin: Instant) -> Result<Probe, String> {
    let mut c = server
        .connect()
        .map_err(|e| format!("probe connect: {e}"))?;
    let pid = server.pid();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        // The event loop runs on the main thread (tid = pid) in all three servers.
        let lp = SchedStat::open(&format!("/proc/{pid}/task/{pid}/schedstat"));
        let me = SchedStat::open("/proc/thread-self/schedstat");
        let steal = Steal::open();
        let read = |s: &Option<SchedStat>| s.as_ref().map(|s| s.read()).unwrap_or((0, 0));
        let mut out = Vec::with_capacity(1 << 20);
        let (mut l0, mut m0, mut s0) = (read(&lp), read(&me), steal.read());
        while !flag.load(Ordering::Relaxed) {
            let t = Instant::now();
            match c.call(&["PING"]) {
                Ok(Frame::Simple(ref s)) if &s[..] == b"PONG" => {}
                Ok(other) => return Err(format!("PING: {other:?}")),
                Err(e) => return Err(format!("PING: {e}")),
            }
            let rtt = t.elapsed();
            let (l1, m1, s1) = (read(&lp), read(&me), steal.read());
            out.push(Ping {
                start: t - origin,
                rtt,
                loop_cpu: Duration::from_nanos(l1.0.saturating_sub(l0.0)),
                loop_wait: Duration::from_nanos(l1.1.saturating_sub(l0.1)),
                probe_wait: Duration::from_nanos(m1.1.saturating_sub(m0.1)),
                steal: Duration::from_nanos(s1.saturating_sub(s0)),
            });
            (l0, m0, s0) = (l1, m1, s1);
        }
        Ok(out)
    });
    Ok(Probe { stop, handle })
}

struct Load(Child);

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_load(bench: &PathBuf, port: u16, keys: u64, clients: u32) -> Result<Load, String> {
    Command::new(bench)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-t", "set,get", "-c", &clients.to_string(), "-P", "1"])
        .args(["-n", "1000000000", "-r", &keys.to_string(), "-q"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Load)
        .map_err(|e| format!("cannot start redis-benchmark: {e}"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn info_u64(c: &mut handoff_protocol::Connection, section: &str, field: &str) -> Option<u64> {
    info_field(c, section, field).ok()?.parse().ok()
}

/// The server's longest event-loop cycle since the last CONFIG RESETSTAT; None
/// for a server without the metric.
fn longest_cycle_ms(c: &mut handoff_protocol::Connection) -> Option<f64> {
    info_u64(c, "debug", "eventloop_duration_max").map(|us| us as f64 / 1000.0)
}

/// Starts a new window for `longest_cycle_ms` (also zeroes the fork counters,
/// read only after the sync).
fn reset_stats(c: &mut handoff_protocol::Connection) -> Result<(), String> {
    text(
        c.call(&["CONFIG", "RESETSTAT"])
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("CONFIG RESETSTAT: {e}"))?;
    Ok(())
}

/// Sets the nice value of every thread of `pid` (threads started later
/// inherit it from the thread that starts them).
fn renice_process(pid: u32, nice: i32) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for tid in tasks.flatten() {
        if let Ok(tid) = tid.file_name().to_string_lossy().parse::<u32>() {
            // SAFETY: setpriority only changes the scheduling priority of that
            // thread; a thread that already exited makes it fail harmlessly.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) };
        }
    }
}

fn measure(kind: &str, o: &Options, bench: &PathBuf) -> Result<Sample, String> {
    let bin = bin_for(kind)?;
    let mut flags = vec![
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--enable-debug-command",
        "local",
    ];
    // HANDOFF_SERVER_ARGS adds directives to the handoff servers only, to
    // compare settings (e.g. "--snapshot-sched-idle no").
    let extra = std::env::var("HANDOFF_SERVER_ARGS").unwrap_or_default();
    if kind == "handoff" {
        flags.extend(extra.split_whitespace());
    }
    let primary = Server::start(&format!("{kind}-primary"), &bin, &flags)?;
    let replica = Server::start(&format!("{kind}-replica"), &bin, &flags)?;
    if o.replica_nice != 0 {
        renice_process(replica.pid(), o.replica_nice);
    }
    let mut pc = primary.connect().map_err(|e| e.to_string())?;
    let keys = o.keys.to_string();
    text(
        pc.call(&["DEBUG", "POPULATE", &keys])
            .map_err(|e| format!("DEBUG POPULATE: {e}"))?,
    )
    .map_err(|e| format!("DEBUG POPULATE: {e}"))?;
    match pc.call(&["DBSIZE"]).map_err(|e| e.to_string())? {
        Frame::Integer(n) if n as u64 == o.keys => {}
        other => return Err(format!("DBSIZE after DEBUG POPULATE {keys}: {other:?}")),
    }

    let origin = Instant::now();
    let origin_wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let probe = start_probe(&primary, origin)?;
    let load = start_load(bench, primary.port, o.keys, o.clients)?;
    reset_stats(&mut pc)?;
    std::thread::sleep(o.baseline);
    let cycle_base_ms = longest_cycle_ms(&mut pc);
    reset_stats(&mut pc)?;

    let mut rc = replica.connect().map_err(|e| e.to_string())?;
    let t0 = origin.elapsed();
    let port = primary.port.to_string();
    text(
        rc.call(&["REPLICAOF", "127.0.0.1", &port])
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("REPLICAOF: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let t1 = loop {
        std::thread::sleep(Duration::from_millis(5));
        if Instant::now() > deadline {
            return Err(format!("{kind}: the replica did not sync within 300 s"));
        }
        let up = info_field(&mut rc, "replication", "master_link_status")
            .map(|s| s == "up")
            .unwrap_or(false);
        if !up {
            continue;
        }
        let Some(target) = info_u64(&mut pc, "replication", "master_repl_offset") else {
            continue;
        };
        let Some(got) = info_u64(&mut rc, "replication", "slave_repl_offset") else {
            continue;
        };
        if got >= target {
            break origin.elapsed();
        }
    };
    let cycle_sync_ms = longest_cycle_ms(&mut pc);
    drop(load);
    probe.stop.store(true, Ordering::Relaxed);
    let pings = probe
        .handle
        .join()
        .map_err(|_| "probe thread panicked".to_string())??;

    // The fork time, when the server reports one (a server that never counted a
    // fork reports 0, which means "not measured").
    let forks = info_u64(&mut pc, "stats", "total_forks").unwrap_or(0);
    let fork_usec = info_u64(&mut pc, "stats", "latest_fork_usec").filter(|_| forks > 0);

    if o.stalls {
        let wall = |d: Duration| (origin_wall + d).as_secs_f64();
        println!(
            "{kind} primary pid {} replica pid {}: REPLICAOF at {:.6}, synced at {:.6}",
            primary.pid(),
            replica.pid(),
            wall(t0),
            wall(t1)
        );
        for p in &pings {
            let busy = ms(p.loop_cpu) >= BAR_MS / 2.0;
            if (ms(p.rtt) >= BAR_MS || busy) && p.start + p.rtt >= t0.saturating_sub(o.baseline) {
                println!(
                    "  {:7.2} ms from {:.6} (+{:.1} ms after REPLICAOF): loop cpu {:.2} ms, \
                     loop runnable-waiting {:.2} ms, probe runnable-waiting {:.2} ms, \
                     steal {:.0} ms",
                    ms(p.rtt),
                    wall(p.start),
                    p.start.as_secs_f64() * 1000.0 - ms(t0),
                    ms(p.loop_cpu),
                    ms(p.loop_wait),
                    ms(p.probe_wait),
                    ms(p.steal)
                );
            }
        }
    }
    let base_from = t0.saturating_sub(o.baseline);
    let base: Vec<Ping> = pings
        .iter()
        .copied()
        .filter(|p| p.start >= base_from && p.start < t0)
        .collect();
    // A round trip belongs to the sync window if any part of it overlaps it.
    let mut window: Vec<Ping> = pings
        .iter()
        .copied()
        .filter(|p| p.start + p.rtt >= t0 && p.start <= t1)
        .collect();
    if window.is_empty() {
        return Err(format!("{kind}: no PING answered during the sync"));
    }
    let max_of =
        |v: &[Ping], f: fn(&Ping) -> Duration| v.iter().map(|p| ms(f(p))).fold(0.0, f64::max);
    let longest = *window.iter().max_by_key(|p| p.rtt).expect("not empty");
    let busy_sync_ms = max_of(&window, |p| p.loop_cpu);
    let busy_base_ms = max_of(&base, |p| p.loop_cpu);
    let max_base_ms = max_of(&base, |p| p.rtt);
    window.sort_by_key(|p| p.rtt);
    let p99 = window[((window.len() * 99).div_ceil(100)).saturating_sub(1)].rtt;
    Ok(Sample {
        sync_ms: ms(t1 - t0),
        max_sync_ms: ms(longest.rtt),
        p99_sync_ms: ms(p99),
        max_base_ms,
        max_at_ms: longest.start.as_secs_f64() * 1000.0 - ms(t0),
        over_bar: window.iter().filter(|p| ms(p.rtt) >= BAR_MS).count(),
        pings_sync: window.len(),
        fork_usec,
        busy_sync_ms,
        busy_base_ms,
        longest_split: (
            ms(longest.loop_cpu),
            ms(longest.loop_wait),
            ms(longest.probe_wait),
            ms(longest.steal),
        ),
        cycle_sync_ms,
        cycle_base_ms,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median of `f` over the rounds of `kind` that have a value; None without any.
fn median_of(
    samples: &[(String, Vec<Sample>)],
    kind: &str,
    f: impl Fn(&Sample) -> Option<f64>,
) -> Option<f64> {
    let v: Vec<f64> = samples
        .iter()
        .find(|(k, _)| k == kind)?
        .1
        .iter()
        .filter_map(f)
        .collect();
    (!v.is_empty()).then(|| median(v))
}

fn shown_ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    }
}

fn main() {
    let o = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let bench = match benchmark_bin() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    for kind in &o.servers {
        if let Err(e) = bin_for(kind) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }

    println!("# Snapshot stall during full sync");
    println!("{}; {}", now_utc(), machine_description());
    for kind in &o.servers {
        if let Ok(b) = bin_for(kind) {
            println!("{kind}: {} ({})", b.display(), version_of(&b));
        }
    }
    println!(
        "{} keys (DEBUG POPULATE), diskless sync with delay 0, {} rounds, baseline {} ms, \
         load redis-benchmark -t set,get -c {} -P 1 -r {}, PING probe in a tight loop, \
         replica at nice {}\n",
        o.keys,
        o.rounds,
        o.baseline.as_millis(),
        o.clients,
        o.keys,
        o.replica_nice
    );

    let mut samples: Vec<(String, Vec<Sample>)> =
        o.servers.iter().map(|s| (s.clone(), Vec::new())).collect();
    for round in 0..o.rounds {
        let n = o.servers.len();
        for i in 0..n {
            let idx = (i + round) % n;
            let kind = o.servers[idx].clone();
            match measure(&kind, &o, &bench) {
                Ok(s) => {
                    println!(
                        "round {} {kind:8} sync {:8.1} ms | longest PING {:7.2} ms at +{:.0} ms \
                         (loop cpu {:.2}, loop waiting for a cpu {:.2}, probe waiting for a cpu {:.2}, \
                         steal {:.0}), \
                         p99 {:5.2} ms, {} >= {BAR_MS} ms of {} | baseline longest {:5.2} ms | \
                         loop busy at a stretch: sync {:.2} ms, baseline {:.2} ms | \
                         longest loop cycle: sync {}, baseline {} | fork {}",
                        round + 1,
                        s.sync_ms,
                        s.max_sync_ms,
                        s.max_at_ms,
                        s.longest_split.0,
                        s.longest_split.1,
                        s.longest_split.2,
                        s.longest_split.3,
                        s.p99_sync_ms,
                        s.over_bar,
                        s.pings_sync,
                        s.max_base_ms,
                        s.busy_sync_ms,
                        s.busy_base_ms,
                        shown_ms(s.cycle_sync_ms),
                        shown_ms(s.cycle_base_ms),
                        s.fork_usec
                            .map(|u| format!("{u} us"))
                            .unwrap_or_else(|| "not reported".into())
                    );
                    samples[idx].1.push(s);
                }
                Err(e) => println!("round {} {kind}: FAILED: {e}", round + 1),
            }
        }
    }

    let med_opt = |kind: &str, f: fn(&Sample) -> Option<f64>| median_of(&samples, kind, f);
    let med = |kind: &str, f: fn(&Sample) -> f64| median_of(&samples, kind, |s| Some(f(s)));
    println!(
        "\nMedian of {} rounds, {} keys. Stall = longest PING round trip on the probe connection. \
         Loop busy at a stretch = most CPU time the server's main thread got within one PING \
         round trip (from /proc/<pid>/task/<pid>/schedstat): the loop's own stall, without the \
         time it or the probe spent waiting for a CPU on a loaded machine. Longest loop cycle = \
         the server's own `eventloop_duration_max` (INFO debug) over the window: from the poll's \
         return to the next poll, wall clock (time the loop was preempted inside a cycle counts); \
         Redis 7.0 does not report it.\n",
        o.rounds, o.keys
    );
    println!(
        "| server | longest stall in sync ms | p99 in sync ms | longest in baseline ms | sync time ms | \
         latest_fork_usec | loop busy at a stretch, sync / baseline ms | longest loop cycle, sync / baseline ms | stall vs redis | stall vs valkey | \
         sync vs redis | sync vs valkey |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for kind in &o.servers {
        let Some(stall) = med(kind, |s| s.max_sync_ms) else {
            println!("| {kind} | failed | | | | | | | | | | |");
            continue;
        };
        let sync = med(kind, |s| s.sync_ms);
        let fork = med(kind, |s| s.fork_usec.map(|u| u as f64).unwrap_or(f64::NAN));
        println!(
            "| {kind} | {stall:.2} | {:.2} | {:.2} | {:.0} | {} | {:.2} / {:.2} | {} / {} | {} | {} | {} | {} |",
            med(kind, |s| s.p99_sync_ms).unwrap_or(f64::NAN),
            med(kind, |s| s.max_base_ms).unwrap_or(f64::NAN),
            sync.unwrap_or(f64::NAN),
            fork.filter(|f| f.is_finite())
                .map(|f| format!("{f:.0}"))
                .unwrap_or_else(|| "not reported".into()),
            med(kind, |s| s.busy_sync_ms).unwrap_or(f64::NAN),
            med(kind, |s| s.busy_base_ms).unwrap_or(f64::NAN),
            shown_ms(med_opt(kind, |s| s.cycle_sync_ms)),
            shown_ms(med_opt(kind, |s| s.cycle_base_ms)),
            ratio(Some(stall), med("redis", |s| s.max_sync_ms)),
            ratio(Some(stall), med("valkey", |s| s.max_sync_ms)),
            ratio(sync, med("redis", |s| s.sync_ms)),
            ratio(sync, med("valkey", |s| s.sync_ms)),
        );
    }
    if let Some(stall) = med("handoff", |s| s.max_sync_ms) {
        println!(
            "\nBar: handoff's longest stall under {BAR_MS} ms with {} keys: longest PING {:.2} ms -> {}",
            o.keys,
            stall,
            if stall < BAR_MS { "met" } else { "NOT met" }
        );
    }
    if let Some(cycle) = med_opt("handoff", |s| s.cycle_sync_ms) {
        let worst = samples
            .iter()
            .find(|(k, _)| k == "handoff")
            .map(|(_, v)| v.iter().filter_map(|s| s.cycle_sync_ms).fold(0.0, f64::max))
            .unwrap_or(f64::NAN);
        println!(
            "Bar: handoff's longest event-loop cycle during the sync: median {cycle:.2} ms, \
             worst round {worst:.2} ms -> {}",
            if worst < BAR_MS { "met" } else { "NOT met" }
        );
    }
    // The round trip also holds the time the loop (or the probe) waited for
    // a CPU that other processes had; the loop's own stall is the CPU time
    // it spent at a stretch. Worst round of each kind, not the median.
    for kind in ["handoff", "redis", "valkey"] {
        let worst = samples
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.iter().map(|s| s.busy_sync_ms).fold(f64::NAN, f64::max));
        let fork = samples.iter().find(|(k, _)| k == kind).map(|(_, v)| {
            v.iter()
                .filter_map(|s| s.fork_usec.map(|u| u as f64))
                .fold(f64::NAN, f64::max)
        });
        if let (Some(worst), Some(fork)) = (worst, fork) {
            println!(
                "{kind}: the event loop's longest stretch of CPU in one round trip during the sync, worst round: {worst:.2} ms (longest fork {:.2} ms)",
                fork / 1000.0
            );
        }
    }
}
