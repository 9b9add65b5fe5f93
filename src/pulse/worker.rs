//! One load connection: sends the workload in a closed loop until told to stop, records
//! every operation, and remembers what the server acknowledged so the end of the run can
//! check it. Owns its client; shares only the stop flag and the run's start instant.
//!
//! What counts as acknowledged is strict: a SET or INCR is acknowledged only by its
//! reply. A write that ended in an I/O error or timeout is "uncertain" (it may have run),
//! which is the only leeway the final check gives.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_protocol::{FollowConfig, FollowCounters, FollowingClient, Frame};

use super::options::{ClientMode, Workload};
use super::record::{classify, ErrorClass, Op};
use super::topology;

/// Distinct "other" error texts kept for the report.
const MAX_SAMPLES: usize = 5;

/// What a worker needs to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub index: usize,
    pub nodes: Vec<String>,
    pub first_endpoint: String,
    pub mode: ClientMode,
    pub workload: Workload,
    pub prefix: String,
    pub keys: usize,
    pub value_size: usize,
    pub op_timeout: Duration,
    pub settle: Duration,
    pub start: Instant,
    pub stop: Arc<AtomicBool>,
}

/// What a worker saw.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ops: Vec<Op>,
    /// Per key index: the sequence number of the last acknowledged SET (0: none).
    pub acked: Vec<u64>,
    /// Per key index: sequence numbers of SETs whose outcome is unknown.
    pub uncertain: HashMap<usize, Vec<u64>>,
    pub incr_acked: u64,
    pub incr_uncertain: u64,
    /// GETs that returned an older value than this connection's last acknowledged SET.
    pub stale_reads: u64,
    /// Times the worker asked the pair who is primary after an error.
    pub rediscoveries: u64,
    pub counters: FollowCounters,
    pub final_endpoint: String,
    pub samples: Vec<String>,
}

/// The key a worker's SETs use for index `i`.
pub fn key(prefix: &str, worker: usize, i: usize) -> String {
    format!("{prefix}:k:{worker}:{i}")
}

/// The INCR counter of a worker.
pub fn counter(prefix: &str, worker: usize) -> String {
    format!("{prefix}:ctr:{worker}")
}

/// `<seq>:` padded with `x` to `size` bytes.
pub fn value(seq: u64, size: usize) -> String {
    let mut v = format!("{seq}:");
    while v.len() < size {
        v.push('x');
    }
    v
}

/// The sequence number a [`value`] carries.
pub fn seq_of(value: &[u8]) -> Option<u64> {
    let end = value.iter().position(|&b| b == b':')?;
    std::str::from_utf8(&value[..end]).ok()?.parse().ok()
}

fn follow_config(plan: &Plan) -> FollowConfig {
    let follow = plan.mode == ClientMode::Follow;
    FollowConfig {
        resp3: follow,
        capa_redirect: plan.mode != ClientMode::Plain,
        maint_notifications: follow,
        moving_endpoint_type: "internal-ip".into(),
        client_name: Some(format!("pulse-{}", plan.index)),
        db: 0,
        max_hops: 5,
        connect_timeout: plan.op_timeout.min(Duration::from_secs(2)),
        io_timeout: Some(plan.op_timeout),
    }
}

struct Worker {
    plan: Plan,
    client: FollowingClient,
    out: Outcome,
    seq: u64,
}

impl Worker {
    fn now_us(&self) -> u64 {
        self.plan.start.elapsed().as_micros() as u64
    }

    /// Sends one command and records it; returns the reply when it was not an error.
    fn op(&mut self, args: &[&str]) -> (Option<Frame>, Option<ErrorClass>, bool) {
        let start_us = self.now_us();
        let result = self.client.call(args);
        let end_us = self.now_us();
        let error = classify(&result);
        self.out.ops.push(Op {
            start_us,
            end_us,
            error,
        });
        let io_failed = result.is_err();
        if error == Some(ErrorClass::Other) && self.out.samples.len() < MAX_SAMPLES {
            let text = match &result {
                Ok(f) => f.to_string_lossy(),
                Err(e) => e.to_string(),
            };
            if !self.out.samples.contains(&text) {
                self.out.samples.push(text);
            }
        }
        if let Some(class) = error {
            self.after_error(class);
        }
        (result.ok().filter(|_| error.is_none()), error, io_failed)
    }

    /// What an application of this kind does after an error before its next command.
    fn after_error(&mut self, class: ErrorClass) {
        let rediscover = match class {
            ErrorClass::Readonly | ErrorClass::RedirectLoop | ErrorClass::Refused => true,
            // A plain application has no one to tell it where to go but ROLE.
            ErrorClass::Reset | ErrorClass::Eof | ErrorClass::Timeout | ErrorClass::Other => {
                self.plan.mode == ClientMode::Plain
            }
            ErrorClass::Loading | ErrorClass::Masterdown => {
                std::thread::sleep(Duration::from_millis(1));
                false
            }
        };
        if !rediscover || self.plan.stop.load(Ordering::Relaxed) {
            return;
        }
        self.out.rediscoveries += 1;
        let deadline = Instant::now() + self.plan.settle;
        if let Some(primary) = topology::find_primary(&self.plan.nodes, deadline) {
            if primary != self.client.endpoint() || !self.client.is_connected() {
                self.client.set_endpoint(primary);
            }
        }
    }

    fn set_get(&mut self) {
        self.seq += 1;
        let seq = self.seq;
        let i = (seq as usize) % self.plan.keys;
        let k = key(&self.plan.prefix, self.plan.index, i);
        let v = value(seq, self.plan.value_size);
        let (reply, _, io_failed) = self.op(&["SET", &k, &v]);
        if reply.is_some() {
            self.out.acked[i] = seq;
        } else if io_failed {
            self.out.uncertain.entry(i).or_default().push(seq);
        }
        let (reply, _, _) = self.op(&["GET", &k]);
        if let Some(reply) = reply {
            let acked = self.out.acked[i];
            let got = reply.as_bytes().and_then(seq_of).unwrap_or(0);
            if got < acked {
                self.out.stale_reads += 1;
            }
        }
    }

    fn incr(&mut self) {
        let c = counter(&self.plan.prefix, self.plan.index);
        let (reply, _, io_failed) = self.op(&["INCR", &c]);
        if reply.is_some() {
            self.out.incr_acked += 1;
        } else if io_failed {
            self.out.incr_uncertain += 1;
        }
    }
}

/// Runs the load until the stop flag is set.
pub fn run(plan: Plan) -> Outcome {
    let client = FollowingClient::new(plan.first_endpoint.clone(), follow_config(&plan));
    let mut w = Worker {
        out: Outcome {
            acked: vec![0; plan.keys],
            ..Outcome::default()
        },
        plan,
        client,
        seq: 0,
    };
    while !w.plan.stop.load(Ordering::Relaxed) {
        if w.plan.workload.sets() {
            w.set_get();
        }
        if w.plan.workload.incrs() {
            w.incr();
        }
    }
    w.out.counters = w.client.counters();
    w.out.final_endpoint = w.client.endpoint().to_string();
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_carries_its_sequence_number_and_has_the_asked_size() {
        let v = value(42, 32);
        assert_eq!(v.len(), 32);
        assert_eq!(seq_of(v.as_bytes()), Some(42));
        assert_eq!(seq_of(value(123456, 3).as_bytes()), Some(123456));
        assert_eq!(seq_of(b"no seq"), None);
        assert_eq!(seq_of(b"x:1"), None);
    }
}
