//! Replication, server side: this node's replication state (`Replication`,
//! `srv.repl`), the propagation of command effects into the replication
//! stream, and the two roles' I/O-free bookkeeping. The pieces:
//!
//! - this module: state, the propagation API `dispatch` and `Ctx` use, and
//!   feeding the stream to the backlog and to connected replicas;
//! - [`primary`]: what a primary does for its replicas (PSYNC, REPLCONF,
//!   full sync scheduling, ACKs, WAIT);
//! - [`replica`]: this node as a replica (the link to its primary);
//! - [`failover`]: FAILOVER, handing the primary role to a replica.
//!
//! Decisions that need no server (handshake, PSYNC, backlog) live in the
//! `handoff-replication` crate.

pub mod failover;
pub mod primary;
pub mod replica;

use std::time::Instant;

use bytes::Bytes;
use bytes::BytesMut;
use handoff_protocol::encode::encode_command;
use handoff_replication::{Backlog, ReplIds};

use crate::server::Server;

/// A command's propagation, decided while it runs (Redis's
/// `rewriteClientCommandVector`, `preventCommandPropagation`,
/// `forceCommandPropagation`).
#[derive(Default)]
pub struct CallFrame {
    /// Propagate these arguments instead of the command's own.
    pub rewrite: Option<Vec<Bytes>>,
    /// Propagate nothing for this command (its effects went out otherwise).
    pub prevent: bool,
    /// Propagate even though the dataset did not change (PUBLISH).
    pub force: bool,
}

/// This node's replication state.
pub struct Replication {
    pub ids: ReplIds,
    /// Created when the first replica connects (or when this node is a
    /// replica: it mirrors its primary's stream).
    pub backlog: Option<Backlog>,
    /// The db of the last SELECT in the stream; None forces the next one.
    pub stream_db: Option<usize>,
    /// Effects of the current top-level command, written when it ends
    /// (several are wrapped in MULTI/EXEC).
    pub effects: Vec<(usize, Vec<Bytes>)>,
    pub frame: CallFrame,
    pub depth: u32,
    /// Client slots of the replicas attached to this node.
    pub replicas: Vec<usize>,
    /// This node as a replica: the link to its primary.
    pub link: Option<replica::Link>,
    /// When the last PING went to the replicas.
    pub last_ping: Instant,
    /// When the last keepalive newline went to replicas waiting for a snapshot.
    pub last_newline: Instant,
    /// Client slots waiting in WAIT.
    pub waiting: Vec<usize>,
    /// A GETACK goes out before the loop sleeps (WAIT asked for one).
    pub getack_pending: bool,
    /// Full-sync snapshot in progress, shared by the replicas waiting for it.
    pub sync: Option<primary::SnapshotJob>,
    /// master_repl_offset when there is no backlog (it only grows with one).
    pub last_offset: i64,
    /// A GETACK from the primary: ACK after the current command.
    pub ack_now: bool,
    /// An ACK arrived: WAIT clients may be released.
    pub acks_changed: bool,
    /// When this replica last sent an ACK.
    pub last_ack: Instant,
    /// FAILOVER's phase and target.
    pub failover: handoff_replication::failover::Failover,
    /// master_repl_offset after the last byte that was not a GETACK asked
    /// for by FAILOVER (what the target must acknowledge).
    pub data_offset: i64,
    /// The bytes being fed are FAILOVER's own GETACK.
    pub feeding_getack: bool,
    scratch: BytesMut,
}

impl Replication {
    pub fn new() -> Self {
        Replication {
            ids: ReplIds::new(crate::server::unix_us() as u64),
            backlog: None,
            stream_db: None,
            effects: Vec::new(),
            frame: CallFrame::default(),
            depth: 0,
            replicas: Vec::new(),
            link: None,
            last_ping: Instant::now(),
            last_newline: Instant::now(),
            waiting: Vec::new(),
            getack_pending: false,
            sync: None,
            last_offset: 0,
            ack_now: false,
            acks_changed: false,
            last_ack: Instant::now(),
            failover: Default::default(),
            data_offset: 0,
            feeding_getack: false,
            scratch: BytesMut::new(),
        }
    }

    /// True when effects must be recorded: there is a stream to write.
    #[inline]
    pub fn recording(&self) -> bool {
        self.backlog.is_some()
    }

    /// master_repl_offset.
    pub fn offset(&self) -> i64 {
        self.backlog.as_ref().map_or(0, |b| b.offset())
    }

    pub fn is_replica(&self) -> bool {
        self.link.is_some()
    }
}

impl Default for Replication {
    fn default() -> Self {
        Self::new()
    }
}

/// Called by `dispatch::call` before a command runs: a fresh frame, the
/// caller's saved.
pub fn enter_call(srv: &mut Server) -> CallFrame {
    srv.repl.depth += 1;
    std::mem::take(&mut srv.repl.frame)
}

/// Called by `dispatch::call` after a command ran: records its effect and,
/// at the top level, writes the effects of the whole call to the stream.
pub fn leave_call(
    srv: &mut Server,
    saved: CallFrame,
    changed: bool,
    db: usize,
    args: &[Bytes],
    from_primary: bool,
) {
    let frame = std::mem::replace(&mut srv.repl.frame, saved);
    srv.repl.depth -= 1;
    if !srv.repl.recording() || from_primary {
        srv.repl.effects.clear();
        return;
    }
    if !frame.prevent && (changed || frame.force) {
        let argv = frame.rewrite.unwrap_or_else(|| args.to_vec());
        srv.repl.effects.push((db, argv));
    }
    if srv.repl.depth == 0 {
        flush_effects(srv);
    }
}

/// Writes the recorded effects; more than one become a MULTI/EXEC block so
/// replicas apply them atomically.
pub fn flush_effects(srv: &mut Server) {
    let effects = std::mem::take(&mut srv.repl.effects);
    match effects.len() {
        0 => {}
        1 => {
            let (db, args) = &effects[0];
            propagate(srv, Some(*db), args);
        }
        _ => {
            let db = effects[0].0;
            propagate(srv, Some(db), &[Bytes::from_static(b"MULTI")]);
            for (db, args) in &effects {
                propagate(srv, Some(*db), args);
            }
            propagate(srv, None, &[Bytes::from_static(b"EXEC")]);
        }
    }
    srv.repl.effects = effects;
    srv.repl.effects.clear();
}

/// Writes one command to the stream now, preceded by a SELECT when `db`
/// differs from the stream's (None: a command with no db, PING/GETACK).
pub fn propagate<A: AsRef<[u8]>>(srv: &mut Server, db: Option<usize>, args: &[A]) {
    if !srv.repl.recording() || srv.repl.is_replica() {
        return;
    }
    let mut buf = std::mem::take(&mut srv.repl.scratch);
    buf.clear();
    if let Some(db) = db {
        if srv.repl.stream_db != Some(db) {
            let n = db.to_string();
            encode_command(&mut buf, &[b"SELECT".as_ref(), n.as_bytes()]);
            srv.repl.stream_db = Some(db);
        }
    }
    encode_command(&mut buf, args);
    feed(srv, &buf);
    srv.repl.scratch = buf;
}

/// Appends raw stream bytes to the backlog and to every attached replica
/// (online ones get them now, syncing ones once their snapshot is sent).
/// A replica calls this with its primary's bytes to serve sub-replicas.
pub fn feed(srv: &mut Server, data: &[u8]) {
    let Some(backlog) = srv.repl.backlog.as_mut() else {
        return;
    };
    backlog.feed(data);
    if !srv.repl.feeding_getack {
        srv.repl.data_offset = backlog.offset();
    }
    for i in 0..srv.repl.replicas.len() {
        let slot = srv.repl.replicas[i];
        if primary::deliver(srv, slot, data) {
            srv.schedule_write(slot);
        }
    }
}
