//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS, HELP): the command table described in Redis 7's layout.
//!
//! Key specs are derived from the legacy (first, last, step) triple, with
//! `RO`/`RW` flags from the command's read/write flag: handoff does not keep
//! Redis's full key-spec metadata, so finer access flags (OW, access, update,
//! insert, delete) are not reported.

use bytes::Bytes;
use handoff_protocol::encode;

use super::ctx::{is, CmdResult, Ctx};
use super::server_cmds::help_reply;
use super::spec::{flag, CommandSpec, NO_KEYS};
use super::CommandTable;
use crate::config::glob_match;
use crate::errors;

const CONN: &str = "@slow @connection";

pub const COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::new("command", -1, "loading stale", CONN, NO_KEYS, all)
            .doc(
                "server",
                "2.8.13",
                "Returns detailed information about all commands.",
                "O(N) where N is the total number of Redis commands",
            )
            .tips("nondeterministic_output_order")
            .subs(&[
                CommandSpec::new("count", 2, "loading stale", CONN, NO_KEYS, count).doc(
                    "server",
                    "2.8.13",
                    "Returns a count of commands.",
                    "O(1)",
                ),
                CommandSpec::new("docs", -2, "loading stale", CONN, NO_KEYS, docs)
                    .doc(
                        "server",
                        "7.0.0",
                        "Returns documentary information about one, multiple or all commands.",
                        "O(N) where N is the number of commands to look up",
                    )
                    .tips("nondeterministic_output_order"),
                CommandSpec::new("getkeys", -4, "loading stale", CONN, NO_KEYS, getkeys).doc(
                    "server",
                    "2.8.13",
                    "Extracts the key names from an arbitrary command.",
                    "O(N) where N is the number of arguments to the command",
                ),
                CommandSpec::new(
                    "getkeysandflags",
                    -4,
                    "loading stale",
                    CONN,
                    NO_KEYS,
                    getkeysandflags,
                )
                .doc(
                    "server",
                    "7.0.0",
                    "Extracts the key names and access flags for an arbitrary command.",
                    "O(N) where N is the number of arguments to the command",
                ),
                CommandSpec::new("help", 2, "loading stale", CONN, NO_KEYS, help).doc(
                    "server",
                    "5.0.0",
                    "Returns helpful text about the different subcommands.",
                    "O(1)",
                ),
                CommandSpec::new("info", -2, "loading stale", CONN, NO_KEYS, info)
                    .doc(
                        "server",
                        "2.8.13",
                        "Returns information about one, multiple or all commands.",
                        "O(N) where N is the number of commands to look up",
                    )
                    .tips("nondeterministic_output_order"),
                CommandSpec::new("list", -2, "loading stale", CONN, NO_KEYS, list)
                    .doc(
                        "server",
                        "7.0.0",
                        "Returns a list of command names.",
                        "O(N) where N is the total number of Redis commands",
                    )
                    .tips("nondeterministic_output_order"),
            ]),
    ];

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, HELP)
}

/// `COMMAND` alone: COMMAND INFO for every top-level command. The container
/// `command` has subcommands, so dispatch routes `COMMAND` with no argument here.
fn all(ctx: &mut Ctx) -> CmdResult {
    let ids: Vec<usize> = ctx.srv.commands.top_level().collect();
    ctx.array(ids.len());
    for id in ids {
        write_info(ctx, id);
    }
    Ok(())
}

fn count(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.srv.commands.top_level().count();
    ctx.int(n as i64);
    Ok(())
}

fn info(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() == 2 {
        return all(ctx);
    }
    ctx.array(ctx.args.len() - 2);
    for i in 2..ctx.args.len() {
        match ctx.srv.commands.lookup_full(&ctx.args[i]) {
            Some(id) => write_info(ctx, id),
            None => ctx.null(),
        }
    }
    Ok(())
}

/// One COMMAND INFO entry: name, arity, flags, first, last, step, ACL
/// categories, tips, key specs, subcommands (Redis 7 layout and types).
fn write_info(ctx: &mut Ctx, id: usize) {
    let entry = &ctx.srv.commands.entries[id];
    let spec = entry.spec;
    let name = entry.full_name.clone();
    let subs: Vec<usize> = ctx.srv.commands.subcommands_of(id).collect();
    ctx.array(10);
    ctx.bulk(name.as_bytes());
    ctx.int(spec.arity as i64);
    let flags: Vec<&str> = spec.flag_words().collect();
    ctx.set(flags.len());
    for f in flags {
        ctx.simple(f.as_bytes());
    }
    ctx.int(spec.keys.first as i64);
    ctx.int(spec.keys.last as i64);
    ctx.int(spec.keys.step as i64);
    let acl: Vec<&str> = spec.acl.split_whitespace().collect();
    ctx.set(acl.len());
    for a in acl {
        ctx.simple(a.as_bytes());
    }
    let tips: Vec<&str> = spec.tips.split_whitespace().collect();
    ctx.set(tips.len());
    for t in tips {
        ctx.bulk(t.as_bytes());
    }
    write_key_specs(ctx, spec);
    if subs.is_empty() {
        ctx.set(0);
    } else {
        ctx.array(subs.len());
        for s in subs {
            write_info(ctx, s);
        }
    }
}

/// The RO/RW flag of a command's keys.
fn key_flag(spec: &CommandSpec) -> &'static str {
    if spec.has(flag::WRITE) {
        "RW"
    } else {
        "RO"
    }
}

/// Key specs derived from (first, last, step): one index/range spec, or none.
fn write_key_specs(ctx: &mut Ctx, spec: &CommandSpec) {
    let k = spec.keys;
    if k.first <= 0 {
        ctx.set(0);
        return;
    }
    // A non-negative `last` is absolute in the legacy triple, relative to `first` in a range spec.
    let lastkey = if k.last < 0 { k.last } else { k.last - k.first };
    ctx.set(1);
    ctx.map(3);
    ctx.bulk(b"flags");
    ctx.set(1);
    ctx.simple(key_flag(spec).as_bytes());
    ctx.bulk(b"begin_search");
    ctx.map(2);
    ctx.bulk(b"type");
    ctx.bulk(b"index");
    ctx.bulk(b"spec");
    ctx.map(1);
    ctx.bulk(b"index");
    ctx.int(k.first as i64);
    ctx.bulk(b"find_keys");
    ctx.map(2);
    ctx.bulk(b"type");
    ctx.bulk(b"range");
    ctx.bulk(b"spec");
    ctx.map(3);
    ctx.bulk(b"lastkey");
    ctx.int(lastkey as i64);
    ctx.bulk(b"keystep");
    ctx.int(k.step as i64);
    ctx.bulk(b"limit");
    ctx.int(0);
}

fn docs(ctx: &mut Ctx) -> CmdResult {
    let ids: Vec<usize> = if ctx.args.len() == 2 {
        ctx.srv.commands.top_level().collect()
    } else {
        ctx.args[2..]
            .iter()
            .filter_map(|a| ctx.srv.commands.lookup_full(a))
            .collect()
    };
    ctx.map(ids.len());
    for id in ids {
        let name = ctx.srv.commands.entries[id].full_name.clone();
        ctx.bulk(name.as_bytes());
        write_docs(ctx, id);
    }
    Ok(())
}

/// One COMMAND DOCS map: summary, since, group, complexity, [subcommands].
fn write_docs(ctx: &mut Ctx, id: usize) {
    let spec = ctx.srv.commands.entries[id].spec;
    let subs: Vec<usize> = ctx.srv.commands.subcommands_of(id).collect();
    ctx.map(if subs.is_empty() { 4 } else { 5 });
    for (k, v) in [
        ("summary", spec.summary),
        ("since", spec.since),
        ("group", spec.group),
        ("complexity", spec.complexity),
    ] {
        ctx.bulk(k.as_bytes());
        ctx.bulk(v.as_bytes());
    }
    if !subs.is_empty() {
        ctx.bulk(b"subcommands");
        ctx.map(subs.len());
        for s in subs {
            let name = ctx.srv.commands.entries[s].full_name.clone();
            ctx.bulk(name.as_bytes());
            write_docs(ctx, s);
        }
    }
}

fn list(ctx: &mut Ctx) -> CmdResult {
    enum Filter {
        None,
        Module,
        AclCat(String),
        Pattern(Bytes),
    }
    let filter = match ctx.args.len() {
        2 => Filter::None,
        5 if is(&ctx.args[2], "filterby") => {
            let value = ctx.args[4].clone();
            if is(&ctx.args[3], "module") {
                Filter::Module
            } else if is(&ctx.args[3], "aclcat") {
                Filter::AclCat(format!(
                    "@{}",
                    String::from_utf8_lossy(&value).to_ascii_lowercase()
                ))
            } else if is(&ctx.args[3], "pattern") {
                Filter::Pattern(value)
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        _ => return Err(errors::SYNTAX.into()),
    };
    let t: &CommandTable = &ctx.srv.commands;
    let names: Vec<String> = t
        .entries
        .iter()
        .filter(|e| match &filter {
            Filter::None => true,
            // No modules: nothing belongs to one.
            Filter::Module => false,
            Filter::AclCat(cat) => e.spec.acl.split_whitespace().any(|c| c == cat),
            Filter::Pattern(p) => glob_match(p, e.full_name.as_bytes(), true),
        })
        .map(|e| e.full_name.clone())
        .collect();
    ctx.array(names.len());
    for n in names {
        ctx.bulk(n.as_bytes());
    }
    Ok(())
}

/// Resolves `args` (a full command line) to its command and the positions of
/// its keys, with Redis's COMMAND GETKEYS errors.
fn key_positions(t: &CommandTable, args: &[Bytes]) -> Result<(usize, Vec<usize>), &'static str> {
    let mut id = t.lookup(&args[0]).ok_or("ERR Invalid command specified")?;
    if t.has_subcommands(id) {
        if let Some(sub) = args.get(1).and_then(|s| t.lookup_sub(id, s)) {
            id = sub;
        }
    }
    let spec = t.entries[id].spec;
    let argc = args.len() as i64;
    let arity = spec.arity as i64;
    if (arity > 0 && argc != arity) || argc < -arity {
        return Err("ERR Invalid number of arguments specified for command");
    }
    let k = spec.keys;
    if k.first <= 0 || k.step <= 0 {
        return Err("ERR The command has no key arguments");
    }
    let last = if k.last < 0 {
        argc + k.last as i64
    } else {
        k.last as i64
    };
    let last = last.min(argc - 1);
    let mut pos = Vec::new();
    let mut i = k.first as i64;
    while i <= last {
        pos.push(i as usize);
        i += k.step as i64;
    }
    if pos.is_empty() {
        return Err("ERR The command has no key arguments");
    }
    Ok((id, pos))
}

fn getkeys(ctx: &mut Ctx) -> CmdResult {
    let (_, pos) = key_positions(&ctx.srv.commands, &ctx.args[2..])?;
    ctx.array(pos.len());
    for p in pos {
        let k = ctx.args[2 + p].clone();
        ctx.bulk(&k);
    }
    Ok(())
}

fn getkeysandflags(ctx: &mut Ctx) -> CmdResult {
    let (id, pos) = key_positions(&ctx.srv.commands, &ctx.args[2..])?;
    let f = key_flag(ctx.srv.commands.entries[id].spec);
    ctx.array(pos.len());
    for p in pos {
        let k = ctx.args[2 + p].clone();
        ctx.array(2);
        ctx.bulk(&k);
        ctx.set(1);
        encode::simple(&mut ctx.client.out, f.as_bytes());
    }
    Ok(())
}
