//! Running a script or a function: KEYS/ARGV, the per-run state, the scoped
//! `redis.call` that runs real commands for the calling client, and turning
//! the outcome into a reply or Redis's error text.
//!
//! A script runs to completion on the event-loop thread. The scoped
//! callback holds the command's `&mut Server` and `&mut Client`; it serves
//! `redis.call` and, called with `nil` by the instruction hook once the
//! script is past busy-reply-threshold, takes a step of serving other
//! clients (`net::busy`) and tells the hook whether SCRIPT KILL, FUNCTION
//! KILL or a shutdown stopped the script. One callback does both because
//! only one closure can hold the server.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use handoff_protocol::frame::Frame;
use mlua::{Function, Lua, MultiValue, Table, Value, Variadic};

use super::convert::{frame_to_lua, lua_to_reply, ReplyProto};
use super::numfmt::fmt_g;
use super::sandbox::{self, step, RunState};
use super::Running;
use crate::client::{Client, ClientKind};
use crate::clock::CmdClock;
use crate::commands::spec::flag;
use crate::commands::{dispatch, gate};
use crate::server::Server;

/// What is being run.
pub struct Invocation<'a> {
    pub func: Function,
    pub keys: &'a [Bytes],
    pub args: &'a [Bytes],
    /// Writes are refused (EVAL_RO/FCALL_RO, or the `no-writes` flag).
    pub read_only: bool,
    /// The `allow-oom` flag: commands that may grow memory run even when
    /// the script started out of memory.
    pub allow_oom: bool,
    /// The SHA1 of a script, or the name of a function (error messages).
    pub name: &'a str,
    /// Functions get KEYS and ARGV as arguments, scripts as globals.
    pub is_function: bool,
    /// The whole command (FUNCTION STATS shows it).
    pub argv: &'a [Bytes],
}

/// Runs `inv` for `client`; the reply bytes, or an error text (no '-').
pub fn run(
    srv: &mut Server,
    client: &mut Client,
    clock: &mut CmdClock,
    inv: Invocation,
) -> Result<BytesMut, String> {
    let sb = srv.scripting.sandbox()?;
    let lua = sb.lua.clone();
    let runner = sb.runner.clone();
    let slot = sb.slot.clone();
    let eval_globals = sb.eval_globals.clone();
    let busy = srv.config.busy_reply_threshold;

    let outcome = (|| -> mlua::Result<Result<BytesMut, String>> {
        let keys = string_table(&lua, inv.keys)?;
        let args = string_table(&lua, inv.args)?;
        let call_args = if inv.is_function {
            MultiValue::from_vec(vec![
                Value::Function(inv.func.clone()),
                Value::Table(keys),
                Value::Table(args),
            ])
        } else {
            eval_globals.raw_set("KEYS", keys)?;
            eval_globals.raw_set("ARGV", args)?;
            MultiValue::from_vec(vec![Value::Function(inv.func.clone())])
        };
        let busy_after = (busy > 0).then(|| Duration::from_millis(busy));
        let started = Instant::now();
        lua.set_app_data(RunState {
            resp: 2,
            started,
            busy_after,
            serve: busy_after.map(|_| slot.clone()),
            hard_limit: None,
            timed_out: false,
            kill: false,
            is_eval: !inv.is_function,
            name: inv.name.to_string(),
        });
        srv.scripting.running = Some(Running {
            is_eval: !inv.is_function,
            name: inv.name.to_string(),
            argv: inv.argv.to_vec(),
            started,
            busy: false,
            wrote: false,
            from_primary: client.kind == crate::client::ClientKind::PrimaryLink,
            kill: false,
        });
        let saved_db = client.db;
        let saved_resp = client.resp;
        let saved_in_exec = client.in_exec;
        let saved_last_cmd = client.last_cmd;
        let client_resp3 = client.resp >= 3;
        client.in_exec = true;
        let read_only = inv.read_only;
        let allow_oom = inv.allow_oom;
        let result = lua.scope(|scope| {
            let call = scope.create_function_mut(|lua, (op, args): (Value, Variadic<Value>)| {
                match op {
                    Value::Boolean(acl) => {
                        let modes = (read_only, allow_oom);
                        script_call(lua, srv, client, clock, modes, saved_resp, acl, args)
                    }
                    // The hook's serving step.
                    _ => Ok((true, Value::Integer(busy_step(srv)))),
                }
            })?;
            slot.raw_set("call", call)?;
            let ret: MultiValue = runner.call(call_args)?;
            slot.raw_set("call", Value::Nil)?;
            let mut it = ret.into_iter();
            let ok = matches!(it.next(), Some(Value::Boolean(true)));
            let value = it.next().unwrap_or(Value::Nil);
            let script_resp = lua.app_data_ref::<RunState>().map_or(2, |s| s.resp);
            if ok {
                let mut out = BytesMut::new();
                let proto = ReplyProto {
                    script_resp,
                    client_resp3,
                };
                lua_to_reply(&value, proto, &mut out);
                Ok(Ok(out))
            } else {
                Ok(Err(error_text(&value, inv.name)))
            }
        });
        let _ = slot.raw_set("call", Value::Nil);
        client.db = saved_db;
        client.resp = saved_resp;
        client.in_exec = saved_in_exec;
        client.last_cmd = saved_last_cmd;
        result
    })();
    let running = srv.scripting.running.take();
    crate::net::busy::end(srv);
    if lua.app_data_ref::<RunState>().is_some_and(|st| st.kill) {
        sandbox::reset_hook(&lua);
    }
    lua.remove_app_data::<RunState>();
    if !inv.is_function {
        let _ = eval_globals.raw_set("KEYS", Value::Nil);
        let _ = eval_globals.raw_set("ARGV", Value::Nil);
    }
    if running.is_some_and(|r| r.busy) && srv.shutdown.is_some() {
        // SHUTDOWN NOSAVE while busy: Redis exits at once, the caller gets
        // no reply, not even for the commands it sent before.
        client.out.clear();
        return Ok(BytesMut::new());
    }
    match outcome {
        Ok(r) => r,
        Err(e) => Err(format!(
            "ERR Error running script: {}",
            one_line(&e.to_string())
        )),
    }
}

/// A serving step while the script is busy; the verdict for the hook.
fn busy_step(srv: &mut Server) -> i64 {
    if let Some(r) = srv.scripting.running.as_mut() {
        r.busy = true;
    }
    crate::net::busy::serve(srv);
    if srv.shutdown.is_some() {
        step::SHUTDOWN
    } else if srv.scripting.running.as_ref().is_some_and(|r| r.kill) {
        step::KILLED
    } else {
        step::CONTINUE
    }
}

fn string_table(lua: &Lua, items: &[Bytes]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(t)
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// Redis's text for a failed run: the error, then where it happened.
pub fn error_text(err: &Value, name: &str) -> String {
    let Value::Table(t) = err else {
        return "ERR Error running script (unknown error)".into();
    };
    let msg = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => return "ERR Error running script (unknown error)".into(),
    };
    let msg = msg.strip_prefix('-').unwrap_or(&msg).to_string();
    let source = t.raw_get::<Option<String>>("source").ok().flatten();
    let line = t.raw_get::<Option<i64>>("line").ok().flatten();
    let text = match (source, line) {
        (Some(src), Some(line)) => format!("{msg} script: {name}, on {src}:{line}."),
        _ => msg,
    };
    one_line(&text)
}

/// The bare error message of a failed run (FUNCTION LOAD wants it without
/// the location suffix).
pub fn error_message(err: &Value) -> String {
    match err {
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => one_line(&String::from_utf8_lossy(&s.as_bytes())),
            _ => "ERR unknown error".into(),
        },
        _ => "ERR unknown error".into(),
    }
}

fn err_value(lua: &Lua, msg: &str) -> mlua::Result<(bool, Value)> {
    let t = lua.create_table()?;
    t.raw_set("err", msg)?;
    Ok((false, Value::Table(t)))
}

/// redis.call / redis.pcall / redis.acl_check_cmd: (true, value) or
/// (false, error table); the Lua wrappers decide whether to raise.
#[allow(clippy::too_many_arguments)]
fn script_call(
    lua: &Lua,
    srv: &mut Server,
    client: &mut Client,
    clock: &mut CmdClock,
    (read_only, allow_oom): (bool, bool),
    caller_resp: u8,
    acl: bool,
    args: Variadic<Value>,
) -> mlua::Result<(bool, Value)> {
    if args.is_empty() {
        return err_value(
            lua,
            "ERR Please specify at least one argument for this redis lib call",
        );
    }
    let mut argv: Vec<Bytes> = Vec::with_capacity(args.len());
    for a in args.iter() {
        match a {
            Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => argv.push(fmt_g(*n as f64, 17).into()),
            Value::Number(n) => argv.push(fmt_g(*n, 17).into()),
            _ => {
                return err_value(
                    lua,
                    "ERR Lua redis lib command arguments must be strings or integers",
                )
            }
        }
    }
    let id = srv.commands.lookup(&argv[0]).and_then(|id| {
        if srv.commands.has_subcommands(id) && argv.len() >= 2 {
            srv.commands.lookup_sub(id, &argv[1])
        } else {
            Some(id)
        }
    });
    let Some(id) = id else {
        let msg = if acl {
            "ERR Invalid command passed to redis.acl_check_cmd()"
        } else {
            "ERR Unknown Redis command called from script"
        };
        return err_value(lua, msg);
    };
    if acl {
        // No ACL users exist: the default user may run everything.
        return Ok((true, Value::Boolean(true)));
    }
    let spec = srv.commands.entries[id].spec;
    let argc = argv.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || argc < -spec.arity {
        return err_value(
            lua,
            "ERR Wrong number of args calling Redis command from script",
        );
    }
    if spec.has(flag::NOSCRIPT) {
        return err_value(lua, "ERR This Redis command is not allowed from script");
    }
    // What may replicate (PUBLISH, PFCOUNT) counts as a write: a read-only
    // script is not held by CLIENT PAUSE WRITE, so it must not propagate.
    let writes = flag::WRITE | flag::MAY_REPLICATE;
    if read_only && srv.commands.entries[id].gate.flags & writes != 0 {
        return err_value(
            lua,
            "ERR Write commands are not allowed from read-only scripts.",
        );
    }
    // A script on a read-only replica (or a primary short of
    // min-replicas-to-write) may run, but its writes are refused one by one,
    // as Redis does; the primary's own stream is never refused.
    if client.kind != ClientKind::PrimaryLink {
        if let Some(text) = gate::write_gate(srv, srv.commands.entries[id].gate.flags) {
            return err_value(lua, text);
        }
    }
    // Out of memory when the script started: its first command that may
    // grow memory is refused; after a write it must run to the end.
    if crate::evict::script_call_refused(srv, client, allow_oom, spec.flags) {
        return err_value(lua, crate::errors::OOM);
    }
    if spec.has(flag::WRITE) {
        // As Redis, from here on the script cannot be killed, whether or
        // not the command changes anything.
        if let Some(r) = srv.scripting.running.as_mut() {
            r.wrote = true;
        }
    }
    client.resp = lua.app_data_ref::<RunState>().map_or(2, |s| s.resp);
    let before = client.out.len();
    dispatch::call(srv, client, id, &argv, clock);
    client.resp = caller_resp;
    let reply = client.out.split_off(before);
    let frame = match Frame::parse(&reply) {
        Ok(Some((f, _))) => f,
        _ => return err_value(lua, "ERR the command sent no valid reply"),
    };
    let ok = !frame.is_error();
    Ok((ok, frame_to_lua(lua, &frame)?))
}
