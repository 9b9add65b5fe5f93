//! SLOWLOG GET / LEN / RESET / HELP over `srv.slowlog` (filled by dispatch).

use super::ctx::{parse_i64, CmdResult, Ctx};
use super::server_cmds::help_reply;
use super::spec::{CommandSpec, NO_KEYS};

const ADMIN: &str = "@admin @slow @dangerous";

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("slowlog", -2, "", "@slow", NO_KEYS, help)
    .doc(
        "server",
        "2.2.12",
        "A container for slow log commands.",
        "Depends on subcommand.",
    )
    .subs(&[
        CommandSpec::new("get", -2, "admin loading stale", ADMIN, NO_KEYS, get)
            .doc(
                "server",
                "2.2.12",
                "Returns the slow log's entries.",
                "O(N) where N is the number of entries returned",
            )
            .tips("request_policy:all_nodes nondeterministic_output"),
        CommandSpec::new("help", 2, "loading stale", "@slow", NO_KEYS, help).doc(
            "server",
            "6.2.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
        CommandSpec::new("len", 2, "admin loading stale", ADMIN, NO_KEYS, len)
            .doc(
                "server",
                "2.2.12",
                "Returns the number of entries in the slow log.",
                "O(1)",
            )
            .tips("request_policy:all_nodes response_policy:agg_sum nondeterministic_output"),
        CommandSpec::new("reset", 2, "admin loading stale", ADMIN, NO_KEYS, reset)
            .doc(
                "server",
                "2.2.12",
                "Clears all entries from the slow log.",
                "O(N) where N is the number of entries in the slowlog",
            )
            .tips("request_policy:all_nodes response_policy:all_succeeded"),
    ])];

const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, HELP)
}

fn get(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() > 3 {
        return Err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
            crate::errors::truncated(&ctx.args[1], 128)
        )
        .into());
    }
    const RANGE: &str = "ERR count should be greater than or equal to -1";
    let count = match ctx.args.get(2) {
        Some(a) => parse_i64(a).map_err(|_| RANGE)?,
        None => 10,
    };
    if count < -1 {
        return Err(RANGE.into());
    }
    let total = ctx.srv.slowlog.entries.len();
    let n = if count == -1 {
        total
    } else {
        total.min(count as usize)
    };
    let entries: Vec<_> = ctx.srv.slowlog.entries.iter().take(n).cloned().collect();
    ctx.array(entries.len());
    for e in entries {
        ctx.array(6);
        ctx.int(e.id as i64);
        ctx.int(e.unix_time);
        ctx.int(e.duration_us as i64);
        ctx.array(e.args.len());
        for a in &e.args {
            ctx.bulk(a);
        }
        ctx.bulk(e.client_addr.as_bytes());
        ctx.bulk(&e.client_name);
    }
    Ok(())
}

fn len(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.srv.slowlog.entries.len();
    ctx.int(n as i64);
    Ok(())
}

fn reset(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.slowlog.entries.clear();
    ctx.ok();
    Ok(())
}
