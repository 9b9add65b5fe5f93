//! This node as a replica: the link to its primary (connection, handshake,
//! snapshot transfer and loading, then the command stream), the cached
//! primary used for partial resyncs, and ACKs.

/// The link to the primary this node replicates.
pub struct Link {
    pub host: String,
    pub port: u16,
}
