//! Command declarations: name, arity, flags (as `COMMAND INFO` prints them on
//! Redis 7), ACL categories, key positions, docs, and the handler.
//!
//! Flags are written as the words Redis uses (`"write denyoom fast"`) and
//! parsed at compile time, so a declaration reads like Redis's own metadata.

use super::ctx::{CmdResult, Ctx};

/// A command handler.
pub type Handler = fn(&mut Ctx) -> CmdResult;

/// Command flags, in the order `COMMAND INFO` lists them.
pub const FLAG_NAMES: &[&str] = &[
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "may_replicate",
    "sentinel",
    "only_sentinel",
    "no_mandatory_keys",
    "protected",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 4;
    pub const PUBSUB: u32 = 1 << 5;
    pub const NOSCRIPT: u32 = 1 << 6;
    pub const BLOCKING: u32 = 1 << 7;
    pub const LOADING: u32 = 1 << 8;
    pub const STALE: u32 = 1 << 9;
    pub const SKIP_MONITOR: u32 = 1 << 10;
    pub const SKIP_SLOWLOG: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 13;
    pub const NO_AUTH: u32 = 1 << 14;
    pub const MAY_REPLICATE: u32 = 1 << 15;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 18;
    pub const PROTECTED: u32 = 1 << 19;
    pub const NO_MULTI: u32 = 1 << 21;
    pub const MOVABLEKEYS: u32 = 1 << 22;
    pub const ALLOW_BUSY: u32 = 1 << 23;
}

/// Parses space-separated flag words at compile time; an unknown word fails
/// the build.
pub const fn flags(words: &str) -> u32 {
    let b = words.as_bytes();
    let mut out = 0u32;
    let mut start = 0;
    while start < b.len() {
        while start < b.len() && b[start] == b' ' {
            start += 1;
        }
        let mut end = start;
        while end < b.len() && b[end] != b' ' {
            end += 1;
        }
        if end > start {
            let mut i = 0;
            let mut found = false;
            while i < FLAG_NAMES.len() {
                if bytes_eq(FLAG_NAMES[i].as_bytes(), b, start, end) {
                    out |= 1 << i;
                    found = true;
                    break;
                }
                i += 1;
            }
            assert!(found, "unknown command flag");
        }
        start = end;
    }
    out
}

const fn bytes_eq(name: &[u8], b: &[u8], start: usize, end: usize) -> bool {
    if name.len() != end - start {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        if name[i] != b[start + i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Where the keys are, as the legacy (first, last, step) triple of COMMAND INFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keys {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

pub const NO_KEYS: Keys = Keys {
    first: 0,
    last: 0,
    step: 0,
};

/// Shorthand for the (first, last, step) triple.
pub const fn keys(first: i32, last: i32, step: i32) -> Keys {
    Keys { first, last, step }
}

/// A command (or a subcommand of a container command such as CONFIG).
pub struct CommandSpec {
    /// Lower-case name; for a subcommand the part after `|`.
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// ACL categories, space-separated, as COMMAND INFO prints them (`@write @string @slow`).
    pub acl: &'static str,
    pub keys: Keys,
    pub run: Handler,
    pub subcommands: &'static [CommandSpec],
    /// COMMAND DOCS: group, since, summary, complexity.
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards`...), space-separated.
    pub tips: &'static str,
}

impl CommandSpec {
    /// A command with its metadata; docs are added with [`CommandSpec::doc`].
    pub const fn new(
        name: &'static str,
        arity: i32,
        flag_words: &str,
        acl: &'static str,
        keys: Keys,
        run: Handler,
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags: flags(flag_words),
            acl,
            keys,
            run,
            subcommands: &[],
            group: "",
            since: "",
            summary: "",
            complexity: "",
            tips: "",
        }
    }

    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self.complexity = complexity;
        self
    }

    pub const fn tips(mut self, tips: &'static str) -> Self {
        self.tips = tips;
        self
    }

    pub const fn subs(mut self, subcommands: &'static [CommandSpec]) -> Self {
        self.subcommands = subcommands;
        self
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Flag words in COMMAND INFO order.
    pub fn flag_words(&self) -> impl Iterator<Item = &'static str> + '_ {
        FLAG_NAMES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.flags & (1 << i) != 0)
            .map(|(_, n)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_words_parse_into_bits_and_back() {
        let f = flags("write denyoom fast");
        assert_eq!(f, flag::WRITE | flag::DENYOOM | flag::FAST);
        assert_eq!(flags(""), 0);
        assert_eq!(flags("  no_auth   stale "), flag::NO_AUTH | flag::STALE);
    }
}
