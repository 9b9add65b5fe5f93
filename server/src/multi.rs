//! Transactions: the per-client MULTI queue and the WATCH registry that
//! invalidates a transaction when a watched key changes.
//!
//! Key changes are reported by the keyspace's change tracking (on only while
//! some client watches a key); dispatch calls [`Watches::keys_changed`] after
//! every command that changed the dataset.

use ahash::AHashMap;
use bytes::Bytes;

/// A client's open transaction.
#[derive(Default, Debug)]
pub struct MultiState {
    /// Queued commands: command table id and arguments.
    pub queued: Vec<(usize, Vec<Bytes>)>,
    /// An error while queueing: EXEC answers EXECABORT.
    pub abort: bool,
    /// Union of the queued commands' effective flags (decides whether EXEC
    /// is a write, a read, or may replicate).
    pub flags: u32,
}

/// Who watches which key: (db, key) -> client slots.
#[derive(Default)]
pub struct Watches {
    by_key: AHashMap<(usize, Box<[u8]>), Vec<usize>>,
}

impl Watches {
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Registers `slot` as watching `key` in `db`; false if it already was.
    pub fn add(&mut self, slot: usize, db: usize, key: &[u8]) -> bool {
        let v = self.by_key.entry((db, key.into())).or_default();
        if v.contains(&slot) {
            return false;
        }
        v.push(slot);
        true
    }

    /// Forgets every watch of `slot` listed in `keys`.
    pub fn remove_all(&mut self, slot: usize, keys: &[(usize, Box<[u8]>)]) {
        for k in keys {
            if let Some(v) = self.by_key.get_mut(k) {
                v.retain(|&s| s != slot);
                if v.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
    }

    /// The slots of clients whose watched keys are among `keys` or in one of
    /// the wholly changed databases `dbs`.
    pub fn affected(&self, keys: &[(usize, Box<[u8]>)], dbs: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        for k in keys {
            if let Some(v) = self.by_key.get(k) {
                out.extend_from_slice(v);
            }
        }
        if !dbs.is_empty() {
            for ((db, _), v) in &self.by_key {
                if dbs.contains(db) {
                    out.extend_from_slice(v);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
