//! This node as a primary: the replicas attached to it (their state,
//! listening port, capabilities and acknowledged offsets), full-sync
//! bookkeeping, and WAIT.

use std::time::Instant;

use crate::server::Server;

/// Where a replica is in its synchronization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for a snapshot to start (diskless delay, or another running).
    WaitBgsave,
    /// The snapshot is being sent; stream bytes are buffered meanwhile.
    SendRdb,
    /// EOF-framed snapshot sent: streaming starts at its first ACK.
    WaitAck,
    Online,
}

/// What the primary knows of one attached replica (on its client).
pub struct ReplicaInfo {
    pub state: ReplicaState,
    pub listening_port: u16,
    pub announced_ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// Last `REPLCONF ACK` offset and when it came.
    pub ack_offset: i64,
    pub ack_time: Instant,
    /// Stream bytes produced while the snapshot is prepared and sent.
    pub pending: Vec<u8>,
    /// Offset the snapshot is consistent at (the FULLRESYNC offset).
    pub sync_offset: i64,
}

impl ReplicaInfo {
    pub fn new(now: Instant) -> Self {
        ReplicaInfo {
            state: ReplicaState::WaitBgsave,
            listening_port: 0,
            announced_ip: None,
            capa_eof: false,
            capa_psync2: false,
            ack_offset: 0,
            ack_time: now,
            pending: Vec::new(),
            sync_offset: 0,
        }
    }
}

/// A client blocked in WAIT.
pub struct Waiter {
    pub slot: usize,
    pub offset: i64,
    pub numreplicas: i64,
    pub deadline: Option<Instant>,
}

/// A snapshot being produced for full syncs.
pub struct SnapshotJob {
    pub pid: i32,
    /// Read end of the pipe the child writes the RDB into.
    pub pipe: Option<std::os::fd::OwnedFd>,
    /// Offset the snapshot is consistent at.
    pub offset: i64,
    /// Replicas (slots) served by this snapshot.
    pub replicas: Vec<usize>,
    /// The `$EOF:` mark of this transfer.
    pub mark: [u8; 40],
    /// The whole RDB, for replicas that need `$<len>` framing.
    pub collected: Vec<u8>,
    /// The child closed the pipe.
    pub data_done: bool,
    /// The child exited: Some(success).
    pub child_ok: Option<bool>,
    pub started: Instant,
}

/// Hands stream bytes to the replica in `slot`: straight into its output
/// when online (true: it needs a flush), else into its pending buffer.
pub fn deliver(srv: &mut Server, slot: usize, data: &[u8]) -> bool {
    let Some(c) = srv.clients.get_mut(slot) else {
        return false;
    };
    let Some(info) = c.replica.as_deref_mut() else {
        return false;
    };
    if info.state == ReplicaState::Online {
        c.out.extend_from_slice(data);
        true
    } else {
        info.pending.extend_from_slice(data);
        false
    }
}
