//! OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP: introspection of the
//! value stored at a key. Lookups do not touch the key's access time.

use super::client_cmd::help_reply;
use super::ctx::{CmdResult, Ctx};
use super::spec::{keys, CommandSpec, NO_KEYS};
use crate::config::MaxmemoryPolicy;
use crate::keyspace::{Entry, RStr, Value};

const ACL: &str = "@keyspace @read @slow";

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("object", -2, "", "@slow", NO_KEYS, help)
    .doc(
        "generic",
        "2.2.3",
        "A container for object introspection commands.",
        "Depends on subcommand.",
    )
    .subs(&[
        CommandSpec::new("encoding", 3, "readonly", ACL, keys(2, 2, 1), encoding)
            .doc(
                "generic",
                "2.2.3",
                "Returns the internal encoding of a Redis object.",
                "O(1)",
            )
            .tips("nondeterministic_output"),
        CommandSpec::new("freq", 3, "readonly", ACL, keys(2, 2, 1), freq)
            .doc(
                "generic",
                "4.0.0",
                "Returns the logarithmic access frequency counter of a Redis object.",
                "O(1)",
            )
            .tips("nondeterministic_output"),
        CommandSpec::new("idletime", 3, "readonly", ACL, keys(2, 2, 1), idletime)
            .doc(
                "generic",
                "2.2.3",
                "Returns the time since the last access to a Redis object.",
                "O(1)",
            )
            .tips("nondeterministic_output"),
        CommandSpec::new("refcount", 3, "readonly", ACL, keys(2, 2, 1), refcount)
            .doc(
                "generic",
                "2.2.3",
                "Returns the reference count of a value of a key.",
                "O(1)",
            )
            .tips("nondeterministic_output"),
        CommandSpec::new("help", 2, "loading stale", "@keyspace @slow", NO_KEYS, help).doc(
            "generic",
            "6.2.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    ])];

const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Redis shares the integer objects 0..9999 unless the eviction policy needs
/// per-object access data (LRU/LFU with a maxmemory limit).
const SHARED_INTEGERS: i64 = 10_000;
/// The reference count Redis reports for a shared object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
fn is_lfu(p: MaxmemoryPolicy) -> bool {
    matches!(
        p,
        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu
    )
}

fn is_lru(p: MaxmemoryPolicy) -> bool {
    matches!(
        p,
        MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru
    )
}

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, HELP);
    Ok(())
}

/// Looks the key up without touching it; replies null and returns None when missing.
fn lookup<'c>(ctx: &'c mut Ctx) -> Option<&'c mut Entry> {
    let db = ctx.db();
    let now = ctx.now_ms;
    if !ctx.srv.keyspace.exists(db, &ctx.args[2], now) {
        // Count the miss as Redis's lookup does.
        let _ = ctx.srv.keyspace.lookup_read(db, &ctx.args[2], now, true);
        ctx.null();
        return None;
    }
    ctx.srv.keyspace.lookup_read(db, &ctx.args[2], now, true)
}

fn encoding(ctx: &mut Ctx) -> CmdResult {
    if let Some(e) = lookup(ctx) {
        let enc = e.value.encoding();
        ctx.bulk(enc.as_bytes());
    }
    Ok(())
}

fn refcount(ctx: &mut Ctx) -> CmdResult {
    let sharing = {
        let c = &ctx.srv.config;
        c.maxmemory == 0 || !(is_lru(c.maxmemory_policy) || is_lfu(c.maxmemory_policy))
    };
    if let Some(e) = lookup(ctx) {
        let shared = sharing
            && matches!(e.value, Value::Str(RStr::Int(n)) if (0..SHARED_INTEGERS).contains(&n));
        ctx.int(if shared { SHARED_REFCOUNT } else { 1 });
    }
    Ok(())
}

fn idletime(ctx: &mut Ctx) -> CmdResult {
    let Some(e) = lookup(ctx) else { return Ok(()) };
    let lru = e.lru;
    if is_lfu(ctx.srv.config.maxmemory_policy) {
        return Err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
    }
    let idle = crate::keyspace::lru_idle_secs(ctx.srv.keyspace.lru_clock, lru);
    ctx.int(i64::from(idle));
    Ok(())
}

fn freq(ctx: &mut Ctx) -> CmdResult {
    let Some(e) = lookup(ctx) else { return Ok(()) };
    let field = e.lru;
    if !is_lfu(ctx.srv.config.maxmemory_policy) {
        return Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
    }
    let now = ctx.now_ms;
    ctx.int(i64::from(ctx.srv.keyspace.lfu_counter(field, now)));
    Ok(())
}
