//! This node as a primary: the replicas attached to it (their state,
//! listening port, capabilities and acknowledged offsets), PSYNC and
//! REPLCONF, full syncs from a forked snapshot, pings, timeouts and WAIT.
//!
//! Socket and pipe I/O stays in `net`: this module appends to replica
//! clients' output buffers and reads the snapshot pipe through plain fds.

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::time::{Duration, Instant};

use bytes::Bytes;
use handoff_replication::psync::{decide, PsyncDecision};
use handoff_replication::Backlog;

use crate::client::{Client, ClientKind};
use crate::commands::{CmdResult, Ctx};
use crate::persist::{self, ChildPurpose, ReplAux, SnapshotTarget};
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

impl ReplicaState {
    /// The `state=` of INFO's `slaveN` lines.
    pub fn info_name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsave => "wait_bgsave",
            ReplicaState::SendRdb => "send_bulk",
            ReplicaState::WaitAck | ReplicaState::Online => "online",
        }
    }
}

/// What the primary knows of one attached replica (on its client).
pub struct ReplicaInfo {
    pub state: ReplicaState,
    pub listening_port: u16,
    pub announced_ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// Legacy SYNC (redis-cli --rdb / --replica): no +FULLRESYNC line.
    pub legacy_sync: bool,
    /// `REPLCONF rdb-only 1`: closed once the snapshot is sent.
    pub rdb_only: bool,
    /// Last `REPLCONF ACK` offset and when it came.
    pub ack_offset: i64,
    pub ack_time: Instant,
    /// Stream bytes produced while the snapshot is prepared and sent.
    pub pending: Vec<u8>,
    /// When the replica started waiting for a snapshot.
    pub waiting_since: Instant,
}

impl ReplicaInfo {
    /// The address other nodes reach it at: the announced ip, else the
    /// connection's (`ip:port` of the client, IPv6 brackets removed).
    pub fn ip(&self, client_addr: &str) -> String {
        if let Some(ip) = &self.announced_ip {
            return ip.clone();
        }
        match client_addr.rsplit_once(':') {
            Some((ip, _)) => ip.trim_start_matches('[').trim_end_matches(']').to_string(),
            None => client_addr.to_string(),
        }
    }

    /// Online and acked within `min-replicas-max-lag` seconds (whole
    /// seconds, as Redis counts the lag).
    pub fn is_good(&self, max_lag_secs: u64) -> bool {
        self.state == ReplicaState::Online && self.ack_time.elapsed().as_secs() <= max_lag_secs
    }

    pub fn new(now: Instant) -> Self {
        ReplicaInfo {
            state: ReplicaState::WaitBgsave,
            listening_port: 0,
            announced_ip: None,
            capa_eof: false,
            capa_psync2: false,
            legacy_sync: false,
            rdb_only: false,
            ack_offset: 0,
            ack_time: now,
            pending: Vec::new(),
            waiting_since: now,
        }
    }
}

/// A snapshot being produced for full syncs.
pub struct SnapshotJob {
    pub pid: i32,
    /// Read end of the pipe the child writes the RDB into (diskless).
    pub pipe: Option<OwnedFd>,
    /// The pipe is registered with the event loop.
    pub registered: bool,
    /// The RDB file the child writes (disk-based sync).
    pub file: Option<std::path::PathBuf>,
    /// Offset the snapshot is consistent at.
    pub offset: i64,
    /// Replicas (slots) served by this snapshot.
    pub replicas: Vec<usize>,
    /// The `$EOF:` mark of this transfer.
    pub mark: String,
    /// The whole RDB, for replicas that need `$<len>` framing.
    pub collected: Vec<u8>,
    /// The child closed the pipe (or the file is complete).
    pub data_done: bool,
    /// The child exited: Some(success).
    pub child_ok: Option<bool>,
    pub started: Instant,
    /// Read buffer for the pipe.
    pub buf: Vec<u8>,
}

/// Hands stream bytes to the replica in `slot`: straight into its output
/// when online (true: it needs a flush), into its pending buffer while its
/// snapshot is sent, nowhere before its snapshot starts (it will hold them).
/// A replica being disconnected gets nothing more: it was dropped because
/// the history changed (a promotion), and bytes of the new history would
/// count, on its side, under the old replication id.
pub fn deliver(srv: &mut Server, slot: usize, data: &[u8]) -> bool {
    let Some(c) = srv.clients.get_mut(slot).filter(|c| !c.close_asap) else {
        return false;
    };
    let Some(info) = c.replica.as_deref_mut() else {
        return false;
    };
    match info.state {
        ReplicaState::Online => {
            c.out.extend_from_slice(data);
            true
        }
        ReplicaState::SendRdb | ReplicaState::WaitAck => {
            info.pending.extend_from_slice(data);
            false
        }
        ReplicaState::WaitBgsave => false,
    }
}

/// Creates the backlog if there is none: a new history starts, as in Redis
/// (a new replid, no secondary).
pub fn ensure_backlog(srv: &mut Server) {
    if srv.repl.backlog.is_none() {
        let offset = srv.repl.last_offset;
        srv.repl.backlog = Some(Backlog::new(srv.config.repl_backlog_size as usize, offset));
        if !srv.repl.is_replica() {
            srv.repl.ids.reset(crate::server::unix_us() as u64);
            log::info!(
                "Replication backlog created, my new replication IDs are '{}' and '{}'",
                srv.repl.ids.replid,
                srv.repl.ids.replid2
            );
        }
    }
}

fn make_replica(srv: &mut Server, client: &mut Client) {
    if client.replica.is_none() {
        client.replica = Some(Box::new(ReplicaInfo::new(Instant::now())));
    }
    client.kind = ClientKind::Replica;
    if !srv.repl.replicas.contains(&client.slot) {
        srv.repl.replicas.push(client.slot);
    }
}

/// PSYNC replid offset [FAILOVER].
pub fn psync(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.kind == ClientKind::Replica {
        return Ok(()); // a replica asking twice: ignored, as Redis does
    }
    if ctx.srv.repl.is_replica() && !ctx.srv.repl.link_up() {
        return Err("NOMASTERLINK Can't SYNC while not connected with my master".into());
    }
    let id = String::from_utf8_lossy(&ctx.args[1]).into_owned();
    let offset = String::from_utf8_lossy(&ctx.args[2]).into_owned();
    if ctx.args.len() > 3 {
        if !ctx.arg_is(3, "failover") {
            return Err(crate::errors::SYNTAX.into());
        }
        if !ctx.srv.repl.is_replica() {
            return Err("ERR PSYNC FAILOVER can't be sent to a master.".into());
        }
        if id != ctx.srv.repl.ids.replid {
            return Err("ERR PSYNC FAILOVER replid must match my replid.".into());
        }
        log::warn!("Failover request received for replid {id}.");
        super::replica::promote(ctx.srv);
        log::info!(
            "failover: promoted (failover request from {})",
            ctx.client.addr
        );
    }
    if ctx.srv.repl.failover.active() {
        return Err("NOMASTERLINK Can't SYNC while failing over".into());
    }
    let addr = ctx.client.addr.clone();
    let decision = decide(
        &ctx.srv.repl.ids,
        ctx.srv.repl.backlog.as_ref(),
        &id,
        &offset,
    );
    match decision {
        PsyncDecision::Continue { from } => {
            make_replica(ctx.srv, ctx.client);
            let info = ctx.client.replica.as_deref_mut().expect("just attached");
            info.state = ReplicaState::Online;
            info.ack_offset = from - 1;
            let psync2 = info.capa_psync2;
            let reply = if psync2 {
                format!("+CONTINUE {}\r\n", ctx.srv.repl.ids.replid)
            } else {
                "+CONTINUE\r\n".to_string()
            };
            ctx.client.out.extend_from_slice(reply.as_bytes());
            let backlog = ctx
                .srv
                .repl
                .backlog
                .as_ref()
                .expect("decided with a backlog");
            let (a, b) = backlog.since(from).expect("decided it covers");
            let sent = a.len() + b.len();
            ctx.client.out.extend_from_slice(a);
            ctx.client.out.extend_from_slice(b);
            ctx.srv.stats.sync_partial_ok += 1;
            log::info!(
                "Partial resynchronization request from {addr} accepted. Sending {sent} bytes of backlog starting from offset {from}."
            );
        }
        PsyncDecision::Full { reason } => {
            if let Some(r) = reason {
                log::info!("{r}");
                ctx.srv.stats.sync_partial_err += 1;
            }
            log::info!("Replica {addr} asks for synchronization");
            full_sync_requested(ctx.srv, ctx.client);
        }
    }
    Ok(())
}

/// SYNC: the pre-PSYNC full synchronization (redis-cli --rdb, --replica).
pub fn sync(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.kind == ClientKind::Replica {
        return Ok(());
    }
    if ctx.srv.repl.is_replica() && !ctx.srv.repl.link_up() {
        return Err("NOMASTERLINK Can't SYNC while not connected with my master".into());
    }
    if ctx.srv.repl.failover.active() {
        return Err("NOMASTERLINK Can't SYNC while failing over".into());
    }
    make_replica(ctx.srv, ctx.client);
    if let Some(info) = ctx.client.replica.as_deref_mut() {
        info.legacy_sync = true;
        info.capa_eof = false;
    }
    full_sync_requested(ctx.srv, ctx.client);
    Ok(())
}

fn full_sync_requested(srv: &mut Server, client: &mut Client) {
    srv.stats.sync_full += 1;
    make_replica(srv, client);
    ensure_backlog(srv);
    if let Some(info) = client.replica.as_deref_mut() {
        info.state = ReplicaState::WaitBgsave;
        info.waiting_since = Instant::now();
    }
}

/// REPLCONF option value ... (never replies to ACK/GETACK).
pub fn replconf(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len().is_multiple_of(2) {
        return Err(crate::errors::SYNTAX.into());
    }
    let mut i = 1;
    let mut prepare: Option<(i64, Bytes)> = None;
    while i + 1 < ctx.args.len() {
        let opt = ctx.args[i].to_ascii_lowercase();
        let val = ctx.args[i + 1].clone();
        match opt.as_slice() {
            b"listening-port" => {
                let port = ctx.arg_i64(i + 1)?;
                info_of(ctx.client).listening_port = port.clamp(0, 65535) as u16;
            }
            b"ip-address" => {
                info_of(ctx.client).announced_ip = Some(String::from_utf8_lossy(&val).into_owned());
            }
            b"capa" => {
                let info = info_of(ctx.client);
                if val.eq_ignore_ascii_case(b"eof") {
                    info.capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    info.capa_psync2 = true;
                }
            }
            b"ack" => {
                // Only an attached replica acks; the reply is always silent.
                if ctx.client.replica.is_some() {
                    if let Ok(off) = crate::commands::ctx::parse_i64(&val) {
                        on_ack(ctx.srv, ctx.client, off);
                    }
                }
                return Ok(());
            }
            b"getack" => {
                if ctx.client.kind == ClientKind::PrimaryLink {
                    ctx.srv.repl.ack_now = true;
                }
                return Ok(());
            }
            b"rdb-only" => {
                let on = ctx.arg_i64(i + 1)?;
                if on != 0 && on != 1 {
                    return Err(crate::errors::SYNTAX.into());
                }
                info_of(ctx.client).rdb_only = on == 1;
            }
            b"rdb-filter-only" => {}
            // From a primary whose FAILOVER moves clients to its target
            // (handoff's own option): `handoff-prepare <ms> handoff-target <host:port>`.
            b"handoff-prepare" => prepare = Some((ctx.arg_i64(i + 1)?, Bytes::new())),
            b"handoff-target" => {
                if let Some(p) = prepare.as_mut() {
                    p.1 = val;
                }
            }
            _ => {
                return Err(format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(&ctx.args[i])
                )
                .into())
            }
        }
        i += 2;
    }
    if let Some((ms, target)) = prepare {
        if ctx.client.kind == ClientKind::PrimaryLink && is_me(ctx.srv, &target) {
            let now = Instant::now();
            let end = now + Duration::from_millis(ms.clamp(0, 60_000) as u64);
            if ms > 0 {
                log::info!(
                    "failover: clients are moving here; holding keyspace commands until promoted"
                );
            }
            ctx.srv.pause.hold_incoming(now, end);
        }
        return Ok(());
    }
    ctx.ok();
    Ok(())
}

/// `host:port` names this node: its port and one of its addresses (or the
/// announced one).
fn is_me(srv: &Server, target: &[u8]) -> bool {
    let target = String::from_utf8_lossy(target);
    let Some((host, port)) = handoff_protocol::follow::split_endpoint(&target) else {
        return false;
    };
    if port != srv.port() {
        return false;
    }
    srv.config.replica_announce_ip().as_deref() == Some(host)
        || srv.listening.iter().any(|a| {
            a.ip().is_unspecified() || host.parse::<std::net::IpAddr>().ok() == Some(a.ip())
        })
}

/// The replica state a REPLCONF sets, created before PSYNC attaches it.
fn info_of(c: &mut Client) -> &mut ReplicaInfo {
    c.replica
        .get_or_insert_with(|| Box::new(ReplicaInfo::new(Instant::now())))
}

fn on_ack(srv: &mut Server, client: &mut Client, offset: i64) {
    let Some(info) = client.replica.as_deref_mut() else {
        return;
    };
    if offset > info.ack_offset {
        info.ack_offset = offset;
    }
    info.ack_time = Instant::now();
    if info.state == ReplicaState::WaitAck {
        // The EOF-framed snapshot is loaded: start the stream.
        info.state = ReplicaState::Online;
        let pending = std::mem::take(&mut info.pending);
        client.out.extend_from_slice(&pending);
        log::info!("Synchronization with replica {} succeeded", client.addr);
    }
    srv.repl.acks_changed = true;
}

/// The replicas attached to this node (their client and replication state).
pub fn attached(srv: &Server) -> impl Iterator<Item = (&Client, &ReplicaInfo)> {
    srv.repl
        .replicas
        .iter()
        .filter_map(|&s| srv.clients.get(s))
        .filter_map(|c| Some((c, c.replica.as_deref()?)))
}

/// Number of online replicas whose acknowledged offset reached `offset`.
pub fn replicas_at(srv: &Server, offset: i64) -> i64 {
    attached(srv)
        .filter(|(_, i)| i.state == ReplicaState::Online && i.ack_offset >= offset)
        .count() as i64
}

/// Replicas that count for `min-replicas-to-write` (INFO min_slaves_good_slaves).
pub fn good_replicas(srv: &Server) -> u64 {
    let max_lag = srv.config.min_replicas_max_lag;
    attached(srv).filter(|(_, i)| i.is_good(max_lag)).count() as u64
}

/// WAIT numreplicas timeout.
pub fn wait(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.repl.is_replica() {
        return Err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.".into());
    }
    let numreplicas = ctx.arg_i64(1)?;
    let timeout = ctx.arg_i64(2)?;
    if timeout < 0 {
        return Err(crate::errors::TIMEOUT_NEGATIVE.into());
    }
    let target = ctx.srv.repl.offset();
    let acked = replicas_at(ctx.srv, target);
    if acked >= numreplicas || ctx.client.in_exec {
        ctx.int(acked);
        return Ok(());
    }
    let timeout = (timeout > 0).then(|| Duration::from_millis(timeout as u64));
    ctx.block(
        &[],
        timeout,
        crate::blocking::TimeoutReply::ReplicaCount {
            offset: target,
            numreplicas,
        },
    );
    ctx.srv.repl.waiting.push(ctx.client.slot);
    ctx.srv.repl.getack_pending = true;
    Ok(())
}

/// Wakes WAIT clients whose replicas caught up; returns their slots.
pub fn satisfied_waiters(srv: &mut Server) -> Vec<usize> {
    let mut done = Vec::new();
    let waiting = std::mem::take(&mut srv.repl.waiting);
    let mut still = Vec::new();
    for slot in waiting {
        let Some(c) = srv.clients.get(slot) else {
            continue;
        };
        // Clients unblocked otherwise (timeout, CLIENT UNBLOCK) drop out.
        if let Some(crate::blocking::TimeoutReply::ReplicaCount {
            offset,
            numreplicas,
        }) = c.blocked.as_deref().map(|b| b.on_timeout)
        {
            if replicas_at(srv, offset) >= numreplicas {
                done.push(slot);
            } else {
                still.push(slot);
            }
        }
    }
    srv.repl.waiting = still;
    done
}

/// `min-replicas-to-write`: enough replicas acked recently enough.
pub fn enough_good_replicas(srv: &Server) -> bool {
    let need = srv.config.min_replicas_to_write;
    need == 0 || srv.config.min_replicas_max_lag == 0 || good_replicas(srv) >= need
}

/// A replica client went away.
pub fn detach(srv: &mut Server, slot: usize) {
    srv.repl.replicas.retain(|&s| s != slot);
    if let Some(job) = srv.repl.sync.as_mut() {
        job.replicas.retain(|&s| s != slot);
    }
}

/// Starts a snapshot for the replicas waiting for one, when due: at once
/// for disk-based sync, after `repl-diskless-sync-delay` for diskless.
pub fn maybe_start_snapshot(srv: &mut Server) {
    if srv.repl.sync.is_some() || srv.persist.child.is_some() {
        return;
    }
    let waiting: Vec<usize> = srv
        .repl
        .replicas
        .iter()
        .copied()
        .filter(|&s| {
            srv.clients
                .get(s)
                .and_then(|c| c.replica.as_deref())
                .is_some_and(|i| i.state == ReplicaState::WaitBgsave)
        })
        .collect();
    if waiting.is_empty() {
        return;
    }
    let diskless = srv.config.repl_diskless_sync;
    if diskless {
        let delay = Duration::from_secs(srv.config.repl_diskless_sync_delay);
        let oldest = waiting
            .iter()
            .filter_map(|&s| {
                srv.clients
                    .get(s)?
                    .replica
                    .as_deref()
                    .map(|i| i.waiting_since)
            })
            .min()
            .unwrap_or_else(Instant::now);
        if oldest.elapsed() < delay {
            return;
        }
    }
    start_snapshot(srv, waiting, diskless);
}

fn start_snapshot(srv: &mut Server, replicas: Vec<usize>, diskless: bool) {
    let offset = srv.repl.offset();
    // A replica relays its primary's stream verbatim (no SELECT of its own):
    // the db its link has selected is where that stream continues.
    let link_db = srv
        .repl
        .link
        .as_ref()
        .and_then(|l| l.slot)
        .and_then(|slot| srv.clients.get(slot))
        .map(|c| c.db);
    let aux = ReplAux {
        stream_db: link_db.or(srv.repl.stream_db).unwrap_or(0),
        replid: srv.repl.ids.replid.clone(),
        offset,
    };
    let (target, pipe, file) = if diskless {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 fills the two fds it is given.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            log::warn!(
                "Can't create the snapshot pipe: {}",
                std::io::Error::last_os_error()
            );
            return;
        }
        // SAFETY: both fds were just created and are owned here.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fcntl on an fd we own.
        unsafe {
            let fl = libc::fcntl(rd.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(rd.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
        // The child owns the write end from here on (fork_snapshot closes the
        // parent's copy).
        (SnapshotTarget::Fd(wr.into_raw_fd()), Some(rd), None)
    } else {
        let path = std::path::Path::new(&srv.config.dir).join(&srv.config.dbfilename);
        (SnapshotTarget::File(path.clone()), None, Some(path))
    };
    let purpose = if diskless {
        ChildPurpose::ReplicationSocket
    } else {
        ChildPurpose::ReplicationDisk
    };
    let pid = match persist::fork_snapshot(srv, target, Some(aux), purpose) {
        Ok(pid) => pid,
        Err(e) => {
            log::warn!("Can't save in background: fork: {e}");
            for slot in replicas {
                if let Some(c) = srv.clients.get_mut(slot) {
                    c.close_asap = true;
                    srv.clients_to_close.push(slot);
                }
            }
            return;
        }
    };
    let mark = crate::server::random_hex(40);
    log::info!(
        "Starting BGSAVE for SYNC with target: {}",
        if diskless { "replicas sockets" } else { "disk" }
    );
    for &slot in &replicas {
        let Some(c) = srv.clients.get_mut(slot) else {
            continue;
        };
        let Some(info) = c.replica.as_deref_mut() else {
            continue;
        };
        info.state = ReplicaState::SendRdb;
        info.pending.clear();
        if !info.legacy_sync {
            c.out.extend_from_slice(
                format!("+FULLRESYNC {} {offset}\r\n", srv.repl.ids.replid).as_bytes(),
            );
        }
        if diskless && info.capa_eof {
            c.out
                .extend_from_slice(format!("$EOF:{mark}\r\n").as_bytes());
        }
        queue_flush(&mut srv.pending_writes, c);
    }
    // Stream commands after the snapshot start with a SELECT.
    srv.repl.stream_db = None;
    srv.repl.sync = Some(SnapshotJob {
        pid,
        pipe,
        registered: false,
        file,
        offset,
        replicas,
        mark,
        collected: Vec::new(),
        data_done: false,
        child_ok: None,
        started: Instant::now(),
        buf: Vec::new(),
    });
}

/// Bytes read from the snapshot pipe in one turn before clients get a go.
const PIPE_CAP_PER_TURN: usize = 8 << 20;

/// Moves snapshot bytes from the pipe to the replicas (EOF framing) or to
/// the collected copy (`$len` framing). True if the pipe may have more.
pub fn pump_snapshot(srv: &mut Server) -> bool {
    let Some(job) = srv.repl.sync.as_mut() else {
        return false;
    };
    let Some(pipe) = job.pipe.as_ref() else {
        return false;
    };
    let fd = pipe.as_raw_fd();
    // Reused between turns: a fresh zeroed buffer per call shows in profiles.
    let buf = &mut job.buf;
    if buf.is_empty() {
        buf.resize(256 * 1024, 0);
    }
    let mut total = 0;
    let mut more = false;
    loop {
        // SAFETY: read into a buffer we own, of its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if e.kind() != std::io::ErrorKind::WouldBlock {
                log::warn!("Diskless rdb transfer, read error: {e}");
                job.data_done = true;
                job.child_ok = Some(false);
            }
            break;
        }
        if n == 0 {
            job.data_done = true;
            break;
        }
        let chunk = &buf[..n as usize];
        total += chunk.len();
        let mut needs_collect = false;
        for &slot in &job.replicas {
            let Some(c) = srv.clients.get_mut(slot) else {
                continue;
            };
            match c.replica.as_deref() {
                Some(i) if i.capa_eof => {
                    c.out.extend_from_slice(chunk);
                    queue_flush(&mut srv.pending_writes, c);
                }
                Some(_) => needs_collect = true,
                None => {}
            }
        }
        if needs_collect {
            job.collected.extend_from_slice(chunk);
        }
        if total >= PIPE_CAP_PER_TURN {
            more = true;
            break;
        }
    }
    more
}

/// Called when the snapshot child exited: completes the transfer.
pub fn snapshot_child_done(srv: &mut Server, ok: bool) {
    if let Some(job) = srv.repl.sync.as_mut() {
        job.child_ok = Some(ok);
    }
    finish_if_complete(srv);
}

/// Completes the job once both the data and the child's status are in.
pub fn finish_if_complete(srv: &mut Server) {
    let ready = srv.repl.sync.as_ref().is_some_and(|j| {
        j.child_ok == Some(false) || (j.child_ok == Some(true) && (j.data_done || j.file.is_some()))
    });
    if !ready {
        return;
    }
    let mut job = srv.repl.sync.take().expect("checked");
    let ok = job.child_ok == Some(true);
    if ok {
        if let Some(path) = &job.file {
            match std::fs::read(path) {
                Ok(data) => job.collected = data,
                Err(e) => {
                    log::warn!(
                        "Can't open the RDB file {} for the replicas: {e}",
                        path.display()
                    );
                    job.child_ok = Some(false);
                }
            }
        }
    }
    let ok = job.child_ok == Some(true);
    for &slot in &job.replicas {
        let Some(c) = srv.clients.get_mut(slot) else {
            continue;
        };
        if !ok {
            c.close_asap = true;
            srv.clients_to_close.push(slot);
            continue;
        }
        let Some(info) = c.replica.as_deref_mut() else {
            continue;
        };
        // Online from here for the timeout too, as Redis's
        // replicaPutOnline: the ACK clock starts now, and a replica that
        // takes long to load keeps it fresh with newlines.
        info.ack_time = Instant::now();
        if info.capa_eof && job.file.is_none() {
            c.out.extend_from_slice(job.mark.as_bytes());
            info.state = ReplicaState::WaitAck;
        } else {
            c.out
                .extend_from_slice(format!("${}\r\n", job.collected.len()).as_bytes());
            c.out.extend_from_slice(&job.collected);
            if info.rdb_only {
                c.close_after_reply = true;
            } else {
                info.state = ReplicaState::Online;
                let pending = std::mem::take(&mut info.pending);
                c.out.extend_from_slice(&pending);
                log::info!("Synchronization with replica {} succeeded", c.addr);
            }
        }
        queue_flush(&mut srv.pending_writes, c);
    }
    if ok {
        log::info!("Background RDB transfer terminated with success");
    } else {
        log::warn!("Background transfer error");
    }
}

/// Once per second and per cron: pings, replica timeouts, delayed
/// snapshots. Returns the slots of replicas to disconnect.
pub fn cron(srv: &mut Server) -> Vec<usize> {
    let now = Instant::now();
    let mut drop = Vec::new();
    let size = srv.config.repl_backlog_size as usize;
    if let Some(b) = srv.repl.backlog.as_mut().filter(|b| b.size() != size) {
        b.resize(size); // CONFIG SET repl-backlog-size
    }
    if srv.repl.replicas.is_empty() {
        return drop;
    }
    let period = Duration::from_secs(srv.config.repl_ping_replica_period.max(1));
    // A pause freezes the offset (replicas and FAILOVER compare it).
    if now.duration_since(srv.repl.last_ping) >= period
        && !srv.repl.is_replica()
        && !srv.pause.writes_paused()
    {
        srv.repl.last_ping = now;
        super::propagate(srv, None, &[b"PING".as_ref()]);
    }
    let timeout = Duration::from_secs(srv.config.repl_timeout.max(1));
    // Once per second, a newline to the replicas waiting for a snapshot to
    // start or for the RDB file to be written (Redis's "pre-synchronization
    // stage"): it keeps their read timeout from firing and does not count in
    // the offset. A diskless transfer keeps the link busy by itself.
    let newline = now.duration_since(srv.repl.last_newline) >= Duration::from_secs(1);
    if newline {
        srv.repl.last_newline = now;
    }
    let disk_job = srv.repl.sync.as_ref().is_some_and(|j| j.file.is_some());
    for &slot in &srv.repl.replicas {
        let Some(c) = srv.clients.get_mut(slot) else {
            continue;
        };
        let Some((state, legacy_sync, ack_time)) = c
            .replica
            .as_deref()
            .map(|i| (i.state, i.legacy_sync, i.ack_time))
        else {
            continue;
        };
        let presync =
            state == ReplicaState::WaitBgsave || (state == ReplicaState::SendRdb && disk_job);
        if newline && presync && !c.close_asap {
            c.out.extend_from_slice(b"\n");
            queue_flush(&mut srv.pending_writes, c);
        }
        // Redis times out a replica whose EOF-framed snapshot is sent and
        // not yet acknowledged as an online one.
        if matches!(state, ReplicaState::Online | ReplicaState::WaitAck)
            && !legacy_sync
            && now.duration_since(ack_time) > timeout
        {
            log::warn!(
                "Disconnecting timedout replica (streaming sync): {}",
                c.addr
            );
            drop.push(slot);
        }
    }
    drop
}

/// The bytes a WAIT needs: `REPLCONF GETACK *` once per loop turn.
pub fn send_getack(srv: &mut Server) {
    // Not while paused (it would move the offset); WAIT asks again after.
    if srv.pause.writes_paused() {
        return;
    }
    if std::mem::take(&mut srv.repl.getack_pending) && !srv.repl.replicas.is_empty() {
        propagate_getack(srv);
    }
}

/// Writes `REPLCONF GETACK *` to the stream: every replica answers with
/// its offset (the one before this command).
pub fn propagate_getack(srv: &mut Server) {
    super::propagate(srv, None, &["REPLCONF", "GETACK", "*"]);
}

/// Queues a replica's output for the flush before the loop sleeps, once
/// (`Server::schedule_write` for a client already borrowed from the slab).
fn queue_flush(pending_writes: &mut Vec<usize>, c: &mut Client) {
    if !c.pending_write {
        c.pending_write = true;
        pending_writes.push(c.slot);
    }
}
