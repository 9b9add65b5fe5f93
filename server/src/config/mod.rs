//! Server configuration: the typed `Config` the server reads, redis.conf / command-line
//! loading with Redis's exact rules and fatal error texts, and the CONFIG GET / SET /
//! REWRITE support functions. Depends only on std and `log`; owns no sockets or keyspace.

pub mod glob;
mod parse;
mod rewrite;
mod special;
pub mod table;
pub mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use glob::glob_match;
pub use parse::split_args;
use table::{Directive, NamedEnum, DIRECTIVES, IMMUTABLE, PROTECTED};

/// The Redis version handoff reports (INFO, fatal config errors).
pub const REDIS_VERSION: &str = "7.2.4";

/// Client classes with separate output buffer limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClass {
    /// Ordinary clients.
    Normal = 0,
    /// Replicas (also named "slave").
    Replica = 1,
    /// Clients subscribed to channels.
    Pubsub = 2,
}

/// One client-output-buffer-limit class (bytes and seconds; 0 = no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputBufferLimit {
    /// Disconnect as soon as the buffer exceeds this.
    pub hard: u64,
    /// Disconnect when the buffer stays above this for `soft_seconds`.
    pub soft: u64,
    /// See `soft`.
    pub soft_seconds: u64,
}

/// loglevel values (Redis 7.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Much rarely useful info.
    Verbose,
    /// Moderately verbose (default).
    Notice,
    /// Only important messages.
    Warning,
}

/// maxmemory-policy values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    /// volatile-lru
    VolatileLru,
    /// volatile-lfu
    VolatileLfu,
    /// volatile-random
    VolatileRandom,
    /// volatile-ttl
    VolatileTtl,
    /// allkeys-lru
    AllkeysLru,
    /// allkeys-lfu
    AllkeysLfu,
    /// allkeys-random
    AllkeysRandom,
    /// noeviction (default)
    NoEviction,
}

/// no / yes / local, for enable-debug-command and enable-protected-configs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnableMode {
    /// Refused for everyone.
    No,
    /// Allowed for everyone.
    Yes,
    /// Allowed for connections from the local host only.
    Local,
}

macro_rules! named_enum {
    ($ty:ty, [$($v:ident = $n:literal),*]) => {
        impl NamedEnum for $ty {
            const NAMES: &'static [&'static str] = &[$($n),*];
            const ALL: &'static [Self] = &[$(<$ty>::$v),*];
            fn index(self) -> usize {
                Self::ALL.iter().position(|x| *x == self).unwrap_or(0)
            }
        }
    };
}
named_enum!(
    LogLevel,
    [
        Debug = "debug",
        Verbose = "verbose",
        Notice = "notice",
        Warning = "warning"
    ]
);
named_enum!(
    MaxmemoryPolicy,
    [
        VolatileLru = "volatile-lru",
        VolatileLfu = "volatile-lfu",
        VolatileRandom = "volatile-random",
        VolatileTtl = "volatile-ttl",
        AllkeysLru = "allkeys-lru",
        AllkeysLfu = "allkeys-lfu",
        AllkeysRandom = "allkeys-random",
        NoEviction = "noeviction"
    ]
);
named_enum!(EnableMode, [No = "no", Yes = "yes", Local = "local"]);

impl MaxmemoryPolicy {
    /// The redis.conf name of the policy.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .get(self.index())
            .copied()
            .unwrap_or("noeviction")
    }
}

impl LogLevel {
    /// The redis.conf name of the level.
    pub fn name(self) -> &'static str {
        Self::NAMES.get(self.index()).copied().unwrap_or("notice")
    }
}

/// SHUTDOWN's options as a set (`shutdown-on-sigterm`, `shutdown-on-sigint`):
/// `default` (empty) or any of save, nosave, now, force, as Redis's bit flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownFlags(pub u8);

impl ShutdownFlags {
    pub const SAVE: u8 = 1;
    pub const NOSAVE: u8 = 2;
    pub const NOW: u8 = 4;
    pub const FORCE: u8 = 8;
    /// The directive's words with their bits, in Redis's order.
    pub const NAMES: &'static [(&'static str, u8)] = &[
        ("default", 0),
        ("save", Self::SAVE),
        ("nosave", Self::NOSAVE),
        ("now", Self::NOW),
        ("force", Self::FORCE),
    ];

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Parses the directive's words (each one of [`Self::NAMES`]); SAVE with
    /// NOSAVE is refused with Redis's message.
    pub fn parse(words: &[String]) -> Result<Self, String> {
        let names: Vec<&'static str> = Self::NAMES.iter().map(|(n, _)| *n).collect();
        // No word at all (CONFIG SET to "") is refused like an unknown one.
        let empty = [String::new()];
        let words = if words.is_empty() { &empty[..] } else { words };
        let mut bits = 0;
        for w in words {
            let name = values::parse_enum(w, &names)?;
            bits |= Self::NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, b)| *b);
        }
        if bits & Self::SAVE != 0 && bits & Self::NOSAVE != 0 {
            return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
        }
        Ok(ShutdownFlags(bits))
    }

    /// CONFIG GET's text: the set words in Redis's order, `default` for none.
    pub fn text(self) -> String {
        if self.0 == 0 {
            return "default".into();
        }
        Self::NAMES
            .iter()
            .filter(|(_, b)| *b != 0 && self.has(*b))
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The server configuration. Fields are read directly by the server; change them only
/// through `set_many` (CONFIG SET) or loading, so validation always applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Path of the loaded config file (absolute), for CONFIG REWRITE.
    pub config_file: Option<PathBuf>,
    /// Listen addresses; a leading `-` means "skip if unavailable".
    pub bind: Vec<String>,
    /// TCP port; 0 = pick any free port.
    pub port: u16,
    /// listen() backlog.
    pub tcp_backlog: i32,
    /// Unix socket path ("" = none).
    pub unixsocket: String,
    /// Unix socket permissions (octal in the file).
    pub unixsocketperm: u32,
    /// Idle client timeout in seconds (0 = never).
    pub timeout: u64,
    /// TCP keepalive interval in seconds (0 = off).
    pub tcp_keepalive: u64,
    /// Refuse non-loopback clients when no password and no bind are set.
    pub protected_mode: bool,
    /// Maximum simultaneous clients.
    pub maxclients: u64,
    /// Number of logical databases.
    pub databases: usize,
    /// Background task frequency, clamped to 1..=500.
    pub hz: u32,
    /// Scale hz with the number of clients.
    pub dynamic_hz: bool,
    /// Largest bulk string accepted, bytes.
    pub proto_max_bulk_len: u64,
    /// Largest query buffer per client, bytes.
    pub client_query_buffer_limit: u64,
    /// Output buffer limits indexed by `ClientClass as usize`.
    pub client_output_buffer_limit: [OutputBufferLimit; 3],
    /// Log verbosity.
    pub loglevel: LogLevel,
    /// Log file ("" = stdout).
    pub logfile: String,
    /// Pid file ("" = none).
    pub pidfile: String,
    /// Detach from the terminal.
    pub daemonize: bool,
    /// Working directory (absolute), where snapshots go.
    pub dir: String,
    /// Snapshot file name.
    pub dbfilename: String,
    /// Snapshot points: (seconds, changes).
    pub save: Vec<(u64, u64)>,
    /// Password of the default user ("" = none).
    pub requirepass: String,
    /// Memory limit in bytes (0 = none).
    pub maxmemory: u64,
    /// What to do at the memory limit.
    pub maxmemory_policy: MaxmemoryPolicy,
    /// Keys sampled per database for each eviction pick.
    pub maxmemory_samples: u32,
    /// 0..=100: how long one eviction call may run (10 = 500 us, 100 = no limit).
    pub maxmemory_eviction_tenacity: u32,
    /// A replica leaves eviction to its primary (which sends DELs).
    pub replica_ignore_maxmemory: bool,
    /// Free evicted values in the background.
    pub lazyfree_lazy_eviction: bool,
    /// LFU counter growth: the higher, the more hits a counter increment takes.
    pub lfu_log_factor: u32,
    /// Minutes per halving step of an LFU counter (0 = never decays).
    pub lfu_decay_time: u32,
    /// Delay per key while loading an RDB, in microseconds; a negative
    /// value -N sleeps 1 us for one key in N on average (Redis's testing knob).
    pub key_load_delay: i32,
    /// Active expiry effort, 1..=10.
    pub active_expire_effort: u32,
    /// DEL behaves like UNLINK.
    pub lazyfree_lazy_user_del: bool,
    /// FLUSHALL/FLUSHDB default to ASYNC.
    pub lazyfree_lazy_user_flush: bool,
    /// Free expired keys in the background.
    pub lazyfree_lazy_expire: bool,
    /// The cron spends 1 ms per tick moving key index entries of a resize.
    pub activerehashing: bool,
    /// Free implicitly deleted values in the background.
    pub lazyfree_lazy_server_del: bool,
    /// Slowlog threshold in microseconds (-1 = off, 0 = everything).
    pub slowlog_log_slower_than: i64,
    /// Slowlog length.
    pub slowlog_max_len: u64,
    /// Per-command latency histograms.
    pub latency_tracking: bool,
    /// Replicas refuse writes.
    pub replica_read_only: bool,
    /// Primary to replicate from.
    pub replicaof: Option<(String, u16)>,
    /// Password to authenticate to the primary.
    pub masterauth: String,
    /// User to authenticate to the primary.
    pub masteruser: String,
    /// Replication backlog size in bytes.
    pub repl_backlog_size: u64,
    /// Replication timeout in seconds.
    pub repl_timeout: u64,
    /// Maintenance notifications (CLIENT MAINT_NOTIFICATIONS, MOVING pushes).
    pub maint_notifications: bool,
    /// Seconds a MOVING announces (clients' relaxed-timeout window).
    pub maint_moving_ttl: u64,
    /// Longest wait, in ms, for moved connections to drain before the pause.
    pub maint_drain_max: u64,
    /// A moved connection silent this many ms counts as drained.
    pub maint_drain_quiet: u64,
    /// Snapshot children run under SCHED_IDLE (the event loop preempts them;
    /// they starve on a saturated machine, hence off by default).
    pub snapshot_sched_idle: bool,
    /// A node demoted by FAILOVER sends MOVING to late maint connections.
    pub maint_moving_after_demotion: bool,
    /// Connections that asked for endpoint type `none` are moved too (the
    /// address they connect to follows the primary: a VIP or DNS name).
    pub maint_none_endpoint_floats: bool,
    /// Seconds between PINGs to replicas.
    pub repl_ping_replica_period: u64,
    /// Longest wait, in seconds, of a SHUTDOWN for lagging replicas (0 = none).
    pub shutdown_timeout: u64,
    /// What SIGINT's shutdown does (SHUTDOWN's options).
    pub shutdown_on_sigint: ShutdownFlags,
    /// What SIGTERM's shutdown does (SHUTDOWN's options).
    pub shutdown_on_sigterm: ShutdownFlags,
    /// Full sync streams the snapshot without a disk file.
    pub repl_diskless_sync: bool,
    /// Seconds to wait for more replicas before a diskless sync.
    pub repl_diskless_sync_delay: u64,
    /// Refuse writes with fewer good replicas than this (0 = off).
    pub min_replicas_to_write: u64,
    /// A replica is good if its last ack is at most this many seconds old.
    pub min_replicas_max_lag: u64,
    /// LZF-compress strings in snapshots.
    pub rdbcompression: bool,
    /// Write and check the snapshot CRC64.
    pub rdbchecksum: bool,
    /// Append-only file persistence.
    pub appendonly: bool,
    /// Canonical keyspace notification flags ("" = off).
    pub notify_keyspace_events: String,
    /// Hash listpack encoding thresholds.
    pub hash_max_listpack_entries: u64,
    /// See `hash_max_listpack_entries`.
    pub hash_max_listpack_value: u64,
    /// List node size (negative = bytes class, positive = entries).
    pub list_max_listpack_size: i64,
    /// Set intset encoding threshold.
    pub set_max_intset_entries: u64,
    /// Set listpack encoding thresholds (Redis 7.2).
    pub set_max_listpack_entries: u64,
    /// See `set_max_listpack_entries`.
    pub set_max_listpack_value: u64,
    /// Sorted set listpack encoding thresholds.
    pub zset_max_listpack_entries: u64,
    /// See `zset_max_listpack_entries`.
    pub zset_max_listpack_value: u64,
    /// Milliseconds before a busy script gets BUSY replies.
    pub busy_reply_threshold: u64,
    /// Whether DEBUG is allowed.
    pub enable_debug_command: EnableMode,
    /// Whether protected configs (dir, dbfilename) may be changed by CONFIG SET.
    pub enable_protected_configs: EnableMode,
    /// Accepted for compatibility; handoff is single-threaded.
    pub io_threads: u32,
    /// rename-command lines, in order (old name, new name; "" = disabled).
    pub rename_commands: Vec<(String, String)>,
    /// user lines, in order (arguments after `user`).
    pub users: Vec<Vec<String>>,
    /// loadmodule lines, in order (accepted, not loaded).
    pub loadmodules: Vec<Vec<String>>,
    /// Values of accepted-only directives, canonical text by directive name.
    pub other: BTreeMap<&'static str, String>,
}

impl Default for Config {
    fn default() -> Self {
        let lim = |hard: u64, soft: u64, soft_seconds: u64| OutputBufferLimit {
            hard,
            soft,
            soft_seconds,
        };
        Config {
            config_file: None,
            bind: vec!["*".to_string(), "-::*".to_string()],
            port: 6379,
            tcp_backlog: 511,
            unixsocket: String::new(),
            unixsocketperm: 0,
            timeout: 0,
            tcp_keepalive: 300,
            protected_mode: true,
            maxclients: 10000,
            databases: 16,
            hz: 10,
            dynamic_hz: true,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            client_output_buffer_limit: [
                lim(0, 0, 0),
                lim(256 << 20, 64 << 20, 60),
                lim(32 << 20, 8 << 20, 60),
            ],
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            pidfile: String::new(),
            daemonize: false,
            dir: std::env::current_dir()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dbfilename: "dump.rdb".to_string(),
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            requirepass: String::new(),
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            replica_ignore_maxmemory: true,
            lazyfree_lazy_eviction: false,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            key_load_delay: 0,
            active_expire_effort: 1,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            lazyfree_lazy_expire: false,
            activerehashing: true,
            lazyfree_lazy_server_del: false,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_tracking: true,
            replica_read_only: true,
            replicaof: None,
            masterauth: String::new(),
            masteruser: String::new(),
            repl_backlog_size: 1 << 20,
            repl_timeout: 60,
            maint_notifications: true,
            maint_moving_ttl: 15,
            maint_drain_max: 1000,
            maint_drain_quiet: 30,
            snapshot_sched_idle: false,
            maint_moving_after_demotion: true,
            maint_none_endpoint_floats: false,
            repl_ping_replica_period: 10,
            shutdown_timeout: 10,
            shutdown_on_sigint: ShutdownFlags::default(),
            shutdown_on_sigterm: ShutdownFlags::default(),
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            rdbcompression: true,
            rdbchecksum: true,
            appendonly: false,
            notify_keyspace_events: String::new(),
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            list_max_listpack_size: -2,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            busy_reply_threshold: 5000,
            enable_debug_command: EnableMode::No,
            enable_protected_configs: EnableMode::No,
            io_threads: 1,
            rename_commands: Vec::new(),
            users: Vec::new(),
            loadmodules: Vec::new(),
            other: BTreeMap::new(),
        }
    }
}

/// A configuration that cannot be loaded. `fatal_block` gives the text redis-server prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A bad line: 1-based line number in its file, the trimmed line, the reason.
    Directive {
        /// 1-based line number.
        line: usize,
        /// The offending line, trimmed.
        text: String,
        /// Redis's reason text.
        msg: String,
    },
    /// A config file (or include) that cannot be read.
    Open {
        /// The path as given.
        path: String,
        /// strerror-like reason.
        reason: String,
    },
}

impl ConfigError {
    /// The exact text redis-server writes to stderr before exiting with status 1.
    pub fn fatal_block(&self) -> String {
        match self {
            ConfigError::Directive { line, text, msg } => format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                 Reading the configuration file, at line {line}\n>>> '{text}'\n{msg}\n"
            ),
            ConfigError::Open { path, reason } => {
                format!("Fatal error, can't open config file '{path}': {reason}\n")
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.fatal_block().trim())
    }
}

impl std::error::Error for ConfigError {}

/// Loads the configuration from command-line arguments (without argv[0]), exactly as
/// redis-server: `[config-file] [--directive args...]... [-]`. Returns the config and
/// one warning per accepted-only directive set to a non-default value.
pub fn load(args: &[String]) -> Result<(Config, Vec<String>), ConfigError> {
    parse::load_args(args)
}

/// Parses config file text (as if it were a file with no include base) onto the defaults.
pub fn parse_str(text: &str) -> Result<(Config, Vec<String>), ConfigError> {
    let mut cfg = Config::default();
    let warnings = parse::apply_text(&mut cfg, text)?;
    Ok((cfg, warnings))
}

fn has_glob(p: &[u8]) -> bool {
    p.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

impl Config {
    /// `replica-serve-stale-data` (default yes).
    pub fn replica_serve_stale_data(&self) -> bool {
        self.other
            .get("replica-serve-stale-data")
            .is_none_or(|v| v != "no")
    }

    /// `replica-announce-ip`, if set.
    /// The address the link to a primary is made from: `bind-source-addr`,
    /// else the first specific `bind` address (as Redis 6 did), so that a
    /// replica bound to 127.0.0.2 is seen there by its primary (FAILOVER TO
    /// matches replicas by that address).
    pub fn link_source_addr(&self) -> Option<std::net::IpAddr> {
        let explicit = self.other.get("bind-source-addr").filter(|v| !v.is_empty());
        if let Some(a) = explicit {
            return a.parse().ok();
        }
        self.bind
            .first()
            .and_then(|b| b.trim_start_matches('-').parse::<std::net::IpAddr>().ok())
            .filter(|ip| !ip.is_unspecified())
    }

    pub fn replica_announce_ip(&self) -> Option<String> {
        self.other
            .get("replica-announce-ip")
            .filter(|v| !v.is_empty())
            .cloned()
    }

    /// CONFIG GET: every (name, value) matching any pattern, sorted by name, no duplicates.
    /// A pattern without glob characters is an exact (case-insensitive) lookup that also
    /// finds aliases and hidden directives and echoes the name as given, like Redis 7.0.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = BTreeMap::new();
        for pat in patterns {
            if !has_glob(pat) {
                let name = String::from_utf8_lossy(pat).into_owned();
                if let Some(d) = table::lookup(&name) {
                    out.insert(name, (d.get)(self));
                }
                continue;
            }
            for d in DIRECTIVES.iter().filter(|d| !d.has(table::HIDDEN)) {
                for n in std::iter::once(&d.name).chain(d.aliases.iter()) {
                    if glob_match(pat, n.as_bytes(), true) {
                        out.insert(n.to_string(), (d.get)(self));
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// CONFIG SET from a non-local connection; see `set_many_from`.
    pub fn set_many(&mut self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<&'static str>, String> {
        self.set_many_from(pairs, false)
    }

    /// CONFIG SET name value [name value ...]: all or nothing. Returns the canonical names
    /// changed (in argument order) or the full error text to send after "-".
    /// `local_client` allows protected configs when enable-protected-configs is "local".
    pub fn set_many_from(
        &mut self,
        pairs: &[(Vec<u8>, Vec<u8>)],
        local_client: bool,
    ) -> Result<Vec<&'static str>, String> {
        let mut chosen: Vec<(&'static Directive, String, Vec<String>)> = Vec::new();
        let protected_ok = match self.enable_protected_configs {
            EnableMode::Yes => true,
            EnableMode::Local => local_client,
            EnableMode::No => false,
        };
        for (name, value) in pairs {
            let name = String::from_utf8_lossy(name).into_owned();
            let failed = |why: &str| {
                format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
            };
            let d = table::lookup(&name).ok_or_else(|| {
                format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
            })?;
            if d.has(IMMUTABLE) {
                return Err(failed("can't set immutable config"));
            }
            if d.has(PROTECTED) && !protected_ok {
                return Err(failed("can't set protected config"));
            }
            if chosen.iter().any(|(c, _, _)| std::ptr::eq(*c, d)) {
                return Err(failed("duplicate parameter"));
            }
            let value = String::from_utf8_lossy(value).into_owned();
            let args = if d.has(table::MULTI_ARG) {
                if value.is_empty() {
                    Vec::new()
                } else {
                    value.split(' ').map(String::from).collect()
                }
            } else {
                vec![value]
            };
            chosen.push((d, name, args));
        }
        let backup = self.clone();
        for (d, name, args) in &chosen {
            if let Err(e) = (d.set)(self, args) {
                *self = backup;
                return Err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
                ));
            }
            if d.has(table::ACCEPTED_ONLY) {
                log::warn!("{}", parse::accepted_only_warning(d.name));
            }
        }
        Ok(chosen.iter().map(|(d, _, _)| d.name).collect())
    }

    /// CONFIG REWRITE: rewrites `path` keeping its comments and unknown lines, replacing
    /// directives in place and appending new non-default ones after a signature line.
    pub fn rewrite(&self, path: &std::path::Path) -> std::io::Result<()> {
        rewrite::rewrite(self, path)
    }

    /// Whether `name` (or an alias) is a known directive that handoff really implements.
    pub fn is_implemented(name: &str) -> Option<bool> {
        table::lookup(name).map(|d| !d.has(table::ACCEPTED_ONLY))
    }
}

#[cfg(test)]
mod tests;
