//! INFO: the server report, section by section, with Redis 7.2's field names
//! and layout (`# Section` headers, `name:value` lines separated by CRLF, a
//! blank line between sections).
//!
//! Values are what handoff really knows; features it does not have (AOF,
//! forks, Lua, cluster, defrag) report the values an idle Redis reports for
//! them. Memory figures: see [`memory_report`]. This module
//! only reads server state, except the memory peak kept in `Stats`.

use std::fmt::Write as _;

use super::ctx::{CmdResult, Ctx};
use super::server_cmds::estimate_key_bytes;
use super::spec::{CommandSpec, NO_KEYS};
use crate::client::ClientKind;
use crate::config::REDIS_VERSION;
use crate::server::{unix_us, Server};

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "info",
    -1,
    "loading stale",
    "@slow @dangerous",
    NO_KEYS,
    info,
)
.doc(
    "server",
    "1.0.0",
    "Returns information and statistics about the server.",
    "O(1)",
)
.tips("nondeterministic_output request_policy:all_shards response_policy:special")];

/// Sections in the order Redis prints them.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "debug",
];

/// Sections only printed when asked for by name, not by `all` / `everything`.
const BY_NAME_ONLY: &[&str] = &["debug"];

/// The sections of a bare `INFO` / `INFO default`.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut Ctx) -> CmdResult {
    let mut wanted: Vec<&'static str> = Vec::new();
    if ctx.args.len() == 1 {
        wanted.extend_from_slice(DEFAULT_SECTIONS);
    }
    for a in &ctx.args[1..] {
        let lower = a.to_ascii_lowercase();
        match &lower[..] {
            b"all" | b"everything" => wanted.extend(
                SECTIONS
                    .iter()
                    .filter(|s| !BY_NAME_ONLY.contains(s))
                    .copied(),
            ),
            b"default" => wanted.extend_from_slice(DEFAULT_SECTIONS),
            other => {
                if let Some(s) = SECTIONS.iter().find(|s| s.as_bytes() == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let text = generate(ctx.srv, &wanted);
    ctx.verbatim(text.as_bytes());
    Ok(())
}

/// Builds the INFO text for the named sections (unknown names are skipped).
pub fn generate(srv: &mut Server, wanted: &[&str]) -> String {
    let mut out = String::with_capacity(4096);
    for section in SECTIONS.iter().filter(|s| wanted.contains(s)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut w = Section { out: &mut out };
        match *section {
            "server" => server_section(srv, &mut w),
            "clients" => clients_section(srv, &mut w),
            "memory" => memory_section(srv, &mut w),
            "persistence" => persistence_section(srv, &mut w),
            "stats" => stats_section(srv, &mut w),
            "replication" => replication_section(srv, &mut w),
            "cpu" => cpu_section(&mut w),
            "modules" => w.header("Modules"),
            "commandstats" => commandstats_section(srv, &mut w),
            "errorstats" => errorstats_section(srv, &mut w),
            "latencystats" => w.header("Latencystats"),
            "cluster" => {
                w.header("Cluster");
                w.field("cluster_enabled", 0);
            }
            "keyspace" => keyspace_section(srv, &mut w),
            "debug" => debug_section(srv, &mut w),
            _ => {}
        }
    }
    out
}

/// Appends lines to the report.
struct Section<'a> {
    out: &'a mut String,
}

impl Section<'_> {
    fn header(&mut self, name: &str) {
        let _ = write!(self.out, "# {name}\r\n");
    }

    fn field(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.out, "{name}:{value}\r\n");
    }
}

fn server_section(srv: &Server, w: &mut Section) {
    let uptime = srv.started.elapsed().as_secs();
    w.header("Server");
    w.field("redis_version", REDIS_VERSION);
    w.field("redis_git_sha1", "00000000");
    w.field("redis_git_dirty", 0);
    w.field("redis_build_id", build_id());
    w.field("redis_mode", "standalone");
    w.field("os", os_name());
    w.field("arch_bits", usize::BITS);
    w.field("monotonic_clock", "POSIX clock_gettime");
    w.field("multiplexing_api", "epoll");
    w.field("atomicvar_api", "c11-builtin");
    w.field("gcc_version", "0.0.0");
    w.field("process_id", std::process::id());
    w.field("process_supervised", "no");
    w.field("run_id", &srv.run_id);
    w.field("tcp_port", srv.port());
    w.field("server_time_usec", unix_us());
    w.field("uptime_in_seconds", uptime);
    w.field("uptime_in_days", uptime / 86400);
    w.field("hz", srv.config.hz);
    w.field("configured_hz", srv.config.hz);
    w.field("lru_clock", srv.keyspace.lru_clock);
    w.field("executable", &srv.executable);
    w.field(
        "config_file",
        srv.config
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
    w.field("io_threads_active", 0);
    let mut binds = String::new();
    for b in &srv.config.bind {
        let _ = write!(binds, "bind={b},");
    }
    w.field(
        "listener0",
        format_args!("name=tcp,{binds}port={}", srv.port()),
    );
    if !srv.config.unixsocket.is_empty() {
        w.field(
            "listener1",
            format_args!("name=unix,bind={}", srv.config.unixsocket),
        );
    }
}

fn clients_section(srv: &Server, w: &mut Section) {
    // `len()` includes the client running this command, which is out of the slab meanwhile.
    let mut replicas = 0usize;
    let mut max_in = 0usize;
    let mut max_out = 0usize;
    let mut pubsub = 0usize;
    for c in srv.clients.iter() {
        if c.kind == ClientKind::Replica {
            replicas += 1;
        }
        if c.kind == ClientKind::Pubsub {
            pubsub += 1;
        }
        max_in = max_in.max(c.read_buf.len());
        max_out = max_out.max(c.out.len());
    }
    w.header("Clients");
    w.field(
        "connected_clients",
        srv.clients.len().saturating_sub(replicas),
    );
    w.field("cluster_connections", 0);
    w.field("maxclients", srv.config.maxclients);
    w.field("client_recent_max_input_buffer", max_in);
    w.field("client_recent_max_output_buffer", max_out);
    w.field(
        "blocked_clients",
        srv.blocking.blocked_clients() + srv.pause.postponed.len(),
    );
    w.field("tracking_clients", 0);
    w.field("pubsub_clients", pubsub);
    w.field("watching_clients", 0);
    w.field("clients_in_timeout_table", 0);
    w.field("total_watched_keys", 0);
    w.field("total_blocking_keys", srv.blocking.blocking_keys());
    w.field("total_blocking_keys_on_nokey", 0);
    // Valkey 8.1's pause fields.
    w.field("paused_reason", srv.pause.reason());
    w.field("paused_actions", srv.pause.active.info_name());
    w.field(
        "paused_timeout_milliseconds",
        srv.pause
            .remaining_ms(std::time::Instant::now(), crate::server::unix_ms()),
    );
}

/// The memory figures INFO memory and MEMORY STATS report.
pub struct MemoryReport {
    /// Estimated bytes of everything below.
    pub used: u64,
    /// Estimated fixed structures present at startup (command table, empty databases).
    pub startup: u64,
    /// Clients' buffers and structures.
    pub clients: u64,
    /// Per-key bookkeeping of the databases (entries, hash slots).
    pub db_overhead: u64,
    /// Keys and values.
    pub dataset: u64,
    pub rss: u64,
    pub peak: u64,
    pub keys: u64,
}

impl MemoryReport {
    pub fn overhead(&self) -> u64 {
        self.startup + self.clients + self.db_overhead
    }
}

/// Memory use. With the counting allocator installed (the binary does),
/// used memory is exact and O(1), and the dataset is what remains after the
/// estimated overhead. Without it, used memory is estimated by walking the
/// keyspace (O(keys)): key, value and entry sizes, client buffers and a fixed
/// startup part. RSS is read from /proc. Updates the peak kept in `Stats`.
pub fn memory_report(srv: &mut Server) -> MemoryReport {
    let per_key = std::mem::size_of::<crate::keyspace::Entry>() as u64 + 8;
    let keys: u64 = srv.keyspace.dbs.iter().map(|d| d.len() as u64).sum();
    let db_overhead = keys * per_key;
    let startup = (srv.commands.entries.len() * 256
        + srv.keyspace.dbs.len() * std::mem::size_of::<crate::keyspace::Db>()
        + std::mem::size_of::<Server>()) as u64;
    let clients: u64 = srv
        .clients
        .iter()
        .map(|c| {
            (std::mem::size_of::<crate::client::Client>()
                + c.read_buf.capacity()
                + c.out.capacity()) as u64
        })
        .sum();
    let (used, dataset) = match crate::alloc::allocated() {
        Some(total) => {
            let total = total as u64;
            (total, total.saturating_sub(startup + clients + db_overhead))
        }
        None => {
            let mut dataset = 0u64;
            for db in &srv.keyspace.dbs {
                for e in db.iter() {
                    // The entry struct and its index slot are bookkeeping; key and value bytes are data.
                    dataset += (estimate_key_bytes(e) as u64).saturating_sub(per_key);
                }
            }
            (startup + clients + db_overhead + dataset, dataset)
        }
    };
    let peak = srv.stats.peak_memory.max(used);
    srv.stats.peak_memory = peak;
    MemoryReport {
        used,
        startup,
        clients,
        db_overhead,
        dataset,
        rss: rss_bytes(),
        peak,
        keys,
    }
}

/// Resident set size of the process, from /proc/self/statm (0 when unavailable).
pub fn rss_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages.saturating_mul(if page > 0 { page as u64 } else { 4096 })
}

fn total_system_memory() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Redis's bytesToHuman: `943.16K`, `11.80M`, `0B`.
pub fn human_bytes(n: u64) -> String {
    let d = n as f64;
    const K: f64 = 1024.0;
    if n < 1024 {
        format!("{n}B")
    } else if d < K * K {
        format!("{:.2}K", d / K)
    } else if d < K * K * K {
        format!("{:.2}M", d / (K * K))
    } else if d < K * K * K * K {
        format!("{:.2}G", d / (K * K * K))
    } else if d < K * K * K * K * K {
        format!("{:.2}T", d / (K * K * K * K))
    } else {
        format!("{:.2}P", d / (K * K * K * K * K))
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn memory_section(srv: &mut Server, w: &mut Section) {
    let m = memory_report(srv);
    let sys = total_system_memory();
    let net = m.used.saturating_sub(m.startup);
    w.header("Memory");
    w.field("used_memory", m.used);
    w.field("used_memory_human", human_bytes(m.used));
    w.field("used_memory_rss", m.rss);
    w.field("used_memory_rss_human", human_bytes(m.rss));
    w.field("used_memory_peak", m.peak);
    w.field("used_memory_peak_human", human_bytes(m.peak));
    w.field(
        "used_memory_peak_perc",
        format_args!("{:.2}%", ratio(m.used, m.peak) * 100.0),
    );
    w.field("used_memory_overhead", m.overhead());
    w.field("used_memory_startup", m.startup);
    w.field("used_memory_dataset", m.dataset);
    w.field(
        "used_memory_dataset_perc",
        format_args!("{:.2}%", ratio(m.dataset, net) * 100.0),
    );
    // No separate allocator statistics: the system allocator's view is the estimate and RSS.
    w.field("allocator_allocated", m.used);
    w.field("allocator_active", m.used);
    w.field("allocator_resident", m.rss);
    w.field("total_system_memory", sys);
    w.field("total_system_memory_human", human_bytes(sys));
    // No scripting engine: nothing is used by Lua or functions.
    w.field("used_memory_lua", 0);
    w.field("used_memory_vm_eval", 0);
    w.field("used_memory_lua_human", "0B");
    w.field("used_memory_scripts_eval", 0);
    w.field("number_of_cached_scripts", 0);
    w.field("number_of_functions", 0);
    w.field("number_of_libraries", 0);
    w.field("used_memory_vm_functions", 0);
    w.field("used_memory_vm_total", 0);
    w.field("used_memory_vm_total_human", "0B");
    w.field("used_memory_functions", 0);
    w.field("used_memory_scripts", 0);
    w.field("used_memory_scripts_human", "0B");
    w.field("maxmemory", srv.config.maxmemory);
    w.field("maxmemory_human", human_bytes(srv.config.maxmemory));
    w.field("maxmemory_policy", srv.config.maxmemory_policy.name());
    w.field("allocator_frag_ratio", "1.00");
    w.field("allocator_frag_bytes", 0);
    w.field(
        "allocator_rss_ratio",
        format_args!("{:.2}", ratio(m.rss, m.used)),
    );
    w.field("allocator_rss_bytes", m.rss as i64 - m.used as i64);
    w.field("rss_overhead_ratio", "1.00");
    w.field("rss_overhead_bytes", 0);
    w.field(
        "mem_fragmentation_ratio",
        format_args!("{:.2}", ratio(m.rss, m.used)),
    );
    w.field("mem_fragmentation_bytes", m.rss as i64 - m.used as i64);
    let not_counted = crate::evict::not_counted(srv);
    w.field("mem_not_counted_for_evict", not_counted);
    w.field("mem_replication_backlog", 0);
    w.field("mem_total_replication_buffers", 0);
    w.field("mem_clients_slaves", not_counted);
    w.field("mem_clients_normal", m.clients);
    w.field("mem_cluster_links", 0);
    w.field("mem_aof_buffer", 0);
    w.field("mem_allocator", "libc");
    w.field("active_defrag_running", 0);
    w.field(
        "lazyfree_pending_objects",
        crate::keyspace::lazyfree::PENDING.load(std::sync::atomic::Ordering::Relaxed),
    );
    w.field(
        "lazyfreed_objects",
        crate::keyspace::lazyfree::FREED.load(std::sync::atomic::Ordering::Relaxed),
    );
}

fn persistence_section(srv: &Server, w: &mut Section) {
    w.header("Persistence");
    w.field("loading", srv.persist.loading as i32);
    w.field("async_loading", 0);
    let p = &srv.persist;
    w.field("current_cow_peak", p.cow.peak);
    w.field("current_cow_size", p.cow.current);
    w.field("current_cow_size_age", p.cow.current_age_secs());
    w.field("current_fork_perc", format!("{:.2}", p.cow.fork_perc()));
    w.field("current_save_keys_processed", p.cow.keys_processed);
    w.field("current_save_keys_total", p.cow.keys_total);
    w.field(
        "rdb_changes_since_last_save",
        p.changes_since_save(srv.keyspace.dirty),
    );
    w.field("rdb_bgsave_in_progress", p.child.is_some() as i32);
    w.field("rdb_last_save_time", srv.lastsave);
    w.field(
        "rdb_last_bgsave_status",
        if p.last_bgsave_failed { "err" } else { "ok" },
    );
    w.field("rdb_last_bgsave_time_sec", p.last_bgsave_time_sec);
    w.field("rdb_current_bgsave_time_sec", p.current_bgsave_secs());
    w.field("rdb_saves", p.saves);
    w.field("rdb_last_cow_size", p.cow.rdb_last_cow_size);
    w.field("rdb_last_load_keys_expired", p.last_load_keys_expired);
    w.field("rdb_last_load_keys_loaded", p.last_load_keys_loaded);
    w.field("aof_enabled", 0);
    w.field("aof_rewrite_in_progress", 0);
    w.field("aof_rewrite_scheduled", 0);
    w.field("aof_last_rewrite_time_sec", -1);
    w.field("aof_current_rewrite_time_sec", -1);
    w.field("aof_last_bgrewrite_status", "ok");
    w.field("aof_rewrites", 0);
    w.field("aof_rewrites_consecutive_failures", 0);
    w.field("aof_last_write_status", "ok");
    w.field("aof_last_cow_size", 0);
    w.field("module_fork_in_progress", 0);
    w.field("module_fork_last_cow_size", 0);
}

fn stats_section(srv: &Server, w: &mut Section) {
    let s = &srv.stats;
    let ks = &srv.keyspace.stats;
    w.header("Stats");
    w.field("total_connections_received", s.total_connections_received);
    w.field("total_commands_processed", s.total_commands_processed);
    w.field(
        "instantaneous_ops_per_sec",
        s.ops_rate.per_second().round() as u64,
    );
    w.field("total_net_input_bytes", s.net_input_bytes);
    w.field("total_net_output_bytes", s.net_output_bytes);
    w.field("total_net_repl_input_bytes", 0);
    w.field("total_net_repl_output_bytes", 0);
    w.field(
        "instantaneous_input_kbps",
        format_args!("{:.2}", s.net_input_rate.per_second() / 1024.0),
    );
    w.field(
        "instantaneous_output_kbps",
        format_args!("{:.2}", s.net_output_rate.per_second() / 1024.0),
    );
    w.field("instantaneous_input_repl_kbps", "0.00");
    w.field("instantaneous_output_repl_kbps", "0.00");
    w.field("rejected_connections", s.rejected_connections);
    w.field("sync_full", srv.stats.sync_full);
    w.field("sync_partial_ok", srv.stats.sync_partial_ok);
    w.field("sync_partial_err", srv.stats.sync_partial_err);
    w.field("expired_keys", ks.expired_keys);
    w.field(
        "expired_stale_perc",
        format_args!("{:.2}", ks.expired_stale_perc * 100.0),
    );
    w.field(
        "expired_time_cap_reached_count",
        ks.expired_time_cap_reached_count,
    );
    w.field(
        "expire_cycle_cpu_milliseconds",
        ks.expire_cycle_cpu_milliseconds,
    );
    w.field("evicted_keys", srv.stats.evicted_keys);
    w.field("evicted_clients", 0);
    let current_us = srv
        .stats
        .eviction_exceeded_since
        .map_or(0, |t| t.elapsed().as_micros() as u64);
    w.field(
        "total_eviction_exceeded_time",
        (srv.stats.total_eviction_exceeded_us + current_us) / 1000,
    );
    w.field("current_eviction_exceeded_time", current_us / 1000);
    w.field("keyspace_hits", ks.hits);
    w.field("keyspace_misses", ks.misses);
    w.field("pubsub_channels", srv.pubsub.channels.len());
    w.field("pubsub_patterns", srv.pubsub.patterns.len());
    w.field("pubsubshard_channels", 0);
    w.field("latest_fork_usec", srv.persist.latest_fork_usec);
    w.field("total_forks", srv.persist.total_forks);
    w.field("migrate_cached_sockets", 0);
    w.field("slave_expires_tracked_keys", 0);
    w.field("active_defrag_hits", 0);
    w.field("active_defrag_misses", 0);
    w.field("active_defrag_key_hits", 0);
    w.field("active_defrag_key_misses", 0);
    w.field("total_active_defrag_time", 0);
    w.field("current_active_defrag_time", 0);
    w.field("tracking_total_keys", 0);
    w.field("tracking_total_items", 0);
    w.field("tracking_total_prefixes", 0);
    w.field("unexpected_error_replies", s.unexpected_error_replies);
    w.field("total_error_replies", s.total_error_replies);
    w.field("dump_payload_sanitizations", 0);
    w.field("total_reads_processed", s.total_reads_processed);
    w.field("total_writes_processed", s.total_writes_processed);
    w.field("io_threaded_reads_processed", 0);
    w.field("io_threaded_writes_processed", 0);
    w.field(
        "client_query_buffer_limit_disconnections",
        s.client_query_buffer_limit_disconnections,
    );
    w.field(
        "client_output_buffer_limit_disconnections",
        s.client_output_buffer_limit_disconnections,
    );
    w.field("reply_buffer_shrinks", 0);
    w.field("reply_buffer_expands", 0);
    let el = &s.eventloop;
    w.field("eventloop_cycles", el.cycles);
    w.field("eventloop_duration_sum", el.duration_ns / 1000);
    w.field("eventloop_duration_cmd_sum", el.cmd_ns / 1000);
    w.field(
        "instantaneous_eventloop_cycles_per_sec",
        el.cycle_rate.per_second().round() as u64,
    );
    w.field(
        "instantaneous_eventloop_duration_usec",
        el.duration_per_cycle.average().round() as u64,
    );
    w.field("acl_access_denied_auth", 0);
    w.field("acl_access_denied_cmd", 0);
    w.field("acl_access_denied_key", 0);
    w.field("acl_access_denied_channel", 0);
    // handoff's switchover counters (not in Redis).
    w.field("failovers", s.failovers);
    w.field("held_commands", s.held_commands);
    w.field("redirected_commands", s.redirects);
    let m = &srv.maint;
    let maint_clients = srv.clients.iter().filter(|c| c.maint.is_some()).count();
    w.field("maint_notifications_clients", maint_clients);
    w.field("maint_moving_sent", m.moving_sent);
    w.field("maint_moved_closed", m.moved_closed);
    w.field("maint_incoming_held_cmds", m.incoming_held);
    w.field("maint_seq", m.seq);
}

/// Redis 7.2's experimental section, printed only by `INFO debug`.
fn debug_section(srv: &Server, w: &mut Section) {
    let el = &srv.stats.eventloop;
    w.header("Debug");
    w.field("eventloop_duration_aof_sum", 0);
    w.field("eventloop_duration_cron_sum", el.cron_ns / 1000);
    w.field("eventloop_duration_max", el.max_ns / 1000);
    w.field("eventloop_cmd_per_cycle_max", el.cmds_per_cycle_max);
}

fn replication_section(srv: &Server, w: &mut Section) {
    let repl = &srv.repl;
    w.header("Replication");
    match &repl.link {
        Some(link) => {
            let up = repl.link_up();
            w.field("role", "slave");
            w.field("master_host", &link.host);
            w.field("master_port", link.port);
            w.field("master_link_status", if up { "up" } else { "down" });
            w.field(
                "master_last_io_seconds_ago",
                if up {
                    link.last_io.elapsed().as_secs() as i64
                } else {
                    -1
                },
            );
            let syncing = matches!(
                link.state,
                crate::repl::replica::LinkState::Transfer
                    | crate::repl::replica::LinkState::Loading
            );
            w.field("master_sync_in_progress", syncing as u8);
            w.field(
                "slave_read_repl_offset",
                crate::repl::replica::read_offset(srv),
            );
            w.field("slave_repl_offset", repl.offset());
            if syncing {
                let received = link.transfer.as_ref().map_or(0, |t| t.received());
                w.field("master_sync_total_bytes", -1);
                w.field("master_sync_read_bytes", received);
                w.field("master_sync_left_bytes", -1);
                w.field("master_sync_perc", "0.00");
                w.field(
                    "master_sync_last_io_seconds_ago",
                    link.last_io.elapsed().as_secs(),
                );
            }
            if !up {
                w.field(
                    "master_link_down_since_seconds",
                    link.down_since.elapsed().as_secs(),
                );
            }
            w.field(
                "slave_priority",
                srv.config
                    .other
                    .get("replica-priority")
                    .map_or("100", |v| v.as_str()),
            );
            w.field("slave_read_only", srv.config.replica_read_only as u8);
            w.field("replica_announced", 1);
        }
        None => w.field("role", "master"),
    }
    let replicas: Vec<_> = crate::repl::primary::attached(srv).collect();
    w.field("connected_slaves", replicas.len());
    if repl.link.is_none() && srv.config.min_replicas_to_write > 0 {
        w.field(
            "min_slaves_good_slaves",
            crate::repl::primary::good_replicas(srv),
        );
    }
    for (i, (c, info)) in replicas.iter().enumerate() {
        w.field(
            &format!("slave{i}"),
            format_args!(
                "ip={},port={},state={},offset={},lag={}",
                info.ip(&c.addr),
                info.listening_port,
                info.state.info_name(),
                info.ack_offset,
                info.ack_time.elapsed().as_secs()
            ),
        );
    }
    w.field("master_failover_state", repl.failover.phase().info_name());
    w.field("master_replid", &repl.ids.replid);
    w.field("master_replid2", &repl.ids.replid2);
    w.field("master_repl_offset", repl.offset());
    w.field("second_repl_offset", repl.ids.second_repl_offset);
    let (active, first, histlen) = match &repl.backlog {
        Some(b) => (1, b.first_byte_offset(), b.histlen() as i64),
        None => (0, 0, 0),
    };
    w.field("repl_backlog_active", active);
    w.field("repl_backlog_size", srv.config.repl_backlog_size);
    w.field("repl_backlog_first_byte_offset", first);
    w.field("repl_backlog_histlen", histlen);
}

/// (system, user) CPU seconds for `who` (RUSAGE_SELF, _CHILDREN, _THREAD).
fn cpu_times(who: libc::c_int) -> (f64, f64) {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return (0.0, 0.0);
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1_000_000.0;
    (secs(ru.ru_stime), secs(ru.ru_utime))
}

fn cpu_section(w: &mut Section) {
    let (sys, user) = cpu_times(libc::RUSAGE_SELF);
    let (csys, cuser) = cpu_times(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = cpu_times(libc::RUSAGE_THREAD);
    w.header("CPU");
    w.field("used_cpu_sys", format_args!("{sys:.6}"));
    w.field("used_cpu_user", format_args!("{user:.6}"));
    w.field("used_cpu_sys_children", format_args!("{csys:.6}"));
    w.field("used_cpu_user_children", format_args!("{cuser:.6}"));
    w.field("used_cpu_sys_main_thread", format_args!("{tsys:.6}"));
    w.field("used_cpu_user_main_thread", format_args!("{tuser:.6}"));
}

fn commandstats_section(srv: &Server, w: &mut Section) {
    w.header("Commandstats");
    for (id, e) in srv.commands.entries.iter().enumerate() {
        let Some(st) = srv.stats.commands.get(id) else {
            continue;
        };
        if st.calls == 0 && st.failed_calls == 0 && st.rejected_calls == 0 {
            continue;
        }
        let per_call = if st.calls == 0 {
            0.0
        } else {
            st.usec as f64 / st.calls as f64
        };
        w.field(
            &format!("cmdstat_{}", e.full_name),
            format_args!(
                "calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                st.calls, st.usec, st.rejected_calls, st.failed_calls
            ),
        );
    }
}

fn errorstats_section(srv: &Server, w: &mut Section) {
    w.header("Errorstats");
    for (prefix, n) in &srv.stats.errors {
        w.field(&format!("errorstat_{prefix}"), format_args!("count={n}"));
    }
}

fn keyspace_section(srv: &Server, w: &mut Section) {
    w.header("Keyspace");
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.field(
            &format!("db{i}"),
            format_args!(
                "keys={},expires={},avg_ttl={}",
                db.len(),
                db.expires_len(),
                db.avg_ttl
            ),
        );
    }
}

/// `uname -s -r -m`, as Redis prints in `os`.
fn os_name() -> String {
    // SAFETY: uname fills the zeroed struct; the fields are NUL-terminated C strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return std::env::consts::OS.to_string();
    }
    let field = |f: &[libc::c_char]| -> String {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.machine)
    )
}

/// A stable 16-hex-digit id of this build (the version and crate), like `redis_build_id`.
fn build_id() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in concat!(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .bytes()
        .chain(REDIS_VERSION.bytes())
    {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_matches_redis_formatting() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(965_792), "943.16K");
        assert_eq!(human_bytes(12_378_112), "11.80M");
        assert_eq!(human_bytes(25_276_510_208), "23.54G");
    }

    #[test]
    fn sections_are_separated_by_a_blank_line_and_end_with_crlf() {
        let mut srv = Server::new(crate::config::Config::default());
        let text = generate(&mut srv, &["cpu", "modules"]);
        assert!(text.starts_with("# CPU\r\nused_cpu_sys:"));
        assert!(text.ends_with("\r\n\r\n# Modules\r\n"));
        assert_eq!(generate(&mut srv, &[]), "");
    }
}
