//! Server commands: TIME, LASTSAVE, SHUTDOWN and MEMORY (USAGE, STATS,
//! DOCTOR, MALLOC-STATS, PURGE, HELP), plus the per-key memory estimate INFO
//! also uses.
//!
//! SHUTDOWN parses its options and hands over to `crate::shutdown` (the
//! wait for lagging replicas, the final save, ABORT); the event loop carries
//! out the exit. A caller whose shutdown waits is blocked until the outcome.

use super::ctx::{is, parse_i64, CmdResult, Ctx};
use super::info::{memory_report, MemoryReport};
use super::spec::{keys, CommandSpec, NO_KEYS};
use crate::blocking::TimeoutReply;
use crate::config::ShutdownFlags;
use crate::errors;
use crate::errors::SHUTDOWN_FAILED;
use crate::keyspace::{Entry, NO_EXPIRE};
use crate::server::unix_us;
use crate::shutdown::Outcome;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("time", 1, "loading stale fast", "@fast", NO_KEYS, time)
        .doc("server", "2.6.0", "Returns the server time.", "O(1)")
        .tips("nondeterministic_output"),
    CommandSpec::new("lastsave", 1, "loading stale fast", "@admin @fast @dangerous", NO_KEYS, lastsave)
        .doc("server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk.", "O(1)")
        .tips("nondeterministic_output"),
    CommandSpec::new("shutdown", -1, "admin noscript loading stale no_multi allow_busy", "@admin @slow @dangerous", NO_KEYS, shutdown)
        .doc("server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server.", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
    CommandSpec::new("memory", -2, "", "@slow", NO_KEYS, memory_help)
        .doc("server", "4.0.0", "A container for memory diagnostics commands.", "Depends on subcommand.")
        .subs(&[
            CommandSpec::new("doctor", 2, "", "@slow", NO_KEYS, memory_doctor)
                .doc("server", "4.0.0", "Outputs a memory problems report.", "O(1)")
                .tips("nondeterministic_output request_policy:all_shards response_policy:special"),
            CommandSpec::new("help", 2, "loading stale", "@slow", NO_KEYS, memory_help)
                .doc("server", "4.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
            CommandSpec::new("malloc-stats", 2, "", "@slow", NO_KEYS, memory_malloc_stats)
                .doc("server", "4.0.0", "Returns the allocator statistics.", "Depends on how much memory is allocated, could be slow")
                .tips("nondeterministic_output request_policy:all_shards response_policy:special"),
            CommandSpec::new("purge", 2, "", "@slow", NO_KEYS, memory_purge)
                .doc("server", "4.0.0", "Asks the allocator to release memory.", "Depends on how much memory is allocated, could be slow")
                .tips("request_policy:all_shards response_policy:all_succeeded"),
            CommandSpec::new("stats", 2, "", "@slow", NO_KEYS, memory_stats)
                .doc("server", "4.0.0", "Returns details about memory usage.", "O(1)")
                .tips(MEM_SPLIT_STATS),
            CommandSpec::new("usage", -3, "readonly", "@read @slow", keys(2, 2, 1), memory_usage)
                .doc("server", "4.0.0", "Estimates the memory usage of a key.", "O(N) where N is the number of samples."),
        ]),
];

const MEM_SPLIT_STATS: &str =
    "nondeterministic_output request_policy:all_shards response_policy:special";

fn time(ctx: &mut Ctx) -> CmdResult {
    let us = unix_us();
    ctx.array(2);
    ctx.bulk_int(us / 1_000_000);
    ctx.bulk_int(us % 1_000_000);
    Ok(())
}

fn lastsave(ctx: &mut Ctx) -> CmdResult {
    let t = ctx.srv.lastsave;
    ctx.int(t);
    Ok(())
}

fn shutdown(ctx: &mut Ctx) -> CmdResult {
    let mut flags = 0;
    let mut abort = false;
    for a in &ctx.args[1..] {
        if is(a, "nosave") {
            flags |= ShutdownFlags::NOSAVE;
        } else if is(a, "save") {
            flags |= ShutdownFlags::SAVE;
        } else if is(a, "now") {
            flags |= ShutdownFlags::NOW;
        } else if is(a, "force") {
            flags |= ShutdownFlags::FORCE;
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let flags = ShutdownFlags(flags);
    if (abort && flags.0 != 0)
        || (flags.has(ShutdownFlags::NOSAVE) && flags.has(ShutdownFlags::SAVE))
    {
        return Err(errors::SYNTAX.into());
    }
    if abort {
        if !crate::shutdown::abort(ctx.srv) {
            return Err(errors::NO_SHUTDOWN.into());
        }
        ctx.ok();
        return Ok(());
    }
    if !flags.has(ShutdownFlags::NOSAVE) {
        // Only SHUTDOWN NOSAVE stops a busy script (and the server).
        if let Some(text) = ctx.srv.scripting.busy_error() {
            return Err(text.into());
        }
    }
    match crate::shutdown::request(ctx.srv, flags, None) {
        // The loop closes the connection: no reply.
        Outcome::Exit => Ok(()),
        // No reply until the outcome: the process exits, or an error.
        Outcome::Waiting => {
            ctx.block(&[], None, TimeoutReply::Shutdown);
            Ok(())
        }
        Outcome::Failed => Err(SHUTDOWN_FAILED.into()),
    }
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// Writes a HELP reply: an array of simple strings.
pub fn help_reply(ctx: &mut Ctx, lines: &[&str]) -> CmdResult {
    ctx.array(lines.len());
    for l in lines {
        ctx.simple(l.as_bytes());
    }
    Ok(())
}

fn memory_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, MEMORY_HELP)
}

/// Estimated bytes a key costs: the entry struct and its index slot, the key
/// bytes and the value's heap allocation (MEMORY USAGE).
pub fn estimate_key_bytes(e: &Entry) -> usize {
    std::mem::size_of::<Entry>() + 8 + e.key.heap_size() + e.value.heap_size()
}

fn memory_usage(ctx: &mut Ctx) -> CmdResult {
    let mut i = 3;
    while i < ctx.args.len() {
        if is(&ctx.args[i], "samples") && i + 1 < ctx.args.len() {
            let n = parse_i64(&ctx.args[i + 1])?;
            if n < 0 {
                return Err(errors::SYNTAX.into());
            }
            i += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    // Like Redis's dbFind: no hit/miss accounting, no LRU touch; a logically
    // expired key counts as absent but is left for expiry to delete.
    let db = ctx.db();
    let now = ctx.now_ms;
    let size = ctx.srv.keyspace.dbs[db]
        .get_raw(&ctx.args[2])
        .filter(|e| e.expire_at == NO_EXPIRE || e.expire_at > now || !ctx.srv.keyspace.expire_keys)
        .map(estimate_key_bytes);
    match size {
        Some(n) => ctx.int(n as i64),
        None => ctx.null(),
    }
    Ok(())
}

fn memory_doctor(ctx: &mut Ctx) -> CmdResult {
    let m = memory_report(ctx.srv);
    let text = if m.used < 5 * 1024 * 1024 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    ctx.verbatim(text.as_bytes());
    Ok(())
}

fn memory_malloc_stats(ctx: &mut Ctx) -> CmdResult {
    ctx.verbatim(b"Stats not supported for the current allocator");
    Ok(())
}

fn memory_purge(ctx: &mut Ctx) -> CmdResult {
    ctx.ok();
    Ok(())
}

fn memory_stats(ctx: &mut Ctx) -> CmdResult {
    let m: MemoryReport = memory_report(ctx.srv);
    let dbs: Vec<(usize, u64, u64)> = ctx
        .srv
        .keyspace
        .dbs
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
        .map(|(i, d)| {
            let per = (std::mem::size_of::<Entry>() + 8) as u64;
            (i, d.len() as u64 * per, d.expires_len() as u64 * 16)
        })
        .collect();
    let net = m.used.saturating_sub(m.startup);
    let pct = |a: u64, b: u64| {
        if b == 0 {
            0.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    ctx.map(27 + dbs.len());
    let int_fields: [(&str, u64); 10] = [
        ("peak.allocated", m.peak),
        ("total.allocated", m.used),
        ("startup.allocated", m.startup),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", m.clients),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", 0),
        ("functions.caches", 0),
    ];
    for (k, v) in int_fields {
        ctx.bulk(k.as_bytes());
        ctx.int(v as i64);
    }
    for (i, main, expires) in dbs {
        ctx.bulk(format!("db.{i}").as_bytes());
        ctx.map(3);
        ctx.bulk(b"overhead.hashtable.main");
        ctx.int(main as i64);
        ctx.bulk(b"overhead.hashtable.expires");
        ctx.int(expires as i64);
        ctx.bulk(b"overhead.hashtable.slot-to-keys");
        ctx.int(0);
    }
    ctx.bulk(b"overhead.total");
    ctx.int(m.overhead() as i64);
    ctx.bulk(b"keys.count");
    ctx.int(m.keys as i64);
    ctx.bulk(b"keys.bytes-per-key");
    ctx.int(net.checked_div(m.keys).unwrap_or(0) as i64);
    ctx.bulk(b"dataset.bytes");
    ctx.int(m.dataset as i64);
    ctx.bulk(b"dataset.percentage");
    ctx.double(pct(m.dataset, net));
    ctx.bulk(b"peak.percentage");
    ctx.double(pct(m.used, m.peak));
    let rest: [(&str, Option<u64>, Option<f64>); 11] = [
        ("allocator.allocated", Some(m.used), None),
        ("allocator.active", Some(m.used), None),
        ("allocator.resident", Some(m.rss), None),
        ("allocator-fragmentation.ratio", None, Some(1.0)),
        ("allocator-fragmentation.bytes", Some(0), None),
        ("allocator-rss.ratio", None, Some(ratio(m.rss, m.used))),
        (
            "allocator-rss.bytes",
            Some(m.rss.saturating_sub(m.used)),
            None,
        ),
        ("rss-overhead.ratio", None, Some(1.0)),
        ("rss-overhead.bytes", Some(0), None),
        ("fragmentation", None, Some(ratio(m.rss, m.used))),
        (
            "fragmentation.bytes",
            Some(m.rss.saturating_sub(m.used)),
            None,
        ),
    ];
    for (k, i, d) in rest {
        ctx.bulk(k.as_bytes());
        match (i, d) {
            (Some(i), _) => ctx.int(i as i64),
            (None, Some(d)) => ctx.double(d),
            (None, None) => ctx.int(0),
        }
    }
    Ok(())
}
