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
pub mod expire_cmds;
pub mod hashes;
pub mod info;
pub mod keys;
pub mod lists;
pub mod object_cmd;
pub mod server_cmds;
pub mod sets;
pub mod slowlog;
pub mod spec;
pub mod strings;
pub mod transactions;
pub mod zsets;

use ahash::AHashMap;

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
    hashes::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    transactions::COMMANDS,
    server_cmds::COMMANDS,
    info::COMMANDS,
    config_cmd::COMMANDS,
    command_cmd::COMMANDS,
    slowlog::COMMANDS,
    debug::COMMANDS,
];

/// One command or subcommand in the table.
pub struct CommandEntry {
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: String,
    pub parent: Option<usize>,
    subs: AHashMap<Vec<u8>, usize>,
}

/// All commands, with lookup by (case-insensitive) name.
pub struct CommandTable {
    pub entries: Vec<CommandEntry>,
    by_name: AHashMap<Vec<u8>, usize>,
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
            by_name: AHashMap::new(),
        };
        for group in GROUPS {
            for spec in group.iter() {
                let id = t.entries.len();
                t.entries.push(CommandEntry {
                    spec,
                    full_name: spec.name.to_string(),
                    parent: None,
                    subs: AHashMap::new(),
                });
                let old = t.by_name.insert(spec.name.as_bytes().to_vec(), id);
                assert!(old.is_none(), "command {} declared twice", spec.name);
                for sub in spec.subcommands {
                    let sid = t.entries.len();
                    t.entries.push(CommandEntry {
                        spec: sub,
                        full_name: format!("{}|{}", spec.name, sub.name),
                        parent: Some(id),
                        subs: AHashMap::new(),
                    });
                    t.entries[id].subs.insert(sub.name.as_bytes().to_vec(), sid);
                }
            }
        }
        t
    }

    /// The id of a top-level command.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        with_lowercase(name, |n| self.by_name.get(n).copied())
    }

    /// The id of subcommand `sub` of command `id`.
    pub fn lookup_sub(&self, id: usize, sub: &[u8]) -> Option<usize> {
        with_lowercase(sub, |n| self.entries[id].subs.get(n).copied())
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

/// Runs `f` on the ASCII-lowercased name without allocating for short names.
fn with_lowercase<R>(name: &[u8], f: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
    let mut buf = [0u8; 32];
    if name.len() <= buf.len() {
        let b = &mut buf[..name.len()];
        b.copy_from_slice(name);
        b.make_ascii_lowercase();
        f(b)
    } else {
        // No command name is this long.
        None
    }
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
