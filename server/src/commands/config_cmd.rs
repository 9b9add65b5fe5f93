//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP, over the `config` module's
//! matching, validation and rewriting, plus the runtime effects of a SET.
//!
//! Most settings take effect because the server reads them where they
//! matter (hz each cron tick, maxclients at accept, slowlog settings at each
//! command, requirepass at dispatch). `loglevel` changes the process-wide
//! log filter. Not applied at runtime: `port`/`bind`/`unixsocket` (listeners
//! are not re-created), `dir` (no chdir: the process may embed several
//! servers), and everything that belongs to features not built yet.

use super::ctx::{CmdResult, Ctx};
use super::server_cmds::help_reply;
use super::spec::{CommandSpec, NO_KEYS};
use crate::errors;

const ADMIN: &str = "@admin @slow @dangerous";

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("config", -2, "", "@slow", NO_KEYS, help)
    .doc(
        "server",
        "2.0.0",
        "A container for server configuration commands.",
        "Depends on subcommand.",
    )
    .subs(&[
        CommandSpec::new(
            "get",
            -3,
            "admin noscript loading stale",
            ADMIN,
            NO_KEYS,
            get,
        )
        .doc(
            "server",
            "2.0.0",
            "Returns the effective values of configuration parameters.",
            "O(N) when N is the number of configuration parameters provided",
        ),
        CommandSpec::new("help", 2, "loading stale", "@slow", NO_KEYS, help).doc(
            "server",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
        CommandSpec::new(
            "resetstat",
            2,
            "admin noscript loading stale",
            ADMIN,
            NO_KEYS,
            resetstat,
        )
        .doc("server", "2.0.0", "Resets the server's statistics.", "O(1)"),
        CommandSpec::new(
            "rewrite",
            2,
            "admin noscript loading stale",
            ADMIN,
            NO_KEYS,
            rewrite,
        )
        .doc(
            "server",
            "2.8.0",
            "Persists the effective configuration to file.",
            "O(1)",
        ),
        CommandSpec::new(
            "set",
            -4,
            "admin noscript loading stale",
            ADMIN,
            NO_KEYS,
            set,
        )
        .doc(
            "server",
            "2.0.0",
            "Sets configuration parameters in-flight.",
            "O(N) when N is the number of configuration parameters provided",
        )
        .tips("request_policy:all_nodes response_policy:all_succeeded"),
    ])];

const HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, HELP)
}

fn get(ctx: &mut Ctx) -> CmdResult {
    let patterns: Vec<&[u8]> = ctx.args[2..].iter().map(|a| &a[..]).collect();
    let pairs = ctx.srv.config.get_matching(&patterns);
    ctx.map(pairs.len());
    for (k, v) in pairs {
        ctx.bulk(k.as_bytes());
        ctx.bulk(v.as_bytes());
    }
    Ok(())
}

fn set(ctx: &mut Ctx) -> CmdResult {
    let rest = &ctx.args[2..];
    if !rest.len().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = rest
        .chunks(2)
        .map(|p| (p[0].to_vec(), p[1].to_vec()))
        .collect();
    let local = ctx.client.is_unix || is_loopback(&ctx.client.addr);
    let changed = ctx.srv.config.set_many_from(&pairs, local)?;
    for name in changed {
        apply(ctx, name);
    }
    ctx.ok();
    Ok(())
}

/// Runtime effects of a changed setting beyond the field itself.
fn apply(ctx: &mut Ctx, name: &str) {
    match name {
        "loglevel" => {
            log::set_max_level(crate::logging::level_filter(ctx.srv.config.loglevel.name()))
        }
        "slowlog-max-len" => {
            let max = ctx.srv.config.slowlog_max_len as usize;
            ctx.srv.slowlog.entries.truncate(max);
        }
        "maxmemory-policy" | "lfu-log-factor" | "lfu-decay-time" => ctx.srv.refresh_lfu_mode(),
        "maxmemory" => crate::evict::limit_changed(ctx.srv),
        "port" | "bind" | "unixsocket" | "unixsocketperm" | "dir" => {
            log::warn!("CONFIG SET {name}: the new value takes effect after a restart");
        }
        _ => {}
    }
}

fn is_loopback(addr: &str) -> bool {
    addr.rsplit_once(':')
        .map(|(ip, _)| ip.trim_matches(['[', ']']))
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

fn resetstat(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.stats.reset();
    ctx.srv.keyspace.stats = Default::default();
    ctx.ok();
    Ok(())
}

fn rewrite(ctx: &mut Ctx) -> CmdResult {
    let Some(path) = ctx.srv.config.config_file.clone() else {
        return Err("ERR The server is running without a config file".into());
    };
    match ctx.srv.config.rewrite(&path) {
        Ok(()) => {
            log::info!("CONFIG REWRITE executed with success.");
            ctx.ok();
            Ok(())
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {e}");
            Err(format!("ERR Rewriting config file: {}", os_error_text(&e)).into())
        }
    }
}

/// strerror-style text without Rust's " (os error N)" suffix.
fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
