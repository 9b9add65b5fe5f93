//! Replication I/O in the event loop: the link socket to a primary (connect,
//! handshake, snapshot transfer, incremental load, then hand-over to a
//! primary-link client), the snapshot pipe of a full sync, and the
//! replication duties of each turn and cron tick (ACKs, pings, timeouts,
//! WAIT releases). The decisions are in `crate::repl`.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use bytes::Bytes;
use handoff_replication::handshake::{Action, Handshake, HandshakeConfig};
use handoff_replication::stream;
use handoff_replication::transfer::Progress;
use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::EventLoop;
use crate::client::{Client, ClientKind, Stream};
use crate::persist::ChildPurpose;
use crate::rdb::{LoadOptions, RdbLoader};
use crate::repl::{failover, primary, replica, replica::LinkState};
use crate::server::unix_ms;

pub const LINK: Token = Token(usize::MAX - 2);
pub const SNAPSHOT_PIPE: Token = Token(usize::MAX - 3);

/// Keys loaded per loop turn while a snapshot from the primary loads.
const LOAD_KEYS_PER_TURN: usize = 20_000;

impl EventLoop {
    /// Replication work of each loop turn (before sleeping). True if more
    /// is pending right away (the loop then does not sleep).
    pub(super) fn repl_before_sleep(&mut self) -> bool {
        let mut busy = false;
        let srv = &mut self.server;
        if !srv.repl.replicas.is_empty() {
            primary::maybe_start_snapshot(srv);
        }
        if let Some(job) = srv.repl.sync.as_mut() {
            if !job.registered {
                job.registered = true;
                if let Some(p) = &job.pipe {
                    let fd = p.as_raw_fd();
                    let _ = self.poll.registry().register(
                        &mut SourceFd(&fd),
                        SNAPSHOT_PIPE,
                        Interest::READABLE,
                    );
                }
            }
            busy |= primary::pump_snapshot(&mut self.server);
            self.snapshot_pipe_closed();
        }
        primary::send_getack(&mut self.server);
        if failover::tick(&mut self.server) {
            self.link_connect();
        }
        if std::mem::take(&mut self.server.repl.acks_changed) {
            for slot in primary::satisfied_waiters(&mut self.server) {
                if let Some(mut c) = self.server.clients.take(slot) {
                    self.server
                        .unblock(&mut c, Some(crate::server::UnblockReply::Timeout));
                    self.server.clients.put_back(c);
                    self.server.schedule_write(slot);
                }
            }
        }
        if self.server.repl.loading() {
            busy |= self.load_step();
        }
        busy
    }

    /// Deregisters the pipe once the child closed it, and reaps the child
    /// if it is already gone. The child may have been reaped before the
    /// pipe's end was read (the cron reaps too, and in a process running
    /// several servers a sibling's child can hold the write end a little
    /// longer): the transfer then completes here.
    fn snapshot_pipe_closed(&mut self) {
        let Some(job) = self.server.repl.sync.as_mut() else {
            return;
        };
        if job.data_done {
            if let Some(p) = job.pipe.take() {
                let fd = p.as_raw_fd();
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            }
            self.reap();
            primary::finish_if_complete(&mut self.server);
        }
    }

    /// Reaps a finished snapshot child and completes what waited for it.
    pub(super) fn reap(&mut self) {
        if let Some((purpose, ok)) = crate::persist::reap_child(&mut self.server) {
            if matches!(
                purpose,
                ChildPurpose::ReplicationDisk | ChildPurpose::ReplicationSocket
            ) {
                primary::snapshot_child_done(&mut self.server, ok);
            }
        }
    }

    /// Replication duties of a cron tick.
    pub(super) fn repl_cron(&mut self) {
        self.reap();
        for slot in primary::cron(&mut self.server) {
            self.close_client(slot);
        }
        let now = Instant::now();
        let timeout = Duration::from_secs(self.server.config.repl_timeout.max(1));
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        match link.state {
            LinkState::Connect if now >= link.retry_at => self.link_connect(),
            LinkState::Connect => {}
            LinkState::Connected => {
                if now.duration_since(link.last_io) > timeout {
                    log::warn!("MASTER timeout: no data nor PING received...");
                    if let Some(slot) = link.slot {
                        self.close_client(slot);
                    }
                } else if now.duration_since(self.server.repl.last_ack) >= Duration::from_secs(1) {
                    self.send_ack();
                }
            }
            _ => {
                if now.duration_since(link.last_io) > timeout {
                    log::warn!("Timeout connecting to the MASTER...");
                    self.link_failed();
                }
            }
        }
    }

    fn send_ack(&mut self) {
        self.server.repl.last_ack = Instant::now();
        let offset = self.server.repl.offset();
        let Some(slot) = self.server.repl.link.as_ref().and_then(|l| l.slot) else {
            return;
        };
        if let Some(c) = self.server.clients.get_mut(slot) {
            c.out.extend_from_slice(&stream::ack(offset));
            self.server.schedule_write(slot);
        }
    }

    fn link_connect(&mut self) {
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        let target = format!("{}:{}", link.host, link.port);
        let addr = match std::net::ToSocketAddrs::to_socket_addrs(&target)
            .ok()
            .and_then(|mut a| a.next())
        {
            Some(a) => a,
            None => {
                log::warn!("Unable to connect to MASTER: can't resolve {target}");
                link.retry_at = Instant::now() + Duration::from_secs(1);
                return;
            }
        };
        let source = self
            .server
            .config
            .link_source_addr()
            .filter(|ip| ip.is_ipv4() == addr.is_ipv4());
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        match connect_from(addr, source) {
            Ok(mut sock) => {
                let _ = sock.set_nodelay(true);
                if let Err(e) = self.poll.registry().register(
                    &mut sock,
                    LINK,
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    log::warn!("Unable to connect to MASTER: {e}");
                    return;
                }
                log::info!("MASTER <-> REPLICA sync started");
                link.sock = Some(sock);
                link.state = LinkState::Connecting;
                link.last_io = Instant::now();
            }
            Err(e) => {
                log::warn!("Unable to connect to MASTER: {e}");
                link.retry_at = Instant::now() + Duration::from_secs(1);
            }
        }
    }

    /// Gives up this attempt; the next cron tick after a second retries.
    fn link_failed(&mut self) {
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        if let Some(mut sock) = link.sock.take() {
            let _ = self.poll.registry().deregister(&mut sock);
        }
        link.state = LinkState::Connect;
        link.handshake = None;
        link.transfer = None;
        link.loader = None;
        link.full = None;
        link.rest.clear();
        link.retry_at = Instant::now() + Duration::from_secs(1);
    }

    /// Readiness on the link socket (before it becomes a client).
    pub(super) fn link_event(&mut self) {
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        if link.state == LinkState::Connecting {
            let Some(sock) = link.sock.as_mut() else {
                return;
            };
            match sock.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    if let Ok(Some(err)) | Err(err) = sock.take_error() {
                        log::warn!("Error condition on socket for SYNC: {err}");
                        self.link_failed();
                    }
                    return;
                }
                Err(e) => {
                    log::warn!("Error condition on socket for SYNC: {e}");
                    self.link_failed();
                    return;
                }
            }
            log::info!("Non blocking connect for SYNC fired the event.");
            let _ = self
                .poll
                .registry()
                .reregister(sock, LINK, Interest::READABLE);
            let failover = link.failover;
            let srv = &self.server;
            let cfg = HandshakeConfig {
                listening_port: srv.port(),
                announce_ip: srv.config.replica_announce_ip(),
                masteruser: Some(srv.config.masteruser.clone()).filter(|s| !s.is_empty()),
                masterauth: Some(srv.config.masterauth.clone()).filter(|s| !s.is_empty()),
                cached: replica::cached_primary(srv),
                failover,
            };
            let mut hs = Handshake::new(cfg);
            let first = hs.start();
            if let Some(link) = self.server.repl.link.as_mut() {
                link.handshake = Some(hs);
                link.state = LinkState::Handshake;
            }
            if !self.link_do(vec![first]) {
                return;
            }
        }
        // Read everything available.
        let mut data = Vec::new();
        let mut closed = false;
        if let Some(sock) = self.server.repl.link.as_mut().and_then(|l| l.sock.as_mut()) {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match sock.read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => data.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        log::warn!("I/O error reading from MASTER: {e}");
                        closed = true;
                        break;
                    }
                }
            }
        }
        if !data.is_empty() {
            self.server.stats.net_repl_input_bytes += data.len() as u64;
            if let Some(l) = self.server.repl.link.as_mut() {
                l.last_io = Instant::now();
            }
            self.link_input(data);
        }
        if closed {
            let loading = self.server.repl.loading();
            if !loading {
                log::warn!("Master closed the connection during the synchronization");
                self.link_failed();
            } else if let Some(l) = self.server.repl.link.as_mut() {
                // The snapshot is complete: finish loading, then reconnect.
                l.rest.clear();
            }
        }
    }

    fn link_input(&mut self, data: Vec<u8>) {
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        match link.state {
            LinkState::Handshake => {
                let Some(hs) = link.handshake.as_mut() else {
                    return;
                };
                let actions = hs.feed(&data);
                let done = hs.is_done();
                let rest = if done { hs.take_rest() } else { Vec::new() };
                if !self.link_do(actions) || !done {
                    return;
                }
                match self.server.repl.link.as_mut() {
                    // +FULLRESYNC: the rest is the start of the snapshot.
                    Some(l) if l.state == LinkState::Transfer => self.link_input(rest),
                    // +CONTINUE: the rest is the start of the stream.
                    Some(l) => {
                        l.rest = rest;
                        self.link_become_client();
                    }
                    None => {}
                }
            }
            LinkState::Transfer => {
                let Some(t) = link.transfer.as_mut() else {
                    return;
                };
                match t.feed(&data) {
                    Ok(Progress::More) => {}
                    Ok(Progress::Done { rdb, rest }) => {
                        log::info!(
                            "MASTER <-> REPLICA sync: receiving {} bytes from master to disk",
                            rdb.len()
                        );
                        link.rest = rest;
                        link.transfer = None;
                        self.start_loading(rdb);
                    }
                    Err(e) => {
                        log::warn!("{e}");
                        self.link_failed();
                    }
                }
            }
            LinkState::Loading => link.rest.extend_from_slice(&data),
            _ => {}
        }
    }

    /// Carries out handshake actions; false if the attempt ended.
    fn link_do(&mut self, actions: Vec<Action>) -> bool {
        for a in actions {
            match a {
                Action::Send(bytes) => {
                    let Some(sock) = self.server.repl.link.as_mut().and_then(|l| l.sock.as_mut())
                    else {
                        return false;
                    };
                    if let Err(e) = write_all_nonblocking(sock, &bytes) {
                        log::warn!("Error writing to MASTER: {e}");
                        if self.handing_over() {
                            failover::abort(&mut self.server, "Write error to failover target");
                        } else {
                            self.link_failed();
                        }
                        return false;
                    }
                }
                Action::FullSync { replid, offset } => {
                    replica::begin_full_sync(&mut self.server, replid, offset);
                    failover::succeeded(&mut self.server);
                }
                Action::Continue { replid } => {
                    replica::continue_sync(&mut self.server, replid);
                    failover::succeeded(&mut self.server);
                }
                Action::Rejected(reason) if self.handing_over() => {
                    log::warn!("{reason}");
                    failover::abort(&mut self.server, "Failover target rejected psync request");
                    return false;
                }
                Action::Fail(reason) | Action::Rejected(reason) => {
                    log::warn!("{reason}");
                    self.link_failed();
                    return false;
                }
            }
        }
        true
    }

    /// The link is this node's `PSYNC ... FAILOVER` to its successor.
    fn handing_over(&self) -> bool {
        self.server.repl.link.as_ref().is_some_and(|l| l.failover)
    }

    fn start_loading(&mut self, rdb: Vec<u8>) {
        log::info!("MASTER <-> REPLICA sync: Flushing old data");
        self.server.keyspace.flush_all(true);
        let opts = LoadOptions {
            check_crc: self.server.config.rdbchecksum,
            keep_expired: true,
            now_ms: unix_ms(),
            allow_dup: false,
        };
        match RdbLoader::new(Bytes::from(rdb), opts) {
            Ok(loader) => {
                log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
                if let Some(l) = self.server.repl.link.as_mut() {
                    l.loader = Some(loader);
                    l.state = LinkState::Loading;
                }
            }
            Err(e) => {
                log::warn!("Failed trying to load the MASTER synchronization DB from disk: {e}");
                self.link_failed();
            }
        }
    }

    /// While a snapshot loads, a newline to the primary at most once per
    /// second, as Redis's replica does: the primary counts it as an ACK
    /// (empty line from a replica), so its `repl-timeout` does not drop a
    /// replica whose load outlasts it. Best effort: a full socket buffer
    /// just skips this one.
    fn loading_keepalive(&mut self) {
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        if link
            .newline_sent
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        link.newline_sent = Some(Instant::now());
        if let Some(sock) = link.sock.as_mut() {
            let _ = sock.write(b"\n");
        }
    }

    /// Loads the next batch of keys; at the end the link becomes a client.
    fn load_step(&mut self) -> bool {
        self.loading_keepalive();
        let Some(mut loader) = self.server.repl.link.as_mut().and_then(|l| l.loader.take()) else {
            return false;
        };
        match loader.step(&mut self.server, LOAD_KEYS_PER_TURN) {
            Ok(true) => {
                log::info!("Done loading RDB, keys loaded: {}.", loader.keys_loaded());
                // The stream continues in the db the primary had selected.
                let db = loader
                    .aux("repl-stream-db")
                    .and_then(|v| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
                    .filter(|&d| d < self.server.keyspace.dbs.len())
                    .unwrap_or(0);
                replica::full_sync_loaded(&mut self.server);
                if let Some(l) = self.server.repl.link.as_mut() {
                    l.stream_db = db;
                }
                self.link_become_client();
                false
            }
            Ok(false) => {
                if let Some(l) = self.server.repl.link.as_mut() {
                    l.loader = Some(loader);
                    l.last_io = Instant::now();
                }
                true
            }
            Err(e) => {
                log::warn!("Failed trying to load the MASTER synchronization DB from disk: {e}");
                self.server.keyspace.flush_all(false);
                self.link_failed();
                false
            }
        }
    }

    /// The link socket becomes the primary-link client: the stream is
    /// applied through normal dispatch with replies suppressed.
    fn link_become_client(&mut self) {
        let Some(link) = self.server.repl.link.as_mut() else {
            return;
        };
        let Some(mut sock) = link.sock.take() else {
            link.state = LinkState::Connect;
            return;
        };
        let rest = std::mem::take(&mut link.rest);
        let stream_db = link.stream_db;
        let addr = format!("{}:{}", link.host, link.port);
        let laddr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let _ = self.poll.registry().deregister(&mut sock);
        let setup = |c: &mut Client| {
            c.kind = ClientKind::PrimaryLink;
            c.authenticated = true;
            c.db = stream_db;
            c.read_buf.extend_from_slice(&rest);
        };
        let Some(slot) = self.register_client(Stream::Tcp(sock), addr, laddr, false, setup) else {
            self.link_failed();
            return;
        };
        if let Some(l) = self.server.repl.link.as_mut() {
            l.slot = Some(slot);
            l.state = LinkState::Connected;
            l.last_io = Instant::now();
            l.handshake = None;
        }
        // The primary streams once it has our first ACK (EOF framing).
        self.send_ack();
        self.pending_reads.push(slot);
    }
}

/// The primary-link client closed: keep the data and the history for a
/// partial resync, and reconnect.
pub(super) fn link_client_closed(srv: &mut crate::server::Server, slot: usize, db: usize) {
    if let Some(link) = srv.repl.link.as_mut() {
        if link.slot == Some(slot) {
            // A partial resync continues without a SELECT.
            link.stream_db = db;
            log::warn!("Connection with master lost.");
            link.slot = None;
            link.state = LinkState::Connect;
            link.down_since = Instant::now();
            link.multi_buf.clear();
            link.retry_at = Instant::now();
            log::info!("Caching the disconnected master state.");
        }
    }
}

/// Runs one command from the primary: no reply, offset counted after it
/// ran (a GETACK acks the offset before itself), relayed to sub-replicas.
pub(super) fn apply_from_primary(
    srv: &mut crate::server::Server,
    c: &mut Client,
    clock: &mut crate::clock::CmdClock,
) {
    // Encoded before it runs: dispatch consumes the arguments.
    let mark = srv.repl.link.as_ref().map_or(0, |l| l.multi_buf.len());
    replica::received(srv, &c.args);
    crate::commands::dispatch::execute(srv, c, clock);
    if c.postponed {
        // Held by a pause: it is received again when it runs.
        if let Some(l) = srv.repl.link.as_mut() {
            l.multi_buf.truncate(mark);
        }
        return;
    }
    if std::mem::take(&mut srv.repl.ack_now) {
        srv.repl.last_ack = Instant::now();
        c.out.extend_from_slice(&stream::ack(srv.repl.offset()));
    }
    replica::applied(srv, c.multi.is_some());
}

/// Starts a non-blocking connection to `addr`, from `source` when given.
fn connect_from(
    addr: std::net::SocketAddr,
    source: Option<std::net::IpAddr>,
) -> io::Result<mio::net::TcpStream> {
    let Some(ip) = source else {
        return mio::net::TcpStream::connect(addr);
    };
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    sock.set_nonblocking(true)?;
    // Best effort, as Redis: an address that cannot be bound is not used.
    let _ = sock.bind(&std::net::SocketAddr::new(ip, 0).into());
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(mio::net::TcpStream::from_std(sock.into()))
}

/// Writes a handshake message on the non-blocking socket. These are a few
/// hundred bytes on a fresh connection, so they always fit the send buffer;
/// if one ever does not, the attempt fails and is retried rather than
/// blocking the event loop.
fn write_all_nonblocking(sock: &mut mio::net::TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match sock.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
