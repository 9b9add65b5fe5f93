//! Stream values: entries ordered by ID, consumer groups with their pending
//! entries lists and consumers.
//!
//! (Skeleton: the representation and its operations are being written.)

use crate::keyspace::listpack::Listpack;

/// A stream value.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub lp: Listpack,
}

impl Stream {
    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// The entries in order, for DEBUG DIGEST and size estimates.
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        self.lp.iter().map(|e| e.to_vec()).collect()
    }

    /// Heap bytes used.
    pub fn heap_size(&self) -> usize {
        self.lp.capacity()
    }
}
