//! Set values: an intset, a listpack while small, a hash table when big.
//!
//! (Skeleton: the representation and its operations are being written.)

use crate::keyspace::listpack::Listpack;

/// A set value.
#[derive(Clone, Debug, Default)]
pub struct Set {
    pub lp: Listpack,
}

impl Set {
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
