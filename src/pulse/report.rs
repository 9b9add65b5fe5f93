//! The result of a run, as a readable table and as JSON. Holds only numbers and texts
//! already computed elsewhere; formatting lives here so the library callers (tests,
//! benches) read the same fields the table prints.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::analysis::{ErrorCounts, Latency, RunStats, Switch};
use super::options::Options;
use super::record::ErrorClass;
use super::verify::Verdict;
use super::worker::Outcome;

/// Client-side counters summed over the connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTotals {
    pub connects: u64,
    pub redirects: u64,
    pub moves: u64,
    pub retries_after_close: u64,
    pub rediscoveries: u64,
    pub stale_reads: u64,
    /// Connections whose last handshake had `CLIENT CAPA redirect` accepted.
    pub capa_accepted: u64,
    /// Connections whose last handshake had `CLIENT MAINT_NOTIFICATIONS` accepted.
    pub maint_accepted: u64,
    /// Where each connection ended.
    pub final_endpoints: Vec<String>,
    /// A few texts of "other" errors.
    pub other_samples: Vec<String>,
}

/// Everything a run found.
#[derive(Debug, Clone)]
pub struct Report {
    pub nodes: Vec<String>,
    pub client: &'static str,
    pub workload: &'static str,
    pub connections: usize,
    pub preload: usize,
    pub switch_command: String,
    pub elapsed_us: u64,
    pub stats: RunStats,
    pub switches: Vec<Switch>,
    pub clients: ClientTotals,
    pub verdict: Result<Verdict, String>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Median of `values` (the lower middle for an even count); None when empty.
pub fn median(values: &[u64]) -> Option<u64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied()
}

fn latency_json(l: &Latency) -> Value {
    json!({"count": l.count, "p50_us": l.p50_us, "p99_us": l.p99_us, "max_us": l.max_us})
}

fn errors_json(e: &ErrorCounts) -> Value {
    let mut m = serde_json::Map::new();
    for class in ErrorClass::ALL {
        m.insert(
            class.name().into(),
            json!(e.get(&class).copied().unwrap_or(0)),
        );
    }
    Value::Object(m)
}

fn errors_text(e: &ErrorCounts) -> String {
    let parts: Vec<String> = ErrorClass::ALL
        .iter()
        .filter_map(|c| {
            e.get(c)
                .filter(|&&n| n > 0)
                .map(|n| format!("{} {n}", c.name()))
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

impl Report {
    pub(super) fn new(
        opts: &Options,
        stats: RunStats,
        switches: Vec<Switch>,
        outcomes: &[Outcome],
        verdict: Result<Verdict, String>,
        elapsed_us: u64,
    ) -> Report {
        let mut clients = ClientTotals::default();
        for o in outcomes {
            clients.connects += o.counters.connects;
            clients.redirects += o.counters.redirects;
            clients.moves += o.counters.moves;
            clients.retries_after_close += o.counters.retries_after_close;
            clients.capa_accepted += u64::from(o.counters.capa_accepted);
            clients.maint_accepted += u64::from(o.counters.maint_accepted);
            clients.rediscoveries += o.rediscoveries;
            clients.stale_reads += o.stale_reads;
            clients.final_endpoints.push(o.final_endpoint.clone());
            for s in &o.samples {
                if clients.other_samples.len() < 5 && !clients.other_samples.contains(s) {
                    clients.other_samples.push(s.clone());
                }
            }
        }
        Report {
            nodes: opts.nodes.clone(),
            client: opts.client.name(),
            workload: opts.workload.name(),
            connections: opts.connections,
            preload: opts.preload,
            switch_command: opts.switch_command.clone(),
            elapsed_us,
            stats,
            switches,
            clients,
            verdict,
        }
    }

    /// Errors of every class over the whole run.
    pub fn total_errors(&self) -> u64 {
        self.stats.total_errors()
    }

    /// Errors of one class over the whole run.
    pub fn errors_of(&self, class: ErrorClass) -> u64 {
        self.stats.errors.get(&class).copied().unwrap_or(0)
    }

    /// Unavailable windows of the switchovers that were triggered.
    pub fn windows_us(&self) -> Vec<u64> {
        self.stats
            .switches
            .iter()
            .filter_map(|s| s.window_us)
            .collect()
    }

    /// Switchovers whose roles were seen to swap.
    pub fn completed_switchovers(&self) -> usize {
        self.switches.iter().filter(|s| s.done_us.is_some()).count()
    }

    /// The run as JSON.
    pub fn to_json(&self) -> Value {
        let windows = self.windows_us();
        let switches: Vec<Value> = self
            .switches
            .iter()
            .zip(&self.stats.switches)
            .map(|(s, st)| {
                json!({
                    "old_primary": s.old_primary,
                    "new_primary": s.new_primary,
                    "trigger_us": s.trigger_us,
                    "reply_us": s.reply_us,
                    "reply": s.reply,
                    "switched_us": s.done_us,
                    "problem": s.problem,
                    "window_us": st.window_us,
                    "recovered_us": st.recovered_us,
                    "errors": errors_json(&st.errors),
                    "latency": {
                        "before": latency_json(&st.before),
                        "during": latency_json(&st.during),
                        "after": latency_json(&st.after),
                    },
                })
            })
            .collect();
        let verdict = match &self.verdict {
            Ok(v) => json!({
                "primary": v.primary,
                "keys_checked": v.keys_checked,
                "missing": v.missing,
                "stale": v.stale,
                "unexpected": v.unexpected,
                "preload_checked": v.preload_checked,
                "preload_missing": v.preload_missing,
                "preload_wrong": v.preload_wrong,
                "incr_acked": v.incr_acked,
                "incr_final": v.incr_final,
                "incr_uncertain": v.incr_uncertain,
                "incr_exact": v.incr_exact(),
                "counters_wrong": v.counters_wrong,
                "clean": v.clean(),
            }),
            Err(e) => json!({"error": e}),
        };
        let c = &self.clients;
        json!({
            "nodes": self.nodes,
            "client": self.client,
            "workload": self.workload,
            "connections": self.connections,
            "preload": self.preload,
            "switch_command": self.switch_command,
            "elapsed_us": self.elapsed_us,
            "operations": self.stats.ops,
            "successes": self.stats.successes,
            "errors_total": self.total_errors(),
            "errors": errors_json(&self.stats.errors),
            "latency": {
                "overall": latency_json(&self.stats.overall),
                "before": latency_json(&self.stats.before),
                "during": latency_json(&self.stats.during),
                "after": latency_json(&self.stats.after),
            },
            "window_median_us": median(&windows),
            "window_max_us": windows.iter().max(),
            "switchovers": switches,
            "client_counters": {
                "connects": c.connects,
                "redirects_followed": c.redirects,
                "moves_followed": c.moves,
                "retries_after_close": c.retries_after_close,
                "rediscoveries": c.rediscoveries,
                "capa_accepted": c.capa_accepted,
                "maint_accepted": c.maint_accepted,
                "stale_reads": c.stale_reads,
                "final_endpoints": c.final_endpoints,
                "other_error_samples": c.other_samples,
            },
            "final_check": verdict,
        })
    }

    /// The run as a readable table.
    pub fn to_table(&self) -> String {
        let mut t = String::new();
        let secs = self.elapsed_us as f64 / 1e6;
        let _ = writeln!(
            t,
            "handoff-pulse: {} | {} connections, client {}, workload {}, {:.1} s, preload {}",
            self.nodes.join(","),
            self.connections,
            self.client,
            self.workload,
            secs,
            self.preload
        );
        let _ = writeln!(
            t,
            "operations {} ({:.0}/s), errors {}: {}",
            self.stats.ops,
            self.stats.ops as f64 / secs.max(1e-9),
            self.total_errors(),
            errors_text(&self.stats.errors)
        );
        let _ = writeln!(t, "\nlatency (ms)   count       p50       p99       max");
        for (name, l) in [
            ("before", &self.stats.before),
            ("during", &self.stats.during),
            ("after", &self.stats.after),
            ("overall", &self.stats.overall),
        ] {
            let _ = writeln!(
                t,
                "  {name:<10} {:>7} {:>9.3} {:>9.3} {:>9.3}",
                l.count,
                ms(l.p50_us),
                ms(l.p99_us),
                ms(l.max_us)
            );
        }
        if !self.switches.is_empty() {
            let _ = writeln!(
                t,
                "\nswitchovers ({}): \n  #  trigger(s)  old -> new                                  switched(ms)  window(ms)  p99 during(ms)  errors",
                self.switch_command
            );
            for (i, (s, st)) in self.switches.iter().zip(&self.stats.switches).enumerate() {
                let route = format!(
                    "{} -> {}",
                    s.old_primary.as_deref().unwrap_or("?"),
                    s.new_primary.as_deref().unwrap_or("?")
                );
                let opt_ms = |v: Option<u64>, base: u64| {
                    v.map(|x| format!("{:.1}", ms(x.saturating_sub(base))))
                        .unwrap_or_else(|| "-".into())
                };
                let trigger = s.trigger_us.unwrap_or(0);
                let _ = writeln!(
                    t,
                    "  {:<2} {:>10}  {route:<42} {:>12}  {:>10}  {:>14.3}  {}",
                    i + 1,
                    s.trigger_us
                        .map(|x| format!("{:.3}", x as f64 / 1e6))
                        .unwrap_or_else(|| "-".into()),
                    opt_ms(s.done_us, trigger),
                    opt_ms(st.window_us, 0),
                    ms(st.during.p99_us),
                    errors_text(&st.errors)
                );
                if let Some(p) = &s.problem {
                    let _ = writeln!(t, "     problem: {p}");
                }
            }
            let windows = self.windows_us();
            if let (Some(med), Some(max)) = (median(&windows), windows.iter().max()) {
                let _ = writeln!(
                    t,
                    "  unavailable window: median {:.1} ms, max {:.1} ms",
                    ms(med),
                    ms(*max)
                );
            }
        }
        let c = &self.clients;
        let _ = writeln!(
            t,
            "\nclient: {} connects, {} redirects followed, {} moves followed, {} retries after close, {} rediscoveries, {} stale reads",
            c.connects, c.redirects, c.moves, c.retries_after_close, c.rediscoveries, c.stale_reads
        );
        if self.client != "plain" {
            let _ = writeln!(
                t,
                "  accepted by the server (connections): CLIENT CAPA redirect {}/{}, CLIENT MAINT_NOTIFICATIONS {}/{}",
                c.capa_accepted, self.connections, c.maint_accepted, self.connections
            );
        }
        for s in &c.other_samples {
            let _ = writeln!(t, "  other error: {s}");
        }
        match &self.verdict {
            Ok(v) => {
                let _ = writeln!(
                    t,
                    "final primary {}: {} acknowledged keys checked, {} missing, {} stale, {} unexpected; preload {} checked, {} missing, {} wrong",
                    v.primary, v.keys_checked, v.missing, v.stale, v.unexpected,
                    v.preload_checked, v.preload_missing, v.preload_wrong
                );
                let _ = writeln!(
                    t,
                    "INCR: {} acknowledged, {} on the primary ({}), {} uncertain, {} counters out of bounds",
                    v.incr_acked,
                    v.incr_final,
                    if v.incr_exact() { "exact" } else { "NOT exact" },
                    v.incr_uncertain,
                    v.counters_wrong
                );
            }
            Err(e) => {
                let _ = writeln!(t, "final check failed: {e}");
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_lower_middle() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2));
        assert_eq!(median(&[9, 1, 5]), Some(5));
    }
}
