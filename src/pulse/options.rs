//! What a pulse run does: the pair, the load, the switchovers and the client kind. Plain
//! values, checked once; the CLI (`cli.rs`) and the tests and benches build them.

use std::time::Duration;

/// How the workers talk to the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMode {
    /// No capability: READONLY or a dropped connection is an error, after which the worker
    /// finds the primary with ROLE and reconnects (sentinel-style discovery).
    Plain,
    /// RESP2 with `CLIENT CAPA redirect`, following `-REDIRECT`.
    Redirect,
    /// RESP3 with `CLIENT CAPA redirect` and `CLIENT MAINT_NOTIFICATIONS`, following both
    /// `-REDIRECT` and `MOVING`.
    Follow,
}

impl ClientMode {
    pub fn name(self) -> &'static str {
        match self {
            ClientMode::Plain => "plain",
            ClientMode::Redirect => "redirect",
            ClientMode::Follow => "follow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "plain" => Some(ClientMode::Plain),
            "redirect" => Some(ClientMode::Redirect),
            "follow" => Some(ClientMode::Follow),
            _ => None,
        }
    }
}

/// What each worker sends, in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `SET key value` then `GET key` (checks read-your-write).
    SetGet,
    /// `INCR counter` (checks the total exactly).
    Incr,
    /// `SET`, `GET`, `INCR`.
    Mixed,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::SetGet => "setget",
            Workload::Incr => "incr",
            Workload::Mixed => "mixed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "setget" => Some(Workload::SetGet),
            "incr" => Some(Workload::Incr),
            "mixed" => Some(Workload::Mixed),
            _ => None,
        }
    }

    pub fn sets(self) -> bool {
        matches!(self, Workload::SetGet | Workload::Mixed)
    }

    pub fn incrs(self) -> bool {
        matches!(self, Workload::Incr | Workload::Mixed)
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The pair's `host:port` endpoints (the primary is found with ROLE).
    pub nodes: Vec<String>,
    pub connections: usize,
    pub workload: Workload,
    /// How long the workers run.
    pub duration: Duration,
    /// When to trigger each switchover, from the start of the load.
    pub switch_at: Vec<Duration>,
    /// The command sent to the current primary to switch (split on whitespace).
    pub switch_command: String,
    pub client: ClientMode,
    /// Keys written before the load starts (and checked at the end).
    pub preload: usize,
    /// Distinct keys each worker's SETs cycle through.
    pub keys_per_connection: usize,
    /// Size of the values written.
    pub value_size: usize,
    /// How long an operation may wait for its reply before it counts as a timeout.
    pub op_timeout: Duration,
    /// How long to wait for the pair to be ready before a switchover, and for the
    /// switchover to show in ROLE after it.
    pub settle: Duration,
    /// Prefix of every key written (a fresh one per run by default, so runs never see
    /// each other's keys).
    pub key_prefix: String,
}

impl Options {
    /// Defaults for a pair: 8 connections, mixed load, 10 s, one switchover at 3 s.
    pub fn new(nodes: Vec<String>) -> Self {
        Options {
            nodes,
            connections: 8,
            workload: Workload::Mixed,
            duration: Duration::from_secs(10),
            switch_at: vec![Duration::from_secs(3)],
            switch_command: "FAILOVER TIMEOUT 5000".into(),
            client: ClientMode::Follow,
            preload: 0,
            keys_per_connection: 1000,
            value_size: 32,
            op_timeout: Duration::from_secs(5),
            settle: Duration::from_secs(15),
            key_prefix: default_prefix(),
        }
    }

    /// `every`, `2 * every`, ... `n * every`.
    pub fn every(n: usize, every: Duration) -> Vec<Duration> {
        (1..=n as u32).map(|i| every * i).collect()
    }

    /// Refuses options that cannot make a run.
    pub fn check(&self) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("--nodes needs at least one host:port".into());
        }
        for n in &self.nodes {
            if handoff_protocol::follow::split_endpoint(n).is_none() {
                return Err(format!("--nodes: not a host:port: {n:?}"));
            }
        }
        if self.connections == 0 {
            return Err("--connections must be at least 1".into());
        }
        if self.keys_per_connection == 0 {
            return Err("--keys must be at least 1".into());
        }
        if !self.switch_at.is_empty() && self.switch_command.split_whitespace().next().is_none() {
            return Err("--switch-command is empty".into());
        }
        if let Some(last) = self.switch_at.iter().max() {
            if *last >= self.duration {
                return Err(format!(
                    "a switchover at {:.1} s is not before the end of the load ({:.1} s)",
                    last.as_secs_f64(),
                    self.duration.as_secs_f64()
                ));
            }
        }
        Ok(())
    }
}

/// `pulse:<hex time>`: unique enough between runs against the same pair.
fn default_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("pulse:{:x}", nanos & 0xffff_ffff_ffff)
}
