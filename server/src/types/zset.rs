//! Sorted set values: a listpack of member,score pairs while small, a skiplist with a member index when big.
//!
//! (Skeleton: the representation and its operations are being written.)

use crate::keyspace::listpack::Listpack;

/// A zset value.
#[derive(Clone, Debug, Default)]
pub struct ZSet {
    pub lp: Listpack,
}

impl ZSet {
    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// The elements in a canonical order (insertion order for lists,
    /// sorted for unordered types), for DEBUG DIGEST and size estimates.
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        self.lp.iter().map(|e| e.to_vec()).collect()
    }

    /// Heap bytes used.
    pub fn heap_size(&self) -> usize {
        self.lp.capacity()
    }
}
