//! Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO, SCRIPT (LOAD EXISTS
//! FLUSH KILL DEBUG HELP), FUNCTION (LOAD LIST DELETE FLUSH DUMP RESTORE
//! STATS KILL HELP), FCALL FCALL_RO. Argument checks and replies live here;
//! the Lua side (sandbox, running, conversions, libraries) is in
//! `crate::scripting`.

use bytes::Bytes;

use super::client_cmd::help_reply;
use super::ctx::{is, CmdError, CmdResult, Ctx};
use super::spec::{CommandSpec, NO_KEYS};
use crate::errors;
use crate::scripting::functions::{self, FLAG_NAMES, NO_WRITES};
use crate::scripting::run::{self, Invocation};
use crate::scripting::script_flags;

const SCR: &str = "@slow @scripting";
const RUN_FLAGS: &str = "noscript stale skip_monitor no_mandatory_keys movablekeys";
const RO_RUN_FLAGS: &str = "readonly noscript stale skip_monitor no_mandatory_keys movablekeys";
const WRITE_FLAG_RO: &str = "ERR Can not execute a script with write flag using *_ro command.";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, RUN_FLAGS, SCR, NO_KEYS, eval).doc(
        "scripting",
        "2.6.0",
        "Executes a server-side Lua script.",
        "Depends on the script that is executed.",
    ),
    CommandSpec::new("evalsha", -3, RUN_FLAGS, SCR, NO_KEYS, evalsha).doc(
        "scripting",
        "2.6.0",
        "Executes a server-side Lua script by SHA1 digest.",
        "Depends on the script that is executed.",
    ),
    CommandSpec::new("eval_ro", -3, RO_RUN_FLAGS, SCR, NO_KEYS, eval_ro).doc(
        "scripting",
        "7.0.0",
        "Executes a read-only server-side Lua script.",
        "Depends on the script that is executed.",
    ),
    CommandSpec::new("evalsha_ro", -3, RO_RUN_FLAGS, SCR, NO_KEYS, evalsha_ro).doc(
        "scripting",
        "7.0.0",
        "Executes a read-only server-side Lua script by SHA1 digest.",
        "Depends on the script that is executed.",
    ),
    CommandSpec::new("fcall", -3, RUN_FLAGS, SCR, NO_KEYS, fcall).doc(
        "scripting",
        "7.0.0",
        "Invokes a function.",
        "Depends on the function that is executed.",
    ),
    CommandSpec::new("fcall_ro", -3, RO_RUN_FLAGS, SCR, NO_KEYS, fcall_ro).doc(
        "scripting",
        "7.0.0",
        "Invokes a read-only function.",
        "Depends on the function that is executed.",
    ),
    CommandSpec::new("script", -2, "", "@slow", NO_KEYS, script_help)
        .doc(
            "scripting",
            "2.6.0",
            "A container for Lua scripts management commands.",
            "Depends on subcommand.",
        )
        .subs(&[
            CommandSpec::new("debug", 3, "noscript", SCR, NO_KEYS, script_debug).doc(
                "scripting",
                "3.2.0",
                "Sets the debug mode of server-side Lua scripts.",
                "O(1)",
            ),
            CommandSpec::new("exists", -3, "noscript", SCR, NO_KEYS, script_exists)
                .doc(
                    "scripting",
                    "2.6.0",
                    "Determines whether server-side Lua scripts exist in the script cache.",
                    "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
                )
                .tips("request_policy:all_shards response_policy:agg_logical_and"),
            CommandSpec::new("flush", -2, "noscript", SCR, NO_KEYS, script_flush)
                .doc(
                    "scripting",
                    "2.6.0",
                    "Removes all server-side Lua scripts from the script cache.",
                    "O(N) with N being the number of scripts in cache",
                )
                .tips("request_policy:all_nodes response_policy:all_succeeded"),
            CommandSpec::new("help", 2, "loading stale", SCR, NO_KEYS, script_help).doc(
                "scripting",
                "5.0.0",
                "Returns helpful text about the different subcommands.",
                "O(1)",
            ),
            CommandSpec::new("kill", 2, "noscript allow_busy", SCR, NO_KEYS, script_kill)
                .doc(
                    "scripting",
                    "2.6.0",
                    "Terminates a server-side Lua script during execution.",
                    "O(1)",
                )
                .tips("request_policy:all_shards response_policy:one_succeeded"),
            CommandSpec::new("load", 3, "noscript stale", SCR, NO_KEYS, script_load)
                .doc(
                    "scripting",
                    "2.6.0",
                    "Loads a server-side Lua script to the script cache.",
                    "O(N) with N being the length in bytes of the script body.",
                )
                .tips("request_policy:all_nodes response_policy:all_succeeded"),
        ]),
    CommandSpec::new("function", -2, "", "@slow", NO_KEYS, function_help)
        .doc(
            "scripting",
            "7.0.0",
            "A container for function commands.",
            "Depends on subcommand.",
        )
        .subs(&[
            CommandSpec::new(
                "delete",
                3,
                "write noscript",
                "@write @slow @scripting",
                NO_KEYS,
                function_delete,
            )
            .doc(
                "scripting",
                "7.0.0",
                "Deletes a library and its functions.",
                "O(1)",
            )
            .tips("request_policy:all_shards response_policy:all_succeeded"),
            CommandSpec::new("dump", 2, "noscript", SCR, NO_KEYS, function_dump).doc(
                "scripting",
                "7.0.0",
                "Dumps all libraries into a serialized binary payload.",
                "O(N) where N is the number of functions",
            ),
            CommandSpec::new(
                "flush",
                -2,
                "write noscript",
                "@write @slow @scripting",
                NO_KEYS,
                function_flush,
            )
            .doc(
                "scripting",
                "7.0.0",
                "Deletes all libraries and functions.",
                "O(N) where N is the number of functions deleted",
            )
            .tips("request_policy:all_shards response_policy:all_succeeded"),
            CommandSpec::new("help", 2, "loading stale", SCR, NO_KEYS, function_help).doc(
                "scripting",
                "7.0.0",
                "Returns helpful text about the different subcommands.",
                "O(1)",
            ),
            CommandSpec::new("kill", 2, "noscript allow_busy", SCR, NO_KEYS, function_kill)
                .doc(
                    "scripting",
                    "7.0.0",
                    "Terminates a function during execution.",
                    "O(1)",
                )
                .tips("request_policy:all_shards response_policy:one_succeeded"),
            CommandSpec::new("list", -2, "noscript", SCR, NO_KEYS, function_list)
                .doc(
                    "scripting",
                    "7.0.0",
                    "Returns information about all libraries.",
                    "O(N) where N is the number of functions",
                )
                .tips("nondeterministic_output_order"),
            CommandSpec::new(
                "load",
                -3,
                "write denyoom noscript",
                "@write @slow @scripting",
                NO_KEYS,
                function_load,
            )
            .doc(
                "scripting",
                "7.0.0",
                "Creates a library.",
                "O(1) (considering compilation time is redundant)",
            )
            .tips("request_policy:all_shards response_policy:all_succeeded"),
            CommandSpec::new(
                "restore",
                -3,
                "write denyoom noscript",
                "@write @slow @scripting",
                NO_KEYS,
                function_restore,
            )
            .doc(
                "scripting",
                "7.0.0",
                "Restores all libraries from a payload.",
                "O(N) where N is the number of functions on the payload",
            )
            .tips("request_policy:all_shards response_policy:all_succeeded"),
            CommandSpec::new("stats", 2, "noscript allow_busy", SCR, NO_KEYS, function_stats)
                .doc(
                    "scripting",
                    "7.0.0",
                    "Returns information about a function during execution.",
                    "O(1)",
                )
                .tips(
                    "nondeterministic_output request_policy:all_shards response_policy:special",
                ),
        ]),
];

/// Checks `numkeys` at `idx` against the arguments after it.
fn numkeys(ctx: &Ctx, idx: usize) -> Result<usize, CmdError> {
    let n = ctx.arg_i64(idx)?;
    let available = (ctx.args.len() - idx - 1) as i64;
    if n > available {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if n < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    Ok(n as usize)
}

fn eval(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, false)
}

fn evalsha(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, false)
}

fn eval_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, true)
}

fn evalsha_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, true)
}

fn eval_generic(ctx: &mut Ctx, by_sha: bool, ro: bool) -> CmdResult {
    // Scripts replicate by their effects (the redis.call writes), not as EVAL.
    ctx.prevent_propagation();
    let nk = numkeys(ctx, 2)?;
    let sha = if by_sha {
        let sha = String::from_utf8_lossy(&ctx.args[1]).to_ascii_lowercase();
        if !ctx.srv.scripting.scripts.contains_key(&sha) {
            return Err("NOSCRIPT No matching script. Please use EVAL.".into());
        }
        sha
    } else {
        ctx.srv.scripting.load_script(&ctx.args[1])?
    };
    let Some(script) = ctx.srv.scripting.scripts.get(&sha) else {
        return Err("NOSCRIPT No matching script. Please use EVAL.".into());
    };
    let func = script.func.clone();
    let flags = script.flags;
    let compat = flags & script_flags::EVAL_COMPAT != 0;
    let no_writes = flags & script_flags::NO_WRITES != 0;
    if !compat && !no_writes && ro {
        return Err(WRITE_FLAG_RO.into());
    }
    if !compat && crate::evict::script_start_refused(ctx.srv, ctx.client, flags) {
        return Err(errors::OOM_ALLOW_OOM.into());
    }
    let args = ctx.args;
    let inv = Invocation {
        func,
        keys: &args[3..3 + nk],
        args: &args[3 + nk..],
        read_only: ro || no_writes,
        allow_oom: !compat && flags & script_flags::ALLOW_OOM != 0,
        name: &sha,
        is_function: false,
        argv: args,
    };
    let reply = run::run(ctx.srv, ctx.client, ctx.clock, inv)?;
    ctx.client.out.extend_from_slice(&reply);
    Ok(())
}

fn fcall(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, false)
}

fn fcall_ro(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, true)
}

fn fcall_generic(ctx: &mut Ctx, ro: bool) -> CmdResult {
    // Functions replicate by their effects, as scripts do.
    ctx.prevent_propagation();
    let nk = numkeys(ctx, 2)?;
    let name = String::from_utf8_lossy(&ctx.args[1]).into_owned();
    let Some(f) = ctx.srv.scripting.functions.functions.get(&name) else {
        return Err("ERR Function not found".into());
    };
    let no_writes = f.flags & NO_WRITES != 0;
    if ro && !no_writes {
        return Err(WRITE_FLAG_RO.into());
    }
    let f_flags = f.flags;
    if crate::evict::script_start_refused(ctx.srv, ctx.client, f_flags) {
        return Err(errors::OOM_ALLOW_OOM.into());
    }
    let Some(f) = ctx.srv.scripting.functions.functions.get(&name) else {
        return Err("ERR Function not found".into());
    };
    let args = ctx.args;
    let inv = Invocation {
        func: f.callback.clone(),
        keys: &args[3..3 + nk],
        args: &args[3 + nk..],
        read_only: ro || no_writes,
        allow_oom: f_flags & script_flags::ALLOW_OOM != 0,
        name: &name,
        is_function: true,
        argv: args,
    };
    let reply = run::run(ctx.srv, ctx.client, ctx.clock, inv)?;
    ctx.client.out.extend_from_slice(&reply);
    Ok(())
}

fn script_kill(ctx: &mut Ctx) -> CmdResult {
    kill(ctx, true)
}

fn function_kill(ctx: &mut Ctx) -> CmdResult {
    kill(ctx, false)
}

/// SCRIPT KILL (`eval`) / FUNCTION KILL: asks the running script to stop;
/// it stops at its hook's next tick and its caller gets Redis's error.
/// Only reachable while a script is busy (other clients are not served
/// before), or with nothing running.
fn kill(ctx: &mut Ctx, eval: bool) -> CmdResult {
    let Some(r) = ctx.srv.scripting.running.as_mut() else {
        return Err(errors::NOTBUSY.into());
    };
    // Redis 7.0 goes on after this error (and may also answer +OK); one
    // reply here. Unreachable in practice: primaries replicate effects.
    if r.from_primary {
        return Err(errors::UNKILLABLE_PRIMARY.into());
    }
    if r.wrote {
        return Err(errors::UNKILLABLE_WROTE.into());
    }
    if eval && !r.is_eval {
        return Err(errors::BUSY_FUNCTION.into());
    }
    if !eval && r.is_eval {
        return Err(errors::BUSY_EVAL.into());
    }
    r.kill = true;
    ctx.ok();
    Ok(())
}

fn script_load(ctx: &mut Ctx) -> CmdResult {
    let sha = ctx.srv.scripting.load_script(&ctx.args[2])?;
    ctx.bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.args.len() - 2;
    ctx.array(n);
    for i in 2..ctx.args.len() {
        let sha = String::from_utf8_lossy(&ctx.args[i]).to_ascii_lowercase();
        let found = ctx.srv.scripting.scripts.contains_key(&sha);
        ctx.int(found as i64);
    }
    Ok(())
}

/// The optional ASYNC|SYNC argument of the FLUSH subcommands.
fn flush_mode_ok(ctx: &Ctx) -> bool {
    match ctx.args.len() {
        2 => true,
        3 => is(&ctx.args[2], "async") || is(&ctx.args[2], "sync"),
        _ => false,
    }
}

fn script_flush(ctx: &mut Ctx) -> CmdResult {
    if !flush_mode_ok(ctx) {
        return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into());
    }
    ctx.srv.scripting.flush_scripts();
    ctx.ok();
    Ok(())
}

fn script_debug(ctx: &mut Ctx) -> CmdResult {
    if ctx.arg_is(2, "no") {
        ctx.ok();
        return Ok(());
    }
    if ctx.arg_is(2, "yes") || ctx.arg_is(2, "sync") {
        return Err("ERR SCRIPT DEBUG is not supported by this server".into());
    }
    Err("ERR Use SCRIPT DEBUG YES/SYNC/NO".into())
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

fn script_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, SCRIPT_HELP);
    Ok(())
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

fn function_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, FUNCTION_HELP);
    Ok(())
}

fn function_load(ctx: &mut Ctx) -> CmdResult {
    let (replace, code_idx) = match ctx.args.len() {
        3 => (false, 2),
        4 if ctx.arg_is(2, "replace") => (true, 3),
        4 => {
            return Err(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(&ctx.args[2])
            )
            .into())
        }
        _ => return Err("ERR wrong number of arguments for 'function|load' command".into()),
    };
    let code = ctx.args[code_idx].clone();
    let loaded = functions::load(ctx.srv.scripting.sandbox()?, &code)?;
    let name = loaded.library.name.clone();
    ctx.srv.scripting.functions.install(loaded, replace)?;
    ctx.srv.keyspace.dirty += 1;
    ctx.bulk(name.as_bytes());
    Ok(())
}

fn function_delete(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(&ctx.args[2]).into_owned();
    if !ctx.srv.scripting.functions.delete(&name) {
        return Err("ERR Library not found".into());
    }
    ctx.srv.keyspace.dirty += 1;
    ctx.ok();
    Ok(())
}

fn function_flush(ctx: &mut Ctx) -> CmdResult {
    if !flush_mode_ok(ctx) {
        return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into());
    }
    ctx.srv.scripting.flush_functions();
    ctx.srv.keyspace.dirty += 1;
    ctx.ok();
    Ok(())
}

fn function_list(ctx: &mut Ctx) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<Bytes> = None;
    let mut i = 2;
    while i < ctx.args.len() {
        if ctx.arg_is(i, "withcode") && !with_code {
            with_code = true;
        } else if ctx.arg_is(i, "libraryname") && pattern.is_none() {
            let Some(p) = ctx.args.get(i + 1) else {
                return Err("ERR library name argument was not given".into());
            };
            pattern = Some(p.clone());
            i += 1;
        } else {
            return Err(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(&ctx.args[i])
            )
            .into());
        }
        i += 1;
    }
    let libs: Vec<functions::Library> = ctx
        .srv
        .scripting
        .functions
        .libraries
        .values()
        .filter(|l| {
            pattern
                .as_ref()
                .is_none_or(|p| crate::config::glob::glob_match(p, l.name.as_bytes(), false))
        })
        .cloned()
        .collect();
    ctx.array(libs.len());
    for lib in &libs {
        ctx.map(if with_code { 4 } else { 3 });
        ctx.bulk(b"library_name");
        ctx.bulk(lib.name.as_bytes());
        ctx.bulk(b"engine");
        ctx.bulk(b"LUA");
        ctx.bulk(b"functions");
        ctx.array(lib.functions.len());
        for fname in &lib.functions {
            let (flags, desc) = match ctx.srv.scripting.functions.functions.get(fname) {
                Some(f) => (f.flags, f.description.clone()),
                None => (0, None),
            };
            ctx.map(3);
            ctx.bulk(b"name");
            ctx.bulk(fname.as_bytes());
            ctx.bulk(b"description");
            match desc {
                Some(d) => ctx.bulk(&d),
                None => ctx.null(),
            }
            ctx.bulk(b"flags");
            let names: Vec<&str> = FLAG_NAMES
                .iter()
                .enumerate()
                .filter(|(i, _)| flags & (1 << i) != 0)
                .map(|(_, n)| *n)
                .collect();
            ctx.set(names.len());
            for n in names {
                ctx.simple(n.as_bytes());
            }
        }
        if with_code {
            ctx.bulk(b"library_code");
            ctx.bulk(&lib.code);
        }
    }
    Ok(())
}

fn function_stats(ctx: &mut Ctx) -> CmdResult {
    let libs = ctx.srv.scripting.functions.libraries.len() as i64;
    let funcs = ctx.srv.scripting.functions.functions.len() as i64;
    let running = match &ctx.srv.scripting.running {
        Some(r) if r.is_eval => return Err(errors::BUSY_EVAL.into()),
        Some(r) => Some((r.name.clone(), r.argv.clone(), r.started.elapsed())),
        None => None,
    };
    ctx.map(2);
    ctx.bulk(b"running_script");
    match running {
        None => ctx.null(),
        Some((name, argv, elapsed)) => {
            ctx.map(3);
            ctx.bulk(b"name");
            ctx.bulk(name.as_bytes());
            ctx.bulk(b"command");
            ctx.array(argv.len());
            for a in &argv {
                ctx.bulk(a);
            }
            ctx.bulk(b"duration_ms");
            ctx.int(elapsed.as_millis() as i64);
        }
    }
    ctx.bulk(b"engines");
    ctx.map(1);
    ctx.bulk(b"LUA");
    ctx.map(2);
    ctx.bulk(b"libraries_count");
    ctx.int(libs);
    ctx.bulk(b"functions_count");
    ctx.int(funcs);
    Ok(())
}

fn function_dump(ctx: &mut Ctx) -> CmdResult {
    let payload = ctx.srv.scripting.functions.dump();
    ctx.bulk(&payload);
    Ok(())
}

fn function_restore(ctx: &mut Ctx) -> CmdResult {
    #[derive(PartialEq)]
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    let policy =
        match ctx.args.len() {
            3 => Policy::Append,
            4 if ctx.arg_is(3, "flush") => Policy::Flush,
            4 if ctx.arg_is(3, "append") => Policy::Append,
            4 if ctx.arg_is(3, "replace") => Policy::Replace,
            4 => return Err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .into(),
            ),
            _ => return Err("ERR syntax error".into()),
        };
    let codes = functions::parse_dump(&ctx.args[2])?;
    let mut registry = if policy == Policy::Flush {
        functions::Registry::default()
    } else {
        ctx.srv.scripting.functions.clone()
    };
    for code in &codes {
        let loaded = functions::load(ctx.srv.scripting.sandbox()?, code)?;
        let name = loaded.library.name.clone();
        if policy == Policy::Append && registry.libraries.contains_key(&name) {
            return Err(format!("ERR Library {name} already exists").into());
        }
        registry.install(loaded, policy == Policy::Replace)?;
    }
    ctx.srv.scripting.functions = registry;
    ctx.srv.keyspace.dirty += 1;
    ctx.ok();
    Ok(())
}
