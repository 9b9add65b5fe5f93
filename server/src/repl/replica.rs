//! This node as a replica: the link to its primary (connection, handshake,
//! snapshot transfer and incremental loading, then the command stream),
//! the cached primary used for partial resyncs, offsets and ACKs, and
//! promotion (REPLICAOF NO ONE).
//!
//! The socket itself is read and written by `net::replication`; this module
//! keeps the state and decides.

use std::time::Instant;

use handoff_replication::handshake::Handshake;
use handoff_replication::transfer::RdbTransfer;
use handoff_replication::Backlog;

use crate::server::Server;

/// Where the link is (INFO's `master_link_status` is `up` only when
/// `Connected`; ROLE reports the state names below).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected: the next cron tries to connect.
    Connect,
    /// TCP connection in progress.
    Connecting,
    /// PING / REPLCONF / PSYNC exchange.
    Handshake,
    /// Receiving the snapshot.
    Transfer,
    /// Loading the received snapshot, a batch of keys per loop turn.
    Loading,
    /// Streaming: the link is the client in `Link::slot`.
    Connected,
}

impl LinkState {
    /// The state word of ROLE.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer | LinkState::Loading => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// The link to the primary this node replicates.
pub struct Link {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// The socket until the link becomes a client (then `slot`).
    pub sock: Option<mio::net::TcpStream>,
    pub handshake: Option<Handshake>,
    pub transfer: Option<RdbTransfer>,
    pub loader: Option<crate::rdb::RdbLoader>,
    /// `+FULLRESYNC` replid and offset while the snapshot comes and loads.
    pub full: Option<(String, i64)>,
    /// Stream bytes that arrived with the end of the handshake or snapshot.
    pub rest: Vec<u8>,
    /// The primary-link client once streaming.
    pub slot: Option<usize>,
    /// Last time anything came from the primary.
    pub last_io: Instant,
    /// When the link went down (INFO master_link_down_since_seconds).
    pub down_since: Instant,
    pub sync_started: Option<Instant>,
    /// Stream bytes of the command being applied, and of an open MULTI:
    /// they count once the command (or EXEC) ran.
    pub multi_buf: bytes::BytesMut,
    /// Send `PSYNC ... FAILOVER` (this node hands over to that primary).
    pub failover: bool,
    /// Next connection attempt.
    pub retry_at: Instant,
    /// The db the stream continues in (`repl-stream-db` after a full sync;
    /// the link's last db after a partial resync).
    pub stream_db: usize,
    /// When the last keepalive newline went to the primary while loading.
    pub newline_sent: Option<Instant>,
}

impl Link {
    pub fn new(host: String, port: u16) -> Self {
        let now = Instant::now();
        Link {
            host,
            port,
            state: LinkState::Connect,
            sock: None,
            handshake: None,
            transfer: None,
            loader: None,
            full: None,
            rest: Vec::new(),
            slot: None,
            last_io: now,
            down_since: now,
            sync_started: None,
            multi_buf: bytes::BytesMut::new(),
            failover: false,
            retry_at: now,
            stream_db: 0,
            newline_sent: None,
        }
    }
}

impl super::Replication {
    /// The link to the primary is streaming.
    pub fn link_up(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.state == LinkState::Connected)
    }

    /// A snapshot from the primary is being loaded.
    pub fn loading(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.state == LinkState::Loading)
    }
}

/// REPLICAOF host port: (re)points this node at a primary. The data is
/// kept; the first PSYNC offers this node's own history (a demoted primary
/// continues with `+CONTINUE` when the new primary shares it).
pub fn set_primary(srv: &mut Server, host: String, port: u16) {
    drop_link(srv);
    if srv.repl.backlog.is_none() {
        // The cached primary needs a backlog to continue into.
        srv.repl.backlog = Some(Backlog::new(
            srv.config.repl_backlog_size as usize,
            srv.repl.last_offset,
        ));
    }
    log::info!("Connecting to MASTER {host}:{port}");
    srv.repl.link = Some(Link::new(host, port));
    srv.refresh_expire_mode();
}

/// Clients blocked on keys when this node became a replica (REPLICAOF, or
/// the end of a FAILOVER): as Valkey 9, a redirect-capable client gets
/// `-REDIRECT` to the new primary for a command it would be redirected for;
/// a blocked read of a READONLY client keeps waiting (the replica serves
/// reads); every other one gets `-UNBLOCKED` and is disconnected, as Redis
/// does (its command makes no sense on a replica).
pub fn release_blocked_on_demotion(srv: &mut Server) {
    const UNBLOCKED: &str = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
    let slots: Vec<usize> = srv
        .clients
        .iter()
        .filter(|c| c.blocked.is_some())
        .map(|c| c.slot)
        .collect();
    let redirect = crate::commands::gate::redirect_error(srv);
    for slot in slots {
        let Some(mut c) = srv.clients.take(slot) else {
            continue;
        };
        let flags = c
            .blocked
            .as_ref()
            .map_or(0, |b| srv.commands.entries[b.cmd].spec.flags);
        let redirected = crate::commands::gate::redirects(srv, &c, flags);
        let keeps_reading = c.readonly_mode
            && flags & crate::commands::spec::flag::READONLY != 0
            && flags & crate::commands::spec::flag::WRITE == 0;
        if redirected {
            srv.unblock(&mut c, None);
            srv.stats.count_error(&redirect);
            handoff_protocol::encode::error(&mut c.out, redirect.as_bytes());
        } else if !keeps_reading {
            srv.unblock(&mut c, Some(crate::server::UnblockReply::Error(UNBLOCKED)));
            c.close_after_reply = true;
        }
        srv.clients.put_back(c);
        srv.schedule_write(slot);
    }
}

/// Forgets the link (its socket or client is closed by the loop).
pub fn drop_link(srv: &mut Server) {
    if let Some(link) = srv.repl.link.take() {
        if let Some(slot) = link.slot {
            close_slot(srv, slot);
        }
        // Dropping the socket closes it; epoll forgets closed fds.
        drop(link.sock);
    }
}

fn close_slot(srv: &mut Server, slot: usize) {
    if let Some(c) = srv.clients.get_mut(slot) {
        c.close_asap = true;
        srv.clients_to_close.push(slot);
    }
}

/// Disconnects this node's own replicas (they come back with PSYNC and
/// learn the new history).
pub fn disconnect_replicas(srv: &mut Server) {
    for slot in srv.repl.replicas.clone() {
        close_slot(srv, slot);
    }
}

/// REPLICAOF NO ONE (and the FAILOVER target): this node becomes a primary.
/// Its history continues under a new id; the old one stays valid up to the
/// current offset so the old primary and siblings resync partially.
pub fn promote(srv: &mut Server) {
    if srv.repl.link.is_none() {
        return;
    }
    drop_link(srv);
    let offset = srv.repl.offset();
    srv.repl.ids.shift(offset, crate::server::unix_us() as u64);
    srv.repl.stream_db = None;
    srv.refresh_expire_mode();
    srv.pause.end_incoming();
    srv.maint.demoted_by_failover = false;
    if srv.repl.backlog.is_none() {
        srv.repl.backlog = Some(Backlog::new(srv.config.repl_backlog_size as usize, offset));
    }
    log::info!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        srv.repl.ids.replid2,
        srv.repl.ids.second_repl_offset,
        srv.repl.ids.replid
    );
    disconnect_replicas(srv);
    log::info!("MASTER MODE enabled");
}

/// INFO `slave_read_repl_offset`: the applied offset plus what came from
/// the primary and waits to be applied (an open MULTI, a command held by a
/// pause, unparsed bytes). A paused replica keeps reading its primary.
pub fn read_offset(srv: &Server) -> i64 {
    let Some(link) = &srv.repl.link else {
        return srv.repl.offset();
    };
    let mut pending = link.multi_buf.len() + link.rest.len();
    if let Some(c) = link.slot.and_then(|s| srv.clients.get(s)) {
        pending += c.read_buf.len();
        if c.postponed {
            pending += encoded_len(&c.args);
        }
    }
    srv.repl.offset() + pending as i64
}

/// The length of `args` as a RESP multibulk.
fn encoded_len(args: &[bytes::Bytes]) -> usize {
    let header = |n: usize| n.to_string().len() + 3;
    header(args.len())
        + args
            .iter()
            .map(|a| header(a.len()) + a.len() + 2)
            .sum::<usize>()
}

/// The PSYNC arguments this node offers: its history and offset.
pub fn cached_primary(srv: &Server) -> Option<(String, i64)> {
    srv.repl
        .backlog
        .as_ref()
        .map(|b| (srv.repl.ids.replid.clone(), b.offset()))
}

/// `+FULLRESYNC`: data is replaced by the snapshot; the history becomes the
/// primary's.
pub fn begin_full_sync(srv: &mut Server, replid: String, offset: i64) {
    log::info!("Full resync from master: {replid}:{offset}");
    if let Some(link) = srv.repl.link.as_mut() {
        link.full = Some((replid, offset));
        link.state = LinkState::Transfer;
        link.transfer = Some(RdbTransfer::new());
        link.sync_started = Some(Instant::now());
    }
    // Sub-replicas must resync from the new history.
    disconnect_replicas(srv);
}

/// The snapshot is loaded: adopt the primary's id and offset.
pub fn full_sync_loaded(srv: &mut Server) {
    let Some((replid, offset)) = srv.repl.link.as_mut().and_then(|l| l.full.take()) else {
        return;
    };
    srv.repl.ids.replid = replid;
    srv.repl.ids.clear_secondary();
    srv.repl.backlog = Some(Backlog::new(srv.config.repl_backlog_size as usize, offset));
    log::info!("MASTER <-> REPLICA sync: Finished with success");
}

/// `+CONTINUE [replid]`: the stream continues at our offset.
pub fn continue_sync(srv: &mut Server, new_replid: Option<String>) {
    log::info!("Successful partial resynchronization with master.");
    if let Some(id) = new_replid {
        if id != srv.repl.ids.replid {
            let offset = srv.repl.offset();
            srv.repl.ids.adopt(&id, offset);
            log::info!("Master replication ID changed to {id}");
            disconnect_replicas(srv);
        }
    }
    log::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
}

/// A command from the primary is about to run: its stream bytes are kept
/// until it has (see [`applied`]).
pub fn received(srv: &mut Server, args: &[bytes::Bytes]) {
    if let Some(link) = srv.repl.link.as_mut() {
        handoff_protocol::encode::encode_command(&mut link.multi_buf, args);
    }
}

/// The command from the primary ran. Its stream bytes count (after EXEC for
/// a transaction, so a link lost mid-MULTI resumes before it) and are
/// relayed to sub-replicas.
pub fn applied(srv: &mut Server, in_multi: bool) {
    let Some(link) = srv.repl.link.as_mut() else {
        return;
    };
    if in_multi {
        return;
    }
    let bytes = link.multi_buf.split();
    super::feed(srv, &bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_len_is_the_length_of_the_resp_encoding() {
        let args: Vec<bytes::Bytes> = ["SET", "key", &"v".repeat(12)]
            .iter()
            .map(|a| bytes::Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let mut out = bytes::BytesMut::new();
        handoff_protocol::encode::encode_command(&mut out, &args);
        assert_eq!(encoded_len(&args), out.len());
    }
}
