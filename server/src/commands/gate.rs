//! The role and pause decisions dispatch makes before a command runs:
//! the command's *effective* flags (EXEC takes its queue's, scripts their
//! shebang's or function's), `-REDIRECT` for `CLIENT CAPA redirect` clients
//! on a replica, the replication errors (READONLY, NOREPLICAS, MASTERDOWN,
//! LOADING), and whether a pause holds the command
//! (switchover-spec.md §1.2-1.4, §3.3).
//!
//! Only decisions live here; dispatch rejects, holds or runs.

use bytes::Bytes;

use super::spec::{flag, CommandSpec};
use crate::client::{Client, ClientKind};
use crate::errors;
use crate::pause::Actions;
use crate::scripting::script_flags;
use crate::server::Server;

/// Commands Redis marks MAY_REPLICATE internally (`COMMAND INFO` does not
/// show that flag, so the table does not carry it).
fn may_replicate(name: &str) -> bool {
    matches!(
        name,
        "eval" | "evalsha" | "fcall" | "publish" | "spublish" | "pfcount"
    )
}

/// Where a command's effective flags come from besides its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dynamic {
    None,
    /// EXEC: its queue's flags.
    Exec,
    /// EVAL / EVAL_RO: the shebang of the script body.
    Eval,
    /// EVALSHA / EVALSHA_RO: the cached script's flags.
    EvalSha,
    /// FCALL / FCALL_RO: the function's flags.
    Fcall,
}

/// A command's gate metadata, decided once when the command table is built
/// so dispatch compares no names per call.
#[derive(Clone, Copy, Debug)]
pub struct GateFlags {
    /// The table flags plus MAY_REPLICATE where Redis sets it.
    pub flags: u32,
    pub dynamic: Dynamic,
}

impl GateFlags {
    pub fn of(spec: &CommandSpec) -> Self {
        let mut flags = spec.flags;
        if may_replicate(spec.name) {
            flags |= flag::MAY_REPLICATE;
        }
        let dynamic = match spec.name {
            "exec" => Dynamic::Exec,
            "eval" | "eval_ro" => Dynamic::Eval,
            "evalsha" | "evalsha_ro" => Dynamic::EvalSha,
            "fcall" | "fcall_ro" => Dynamic::Fcall,
            _ => Dynamic::None,
        };
        GateFlags { flags, dynamic }
    }
}

/// The flags that decide redirects, READONLY and pauses for this call.
pub fn effective_flags(srv: &Server, client: &Client, gate: GateFlags, args: &[Bytes]) -> u32 {
    let flags = gate.flags;
    match gate.dynamic {
        Dynamic::None => flags,
        Dynamic::Exec => flags | client.multi.as_ref().map_or(0, |m| m.flags),
        Dynamic::Eval => match crate::scripting::parse_eval_shebang(&args[1]) {
            Ok(Some(script)) => with_script_flags(flags, script),
            _ => flags,
        },
        Dynamic::EvalSha => {
            let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
            match srv.scripting.scripts.get(&sha) {
                Some(s) if s.flags & script_flags::EVAL_COMPAT == 0 => {
                    with_script_flags(flags, s.flags)
                }
                _ => flags,
            }
        }
        Dynamic::Fcall => {
            let name = String::from_utf8_lossy(&args[1]);
            match srv.scripting.functions.functions.get(name.as_ref()) {
                Some(f) => with_script_flags(flags, f.flags),
                None => flags,
            }
        }
    }
}

/// A script that declared flags: they replace the command's write, OOM and
/// stale flags, and it is known whether it may replicate.
fn with_script_flags(cmd: u32, script: u32) -> u32 {
    let mut f = cmd & !(flag::STALE | flag::DENYOOM | flag::WRITE | flag::MAY_REPLICATE);
    if script & (script_flags::ALLOW_OOM | script_flags::NO_WRITES) == 0 {
        f |= flag::DENYOOM;
    }
    if script & script_flags::NO_WRITES == 0 {
        f |= flag::WRITE;
    }
    if script & script_flags::ALLOW_STALE != 0 {
        f |= flag::STALE;
    }
    f
}

/// The connections the server must obey (its primary's stream) and its
/// own replicas are never redirected or held the way clients are.
fn is_plain_client(client: &Client) -> bool {
    matches!(client.kind, ClientKind::Normal | ClientKind::Pubsub)
}

/// `-REDIRECT host:port` applies: a redirect-capable client on a replica
/// sends a write, or a read without having sent READONLY.
pub fn redirects(srv: &Server, client: &Client, flags: u32) -> bool {
    client.capa_redirect
        && is_plain_client(client)
        && srv.repl.is_replica()
        && (flags & flag::WRITE != 0 || (flags & flag::READONLY != 0 && !client.readonly_mode))
}

/// A replica about to be promoted holds the keyspace commands of the
/// clients moving to it (reads too: they must see their own writes).
pub fn held_incoming(srv: &Server, client: &Client, flags: u32) -> bool {
    srv.pause.incoming_until.is_some()
        && is_plain_client(client)
        && srv.repl.is_replica()
        && flags & (flag::WRITE | flag::READONLY) != 0
}

/// The redirect error: the primary exactly as REPLICAOF named it.
pub fn redirect_error(srv: &Server) -> String {
    match &srv.repl.link {
        Some(l) => format!("REDIRECT {}:{}", l.host, l.port),
        None => "REDIRECT".to_string(),
    }
}

/// Writes refused by the role: on a read-only replica, or without enough
/// good replicas.
pub fn write_gate(srv: &Server, flags: u32) -> Option<&'static str> {
    if flags & flag::WRITE == 0 {
        return None;
    }
    if srv.repl.is_replica() {
        srv.config.replica_read_only.then_some(errors::READONLY)
    } else if srv.config.min_replicas_to_write > 0
        && !crate::repl::primary::enough_good_replicas(srv)
    {
        Some(errors::NOREPLICAS)
    } else {
        None
    }
}

/// Commands refused while the link to the primary is down
/// (`replica-serve-stale-data no`) or its snapshot loads.
pub fn stale_gate(srv: &Server, flags: u32) -> Option<&'static str> {
    if !srv.repl.is_replica() {
        return None;
    }
    if !srv.repl.link_up() && flags & flag::STALE == 0 && !srv.config.replica_serve_stale_data() {
        return Some(errors::MASTERDOWN);
    }
    if srv.repl.loading() && flags & flag::LOADING == 0 {
        return Some(errors::LOADING);
    }
    None
}

/// A pause holds this command: under ALL everything, under WRITE writes
/// and what may replicate. Replicas are never held.
pub fn paused(srv: &Server, client: &Client, flags: u32) -> bool {
    match srv.pause.active {
        Actions::None => false,
        _ if client.kind == ClientKind::Replica => false,
        Actions::All => true,
        Actions::Write => flags & (flag::WRITE | flag::MAY_REPLICATE) != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_script_flags_replace_the_command_write_flags() {
        let eval = flag::NO_MANDATORY_KEYS | flag::STALE | flag::MAY_REPLICATE;
        let shebang_only = with_script_flags(eval, 0);
        assert_ne!(shebang_only & flag::WRITE, 0);
        assert_eq!(shebang_only & (flag::MAY_REPLICATE | flag::STALE), 0);
        let no_writes = with_script_flags(eval, script_flags::NO_WRITES);
        assert_eq!(
            no_writes & (flag::WRITE | flag::MAY_REPLICATE | flag::DENYOOM),
            0
        );
    }
}
