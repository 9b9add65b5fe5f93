//! The command table: every command group's declarations gathered into one
//! lookup structure, plus per-command statistics slots.
//!
//! Each group lives in its own module and exports `COMMANDS`; adding a group
//! means adding it to [`GROUPS`]. Dispatch (gatekeeping and calling) is in
//! [`dispatch`].

pub mod bitmaps;
pub mod client_cmd;
pub mod command_cmd;
pub mod config_cmd;
pub mod connection;
pub mod ctx;
pub mod debug;
pub mod dispatch;
pub mod dump_restore;
pub mod expire_cmds;
pub mod gate;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod info;
pub mod keys;
pub mod lists;
pub mod lists_blocking;
pub mod object_cmd;
pub mod persist_cmds;
pub mod pubsub_cmds;
pub mod replication;
pub mod scan_args;
pub mod scripting;
pub mod server_cmds;
pub mod sets;
pub mod slowlog;
pub mod sort;
pub mod spec;
pub mod streams;
pub mod strings;
pub mod transactions;
pub mod zsets;
pub mod zsets_blocking;

use hashbrown::HashTable;

pub use ctx::{CmdError, CmdResult, Ctx};
pub use spec::{flag, CommandSpec};

/// Every command group.
pub const GROUPS: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    client_cmd::COMMANDS,
    keys::COMMANDS,
    expire_cmds::COMMANDS,
    object_cmd::COMMANDS,
    strings::COMMANDS,
    bitmaps::COMMANDS,
    lists::COMMANDS,
    lists_blocking::COMMANDS,
    hashes::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    zsets_blocking::COMMANDS,
    streams::COMMANDS,
    hyperloglog::COMMANDS,
    geo::COMMANDS,
    sort::COMMANDS,
    scripting::COMMANDS,
    transactions::COMMANDS,
    replication::COMMANDS,
    pubsub_cmds::COMMANDS,
    server_cmds::COMMANDS,
    info::COMMANDS,
    config_cmd::COMMANDS,
    command_cmd::COMMANDS,
    slowlog::COMMANDS,
    debug::COMMANDS,
    dump_restore::COMMANDS,
    persist_cmds::COMMANDS,
];

/// One command or subcommand in the table.
pub struct CommandEntry {
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: String,
    pub parent: Option<usize>,
    /// Ids of the subcommands (few: a linear scan is fastest).
    subs: Vec<usize>,
    /// What the role and pause checks use (see `gate`).
    pub gate: gate::GateFlags,
}

/// All commands, with lookup by (case-insensitive) name.
pub struct CommandTable {
    pub entries: Vec<CommandEntry>,
    /// Top-level ids, hashed case-insensitively so lookups need no copy.
    by_name: HashTable<usize>,
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::build()
    }
}

impl CommandTable {
    pub fn build() -> Self {
        let mut t = CommandTable {
            entries: Vec::new(),
            by_name: HashTable::new(),
        };
        for group in GROUPS {
            for spec in group.iter() {
                let id = t.entries.len();
                t.entries.push(CommandEntry {
                    spec,
                    full_name: spec.name.to_string(),
                    parent: None,
                    subs: Vec::new(),
                    gate: gate::GateFlags::of(spec),
                });
                assert!(
                    t.lookup(spec.name.as_bytes()).is_none(),
                    "command {} declared twice",
                    spec.name
                );
                let entries = &t.entries;
                t.by_name
                    .insert_unique(name_hash(spec.name.as_bytes()), id, |&i| {
                        name_hash(entries[i].spec.name.as_bytes())
                    });
                for sub in spec.subcommands {
                    let sid = t.entries.len();
                    t.entries.push(CommandEntry {
                        spec: sub,
                        full_name: format!("{}|{}", spec.name, sub.name),
                        parent: Some(id),
                        subs: Vec::new(),
                        gate: gate::GateFlags::of(sub),
                    });
                    t.entries[id].subs.push(sid);
                }
            }
        }
        t
    }

    /// The id of a top-level command.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.by_name
            .find(name_hash(name), |&i| {
                entries[i].spec.name.as_bytes().eq_ignore_ascii_case(name)
            })
            .copied()
    }

    /// The id of subcommand `sub` of command `id`.
    pub fn lookup_sub(&self, id: usize, sub: &[u8]) -> Option<usize> {
        self.entries[id].subs.iter().copied().find(|&s| {
            self.entries[s]
                .spec
                .name
                .as_bytes()
                .eq_ignore_ascii_case(sub)
        })
    }

    pub fn has_subcommands(&self, id: usize) -> bool {
        !self.entries[id].subs.is_empty()
    }

    /// Ids of the top-level commands.
    pub fn top_level(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parent.is_none())
            .map(|(i, _)| i)
    }

    /// Ids of the subcommands of `id`, in declaration order.
    pub fn subcommands_of(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.parent == Some(id))
            .map(|(i, _)| i)
    }

    /// Resolves `name` or `container|sub` to an id.
    pub fn lookup_full(&self, full: &[u8]) -> Option<usize> {
        match full.iter().position(|&c| c == b'|') {
            Some(p) => {
                let id = self.lookup(&full[..p])?;
                self.lookup_sub(id, &full[p + 1..])
            }
            None => self.lookup(full),
        }
    }
}

/// FNV-1a over the ASCII-lowercased name: equal for names that differ only
/// in case, computed without copying the argument.
/// Builds a propagated command (for `Ctx::propagate_as` / `also_propagate`)
/// from byte-string parts.
pub(crate) fn argv(parts: &[&[u8]]) -> Vec<bytes::Bytes> {
    parts
        .iter()
        .map(|p| bytes::Bytes::copy_from_slice(p))
        .collect()
}

/// A number as a propagated argument.
pub(crate) fn num_arg(n: i64) -> bytes::Bytes {
    bytes::Bytes::from(n.to_string())
}

fn name_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b.to_ascii_lowercase() as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_find_subcommands() {
        let t = CommandTable::build();
        let id = t.lookup(b"PiNg").expect("ping exists");
        assert_eq!(t.entries[id].full_name, "ping");
        let client = t.lookup(b"client").expect("client exists");
        let sub = t.lookup_sub(client, b"ID").expect("client id exists");
        assert_eq!(t.entries[sub].full_name, "client|id");
        assert_eq!(t.lookup_full(b"client|id"), Some(sub));
        assert!(t.lookup(b"nosuchcommand").is_none());
    }
}
