//! Server counters reported by INFO (stats, commandstats, errorstats) and the
//! slow log.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

/// Per-command counters (INFO commandstats).
#[derive(Default, Clone, Debug)]
pub struct CommandStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// How many samples instantaneous metrics average over, as Redis.
const METRIC_SAMPLES: usize = 16;

/// A metric sampled every 100 ms to compute a per-second rate.
#[derive(Default, Clone, Debug)]
pub struct RateSampler {
    samples: [f64; METRIC_SAMPLES],
    idx: usize,
    last_value: u64,
    last_ms: i64,
}

impl RateSampler {
    pub fn sample(&mut self, now_ms: i64, value: u64) {
        if self.last_ms != 0 {
            let dt = (now_ms - self.last_ms).max(1) as f64;
            let dv = value.saturating_sub(self.last_value) as f64;
            self.samples[self.idx] = dv * 1000.0 / dt;
            self.idx = (self.idx + 1) % METRIC_SAMPLES;
        }
        self.last_value = value;
        self.last_ms = now_ms;
    }

    pub fn per_second(&self) -> f64 {
        self.samples.iter().sum::<f64>() / METRIC_SAMPLES as f64
    }
}

/// A per-sample ratio of two growing counters (Redis's average eventloop
/// duration: time added over cycles added), averaged over the last samples.
#[derive(Default, Clone, Debug)]
pub struct RatioSampler {
    samples: [f64; METRIC_SAMPLES],
    idx: usize,
    last: (u64, u64),
}

impl RatioSampler {
    pub fn sample(&mut self, numerator: u64, denominator: u64) {
        let dn = numerator.saturating_sub(self.last.0) as f64;
        let dd = denominator.saturating_sub(self.last.1);
        self.samples[self.idx] = if dd == 0 { 0.0 } else { dn / dd as f64 };
        self.idx = (self.idx + 1) % METRIC_SAMPLES;
        self.last = (numerator, denominator);
    }

    pub fn average(&self) -> f64 {
        self.samples.iter().sum::<f64>() / METRIC_SAMPLES as f64
    }
}

/// Event-loop cycle timing, as Redis 7.2 reports it (INFO stats `eventloop_*`,
/// INFO debug): a cycle runs from the return of the poll to the end of the
/// work done before the next poll, so `max_ns` is the loop's longest stall.
#[derive(Default, Debug)]
pub struct LoopStats {
    pub cycles: u64,
    pub duration_ns: u64,
    pub max_ns: u64,
    /// Time inside top-level commands.
    pub cmd_ns: u64,
    /// Time in the periodic cron and the pre-poll chores, writes excluded.
    pub cron_ns: u64,
    pub cmds_per_cycle_max: u64,
    pub cycle_rate: RateSampler,
    pub duration_per_cycle: RatioSampler,
}

impl LoopStats {
    /// Records one finished cycle.
    pub fn cycle(&mut self, duration_ns: u64, cron_ns: u64, commands: u64) {
        self.cycles += 1;
        self.duration_ns += duration_ns;
        self.max_ns = self.max_ns.max(duration_ns);
        self.cron_ns += cron_ns;
        self.cmds_per_cycle_max = self.cmds_per_cycle_max.max(commands);
    }

    /// Every 100 ms, with the other instantaneous metrics.
    pub fn sample(&mut self, now_ms: i64) {
        self.cycle_rate.sample(now_ms, self.cycles);
        self.duration_per_cycle
            .sample(self.duration_ns / 1000, self.cycles);
    }
}

/// Counters for INFO stats.
#[derive(Default, Debug)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    /// Error replies by their first word (`ERR`, `WRONGTYPE`...).
    pub errors: BTreeMap<String, u64>,
    /// Indexed by command table id.
    pub commands: Vec<CommandStats>,
    pub client_query_buffer_limit_disconnections: u64,
    pub client_output_buffer_limit_disconnections: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    pub unexpected_error_replies: u64,
    pub ops_rate: RateSampler,
    pub net_input_rate: RateSampler,
    pub net_output_rate: RateSampler,
    /// Full syncs served, partial resyncs accepted and refused (INFO stats).
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// Commands held by a pause or a failover (each hold counted once).
    pub held_commands: u64,
    /// FAILOVERs accepted, and commands answered with -REDIRECT.
    pub failovers: u64,
    pub redirects: u64,
    /// Bytes read from the primary link before it became a client.
    pub net_repl_input_bytes: u64,
    /// Event-loop cycles (INFO stats `eventloop_*`, INFO debug).
    pub eventloop: LoopStats,
    /// Highest used-memory estimate seen (INFO `used_memory_peak`; reset by CONFIG RESETSTAT).
    pub peak_memory: u64,
    /// Keys evicted for maxmemory (INFO `evicted_keys`).
    pub evicted_keys: u64,
    /// Time spent over maxmemory in finished stretches, in microseconds.
    pub total_eviction_exceeded_us: u64,
    /// Since when memory has been over maxmemory (eviction unfinished).
    pub eviction_exceeded_since: Option<std::time::Instant>,
}

/// Redis stops tracking new error kinds past this many, to bound memory.
const ERROR_STATS_MAX: usize = 128;

impl Stats {
    pub fn new(commands: usize) -> Self {
        Stats {
            commands: vec![CommandStats::default(); commands],
            ..Default::default()
        }
    }

    /// Counts an error reply by its prefix (the text up to the first space).
    pub fn count_error(&mut self, text: &str) {
        self.total_error_replies += 1;
        let prefix = text.split(' ').next().unwrap_or("ERR");
        if let Some(n) = self.errors.get_mut(prefix) {
            *n += 1;
        } else if self.errors.len() < ERROR_STATS_MAX {
            self.errors.insert(prefix.to_string(), 1);
        }
    }

    pub fn reset(&mut self) {
        let n = self.commands.len();
        *self = Stats::new(n);
    }
}

/// One SLOWLOG entry.
#[derive(Clone, Debug)]
pub struct SlowLogEntry {
    pub id: u64,
    pub unix_time: i64,
    pub duration_us: u64,
    /// At most 32 arguments, each at most 128 bytes (Redis's limits).
    pub args: Vec<Bytes>,
    pub client_addr: String,
    pub client_name: Bytes,
}

/// The slow log (newest first).
#[derive(Default, Debug)]
pub struct SlowLog {
    pub entries: VecDeque<SlowLogEntry>,
    pub next_id: u64,
}

/// Redis keeps this many arguments of a slow command.
pub const SLOWLOG_ENTRY_MAX_ARGC: usize = 32;
/// Redis keeps this many bytes of each argument.
pub const SLOWLOG_ENTRY_MAX_STRING: usize = 128;

impl SlowLog {
    /// Records a command, trimming arguments as Redis does.
    pub fn push(
        &mut self,
        args: &[Bytes],
        duration_us: u64,
        unix_time: i64,
        addr: &str,
        name: Option<&Bytes>,
        max_len: usize,
    ) {
        let mut kept: Vec<Bytes> = Vec::new();
        let argc = args.len().min(SLOWLOG_ENTRY_MAX_ARGC);
        for (i, a) in args.iter().take(argc).enumerate() {
            if argc != args.len() && i == argc - 1 {
                kept.push(Bytes::from(format!(
                    "... ({} more arguments)",
                    args.len() - argc + 1
                )));
            } else if a.len() > SLOWLOG_ENTRY_MAX_STRING {
                let mut s = a[..SLOWLOG_ENTRY_MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_ENTRY_MAX_STRING).as_bytes(),
                );
                kept.push(Bytes::from(s));
            } else {
                kept.push(Bytes::copy_from_slice(a));
            }
        }
        self.entries.push_front(SlowLogEntry {
            id: self.next_id,
            unix_time,
            duration_us,
            args: kept,
            client_addr: addr.to_string(),
            client_name: name.cloned().unwrap_or_default(),
        });
        self.next_id += 1;
        self.entries.truncate(max_len);
    }
}
