//! Function libraries (`#!lua name=lib` + `redis.register_function`): the
//! registry, loading a library's code in the restricted load environment,
//! installing it with Redis's collision rules, and the DUMP/RESTORE payload.
//!
//! DUMP payload: Redis's own (one FUNCTION2 RDB record per library, then
//! the RDB version and a CRC-64, built by `rdb/`), so payloads move between
//! handoff and Redis 7. Only the code is stored: RESTORE loads it again.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mlua::{ChunkMode, Function, MultiValue, Value, Variadic};

use super::sandbox::{RunState, Sandbox};

/// Function flags, in the order FUNCTION LIST shows them.
pub const FLAG_NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];
pub const NO_WRITES: u32 = 1;

const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// One registered function.
#[derive(Clone)]
pub struct FunctionDef {
    pub name: String,
    pub library: String,
    pub callback: Function,
    pub flags: u32,
    pub description: Option<Bytes>,
}

/// One library: its code and the names of its functions.
#[derive(Clone)]
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<String>,
}

/// All libraries and functions.
#[derive(Clone, Default)]
pub struct Registry {
    pub libraries: BTreeMap<String, Library>,
    pub functions: HashMap<String, FunctionDef>,
}

/// A compiled and registered library, not yet installed.
pub struct Loaded {
    pub library: Library,
    pub functions: Vec<FunctionDef>,
}

/// `flag` bits from a flag name.
pub fn flag_bit(name: &[u8]) -> Option<u32> {
    FLAG_NAMES
        .iter()
        .position(|f| f.as_bytes() == name)
        .map(|i| 1 << i)
}

fn valid_name(n: &[u8]) -> bool {
    !n.is_empty() && n.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Parses `#!lua name=<lib>`; returns the library name.
fn parse_metadata(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let line_end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
    let line = String::from_utf8_lossy(&code[2..line_end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    let mut name = None;
    for p in parts {
        match p.strip_prefix("name=") {
            Some(n) if name.is_none() => name = Some(n.to_string()),
            Some(_) => {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                )
            }
            None => return Err(format!("ERR Invalid metadata value given: {p}")),
        }
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !valid_name(name.as_bytes()) {
        return Err(format!("ERR {BAD_NAME}"));
    }
    Ok(name)
}

/// Compiles `code` and runs its body in the load environment, collecting
/// the functions it registers.
pub fn load(sb: &Sandbox, code: &Bytes) -> Result<Loaded, String> {
    let name = parse_metadata(code)?;
    let body = super::without_first_line(code);
    if body.first() == Some(&0x1b) {
        return Err("ERR Error compiling function: bytecode prohibited".into());
    }
    let lua = &sb.lua;
    let func = lua
        .load(body)
        .set_name("@user_function")
        .set_mode(ChunkMode::Text)
        .set_environment(sb.fn_env.clone())
        .into_function()
        .map_err(|e| {
            format!(
                "ERR Error compiling function: {}",
                super::syntax_message(&e)
            )
        })?;

    let mut defs: Vec<FunctionDef> = Vec::new();
    lua.set_app_data(RunState {
        resp: 2,
        started: Instant::now(),
        busy_after: None,
        serve: None,
        hard_limit: Some((LOAD_TIMEOUT, "ERR FUNCTION LOAD timeout")),
        timed_out: false,
        kill: false,
        is_eval: false,
        name: name.clone(),
    });
    let result = (|| -> mlua::Result<Result<(), String>> {
        sb.fn_meta.raw_set("__index", sb.fn_load_globals.clone())?;
        let r = lua.scope(|scope| {
            let register = scope.create_function_mut(|_, args: Variadic<Value>| {
                Ok(match register_function(&name, &defs, args) {
                    Ok(def) => {
                        defs.push(def);
                        (true, None)
                    }
                    Err(e) => (false, Some(e)),
                })
            })?;
            sb.slot.raw_set("register", register)?;
            let ret: MultiValue = sb.runner.call(func)?;
            let mut it = ret.into_iter();
            let ok = matches!(it.next(), Some(Value::Boolean(true)));
            if ok {
                Ok(Ok(()))
            } else {
                let err = it.next().unwrap_or(Value::Nil);
                Ok(Err(super::run::error_message(&err)))
            }
        });
        let _ = sb.slot.raw_set("register", Value::Nil);
        sb.fn_meta.raw_set("__index", sb.fn_globals.clone())?;
        r
    })();
    lua.remove_app_data::<RunState>();
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("ERR Error registering functions: {e}")),
        Err(e) => return Err(format!("ERR Error registering functions: {e}")),
    }
    if defs.is_empty() {
        return Err("ERR No functions registered".into());
    }
    Ok(Loaded {
        library: Library {
            name,
            code: code.clone(),
            functions: defs.iter().map(|d| d.name.clone()).collect(),
        },
        functions: defs,
    })
}

/// redis.register_function's arguments, positional or named.
fn register_function(
    library: &str,
    defs: &[FunctionDef],
    args: Variadic<Value>,
) -> Result<FunctionDef, String> {
    let mut name: Option<Vec<u8>> = None;
    let mut callback: Option<Function> = None;
    let mut flags = 0u32;
    let mut description = None;
    match args.len() {
        1 => {
            let Some(Value::Table(t)) = args.first() else {
                return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into());
            };
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                let Value::String(k) = k else {
                    return Err(
                        "named argument key given to redis.register_function is not a string"
                            .into(),
                    );
                };
                match &k.as_bytes()[..] {
                    b"function_name" => match v {
                        Value::String(s) => name = Some(s.as_bytes().to_vec()),
                        _ => return Err("function_name argument given to redis.register_function must be a string".into()),
                    },
                    b"description" => match v {
                        Value::String(s) => description = Some(Bytes::copy_from_slice(&s.as_bytes())),
                        _ => return Err("description argument given to redis.register_function must be a string".into()),
                    },
                    b"callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return Err("callback argument given to redis.register_function must be a function".into()),
                    },
                    b"flags" => {
                        let Value::Table(ft) = v else {
                            return Err("flags argument to redis.register_function must be a table representing function flags".into());
                        };
                        for f in ft.sequence_values::<Value>() {
                            let bit = match f {
                                Ok(Value::String(s)) => flag_bit(&s.as_bytes()),
                                _ => None,
                            };
                            match bit {
                                Some(b) => flags |= b,
                                None => return Err("unknown flag given".into()),
                            }
                        }
                    }
                    _ => return Err("unknown argument given to redis.register_function".into()),
                }
            }
        }
        2 => {
            match &args[0] {
                Value::String(s) => name = Some(s.as_bytes().to_vec()),
                _ => {
                    return Err("first argument to redis.register_function must be a string".into())
                }
            }
            match &args[1] {
                Value::Function(f) => callback = Some(f.clone()),
                _ => {
                    return Err(
                        "second argument to redis.register_function must be a function".into(),
                    )
                }
            }
        }
        _ => return Err("wrong number of arguments to redis.register_function".into()),
    }
    let Some(name) = name else {
        return Err("redis.register_function must get a function name argument".into());
    };
    let Some(callback) = callback else {
        return Err("redis.register_function must get a callback argument".into());
    };
    if !valid_name(&name) {
        return Err(BAD_NAME.into());
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    if defs.iter().any(|d| d.name == name) {
        return Err("Function already exists in the library".into());
    }
    Ok(FunctionDef {
        name,
        library: library.to_string(),
        callback,
        flags,
        description,
    })
}

impl Registry {
    /// Adds a loaded library; `replace` allows replacing one of the same name.
    pub fn install(&mut self, loaded: Loaded, replace: bool) -> Result<(), String> {
        let lib_name = loaded.library.name.clone();
        if self.libraries.contains_key(&lib_name) && !replace {
            return Err(format!("ERR Library '{lib_name}' already exists"));
        }
        for f in &loaded.functions {
            if let Some(existing) = self.functions.get(&f.name) {
                if existing.library != lib_name {
                    return Err(format!("ERR Function {} already exists", f.name));
                }
            }
        }
        self.delete(&lib_name);
        for f in loaded.functions {
            self.functions.insert(f.name.clone(), f);
        }
        self.libraries.insert(lib_name, loaded.library);
        Ok(())
    }

    /// Removes a library and its functions; false when there is none.
    pub fn delete(&mut self, name: &str) -> bool {
        let Some(lib) = self.libraries.remove(name) else {
            return false;
        };
        for f in &lib.functions {
            self.functions.remove(f);
        }
        true
    }

    /// FUNCTION DUMP: Redis's payload (FUNCTION2 records, RDB version, CRC-64).
    pub fn dump(&self) -> Vec<u8> {
        crate::rdb::dump_functions(self.libraries.values().map(|l| &l.code[..]))
    }
}

/// The library codes in a FUNCTION RESTORE payload, or Redis's error text.
pub fn parse_dump(p: &[u8]) -> Result<Vec<Bytes>, String> {
    crate::rdb::parse_function_payload(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_errors_match_redis() {
        assert_eq!(
            parse_metadata(b"return 1"),
            Err("ERR Missing library metadata".into())
        );
        assert_eq!(
            parse_metadata(b"#!lua\nreturn 1"),
            Err("ERR Library name was not given".into())
        );
        assert_eq!(
            parse_metadata(b"#!lua name=x foo=bar\n"),
            Err("ERR Invalid metadata value given: foo=bar".into())
        );
        assert_eq!(parse_metadata(b"#!lua name=ok_1\n"), Ok("ok_1".into()));
        assert!(parse_metadata(b"#!lua name=bad-name\n").is_err());
        assert_eq!(
            parse_metadata(b"#!js name=x\n"),
            Err("ERR Engine 'js' not found".into())
        );
    }

    #[test]
    fn dump_payload_round_trips_and_rejects_corruption() {
        let reg = Registry::default();
        let d = reg.dump();
        assert_eq!(parse_dump(&d), Ok(vec![]));
        let code: &[u8] = b"#!lua name=l\nredis.register_function('f', function() return 1 end)";
        let one = crate::rdb::dump_functions([code].into_iter());
        assert_eq!(parse_dump(&one), Ok(vec![Bytes::from_static(code)]));
        let mut bad = one.clone();
        bad[5] ^= 1;
        let wrong = Err("ERR DUMP payload version or checksum are wrong".to_string());
        assert_eq!(parse_dump(&bad), wrong);
        assert_eq!(parse_dump(b"garbage"), wrong);
    }
}
