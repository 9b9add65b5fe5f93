//! The `handoff-server` command line: `handoff-server [/path/to/redis.conf]
//! [--directive value ...]` like redis-server, startup logging, pidfile,
//! signals, and running the loop until shutdown.

use clap::Parser;

use crate::config::{self, REDIS_VERSION};
use crate::embed::build_event_loop;
use crate::logging;

/// A Redis-compatible server built for seamless switchover.
#[derive(Parser, Debug)]
#[command(
    name = "handoff-server",
    version,
    about,
    disable_help_subcommand = true
)]
#[command(
    override_usage = "handoff-server [/path/to/redis.conf] [options] [-]\n       handoff-server - (read config from stdin)\n       handoff-server --port 7777\n       handoff-server /etc/redis/6379.conf --loglevel verbose"
)]
struct Args {
    /// A redis.conf file, then `--directive value...` pairs as in redis.conf.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    config: Vec<String>,
}

/// Entry point of the `handoff-server` binary. Returns the exit code.
pub fn main() -> i32 {
    let args = Args::parse();
    let (cfg, warnings) = match config::load(&args.config) {
        Ok(v) => v,
        Err(e) => {
            eprint!("{}", e.fatal_block());
            return 1;
        }
    };
    if let Err(e) = logging::init(cfg.loglevel.name(), &cfg.logfile) {
        eprintln!("Can't open the log file: {e}");
        return 1;
    }
    let pid = std::process::id();
    log::info!("oO0OoO0OoO0Oo handoff is starting oO0OoO0OoO0Oo");
    log::info!(
        "handoff version={}, redis_version={}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        REDIS_VERSION,
        pid
    );
    match &cfg.config_file {
        Some(_) => log::info!("Configuration loaded"),
        None => log::warn!(
            "Warning: no config file specified, using the default config. In order to specify a config file use handoff-server /path/to/redis.conf"
        ),
    }
    for w in warnings {
        log::warn!("{w}");
    }
    // The signal handler writes its own lines (Redis's signal-handler
    // format) to the log file, opened by path each time: a relative path
    // is made absolute before the chdir below changes what it means.
    let signal_logfile = match cfg.logfile.as_str() {
        "" => String::new(),
        f => std::path::absolute(f).map_or_else(|_| f.to_string(), |p| p.display().to_string()),
    };
    // Like redis-server, the binary works in `dir` (snapshots and relative
    // paths live there). Embedded servers leave the host's directory alone.
    if let Err(e) = std::env::set_current_dir(&cfg.dir) {
        log::warn!("Can't chdir to '{}': {e}", cfg.dir);
        return 1;
    }
    if cfg.daemonize {
        log::warn!(
            "daemonize yes is not supported: running in the foreground (use a service manager)."
        );
    }
    crate::signals::install(&signal_logfile);
    let port = cfg.port;
    let unixsocket = cfg.unixsocket.clone();
    let pidfile = cfg.pidfile.clone();
    let mut ev = match build_event_loop(cfg) {
        Ok(ev) => ev,
        Err(e) => {
            log::warn!("Warning: {e}");
            log::warn!("Failed listening on port {port} (tcp), aborting.");
            return 1;
        }
    };
    print_banner(ev.server.port(), pid);
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{pid}\n")) {
            log::warn!("Failed to write PID file: {e}");
        }
    }
    log::info!("Server initialized");
    // The error ("Fatal error loading the DB ...") is logged by the loader.
    if crate::persist::load_at_startup(&mut ev.server).is_err() {
        return 1;
    }
    log::info!("Ready to accept connections tcp");
    if !unixsocket.is_empty() {
        log::info!("Ready to accept connections unix");
    }
    ev.signal_check = Some(crate::signals::take_pending);
    match ev.run() {
        Ok(()) => 0,
        Err(e) => {
            log::warn!("Event loop failed: {e}");
            1
        }
    }
}

fn print_banner(port: u16, pid: u32) {
    log::info!(
        "handoff {} (Redis {} compatible), standalone mode, Port: {}, PID: {}",
        env!("CARGO_PKG_VERSION"),
        REDIS_VERSION,
        port,
        pid
    );
}
