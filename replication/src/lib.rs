//! Replication state and the state machines of the Redis replication protocol
//! (PSYNC), with no I/O: the server feeds them bytes, times and events and
//! carries out what they decide.
//!
//! - [`ids`]: replication ids (replid, replid2 and the second offset).
//! - [`backlog`]: the primary's ring buffer of recent stream bytes.
//! - [`psync`]: the primary's partial-or-full decision for `PSYNC id offset`.
//! - [`handshake`]: the replica's side of the handshake, reply by reply.
//! - [`transfer`]: the framing of the RDB payload after `+FULLRESYNC`.
//! - [`stream`]: what a replica writes on the stream (ACKs).
//! - [`failover`]: FAILOVER's phases on the primary and when to switch.
//! - [`shutdown`]: SHUTDOWN's wait for lagging replicas and its report.

pub mod backlog;
pub mod failover;
pub mod handshake;
pub mod ids;
pub mod psync;
pub mod shutdown;
pub mod stream;
pub mod transfer;

pub use backlog::Backlog;
pub use ids::ReplIds;
