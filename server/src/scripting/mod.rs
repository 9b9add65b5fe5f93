//! Lua scripting (EVAL family and FUNCTION libraries): the script cache,
//! the function registry and the one Lua 5.1 state both run in.
//!
//! Submodules: `sandbox` (the Lua state, its restricted globals and
//! `redis` API), `run` (executing with `redis.call` wired to dispatch),
//! `convert` (reply <-> Lua value rules), `functions` (libraries),
//! `cjson`/`bit` (libraries written in Rust), `numfmt` (`%.Ng`).
//! Command handlers live in `commands::scripting`.
//!
//! A script runs to completion inside its command, on the loop's thread.
//! Past busy-reply-threshold the instruction hook (`sandbox`) steps back
//! into the network (`net::busy`) through the running command's own
//! `&mut Server` (`run`): other clients are served, dispatch answers
//! `-BUSY` to what lacks `allow_busy`, and SCRIPT KILL / FUNCTION KILL /
//! SHUTDOWN NOSAVE act on [`Running`], which the hook reads back.

pub mod bit;
pub mod cjson;
pub mod convert;
pub mod functions;
pub mod numfmt;
pub mod run;
pub mod sandbox;

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use mlua::{ChunkMode, Function};

pub use crate::config::REDIS_VERSION;

/// REDIS_VERSION as `(major << 16) | (minor << 8) | patch`.
pub const REDIS_VERSION_NUM: i64 = {
    let b = REDIS_VERSION.as_bytes();
    let mut parts = [0i64; 3];
    let mut i = 0;
    let mut p = 0;
    while i < b.len() {
        if b[i] == b'.' {
            p += 1;
        } else if p < 3 {
            parts[p] = parts[p] * 10 + (b[i] - b'0') as i64;
        }
        i += 1;
    }
    (parts[0] << 16) | (parts[1] << 8) | parts[2]
};

/// Script flags from a `#!lua flags=...` shebang.
pub mod script_flags {
    pub const NO_WRITES: u32 = 1;
    pub const ALLOW_OOM: u32 = 2;
    pub const ALLOW_STALE: u32 = 4;
    pub const NO_CLUSTER: u32 = 8;
    pub const ALLOW_CROSS_SLOT: u32 = 16;
    /// No shebang: the pre-7.0 behaviour (no flag checks before running).
    pub const EVAL_COMPAT: u32 = 32;
}

/// A cached EVAL script.
pub struct Script {
    pub func: Function,
    pub flags: u32,
    pub body: Bytes,
}

/// The script or function running now (FUNCTION STATS, SCRIPT KILL,
/// FUNCTION KILL and the `-BUSY` gate read it).
pub struct Running {
    /// EVAL family (true) or FCALL family.
    pub is_eval: bool,
    /// The script's SHA1 or the function's name.
    pub name: String,
    /// The command that started it (FUNCTION STATS `command`).
    pub argv: Vec<Bytes>,
    pub started: Instant,
    /// Past busy-reply-threshold: other clients are being served.
    pub busy: bool,
    /// It ran a write command: it cannot be killed.
    pub wrote: bool,
    /// Our primary sent it: it cannot be killed.
    pub from_primary: bool,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop.
    pub kill: bool,
}

/// Scripting state kept on the server.
#[derive(Default)]
pub struct Scripting {
    /// Created on first use.
    sandbox: Option<sandbox::Sandbox>,
    /// SHA1 (lower-case hex) -> script.
    pub scripts: HashMap<String, Script>,
    pub functions: functions::Registry,
    /// Set while a script or function runs.
    pub running: Option<Running>,
}

impl Scripting {
    /// The `-BUSY` error for commands without `allow_busy`, while a script
    /// runs past busy-reply-threshold.
    pub fn busy_error(&self) -> Option<&'static str> {
        match &self.running {
            Some(r) if r.busy && r.is_eval => Some(crate::errors::BUSY_EVAL),
            Some(r) if r.busy => Some(crate::errors::BUSY_FUNCTION),
            _ => None,
        }
    }

    /// The Lua state, created on first use.
    pub fn sandbox(&mut self) -> Result<&sandbox::Sandbox, String> {
        if self.sandbox.is_none() {
            let sb = sandbox::Sandbox::new()
                .map_err(|e| format!("ERR Failed to create the Lua state: {e}"))?;
            self.sandbox = Some(sb);
        }
        self.sandbox
            .as_ref()
            .ok_or_else(|| "ERR Lua state unavailable".to_string())
    }

    /// SCRIPT FLUSH: forgets the scripts; the Lua state goes too when no
    /// function needs it (its memory is returned at once).
    pub fn flush_scripts(&mut self) {
        self.scripts.clear();
        self.collect();
    }

    /// FUNCTION FLUSH.
    pub fn flush_functions(&mut self) {
        self.functions = Default::default();
        self.collect();
    }

    fn collect(&mut self) {
        if self.scripts.is_empty() && self.functions.libraries.is_empty() {
            self.sandbox = None;
        } else if let Some(sb) = &self.sandbox {
            let _ = sb.lua.gc_collect();
        }
    }

    /// Bytes used by the Lua state (INFO used_memory_lua).
    pub fn lua_memory(&self) -> usize {
        self.sandbox.as_ref().map_or(0, |sb| sb.lua.used_memory())
    }

    /// Compiles and caches an EVAL script (or finds it cached); returns its SHA1.
    pub fn load_script(&mut self, body: &Bytes) -> Result<String, String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, source) = match parse_eval_shebang(body)? {
            Some(flags) => (flags, without_first_line(body)),
            None => (script_flags::EVAL_COMPAT, &body[..]),
        };
        if source.first() == Some(&0x1b) {
            return Err(
                "ERR Error compiling script (new function): user_script: bytecode prohibited"
                    .into(),
            );
        }
        let sb = self.sandbox()?;
        let func = sb
            .lua
            .load(source)
            .set_name("@user_script")
            .set_mode(ChunkMode::Text)
            .set_environment(sb.eval_env.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    syntax_message(&e)
                )
            })?;
        self.scripts.insert(
            sha.clone(),
            Script {
                func,
                flags,
                body: body.clone(),
            },
        );
        Ok(sha)
    }
}

/// The Lua compiler's message without mlua's decoration.
pub fn syntax_message(e: &mlua::Error) -> String {
    let text = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    text.replace(['\r', '\n'], " ")
}

/// The code after the shebang line, keeping its newline so that line
/// numbers in errors match the text the user sent.
pub fn without_first_line(code: &[u8]) -> &[u8] {
    match code.iter().position(|&c| c == b'\n') {
        Some(i) => &code[i..],
        None => &[],
    }
}

/// Lower-case hex SHA1.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// Flags of an EVAL script's `#!lua` shebang; None without a shebang.
pub fn parse_eval_shebang(body: &[u8]) -> Result<Option<u32>, String> {
    if !body.starts_with(b"#!") {
        return Ok(None);
    }
    let line_end = body.iter().position(|&c| c == b'\n').unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[..line_end]).into_owned();
    let mut parts = line[2..].split(' ').filter(|p| !p.is_empty());
    if parts.next() != Some("lua") {
        return Err(format!("ERR Unexpected engine in script shebang: {line}"));
    }
    let mut flags = 0;
    for p in parts {
        let Some(list) = p.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {p}"));
        };
        for f in list.split(',').filter(|f| !f.is_empty()) {
            flags |= match f {
                "no-writes" => script_flags::NO_WRITES,
                "allow-oom" => script_flags::ALLOW_OOM,
                "allow-stale" => script_flags::ALLOW_STALE,
                "no-cluster" => script_flags::NO_CLUSTER,
                "allow-cross-slot-keys" => script_flags::ALLOW_CROSS_SLOT,
                other => return Err(format!("ERR Unexpected flag in script shebang: {other}")),
            };
        }
    }
    Ok(Some(flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_parse_like_redis() {
        assert_eq!(parse_eval_shebang(b"return 1"), Ok(None));
        assert_eq!(parse_eval_shebang(b"#!lua\nreturn 1"), Ok(Some(0)));
        assert_eq!(
            parse_eval_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1"),
            Ok(Some(script_flags::NO_WRITES | script_flags::ALLOW_OOM))
        );
        assert_eq!(
            parse_eval_shebang(b"#!lua flags=bogus\n"),
            Err("ERR Unexpected flag in script shebang: bogus".into())
        );
        assert_eq!(
            parse_eval_shebang(b"#!lua name=x\n"),
            Err("ERR Unknown lua shebang option: name=x".into())
        );
        assert_eq!(
            parse_eval_shebang(b"#!python\nreturn 1"),
            Err("ERR Unexpected engine in script shebang: #!python".into())
        );
    }

    #[test]
    fn version_number_packs_the_version() {
        assert_eq!(REDIS_VERSION_NUM, (7 << 16) | (2 << 8) | 4);
    }

    #[test]
    fn sha1_matches_redis() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            sha1_hex(b"return 1"),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
    }
}
