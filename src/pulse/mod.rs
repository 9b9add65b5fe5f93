//! `handoff-pulse`: a probe a user points at any Redis-protocol primary/replica pair
//! (handoff, Redis, Valkey). N connections run a workload, the probe triggers the
//! switchovers itself on whichever node is primary at the time, and at the end it reports
//! errors by class, latency before/during/after, the unavailable window of each
//! switchover, and whether every acknowledged write is on the final primary.
//!
//! Layout: [`options`] (what to do), [`worker`] (one load connection), [`topology`]
//! (ROLE/INFO probes), [`analysis`] (windows and percentiles), [`verify`] (the final
//! check), [`report`] (table and JSON), [`cli`] (the binary's arguments). This module only
//! sequences a run.

pub mod analysis;
pub mod cli;
pub mod options;
pub mod record;
pub mod report;
pub mod topology;
pub mod verify;
pub mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use handoff_protocol::Connection;

pub use analysis::Switch;
pub use options::{ClientMode, Options, Workload};
pub use report::Report;

/// Timeout of the controller's own connections (preload, switch command, final check).
const ADMIN_TIMEOUT: Duration = Duration::from_secs(60);

fn admin_connect(endpoint: &str) -> Result<Connection, String> {
    let c = topology::probe_connect(endpoint).map_err(|e| format!("{endpoint}: {e}"))?;
    c.set_read_timeout(Some(ADMIN_TIMEOUT))
        .and_then(|_| c.set_write_timeout(Some(ADMIN_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    Ok(c)
}

fn since_us(start: Instant) -> u64 {
    start.elapsed().as_micros() as u64
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

/// Triggers one switchover on the current primary and waits until ROLE shows it.
fn switch_once(opts: &Options, start: Instant) -> Switch {
    let mut s = Switch::default();
    let Some(primary) = topology::wait_ready(&opts.nodes, Instant::now() + opts.settle) else {
        s.problem = Some("no primary with an online replica".into());
        return s;
    };
    s.old_primary = Some(primary.clone());
    let mut c = match admin_connect(&primary) {
        Ok(c) => c,
        Err(e) => {
            s.problem = Some(e);
            return s;
        }
    };
    let words = topology::words(&opts.switch_command);
    s.trigger_us = Some(since_us(start));
    let reply = c.call(&words);
    s.reply_us = Some(since_us(start));
    match reply {
        Ok(f) => {
            s.reply = f.to_string_lossy();
            if f.is_error() {
                s.problem = Some(format!("switch command refused: {}", s.reply));
                return s;
            }
            s.accepted = true;
        }
        Err(e) => {
            s.problem = Some(format!("switch command failed: {e}"));
            return s;
        }
    }
    match topology::wait_switched(&opts.nodes, &primary, Instant::now() + opts.settle) {
        Some(new) => {
            s.done_us = Some(since_us(start));
            s.new_primary = Some(new);
        }
        None => s.problem = Some("roles did not swap within the settle time".into()),
    }
    s
}

/// Runs the whole probe: preload, load with switchovers, final check, analysis.
pub fn run(opts: &Options) -> Result<Report, String> {
    opts.check()?;
    let settle = || Instant::now() + opts.settle;
    let primary = topology::find_primary(&opts.nodes, settle())
        .ok_or_else(|| format!("no node of {:?} says it is primary", opts.nodes))?;
    if opts.preload > 0 {
        let mut c = admin_connect(&primary)?;
        verify::preload(&mut c, &opts.key_prefix, opts.preload, opts.value_size)
            .map_err(|e| format!("preload: {e}"))?;
    }
    if !opts.switch_at.is_empty() && topology::wait_ready(&opts.nodes, settle()).is_none() {
        return Err(format!(
            "{primary} has no online replica: the pair is not ready for a switchover"
        ));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = (0..opts.connections)
        .map(|index| {
            let plan = worker::Plan {
                index,
                nodes: opts.nodes.clone(),
                first_endpoint: primary.clone(),
                mode: opts.client,
                workload: opts.workload,
                prefix: opts.key_prefix.clone(),
                keys: opts.keys_per_connection,
                value_size: opts.value_size,
                op_timeout: opts.op_timeout,
                settle: opts.settle,
                start,
                stop: stop.clone(),
            };
            thread::Builder::new()
                .name(format!("pulse-{index}"))
                .spawn(move || worker::run(plan))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot start a worker thread: {e}"))?;

    let mut switches = Vec::new();
    let mut at: Vec<Duration> = opts.switch_at.clone();
    at.sort();
    for t in at {
        sleep_until(start + t);
        switches.push(switch_once(opts, start));
    }
    sleep_until(start + opts.duration);
    stop.store(true, Ordering::Relaxed);
    let end_us = since_us(start);
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.join().map_err(|_| "a worker panicked".to_string())?);
    }

    let verdict = topology::find_primary(&opts.nodes, settle())
        .ok_or_else(|| "no primary at the end of the run".to_string())
        .and_then(|p| {
            let mut c = admin_connect(&p)?;
            verify::verify(
                &mut c,
                &p,
                &opts.key_prefix,
                &outcomes,
                opts.preload,
                opts.value_size,
            )
            .map_err(|e| format!("final check on {p}: {e}"))
        });
    let ops: Vec<_> = outcomes
        .iter_mut()
        .map(|o| std::mem::take(&mut o.ops))
        .collect();
    let stats = analysis::analyse(&ops, &switches, end_us);
    Ok(Report::new(
        opts, stats, switches, &outcomes, verdict, end_us,
    ))
}
