//! The directive table: every directive Redis 7.0 accepts (plus the 7.2 set-max-listpack-*),
//! with aliases, flags, canonical default text, and get/set functions. Typed directives read
//! and write a `Config` field; the rest are validated by kind and kept as canonical strings
//! in `Config::other`. File-only directives (include, rename-command, user, loadmodule,
//! sentinel, ...) live in `parse.rs`, not here.

use super::special::*;
use super::values::*;
use super::{Config, EnableMode, LogLevel, MaxmemoryPolicy, ShutdownFlags};

/// Reads a directive's current value as CONFIG GET shows it.
pub type Getter = fn(&Config) -> String;
/// Validates and stores a directive's arguments.
pub type Setter = fn(&mut Config, &[String]) -> Result<(), String>;

/// CONFIG SET refuses it ("can't set immutable config").
pub const IMMUTABLE: u8 = 1;
/// CONFIG SET refuses it unless enable-protected-configs allows it.
pub const PROTECTED: u8 = 2;
/// Holds a secret (must be redacted in logs).
pub const SENSITIVE: u8 = 4;
/// Accepted for compatibility; handoff ignores its value.
pub const ACCEPTED_ONLY: u8 = 8;
/// Not listed by CONFIG GET patterns, only by its exact name.
pub const HIDDEN: u8 = 16;
/// Takes several arguments in a file; CONFIG SET splits its value on spaces.
pub const MULTI_ARG: u8 = 32;

/// What a directive's value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// yes/no
    Bool,
    /// Integer within an inclusive range.
    Int(i64, i64),
    /// Memory value (k, kb, m, mb, g, gb) within an inclusive byte range.
    Memory(u64, u64),
    /// One of a fixed list of names.
    Enum(&'static [&'static str]),
    /// Free text.
    Str,
    /// Own syntax (see `special.rs`).
    Special,
}

/// One configuration directive.
pub struct Directive {
    /// Canonical name.
    pub name: &'static str,
    /// Other accepted names (listed by CONFIG GET like Redis 7.0 does).
    pub aliases: &'static [&'static str],
    /// IMMUTABLE | PROTECTED | SENSITIVE | ACCEPTED_ONLY | HIDDEN | MULTI_ARG.
    pub flags: u8,
    /// Value type.
    pub kind: Kind,
    /// Default, in the canonical form CONFIG GET prints.
    pub default: &'static str,
    /// Current value as text.
    pub get: Getter,
    /// Validate and store.
    pub set: Setter,
}

impl Directive {
    /// Whether `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Returns the single argument of a non multi-arg directive.
pub fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [a] => Ok(a),
        _ => Err("wrong number of arguments".to_string()),
    }
}

fn other_get(c: &Config, name: &'static str, default: &'static str) -> String {
    c.other
        .get(name)
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn other_set(
    c: &mut Config,
    name: &'static str,
    kind: Kind,
    args: &[String],
) -> Result<(), String> {
    let v = match kind {
        Kind::Bool => fmt_bool(parse_bool(one(args)?)?),
        Kind::Int(lo, hi) => parse_int_range(one(args)?, lo, hi)?.to_string(),
        Kind::Memory(lo, hi) => parse_memory_range(one(args)?, lo, hi)?.to_string(),
        Kind::Enum(names) => parse_enum(one(args)?, names)?.to_string(),
        Kind::Str => one(args)?.to_string(),
        Kind::Special => match name {
            "oom-score-adj-values" => parse_oom_values(args)?,
            "latency-tracking-info-percentiles" => parse_percentiles(args)?,
            "maxmemory-clients" => parse_memory_or_percent(one(args)?)?,
            _ => one(args)?.to_string(),
        },
    };
    c.other.insert(name, v);
    Ok(())
}

/// Enum types stored in typed fields.
pub trait NamedEnum: Sized + Copy + 'static {
    /// Names in the order Redis lists them in its error message.
    const NAMES: &'static [&'static str];
    /// Variants, parallel to NAMES.
    const ALL: &'static [Self];
    /// Index of self in ALL.
    fn index(self) -> usize;
}

fn enum_get<E: NamedEnum>(e: E) -> String {
    E::NAMES.get(e.index()).copied().unwrap_or("").to_string()
}

fn enum_set<E: NamedEnum>(args: &[String]) -> Result<E, String> {
    let name = parse_enum(one(args)?, E::NAMES)?;
    let i = E::NAMES.iter().position(|n| *n == name).unwrap_or(0);
    E::ALL.get(i).copied().ok_or_else(|| "bad enum".to_string())
}

macro_rules! d {
    ($name:literal, [$($al:literal),*], $flags:expr, $kind:expr, $def:literal, $get:expr, $set:expr) => {
        Directive { name: $name, aliases: &[$($al),*], flags: $flags, kind: $kind, default: $def, get: $get, set: $set }
    };
}
macro_rules! boolf {
    ($name:literal, [$($al:literal),*], $flags:expr, $f:ident, $def:literal) => {
        d!($name, [$($al),*], $flags, Kind::Bool, $def,
           |c: &Config| fmt_bool(c.$f),
           |c: &mut Config, a: &[String]| { c.$f = parse_bool(one(a)?)?; Ok(()) })
    };
}
macro_rules! intf {
    ($name:literal, [$($al:literal),*], $flags:expr, $f:ident, $lo:expr, $hi:expr, $def:literal) => {
        d!($name, [$($al),*], $flags, Kind::Int($lo, $hi), $def,
           |c: &Config| c.$f.to_string(),
           |c: &mut Config, a: &[String]| {
               let v = parse_int_range(one(a)?, $lo, $hi)?;
               c.$f = v.try_into().map_err(|_| ERR_INT.to_string())?;
               Ok(())
           })
    };
}
macro_rules! memf {
    ($name:literal, [$($al:literal),*], $flags:expr, $f:ident, $lo:expr, $hi:expr, $def:literal) => {
        d!($name, [$($al),*], $flags, Kind::Memory($lo, $hi), $def,
           |c: &Config| c.$f.to_string(),
           |c: &mut Config, a: &[String]| { c.$f = parse_memory_range(one(a)?, $lo, $hi)?; Ok(()) })
    };
}
macro_rules! strf {
    ($name:literal, [$($al:literal),*], $flags:expr, $f:ident, $def:literal) => {
        d!($name, [$($al),*], $flags, Kind::Str, $def,
           |c: &Config| c.$f.clone(),
           |c: &mut Config, a: &[String]| { c.$f = one(a)?.to_string(); Ok(()) })
    };
}
macro_rules! enumf {
    ($name:literal, [$($al:literal),*], $flags:expr, $f:ident, $ty:ty, $def:literal) => {
        d!($name, [$($al),*], $flags, Kind::Enum(<$ty as NamedEnum>::NAMES), $def,
           |c: &Config| enum_get(c.$f),
           |c: &mut Config, a: &[String]| { c.$f = enum_set::<$ty>(a)?; Ok(()) })
    };
}
macro_rules! other {
    ($name:literal, [$($al:literal),*], $flags:expr, $kind:expr, $def:literal) => {
        d!($name, [$($al),*], ACCEPTED_ONLY | $flags, $kind, $def,
           |c: &Config| other_get(c, $name, $def),
           |c: &mut Config, a: &[String]| other_set(c, $name, $kind, a))
    };
}

const I32: i64 = i32::MAX as i64;
const I64: i64 = i64::MAX;
const M64: u64 = i64::MAX as u64;
const MB: u64 = 1024 * 1024;
const NOYESLOCAL: &[&str] = &["no", "yes", "local"];
const SHUTDOWN: &[&str] = &["default", "save", "nosave", "now", "force"];

/// `shutdown-on-sig*`: several of SHUTDOWN's words, kept as flags.
macro_rules! shutdownf {
    ($name:literal, $f:ident) => {
        d!(
            $name,
            [],
            MULTI_ARG,
            Kind::Enum(SHUTDOWN),
            "default",
            |c: &Config| c.$f.text(),
            |c: &mut Config, a: &[String]| {
                c.$f = ShutdownFlags::parse(a)?;
                Ok(())
            }
        )
    };
}

/// Every directive, sorted by canonical name.
pub static DIRECTIVES: &[Directive] = &[
    other!(
        "acl-pubsub-default",
        [],
        0,
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels"
    ),
    other!("aclfile", [], IMMUTABLE, Kind::Str, ""),
    other!("acllog-max-len", [], 0, Kind::Int(0, I64), "128"),
    other!("active-defrag-cycle-max", [], 0, Kind::Int(1, 99), "25"),
    other!("active-defrag-cycle-min", [], 0, Kind::Int(1, 99), "1"),
    other!(
        "active-defrag-ignore-bytes",
        [],
        0,
        Kind::Memory(1, M64),
        "104857600"
    ),
    other!(
        "active-defrag-max-scan-fields",
        [],
        0,
        Kind::Int(1, I64),
        "1000"
    ),
    other!(
        "active-defrag-threshold-lower",
        [],
        0,
        Kind::Int(0, 1000),
        "10"
    ),
    other!(
        "active-defrag-threshold-upper",
        [],
        0,
        Kind::Int(0, 1000),
        "100"
    ),
    intf!(
        "active-expire-effort",
        [],
        0,
        active_expire_effort,
        1,
        10,
        "1"
    ),
    other!("activedefrag", [], 0, Kind::Bool, "no"),
    boolf!("activerehashing", [], 0, activerehashing, "yes"),
    other!("always-show-logo", [], IMMUTABLE, Kind::Bool, "no"),
    other!("aof-disable-auto-gc", [], 0, Kind::Bool, "no"),
    other!("aof-load-truncated", [], 0, Kind::Bool, "yes"),
    other!("aof-rewrite-incremental-fsync", [], 0, Kind::Bool, "yes"),
    other!("aof-timestamp-enabled", [], 0, Kind::Bool, "no"),
    other!("aof-use-rdb-preamble", [], 0, Kind::Bool, "yes"),
    other!("aof_rewrite_cpulist", [], IMMUTABLE, Kind::Str, ""),
    other!("appenddirname", [], IMMUTABLE, Kind::Str, "appendonlydir"),
    other!("appendfilename", [], IMMUTABLE, Kind::Str, "appendonly.aof"),
    other!(
        "appendfsync",
        [],
        0,
        Kind::Enum(&["everysec", "always", "no"]),
        "everysec"
    ),
    boolf!("appendonly", [], 0, appendonly, "no"),
    other!(
        "auto-aof-rewrite-min-size",
        [],
        0,
        Kind::Memory(0, M64),
        "67108864"
    ),
    other!(
        "auto-aof-rewrite-percentage",
        [],
        0,
        Kind::Int(0, I32),
        "100"
    ),
    other!("bgsave_cpulist", [], IMMUTABLE, Kind::Str, ""),
    d!(
        "bind",
        [],
        MULTI_ARG,
        Kind::Special,
        "* -::*",
        |c: &Config| c.bind.join(" "),
        |c: &mut Config, a: &[String]| {
            c.bind = parse_bind(a)?;
            Ok(())
        }
    ),
    other!("bind-source-addr", [], 0, Kind::Str, ""),
    other!("bio_cpulist", [], IMMUTABLE, Kind::Str, ""),
    intf!(
        "busy-reply-threshold",
        ["lua-time-limit"],
        0,
        busy_reply_threshold,
        0,
        I64,
        "5000"
    ),
    d!(
        "client-output-buffer-limit",
        [],
        MULTI_ARG,
        Kind::Special,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        |c: &Config| fmt_output_buffer_limits(&c.client_output_buffer_limit),
        |c: &mut Config, a: &[String]| {
            for (class, limit) in parse_output_buffer_limits(a)? {
                c.client_output_buffer_limit[class as usize] = limit;
            }
            Ok(())
        }
    ),
    memf!(
        "client-query-buffer-limit",
        [],
        0,
        client_query_buffer_limit,
        MB,
        M64,
        "1073741824"
    ),
    other!(
        "cluster-allow-pubsubshard-when-down",
        [],
        0,
        Kind::Bool,
        "yes"
    ),
    other!("cluster-allow-reads-when-down", [], 0, Kind::Bool, "no"),
    other!("cluster-allow-replica-migration", [], 0, Kind::Bool, "yes"),
    other!("cluster-announce-bus-port", [], 0, Kind::Int(0, 65535), "0"),
    other!("cluster-announce-hostname", [], 0, Kind::Str, ""),
    other!("cluster-announce-ip", [], 0, Kind::Str, ""),
    other!("cluster-announce-port", [], 0, Kind::Int(0, 65535), "0"),
    other!("cluster-announce-tls-port", [], 0, Kind::Int(0, 65535), "0"),
    other!(
        "cluster-config-file",
        [],
        IMMUTABLE,
        Kind::Str,
        "nodes.conf"
    ),
    other!("cluster-enabled", [], IMMUTABLE, Kind::Bool, "no"),
    other!(
        "cluster-link-sendbuf-limit",
        [],
        0,
        Kind::Memory(0, M64),
        "0"
    ),
    other!("cluster-migration-barrier", [], 0, Kind::Int(0, I32), "1"),
    other!("cluster-node-timeout", [], 0, Kind::Int(0, I64), "15000"),
    other!("cluster-port", [], IMMUTABLE, Kind::Int(0, 65535), "0"),
    other!(
        "cluster-preferred-endpoint-type",
        [],
        0,
        Kind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip"
    ),
    other!(
        "cluster-replica-no-failover",
        ["cluster-slave-no-failover"],
        0,
        Kind::Bool,
        "no"
    ),
    other!(
        "cluster-replica-validity-factor",
        ["cluster-slave-validity-factor"],
        0,
        Kind::Int(0, I32),
        "10"
    ),
    other!("cluster-require-full-coverage", [], 0, Kind::Bool, "yes"),
    other!("crash-log-enabled", [], 0, Kind::Bool, "yes"),
    other!("crash-memcheck-enabled", [], 0, Kind::Bool, "yes"),
    boolf!("daemonize", [], IMMUTABLE, daemonize, "no"),
    intf!("databases", [], IMMUTABLE, databases, 1, I32, "16"),
    strf!("dbfilename", [], PROTECTED, dbfilename, "dump.rdb"),
    d!(
        "dir",
        [],
        PROTECTED,
        Kind::Special,
        "",
        |c: &Config| c.dir.clone(),
        |c: &mut Config, a: &[String]| {
            c.dir = parse_dir(one(a)?)?;
            Ok(())
        }
    ),
    other!("disable-thp", [], IMMUTABLE, Kind::Bool, "yes"),
    boolf!("dynamic-hz", [], 0, dynamic_hz, "yes"),
    enumf!(
        "enable-debug-command",
        [],
        IMMUTABLE,
        enable_debug_command,
        EnableMode,
        "no"
    ),
    other!(
        "enable-module-command",
        [],
        IMMUTABLE,
        Kind::Enum(NOYESLOCAL),
        "no"
    ),
    enumf!(
        "enable-protected-configs",
        [],
        IMMUTABLE,
        enable_protected_configs,
        EnableMode,
        "no"
    ),
    intf!(
        "hash-max-listpack-entries",
        ["hash-max-ziplist-entries"],
        0,
        hash_max_listpack_entries,
        0,
        I64,
        "512"
    ),
    memf!(
        "hash-max-listpack-value",
        ["hash-max-ziplist-value"],
        0,
        hash_max_listpack_value,
        0,
        M64,
        "64"
    ),
    other!("hll-sparse-max-bytes", [], 0, Kind::Memory(0, M64), "3000"),
    d!(
        "hz",
        [],
        0,
        Kind::Int(0, I32),
        "10",
        |c: &Config| c.hz.to_string(),
        |c: &mut Config, a: &[String]| {
            c.hz = parse_int_range(one(a)?, 0, I32)?.clamp(1, 500) as u32;
            Ok(())
        }
    ),
    other!("ignore-warnings", [], 0, Kind::Str, ""),
    intf!(
        "io-threads",
        [],
        IMMUTABLE | ACCEPTED_ONLY,
        io_threads,
        1,
        128,
        "1"
    ),
    other!("io-threads-do-reads", [], IMMUTABLE, Kind::Bool, "no"),
    other!("jemalloc-bg-thread", [], 0, Kind::Bool, "yes"),
    intf!(
        "key-load-delay",
        [],
        HIDDEN,
        key_load_delay,
        i32::MIN as i64,
        I32,
        "0"
    ),
    other!("latency-monitor-threshold", [], 0, Kind::Int(0, I64), "0"),
    boolf!("latency-tracking", [], 0, latency_tracking, "yes"),
    other!(
        "latency-tracking-info-percentiles",
        [],
        MULTI_ARG,
        Kind::Special,
        "50 99 99.9"
    ),
    boolf!(
        "lazyfree-lazy-eviction",
        [],
        0,
        lazyfree_lazy_eviction,
        "no"
    ),
    boolf!("lazyfree-lazy-expire", [], 0, lazyfree_lazy_expire, "no"),
    boolf!(
        "lazyfree-lazy-server-del",
        [],
        0,
        lazyfree_lazy_server_del,
        "no"
    ),
    boolf!(
        "lazyfree-lazy-user-del",
        [],
        0,
        lazyfree_lazy_user_del,
        "no"
    ),
    boolf!(
        "lazyfree-lazy-user-flush",
        [],
        0,
        lazyfree_lazy_user_flush,
        "no"
    ),
    intf!("lfu-decay-time", [], 0, lfu_decay_time, 0, I32, "1"),
    intf!("lfu-log-factor", [], 0, lfu_log_factor, 0, I32, "10"),
    other!("list-compress-depth", [], 0, Kind::Int(0, I32), "0"),
    intf!(
        "list-max-listpack-size",
        ["list-max-ziplist-size"],
        0,
        list_max_listpack_size,
        i32::MIN as i64,
        I32,
        "-2"
    ),
    other!(
        "loading-process-events-interval-bytes",
        [],
        HIDDEN,
        Kind::Int(1024, I32),
        "2097152"
    ),
    strf!("logfile", [], IMMUTABLE, logfile, ""),
    enumf!("loglevel", [], 0, loglevel, LogLevel, "notice"),
    intf!("maint-drain-max", [], 0, maint_drain_max, 0, I32, "1000"),
    intf!("maint-drain-quiet", [], 0, maint_drain_quiet, 1, I32, "30"),
    boolf!(
        "maint-moving-after-demotion",
        [],
        0,
        maint_moving_after_demotion,
        "yes"
    ),
    intf!("maint-moving-ttl", [], 0, maint_moving_ttl, 1, I32, "15"),
    boolf!(
        "maint-none-endpoint-floats",
        [],
        0,
        maint_none_endpoint_floats,
        "no"
    ),
    boolf!("maint-notifications", [], 0, maint_notifications, "yes"),
    strf!("masterauth", [], SENSITIVE, masterauth, ""),
    strf!("masteruser", [], 0, masteruser, ""),
    intf!("maxclients", [], 0, maxclients, 1, u32::MAX as i64, "10000"),
    memf!("maxmemory", [], 0, maxmemory, 0, u64::MAX, "0"),
    other!("maxmemory-clients", [], 0, Kind::Special, "0"),
    intf!(
        "maxmemory-eviction-tenacity",
        [],
        0,
        maxmemory_eviction_tenacity,
        0,
        100,
        "10"
    ),
    enumf!(
        "maxmemory-policy",
        [],
        0,
        maxmemory_policy,
        MaxmemoryPolicy,
        "noeviction"
    ),
    intf!("maxmemory-samples", [], 0, maxmemory_samples, 1, I32, "5"),
    intf!(
        "min-replicas-max-lag",
        ["min-slaves-max-lag"],
        0,
        min_replicas_max_lag,
        0,
        I32,
        "10"
    ),
    intf!(
        "min-replicas-to-write",
        ["min-slaves-to-write"],
        0,
        min_replicas_to_write,
        0,
        I32,
        "0"
    ),
    other!("no-appendfsync-on-rewrite", [], 0, Kind::Bool, "no"),
    d!(
        "notify-keyspace-events",
        [],
        0,
        Kind::Special,
        "",
        |c: &Config| c.notify_keyspace_events.clone(),
        |c: &mut Config, a: &[String]| {
            c.notify_keyspace_events = parse_notify(one(a)?)?;
            Ok(())
        }
    ),
    other!(
        "oom-score-adj",
        [],
        0,
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no"
    ),
    other!(
        "oom-score-adj-values",
        [],
        MULTI_ARG,
        Kind::Special,
        "0 200 800"
    ),
    strf!("pidfile", [], IMMUTABLE, pidfile, ""),
    intf!("port", [], 0, port, 0, 65535, "6379"),
    other!(
        "proc-title-template",
        [],
        0,
        Kind::Str,
        "{title} {listen-addr} {server-mode}"
    ),
    other!(
        "propagation-error-behavior",
        [],
        0,
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore"
    ),
    boolf!("protected-mode", [], 0, protected_mode, "yes"),
    memf!(
        "proto-max-bulk-len",
        [],
        0,
        proto_max_bulk_len,
        MB,
        M64,
        "536870912"
    ),
    other!("rdb-del-sync-files", [], 0, Kind::Bool, "no"),
    other!(
        "rdb-key-save-delay",
        [],
        HIDDEN,
        Kind::Int(i32::MIN as i64, I32),
        "0"
    ),
    other!("rdb-save-incremental-fsync", [], 0, Kind::Bool, "yes"),
    boolf!("rdbchecksum", [], IMMUTABLE, rdbchecksum, "yes"),
    boolf!("rdbcompression", [], 0, rdbcompression, "yes"),
    memf!(
        "repl-backlog-size",
        [],
        0,
        repl_backlog_size,
        1,
        M64,
        "1048576"
    ),
    other!("repl-backlog-ttl", [], 0, Kind::Int(0, I64), "3600"),
    other!("repl-disable-tcp-nodelay", [], 0, Kind::Bool, "no"),
    other!(
        "repl-diskless-load",
        [],
        0,
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled"
    ),
    boolf!("repl-diskless-sync", [], 0, repl_diskless_sync, "yes"),
    intf!(
        "repl-diskless-sync-delay",
        [],
        0,
        repl_diskless_sync_delay,
        0,
        I32,
        "5"
    ),
    other!(
        "repl-diskless-sync-max-replicas",
        [],
        0,
        Kind::Int(0, I32),
        "0"
    ),
    intf!(
        "repl-ping-replica-period",
        ["repl-ping-slave-period"],
        0,
        repl_ping_replica_period,
        1,
        I32,
        "10"
    ),
    intf!("repl-timeout", [], 0, repl_timeout, 1, I32, "60"),
    d!(
        "replica-announce-ip",
        ["slave-announce-ip"],
        0,
        Kind::Str,
        "",
        |c: &Config| other_get(c, "replica-announce-ip", ""),
        |c: &mut Config, a: &[String]| other_set(c, "replica-announce-ip", Kind::Str, a)
    ),
    other!(
        "replica-announce-port",
        ["slave-announce-port"],
        0,
        Kind::Int(0, 65535),
        "0"
    ),
    other!("replica-announced", [], 0, Kind::Bool, "yes"),
    other!("replica-ignore-disk-write-errors", [], 0, Kind::Bool, "no"),
    boolf!(
        "replica-ignore-maxmemory",
        ["slave-ignore-maxmemory"],
        0,
        replica_ignore_maxmemory,
        "yes"
    ),
    other!(
        "replica-lazy-flush",
        ["slave-lazy-flush"],
        0,
        Kind::Bool,
        "no"
    ),
    other!(
        "replica-priority",
        ["slave-priority"],
        0,
        Kind::Int(0, I32),
        "100"
    ),
    boolf!(
        "replica-read-only",
        ["slave-read-only"],
        0,
        replica_read_only,
        "yes"
    ),
    d!(
        "replica-serve-stale-data",
        ["slave-serve-stale-data"],
        0,
        Kind::Bool,
        "yes",
        |c: &Config| other_get(c, "replica-serve-stale-data", "yes"),
        |c: &mut Config, a: &[String]| other_set(c, "replica-serve-stale-data", Kind::Bool, a)
    ),
    d!(
        "replicaof",
        ["slaveof"],
        IMMUTABLE | MULTI_ARG,
        Kind::Special,
        "",
        |c: &Config| c
            .replicaof
            .as_ref()
            .map(|(h, p)| format!("{h} {p}"))
            .unwrap_or_default(),
        |c: &mut Config, a: &[String]| {
            c.replicaof = parse_replicaof(a)?;
            Ok(())
        }
    ),
    strf!("requirepass", [], SENSITIVE, requirepass, ""),
    other!(
        "sanitize-dump-payload",
        [],
        0,
        Kind::Enum(&["no", "yes", "clients"]),
        "no"
    ),
    d!(
        "save",
        [],
        MULTI_ARG,
        Kind::Special,
        "3600 1 300 100 60 10000",
        |c: &Config| fmt_save(&c.save),
        |c: &mut Config, a: &[String]| {
            c.save = parse_save(a)?;
            Ok(())
        }
    ),
    other!("server_cpulist", [], IMMUTABLE, Kind::Str, ""),
    intf!(
        "set-max-intset-entries",
        [],
        0,
        set_max_intset_entries,
        0,
        I64,
        "512"
    ),
    intf!(
        "set-max-listpack-entries",
        [],
        0,
        set_max_listpack_entries,
        0,
        I64,
        "128"
    ),
    memf!(
        "set-max-listpack-value",
        [],
        0,
        set_max_listpack_value,
        0,
        M64,
        "64"
    ),
    other!("set-proc-title", [], IMMUTABLE, Kind::Bool, "yes"),
    shutdownf!("shutdown-on-sigint", shutdown_on_sigint),
    shutdownf!("shutdown-on-sigterm", shutdown_on_sigterm),
    intf!("shutdown-timeout", [], 0, shutdown_timeout, 0, I32, "10"),
    intf!(
        "slowlog-log-slower-than",
        [],
        0,
        slowlog_log_slower_than,
        -1,
        I64,
        "10000"
    ),
    intf!("slowlog-max-len", [], 0, slowlog_max_len, 0, I64, "128"),
    boolf!("snapshot-sched-idle", [], 0, snapshot_sched_idle, "no"),
    other!(
        "socket-mark-id",
        [],
        IMMUTABLE,
        Kind::Int(0, u32::MAX as i64),
        "0"
    ),
    other!("stop-writes-on-bgsave-error", [], 0, Kind::Bool, "yes"),
    other!("stream-node-max-bytes", [], 0, Kind::Memory(0, M64), "4096"),
    other!("stream-node-max-entries", [], 0, Kind::Int(0, I64), "100"),
    other!(
        "supervised",
        [],
        IMMUTABLE,
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no"
    ),
    other!("syslog-enabled", [], IMMUTABLE, Kind::Bool, "no"),
    other!(
        "syslog-facility",
        [],
        IMMUTABLE,
        Kind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"
        ]),
        "local0"
    ),
    other!("syslog-ident", [], IMMUTABLE, Kind::Str, "redis"),
    intf!("tcp-backlog", [], IMMUTABLE, tcp_backlog, 0, I32, "511"),
    intf!("tcp-keepalive", [], 0, tcp_keepalive, 0, I32, "300"),
    intf!("timeout", [], 0, timeout, 0, I32, "0"),
    other!(
        "tls-auth-clients",
        [],
        0,
        Kind::Enum(&["no", "yes", "optional"]),
        "yes"
    ),
    other!("tls-ca-cert-dir", [], 0, Kind::Str, ""),
    other!("tls-ca-cert-file", [], 0, Kind::Str, ""),
    other!("tls-cert-file", [], 0, Kind::Str, ""),
    other!("tls-ciphers", [], 0, Kind::Str, ""),
    other!("tls-ciphersuites", [], 0, Kind::Str, ""),
    other!("tls-client-cert-file", [], 0, Kind::Str, ""),
    other!("tls-client-key-file", [], 0, Kind::Str, ""),
    other!("tls-client-key-file-pass", [], SENSITIVE, Kind::Str, ""),
    other!("tls-cluster", [], 0, Kind::Bool, "no"),
    other!("tls-dh-params-file", [], 0, Kind::Str, ""),
    other!("tls-key-file", [], 0, Kind::Str, ""),
    other!("tls-key-file-pass", [], SENSITIVE, Kind::Str, ""),
    other!("tls-port", [], 0, Kind::Int(0, 65535), "0"),
    other!("tls-prefer-server-ciphers", [], 0, Kind::Bool, "no"),
    other!("tls-protocols", [], 0, Kind::Str, ""),
    other!("tls-replication", [], 0, Kind::Bool, "no"),
    other!("tls-session-cache-size", [], 0, Kind::Int(0, I32), "20480"),
    other!("tls-session-cache-timeout", [], 0, Kind::Int(0, I32), "300"),
    other!("tls-session-caching", [], 0, Kind::Bool, "yes"),
    other!(
        "tracking-table-max-keys",
        [],
        0,
        Kind::Int(0, I64),
        "1000000"
    ),
    strf!("unixsocket", [], IMMUTABLE, unixsocket, ""),
    d!(
        "unixsocketperm",
        [],
        IMMUTABLE,
        Kind::Special,
        "0",
        |c: &Config| format!("{:o}", c.unixsocketperm),
        |c: &mut Config, a: &[String]| {
            c.unixsocketperm = parse_octal(one(a)?)?;
            Ok(())
        }
    ),
    intf!(
        "zset-max-listpack-entries",
        ["zset-max-ziplist-entries"],
        0,
        zset_max_listpack_entries,
        0,
        I64,
        "128"
    ),
    memf!(
        "zset-max-listpack-value",
        ["zset-max-ziplist-value"],
        0,
        zset_max_listpack_value,
        0,
        M64,
        "64"
    ),
];

/// Finds a directive by canonical name or alias (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| {
        d.name.eq_ignore_ascii_case(name) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_has_no_duplicate_names() {
        let mut names: Vec<&str> = DIRECTIVES
            .iter()
            .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()))
            .collect();
        let n = names.len();
        assert!(DIRECTIVES.windows(2).all(|w| w[0].name < w[1].name));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn every_default_matches_config_default() {
        let c = Config::default();
        for d in DIRECTIVES.iter().filter(|d| d.name != "dir") {
            assert_eq!((d.get)(&c), d.default, "{}", d.name);
        }
    }

    #[test]
    fn every_default_text_is_accepted_by_its_own_setter() {
        let mut c = Config::default();
        for d in DIRECTIVES
            .iter()
            .filter(|d| !matches!(d.name, "dir" | "pidfile"))
        {
            let args: Vec<String> = if d.has(MULTI_ARG) {
                d.default
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            } else {
                vec![d.default.to_string()]
            };
            if d.name == "replicaof" {
                continue;
            }
            assert_eq!((d.set)(&mut c, &args), Ok(()), "{}", d.name);
            assert_eq!((d.get)(&c), d.default, "{}", d.name);
        }
    }

    #[test]
    fn lookup_finds_aliases_case_insensitively() {
        assert_eq!(lookup("SLAVEOF").map(|d| d.name), Some("replicaof"));
        assert_eq!(
            lookup("lua-time-limit").map(|d| d.name),
            Some("busy-reply-threshold")
        );
        assert!(lookup("foo").is_none());
    }
}
