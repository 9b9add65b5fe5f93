//! The `handoff-pulse` command line: turns arguments into [`Options`], runs the probe and
//! prints the table or JSON. Argument checks that need more than clap live in
//! [`Options::check`], so the library and the binary refuse the same things.

use std::time::Duration;

use clap::Parser;

use super::options::{ClientMode, Options, Workload};

/// Probe a Redis-protocol primary/replica pair through switchovers.
#[derive(Debug, Parser)]
#[command(
    name = "handoff-pulse",
    version,
    about = "Runs a workload against a primary/replica pair (handoff, Redis, Valkey), triggers \
             switchovers on the current primary, and reports errors, latency, the unavailable \
             window of each switchover and whether every acknowledged write survived."
)]
pub struct Args {
    /// The pair, as host:port,host:port (the primary is found with ROLE).
    #[arg(long, value_delimiter = ',', required = true)]
    pub nodes: Vec<String>,
    /// Load connections, one thread each.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// setget (SET then GET), incr (INCR) or mixed (SET, GET, INCR).
    #[arg(long, default_value = "mixed")]
    pub workload: String,
    /// Seconds of load (default: 5 s after the last switchover, or 10 s).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Seconds after the start at which to switch, e.g. 3 or 2,5.5.
    #[arg(long, value_delimiter = ',', conflicts_with = "switchovers")]
    pub switch_at: Vec<f64>,
    /// Number of switchovers, one every --every seconds (default 1 when --switch-at is
    /// not given; 0 for a baseline run).
    #[arg(long)]
    pub switchovers: Option<usize>,
    /// Seconds between switchovers (with --switchovers).
    #[arg(long, default_value_t = 3.0)]
    pub every: f64,
    /// The command sent to the current primary to switch.
    #[arg(long, default_value = "FAILOVER TIMEOUT 5000")]
    pub switch_command: String,
    /// plain (no capability; rediscover with ROLE after READONLY or a dropped
    /// connection), redirect (CLIENT CAPA redirect) or follow (redirect + RESP3 MOVING).
    #[arg(long, default_value = "follow")]
    pub client: String,
    /// Keys written before the load starts and checked at the end.
    #[arg(long, default_value_t = 0)]
    pub preload: usize,
    /// Distinct keys per connection for the SETs.
    #[arg(long, default_value_t = 1000)]
    pub keys: usize,
    /// Bytes per written value.
    #[arg(long, default_value_t = 32)]
    pub value_size: usize,
    /// Milliseconds an operation may wait for its reply.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Seconds to wait for the pair to be ready, and for roles to swap after a switch.
    #[arg(long, default_value_t = 15.0)]
    pub settle: f64,
    /// Prefix of the keys written (default: pulse:<hex time>, fresh per run).
    #[arg(long)]
    pub key_prefix: Option<String>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

fn secs(name: &str, v: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v).map_err(|_| format!("{name}: not a number of seconds: {v}"))
}

impl Args {
    /// The run these arguments describe.
    pub fn options(&self) -> Result<Options, String> {
        let mut o = Options::new(self.nodes.iter().map(|n| n.trim().to_string()).collect());
        o.connections = self.connections;
        o.workload = Workload::parse(&self.workload).ok_or_else(|| {
            format!(
                "--workload: expected setget, incr or mixed, got {:?}",
                self.workload
            )
        })?;
        o.client = ClientMode::parse(&self.client).ok_or_else(|| {
            format!(
                "--client: expected plain, redirect or follow, got {:?}",
                self.client
            )
        })?;
        o.switch_at = if self.switch_at.is_empty() {
            Options::every(self.switchovers.unwrap_or(1), secs("--every", self.every)?)
        } else {
            self.switch_at
                .iter()
                .map(|&s| secs("--switch-at", s))
                .collect::<Result<_, _>>()?
        };
        o.duration = match self.duration {
            Some(d) => secs("--duration", d)?,
            None => o
                .switch_at
                .iter()
                .max()
                .map(|last| *last + Duration::from_secs(5))
                .unwrap_or(Duration::from_secs(10)),
        };
        o.switch_command = self.switch_command.clone();
        o.preload = self.preload;
        o.keys_per_connection = self.keys;
        o.value_size = self.value_size;
        o.op_timeout = Duration::from_millis(self.timeout_ms.max(1));
        o.settle = secs("--settle", self.settle)?;
        if let Some(p) = &self.key_prefix {
            o.key_prefix = p.clone();
        }
        o.check()?;
        Ok(o)
    }
}

/// The binary's main: 0 when the run completed, 1 when it could not run.
pub fn main() -> i32 {
    let args = Args::parse();
    let opts = match args.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("handoff-pulse: {e}");
            return 2;
        }
    };
    match super::run(&opts) {
        Ok(report) => {
            if args.json {
                println!("{:#}", report.to_json());
            } else {
                print!("{}", report.to_table());
            }
            0
        }
        Err(e) => {
            eprintln!("handoff-pulse: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        let mut all = vec!["handoff-pulse"];
        all.extend_from_slice(args);
        Args::try_parse_from(all)
            .map_err(|e| e.to_string())?
            .options()
    }

    #[test]
    fn switchovers_every_n_seconds_end_five_seconds_after_the_last() {
        let o = parse(&[
            "--nodes",
            "127.0.0.1:1,::1:2",
            "--switchovers",
            "3",
            "--every",
            "2",
        ])
        .unwrap();
        assert_eq!(o.nodes, ["127.0.0.1:1", "::1:2"]);
        assert_eq!(o.switch_at, [2, 4, 6].map(Duration::from_secs).to_vec());
        assert_eq!(o.duration, Duration::from_secs(11));
        assert_eq!(o.client, ClientMode::Follow);
        assert_eq!(o.switch_command, "FAILOVER TIMEOUT 5000");
    }

    #[test]
    fn switch_at_takes_a_list_of_fractional_seconds() {
        let o = parse(&[
            "--nodes",
            "a:1,b:2",
            "--switch-at",
            "1.5,3",
            "--duration",
            "4",
            "--client",
            "plain",
            "--workload",
            "incr",
        ])
        .unwrap();
        assert_eq!(
            o.switch_at,
            [Duration::from_millis(1500), Duration::from_secs(3)]
        );
        assert_eq!(o.workload, Workload::Incr);
        assert_eq!(o.client, ClientMode::Plain);
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        assert!(parse(&["--nodes", "a"]).unwrap_err().contains("host:port"));
        assert!(parse(&["--nodes", "a:1", "--client", "magic"]).is_err());
        assert!(parse(&["--nodes", "a:1", "--switch-at", "-1"]).is_err());
        assert!(parse(&["--nodes", "a:1", "--switch-at", "9", "--duration", "5"]).is_err());
        assert!(parse(&["--nodes", "a:1", "--switch-at", "1", "--switchovers", "2"]).is_err());
        assert!(parse(&["--nodes", "a:1", "--switchovers", "0"])
            .unwrap()
            .switch_at
            .is_empty());
    }
}
