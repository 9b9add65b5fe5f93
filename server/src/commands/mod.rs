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
    /// Top-level ids by their [`NameKey`].
    by_name: HashTable<(NameKey, usize)>,
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
                let key = NameKey::of(spec.name.as_bytes())
                    .unwrap_or_else(|| panic!("command name {} is too long", spec.name));
                assert!(
                    t.lookup(spec.name.as_bytes()).is_none(),
                    "command {} declared twice",
                    spec.name
                );
                t.by_name
                    .insert_unique(key.hash(), (key, id), |(k, _)| k.hash());
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
        let key = NameKey::of(name)?;
        self.by_name
            .find(key.hash(), |(k, _)| *k == key)
            .map(|&(_, id)| id)
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

/// A command name folded to ASCII lower case and packed with its length into
/// three words, so that a lookup hashes and compares a few integers instead of
/// comparing bytes case-insensitively (the lookup runs for every request).
#[derive(Clone, Copy, PartialEq, Eq)]
struct NameKey([u64; 3]);

impl NameKey {
    /// The longest name a key holds (the last byte holds the length). No
    /// command name is longer (the table asserts it when built), so a longer
    /// argument names no command.
    const MAX_LEN: usize = 23;

    #[inline(always)]
    fn of(name: &[u8]) -> Option<NameKey> {
        let n = name.len();
        if n > Self::MAX_LEN {
            return None;
        }
        // Built in registers: byte stores into a buffer read back as words
        // stall the loads (store forwarding fails), which took longer than
        // the rest of the lookup.
        let len = (n as u64) << 56;
        let a = lowercase_word(load_word(&name[..n.min(8)]));
        if n <= 8 {
            return Some(NameKey([a, 0, len]));
        }
        let b = lowercase_word(load_word(&name[8..n.min(16)]));
        let c = if n > 16 {
            lowercase_word(load_word(&name[16..]))
        } else {
            0
        };
        Some(NameKey([a, b, c | len]))
    }

    /// A folded multiply of the words: every input bit reaches both the low
    /// bits (the bucket) and the high bits (hashbrown's tag).
    fn hash(&self) -> u64 {
        let [a, b, c] = self.0;
        let m = u128::from(a ^ 0x243f_6a88_85a3_08d3) * u128::from(b ^ c ^ 0x1319_8a2e_0370_7344);
        (m as u64) ^ ((m >> 64) as u64)
    }
}

/// Up to 8 bytes as a little-endian word, zero-padded: two overlapping loads
/// cover 4 to 8 bytes, three single bytes cover 1 to 3.
#[inline]
fn load_word(b: &[u8]) -> u64 {
    let n = b.len();
    let u32_at = |i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    match n {
        8.. => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        4..=7 => u32_at(0) | u32_at(n - 4) << (8 * (n - 4)),
        1..=3 => {
            u64::from(b[0])
                | u64::from(b[n / 2]) << (8 * (n / 2))
                | u64::from(b[n - 1]) << (8 * (n - 1))
        }
        0 => 0,
    }
}

/// `to_ascii_lowercase` on each byte of a word at once: the bytes in `A..=Z`
/// get bit 5 set; bytes with the top bit set are left alone.
#[inline]
fn lowercase_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    // On the low 7 bits of each byte nothing carries into the next byte: the
    // top bit of each sum says whether that byte is >= b'A' / > b'Z'.
    let low7 = w & !TOPS;
    let ge_a = low7 + (0x80 - u64::from(b'A')) * ONES;
    let gt_z = low7 + (0x7f - u64::from(b'Z')) * ONES;
    let upper = (ge_a & !gt_z) & !w & TOPS;
    w | upper >> 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key as the plain byte-by-byte definition gives it.
    fn reference_key(name: &[u8]) -> Option<NameKey> {
        if name.len() > NameKey::MAX_LEN {
            return None;
        }
        let mut b = [0u8; 24];
        for (d, s) in b.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        b[23] = name.len() as u8;
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        Some(NameKey([word(0), word(8), word(16)]))
    }

    #[test]
    fn name_keys_fold_case_like_to_ascii_lowercase() {
        for b in 0..=255u8 {
            assert_eq!(
                lowercase_word(u64::from(b)),
                u64::from(b.to_ascii_lowercase())
            );
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 26) as usize;
            let name: Vec<u8> = (0..len)
                .map(|i| {
                    let r = (x >> (i % 8 * 8)) as u8 ^ i as u8;
                    // Mostly letters of both cases, sometimes anything.
                    if r & 3 == 0 {
                        r
                    } else {
                        b"aZ_-|mQ"[r as usize % 7]
                    }
                })
                .collect();
            let key = NameKey::of(&name);
            assert!(key == reference_key(&name), "{name:?}");
        }
    }

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
        // Case folding is ASCII only, and the length is part of the name.
        assert_eq!(t.lookup(b"GET"), t.lookup(b"get"));
        assert!(t.lookup(b"get\0").is_none());
        assert!(t.lookup(b"g\xc9t").is_none());
        assert!(t.lookup(b"").is_none());
        let long = t.lookup(b"GEORADIUSBYMEMBER_RO").expect("a 20-byte name");
        assert_eq!(t.entries[long].full_name, "georadiusbymember_ro");
        assert!(t.lookup(&[b'a'; 200]).is_none());
    }
}
