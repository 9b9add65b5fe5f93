//! The Lua state and its sandbox: which libraries exist (base, string,
//! table, math, plus cjson and bit written in Rust), the read-only proxies
//! that stand in for globals and library tables, the `redis` API tables and
//! the error handler that records where a script failed.
//!
//! The Lua side of the setup is `bootstrap.lua`; this module builds the
//! primitives it needs and keeps handles to what it returns. It does not run
//! scripts (see `run`).

use std::time::{Duration, Instant};

use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};

/// Chunk name of the trusted setup code; its frames are skipped when an
/// error is attributed to a line of the user's script.
const SANDBOX_CHUNK: &str = "=sandbox";

/// Instructions between two checks of the running time.
const HOOK_EVERY: u32 = 100_000;

/// Per-run state the primitives and the instruction hook read.
pub struct RunState {
    /// Protocol used for `redis.call` replies (redis.setresp).
    pub resp: u8,
    pub started: Instant,
    /// busy-reply-threshold: past it the script is logged as slow and the
    /// hook serves other clients through `serve`.
    pub busy_after: Option<Duration>,
    /// The table whose `call` entry is the running command's callback: the
    /// hook calls `call(nil)` for a serving step, which answers a [`step`]
    /// verdict. None where nothing is served (FUNCTION LOAD).
    pub serve: Option<Table>,
    /// A hard limit (FUNCTION LOAD's 500 ms), error when passed.
    pub hard_limit: Option<(Duration, &'static str)>,
    pub timed_out: bool,
    /// Stopped (SCRIPT KILL, FUNCTION KILL, shutdown): the hook now runs at
    /// every instruction and fails in the script's own code.
    pub kill: bool,
    /// EVAL (true) or a function: which KILL command the slow-script log names.
    pub is_eval: bool,
    pub name: String,
}

/// Verdicts of a serving step (what the hook does next).
pub mod step {
    /// Go on running.
    pub const CONTINUE: i64 = 0;
    /// SCRIPT KILL / FUNCTION KILL: stop with Redis's error.
    pub const KILLED: i64 = 1;
    /// SHUTDOWN NOSAVE (or the embedding handle): stop, the server exits.
    pub const SHUTDOWN: i64 = 2;
}

/// The Lua state plus handles into its sandbox.
pub struct Sandbox {
    pub lua: Lua,
    /// Environment of EVAL scripts (a read-only proxy).
    pub eval_env: Table,
    /// The table behind `eval_env`; KEYS and ARGV are set here per run.
    pub eval_globals: Table,
    /// Environment of function libraries.
    pub fn_env: Table,
    /// Metatable of `fn_env`: its `__index` is the load-time globals while
    /// FUNCTION LOAD runs a library's body, the full globals otherwise.
    pub fn_meta: Table,
    pub fn_globals: Table,
    pub fn_load_globals: Table,
    /// `call`, `acl` and `register` are set here for the duration of a run.
    pub slot: Table,
    /// runner(f, ...) -> xpcall(f, handler) with arguments.
    pub runner: Function,
}

impl Sandbox {
    pub fn new() -> mlua::Result<Sandbox> {
        let lua = Lua::new_with(
            StdLib::STRING | StdLib::TABLE | StdLib::MATH,
            LuaOptions::default(),
        )?;
        let p = lua.create_table()?;
        let slot = lua.create_table()?;
        p.set("slot", slot.clone())?;
        p.set(
            "sha1hex",
            lua.create_function(|lua, s: mlua::String| {
                lua.create_string(super::sha1_hex(&s.as_bytes()))
            })?,
        )?;
        p.set(
            "log",
            lua.create_function(|_, (level, msg): (i64, mlua::String)| {
                let msg = String::from_utf8_lossy(&msg.as_bytes()).into_owned();
                match level {
                    0 | 1 => log::debug!("{msg}"),
                    2 => log::info!("{msg}"),
                    _ => log::warn!("{msg}"),
                }
                Ok(())
            })?,
        )?;
        p.set(
            "setresp",
            lua.create_function(|lua, v: u8| {
                if let Some(mut st) = lua.app_data_mut::<RunState>() {
                    st.resp = v;
                }
                Ok(())
            })?,
        )?;
        p.set("handler", lua.create_function(error_handler)?)?;
        // SAFETY: `make_raiser` only uses the Lua C API on the stack it is
        // given, with the argument count checked by Lua itself.
        p.set("make_raiser", unsafe {
            lua.create_c_function(make_raiser)?
        })?;
        p.set("cjson", super::cjson::library(&lua)?)?;
        p.set("bit", super::bit::library(&lua)?)?;
        p.set("version", super::REDIS_VERSION)?;
        p.set("version_num", super::REDIS_VERSION_NUM)?;
        let env: Table = lua
            .load(include_str!("bootstrap.lua"))
            .set_name(SANDBOX_CHUNK)
            .call(p)?;
        reset_hook(&lua);
        Ok(Sandbox {
            eval_env: env.get("eval_env")?,
            eval_globals: env.get("eval_globals")?,
            fn_env: env.get("fn_env")?,
            fn_meta: env.get("fn_meta")?,
            fn_globals: env.get("fn_globals")?,
            fn_load_globals: env.get("fn_load_globals")?,
            runner: env.get("runner")?,
            slot,
            lua,
        })
    }
}

/// `make_raiser(inner)` returns a C closure that calls `inner(...)`, which
/// answers `(true, value)` or `(false, error)`, and returns `value` or
/// raises `error`. API functions that fail with an error table are C
/// functions this way, as in Redis: a C function in tail position keeps the
/// calling script's frame, so the error is reported at the script's line.
unsafe extern "C-unwind" fn make_raiser(state: *mut mlua::ffi::lua_State) -> std::os::raw::c_int {
    use mlua::ffi;
    ffi::lua_settop(state, 1);
    ffi::lua_pushcclosure(state, raiser, 1);
    1
}

unsafe extern "C-unwind" fn raiser(state: *mut mlua::ffi::lua_State) -> std::os::raw::c_int {
    use mlua::ffi;
    let n = ffi::lua_gettop(state);
    if ffi::lua_checkstack(state, 3) == 0 {
        return ffi::luaL_error(state, c"stack overflow".as_ptr());
    }
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, 2);
    if ffi::lua_toboolean(state, 1) != 0 {
        return 1;
    }
    ffi::lua_error(state)
}

/// Runs every `HOOK_EVERY` instructions: notices a script running past
/// busy-reply-threshold and from then on serves other clients at each
/// tick (see `net::busy`), enforces hard limits and stops a killed script.
fn instruction_hook(lua: &Lua, debug: mlua::Debug) -> mlua::Result<VmState> {
    let serve = {
        let Some(mut st) = lua.app_data_mut::<RunState>() else {
            return Ok(VmState::Continue);
        };
        if st.kill {
            return stop_here(&debug);
        }
        let elapsed = st.started.elapsed();
        if let Some((limit, text)) = st.hard_limit {
            if elapsed >= limit {
                return Err(mlua::Error::RuntimeError(text.into()));
            }
        }
        match st.busy_after {
            Some(busy) if elapsed >= busy => {
                if !st.timed_out {
                    st.timed_out = true;
                    log::warn!(
                        "Slow script detected: still in execution after {} milliseconds. \
                         You can try killing the script using the {} command. \
                         Script name is: {}.",
                        elapsed.as_millis(),
                        if st.is_eval {
                            "SCRIPT KILL"
                        } else {
                            "FUNCTION KILL"
                        },
                        st.name
                    );
                }
                st.serve.clone()
            }
            _ => None,
        }
    };
    // The RunState borrow is released: the step runs commands.
    let Some(slot) = serve else {
        return Ok(VmState::Continue);
    };
    let Value::Function(serve_step) = slot.raw_get::<Value>("call")? else {
        return Ok(VmState::Continue);
    };
    let (_, verdict): (bool, i64) = serve_step.call(Value::Nil)?;
    if verdict == step::CONTINUE {
        return Ok(VmState::Continue);
    }
    if verdict == step::KILLED {
        log::warn!("Lua script killed by user with SCRIPT KILL.");
    }
    if let Some(mut st) = lua.app_data_mut::<RunState>() {
        st.kill = true;
    }
    // As Redis's line hook after a kill: a `pcall` in the script catches the
    // error once, and the script's next instruction raises it again.
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(1),
        instruction_hook,
    );
    stop_here(&debug)
}

/// A stopped script fails in its own code; the sandbox's code (the runner
/// returning the error it caught) goes on.
fn stop_here(debug: &mlua::Debug) -> mlua::Result<VmState> {
    if debug.source().source.as_deref() == Some(SANDBOX_CHUNK) {
        return Ok(VmState::Continue);
    }
    Err(mlua::Error::RuntimeError(
        crate::errors::SCRIPT_KILLED.into(),
    ))
}

/// Puts the hook back to its normal rate after a stopped run.
pub fn reset_hook(lua: &Lua) {
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
        instruction_hook,
    );
}

/// The message handler of every script run: turns the error into Redis's
/// error table `{err=..., source=..., line=...}`, where source and line are
/// those of the innermost frame of user code (skipping C functions and the
/// sandbox's own wrappers such as `redis.call`).
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let msg: Vec<u8> = match &err {
        Value::Table(et) => match et.raw_get::<Value>("err")? {
            Value::String(s) => s.as_bytes().to_vec(),
            _ => b"ERR unknown error".to_vec(),
        },
        // Errors raised by the redis API already carry a code; others
        // (error('x'), runtime errors) get "ERR ".
        Value::String(s) => {
            let s = s.as_bytes();
            let mut m = Vec::with_capacity(s.len() + 4);
            if !starts_with_code(&s) {
                m.extend_from_slice(b"ERR ");
            }
            m.extend_from_slice(&s);
            m
        }
        Value::Error(e) => innermost_message(e).into_bytes(),
        Value::Nil => b"ERR nil".to_vec(),
        Value::Boolean(b) => format!("ERR {b}").into_bytes(),
        Value::Integer(n) => format!("ERR {n}").into_bytes(),
        Value::Number(n) => format!("ERR {n}").into_bytes(),
        _ => b"ERR unknown error".to_vec(),
    };
    t.raw_set("err", lua.create_string(&msg)?)?;
    for level in 1..200 {
        let Some(info) = lua.inspect_stack(level) else {
            break;
        };
        let src = info.source();
        if src.what == "C" {
            continue;
        }
        let Some(source) = src.source.as_deref() else {
            continue;
        };
        if source == SANDBOX_CHUNK {
            continue;
        }
        let source = source.to_string();
        let line = info.curr_line();
        t.raw_set("source", source)?;
        t.raw_set("line", line)?;
        break;
    }
    Ok(t)
}

/// The text of an error raised by a Rust callback or the hook, without
/// mlua's wrapping; "ERR " is added unless it already carries a code.
fn innermost_message(e: &mlua::Error) -> String {
    let text = match e {
        mlua::Error::CallbackError { cause, .. } => return innermost_message(cause),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::MemoryError(m) => m.clone(),
        mlua::Error::WithContext { cause, .. } => return innermost_message(cause),
        other => other.to_string(),
    };
    if text.starts_with("ERR ") || text.split(' ').next().is_some_and(is_error_code) {
        text
    } else {
        format!("ERR {text}")
    }
}

/// An upper-case error code such as `ERR`, `BUSY`, `OOM`.
fn is_error_code(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_uppercase())
}

/// `CODE message` with an upper-case code.
fn starts_with_code(s: &[u8]) -> bool {
    match s.iter().position(|&c| c == b' ') {
        Some(sp) if sp > 0 => s[..sp]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_'),
        _ => false,
    }
}

/// `chunkname:line: ` of the Lua code calling the running Rust function, as
/// luaL_where(L, 1) gives it for errors raised by C library functions.
pub fn lua_where(lua: &Lua) -> String {
    match lua.inspect_stack(1) {
        Some(info) => {
            let line = info.curr_line();
            let src = info.source();
            match src.short_src.as_deref() {
                Some(s) if line > 0 => format!("{s}:{line}: "),
                _ => String::new(),
            }
        }
        None => String::new(),
    }
}
