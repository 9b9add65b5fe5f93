//! The event loop: one thread, mio readiness, accepting, reading and parsing
//! requests, dispatching them, flushing replies once per loop turn, closing
//! clients, and the periodic cron at `hz`.
//!
//! This is the only place that touches client sockets.

pub mod busy;
pub mod cron;
pub mod listener;
pub mod replication;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Buf;
use crossbeam_channel::Receiver;
use handoff_protocol::request::{Limits, Parsed};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::client::{Client, ClientKind, Stream};
use crate::clock::{monotonic_ns, CmdClock};
use crate::commands::dispatch;
use crate::errors;
use crate::server::{unix_ms, Server, ShutdownRequest};
use listener::Listener;

const WAKER: Token = Token(usize::MAX - 1);
const LISTENER_BASE: usize = usize::MAX - 1024;

/// Bytes read from one client in one loop turn before others get a go.
const READ_CAP_PER_TURN: usize = 1024 * 1024;
/// Read size, as Redis's PROTO_IOBUF_LEN.
const IOBUF_LEN: usize = 16 * 1024;
/// Output buffers larger than this are released once written.
const OUT_KEEP_CAPACITY: usize = 64 * 1024;

/// Messages to the loop from other threads (the embedding handle).
pub enum Control {
    Shutdown,
}

/// The event loop and the server it drives.
pub struct EventLoop {
    poll: Poll,
    listeners: Vec<Listener>,
    pub server: Server,
    control: Option<Receiver<Control>>,
    waker: Arc<Waker>,
    pending_reads: Vec<usize>,
    next_cron: Instant,
    /// When the current loop turn's poll returned (one clock read per turn
    /// instead of one per event).
    turn_started: Instant,
    /// Called every turn: the shutdown signal received since the last call.
    pub signal_check: Option<fn() -> Option<&'static str>>,
    /// Replication has work pending right away (snapshot pipe, loading).
    repl_busy: bool,
}

impl EventLoop {
    /// Registers `listeners` and prepares the loop.
    pub fn new(server: Server, mut listeners: Vec<Listener>) -> io::Result<Self> {
        let poll = Poll::new()?;
        for (i, l) in listeners.iter_mut().enumerate() {
            let token = Token(LISTENER_BASE + i);
            match l {
                Listener::Tcp(t, _) => poll.registry().register(t, token, Interest::READABLE)?,
                Listener::Unix(u, _) => poll.registry().register(u, token, Interest::READABLE)?,
            }
        }
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let mut server = server;
        // What a script past busy-reply-threshold needs to serve clients.
        match busy::BusyIo::new(&poll, &listeners) {
            Ok(io) => server.busy_io = Some(Box::new(io)),
            Err(e) => log::warn!("Clients will not be served while a script is busy: {e}"),
        }
        // `replicaof` in the configuration: connect at the first cron tick.
        if let Some((host, port)) = server.config.replicaof.clone() {
            crate::repl::replica::set_primary(&mut server, host, port);
        }
        server.listening = listeners
            .iter()
            .filter_map(|l| match l {
                Listener::Tcp(_, a) => Some(*a),
                _ => None,
            })
            .collect();
        Ok(EventLoop {
            poll,
            listeners,
            server,
            control: None,
            waker,
            pending_reads: Vec::new(),
            next_cron: Instant::now(),
            turn_started: Instant::now(),
            signal_check: None,
            repl_busy: false,
        })
    }

    /// A waker other threads use to interrupt the poll.
    pub fn waker(&self) -> Arc<Waker> {
        self.waker.clone()
    }

    pub fn set_control(&mut self, rx: Receiver<Control>) {
        if let Some(io) = self.server.busy_io.as_mut() {
            io.set_control(rx.clone());
        }
        self.control = Some(rx);
    }

    /// Runs until a shutdown is requested.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = Instant::now();
            let timeout =
                if self.pending_reads.is_empty() && !self.repl_busy && !self.server.evict.running {
                    let cron = self.next_cron.saturating_duration_since(now);
                    [
                        self.server.blocking.next_deadline(now),
                        self.server.pause.next_deadline(now),
                    ]
                    .into_iter()
                    .flatten()
                    .fold(cron, Duration::min)
                } else {
                    Duration::ZERO
                };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            self.turn_started = Instant::now();
            let cycle_start = monotonic_ns();
            let commands_before = self.server.stats.total_commands_processed;
            for ev in events.iter() {
                match ev.token() {
                    WAKER => self.handle_control(),
                    replication::LINK => self.link_event(),
                    replication::SNAPSHOT_PIPE => {} // drained in before_sleep
                    Token(t) if t >= LISTENER_BASE => self.accept(t - LISTENER_BASE),
                    Token(slot) => {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.handle_readable(slot);
                        }
                        if ev.is_writable() {
                            self.flush(slot);
                        }
                    }
                }
            }
            if !self.pending_reads.is_empty() {
                let mut slots = std::mem::take(&mut self.pending_reads);
                for &slot in &slots {
                    self.handle_readable(slot);
                }
                // Reuse the allocation; handle_readable may have queued new ones.
                slots.clear();
                slots.append(&mut self.pending_reads);
                self.pending_reads = slots;
            }
            if self.server.evict.running {
                // An eviction run over maxmemory ran out of time: continue.
                crate::evict::time_proc(&mut self.server);
            }
            let mut cron_ns = 0;
            if self.turn_started >= self.next_cron {
                let cron_start = monotonic_ns();
                self.cron();
                cron_ns = monotonic_ns().saturating_sub(cron_start);
                let hz = self.server.config.hz.clamp(1, 500);
                self.next_cron = Instant::now() + Duration::from_micros(1_000_000 / hz as u64);
            }
            if let Some(sig) = self.signal_check.and_then(|take| take()) {
                crate::shutdown::on_signal(&mut self.server, sig);
            }
            let (chores_ns, cycle_end) = self.before_sleep();
            let commands = self.server.stats.total_commands_processed;
            self.server.stats.eventloop.cycle(
                cycle_end.saturating_sub(cycle_start),
                cron_ns + chores_ns,
                commands.saturating_sub(commands_before),
            );
            if self.server.shutdown.is_some() {
                self.finish_shutdown();
                return Ok(());
            }
        }
    }

    fn handle_control(&mut self) {
        let Some(rx) = &self.control else { return };
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Control::Shutdown => {
                    self.server.shutdown = Some(ShutdownRequest { by_signal: None })
                }
            }
        }
    }

    fn accept(&mut self, index: usize) {
        accept_all(
            &mut self.server,
            self.poll.registry(),
            &self.listeners[index],
            |_, _| {},
        );
    }

    /// Puts a new connection in the client slab and registers it for reads;
    /// `setup` adjusts the client first. None if registration failed.
    pub(super) fn register_client(
        &mut self,
        stream: Stream,
        addr: String,
        laddr: String,
        is_unix: bool,
        setup: impl FnOnce(&mut Client),
    ) -> Option<usize> {
        register_client(
            &mut self.server,
            self.poll.registry(),
            stream,
            (addr, laddr, is_unix),
            setup,
        )
    }

    fn handle_readable(&mut self, slot: usize) {
        let Some(mut c) = self.server.clients.take(slot) else {
            return;
        };
        let read = read_from(&mut self.server, &mut c, self.turn_started);
        if read == Read::Closed {
            self.server.clients.put_back(c);
            self.close_client(slot);
            return;
        }
        if read == Read::Capped {
            self.pending_reads.push(slot);
        }
        process_input(&mut self.server, &mut c);
        finish_input(&mut self.server, c);
    }

    /// Writes pending replies (see [`write_replies`]).
    fn flush(&mut self, slot: usize) {
        if write_replies(&mut self.server, self.poll.registry(), slot) {
            self.close_client(slot);
        }
    }

    /// Unregisters and drops a client.
    pub fn close_client(&mut self, slot: usize) {
        close_client(&mut self.server, self.poll.registry(), slot);
    }

    /// Releases blocked clients whose timeout passed.
    fn expire_blocked(&mut self) {
        if self.server.blocking.is_empty() {
            return;
        }
        for slot in self.server.blocking.expired(Instant::now()) {
            if let Some(mut c) = self.server.clients.take(slot) {
                self.server
                    .unblock(&mut c, Some(crate::server::UnblockReply::Timeout));
                self.server.clients.put_back(c);
                self.server.schedule_write(slot);
            }
        }
    }

    /// Re-runs the commands of clients blocked on keys that changed, oldest
    /// waiter first, until no key is ready; then resumes their input.
    fn serve_blocked(&mut self) {
        if self.server.blocking.ready.is_empty() && self.server.blocking.resumed.is_empty() {
            return;
        }
        while let Some(key) = self.server.blocking.ready.pop_front() {
            for slot in self.server.blocking.waiters(&key) {
                let Some(mut c) = self.server.clients.take(slot) else {
                    continue;
                };
                if let Some(state) = c.blocked.take() {
                    self.server.blocking.remove(slot, &state);
                    c.args = state.args;
                    self.server.blocking.inherit_deadline = Some(state.deadline);
                    dispatch::execute(&mut self.server, &mut c, &mut CmdClock::new());
                    self.server.blocking.inherit_deadline = None;
                    if c.blocked.is_none() {
                        self.server.blocking.resumed.push(slot);
                    }
                }
                self.server.clients.put_back(c);
                self.server.schedule_write(slot);
            }
        }
        self.server.update_tracking();
        let resumed = std::mem::take(&mut self.server.blocking.resumed);
        self.pending_reads.extend(resumed);
    }

    /// Ends expired pauses and re-runs the commands of the clients a pause
    /// held, in the order they were held, against the node's current role
    /// (they may run, be redirected, be refused, or be held again).
    fn release_postponed(&mut self) {
        let before = self.server.pause.active;
        self.server.pause.expire(Instant::now());
        if self.server.pause.active != before {
            self.server.refresh_expire_mode();
        }
        if let Some(since) = self.server.pause.incoming_expired.take() {
            crate::maint::send_back(&mut self.server, since);
        }
        if !std::mem::take(&mut self.server.pause.release_pending) {
            return;
        }
        let held = std::mem::take(&mut self.server.pause.postponed);
        let mut clock = CmdClock::new();
        for slot in held {
            let Some(mut c) = self.server.clients.take(slot) else {
                continue;
            };
            if c.postponed {
                c.postponed = false;
                if c.kind == ClientKind::PrimaryLink {
                    replication::apply_from_primary(&mut self.server, &mut c, &mut clock);
                } else {
                    dispatch::execute(&mut self.server, &mut c, &mut clock);
                }
                if !c.postponed && c.blocked.is_none() {
                    self.pending_reads.push(slot);
                }
            }
            self.server.clients.put_back(c);
            self.server.schedule_write(slot);
        }
    }

    /// The work before the next poll. Returns the time it spent on other
    /// things than writing replies, and the clock reading at its end.
    fn before_sleep(&mut self) -> (u64, u64) {
        let start = monotonic_ns();
        // First: a shutdown that cannot finish releases its held writes below.
        crate::shutdown::tick(&mut self.server);
        self.release_postponed();
        self.expire_blocked();
        self.serve_blocked();
        self.repl_busy = self.repl_before_sleep();
        // flush() never queues writes, so the list can be drained in place.
        let writes_start = monotonic_ns();
        let mut slots = std::mem::take(&mut self.server.pending_writes);
        for slot in slots.drain(..) {
            self.flush(slot);
        }
        self.server.pending_writes = slots;
        let writes_end = monotonic_ns();
        if !self.server.clients_to_close.is_empty() {
            for slot in std::mem::take(&mut self.server.clients_to_close) {
                if self.server.clients.get(slot).is_some_and(|c| c.close_asap) {
                    self.close_client(slot);
                }
            }
        }
        if self.server.keyspace.expire_backlog {
            // The last slow cycle ran out of time: a short fast cycle, as Redis's beforeSleep does.
            let effort = self.server.config.active_expire_effort;
            let budget = Duration::from_micros(1000 + 250 * (effort.saturating_sub(1)) as u64);
            self.server
                .keyspace
                .active_expire_cycle(unix_ms(), budget, effort);
            crate::pubsub::drain_expired(&mut self.server, None);
        }
        let end = monotonic_ns();
        let chores = writes_start.saturating_sub(start) + end.saturating_sub(writes_end);
        (chores, end)
    }

    fn cron(&mut self) {
        let to_close = cron::run(&mut self.server);
        for slot in to_close {
            self.close_client(slot);
        }
        self.repl_cron();
    }

    /// The exit once `srv.shutdown` is set: `shutdown` already waited for
    /// replicas and saved (the embedding handle's stop does neither).
    fn finish_shutdown(&mut self) {
        if !self.server.shutdown_state.requested {
            log::warn!("User requested shutdown...");
        }
        // A snapshot child never outlives the server.
        crate::persist::kill_child(&mut self.server);
        if !self.server.config.pidfile.is_empty() {
            log::info!("Removing the pid file.");
            let _ = std::fs::remove_file(&self.server.config.pidfile);
        }
        for slot in self.server.clients.slots() {
            self.flush(slot);
            self.close_client(slot);
        }
        for l in &self.listeners {
            if let Listener::Unix(_, path) = l {
                log::info!("Removing the unix socket file.");
                let _ = std::fs::remove_file(path);
            }
        }
        log::warn!("Redis is now ready to exit, bye bye...");
    }
}

// The loop's socket work on a client, as functions of the server state plus
// the registry: the loop uses them, and so does the step that serves other
// clients while a script is busy (`busy`).

/// Accepts every pending connection on `listener`; `added` is told the slot
/// of each new client.
pub(crate) fn accept_all(
    srv: &mut Server,
    registry: &Registry,
    listener: &Listener,
    mut added: impl FnMut(&mut Server, usize),
) {
    loop {
        let accepted = match listener {
            Listener::Tcp(l, _) => l.accept().map(|(s, peer)| {
                let local = s.local_addr().ok();
                (Stream::Tcp(s), Some(peer), local)
            }),
            Listener::Unix(l, _) => l.accept().map(|(s, _)| (Stream::Unix(s), None, None)),
        };
        match accepted {
            Ok((stream, peer, local)) => {
                if let Some(slot) = add_client(srv, registry, stream, peer, local, listener) {
                    added(srv, slot);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::warn!("Accepting client connection: {e}");
                return;
            }
        }
    }
}

fn add_client(
    srv: &mut Server,
    registry: &Registry,
    mut stream: Stream,
    peer: Option<std::net::SocketAddr>,
    local: Option<std::net::SocketAddr>,
    listener: &Listener,
) -> Option<usize> {
    srv.stats.total_connections_received += 1;
    if srv.clients.len() as u64 >= srv.config.maxclients {
        srv.stats.rejected_connections += 1;
        let _ = stream.write(format!("-{}\r\n", errors::MAX_CLIENTS).as_bytes());
        return None;
    }
    if let Some(peer) = peer {
        if srv.config.protected_mode
            && srv.config.requirepass.is_empty()
            && !peer.ip().is_loopback()
        {
            let _ = stream.write(format!("-{}\r\n", errors::DENIED_PROTECTED).as_bytes());
            return None;
        }
    }
    if let Stream::Tcp(s) = &stream {
        let _ = s.set_nodelay(true);
        if srv.config.tcp_keepalive > 0 {
            let secs = Duration::from_secs(srv.config.tcp_keepalive);
            let ka = socket2::TcpKeepalive::new()
                .with_time(secs)
                .with_interval(Duration::from_secs((srv.config.tcp_keepalive / 3).max(1)))
                .with_retries(3);
            let _ = socket2::SockRef::from(s).set_tcp_keepalive(&ka);
        }
    }
    let names = match (peer, local, listener) {
        (Some(p), Some(l), _) => (p.to_string(), l.to_string(), false),
        (_, _, Listener::Unix(_, path)) => (format!("{path}:0"), path.clone(), true),
        _ => (String::new(), String::new(), false),
    };
    let authenticated = srv.config.requirepass.is_empty();
    register_client(srv, registry, stream, names, |c| {
        c.authenticated = authenticated
    })
}

/// Puts a new connection in the client slab and registers it for reads;
/// `setup` adjusts the client first. `names` is (addr, laddr, is_unix).
/// None if registration failed.
fn register_client(
    srv: &mut Server,
    registry: &Registry,
    stream: Stream,
    names: (String, String, bool),
    setup: impl FnOnce(&mut Client),
) -> Option<usize> {
    let (addr, laddr, is_unix) = names;
    let id = srv.next_client_id;
    srv.next_client_id += 1;
    let now = Instant::now();
    let slot = srv.clients.insert(|slot| {
        let mut c = Client::new(id, slot, stream, addr, laddr, is_unix, now);
        setup(&mut c);
        c
    });
    let c = srv.clients.get_mut(slot)?;
    if let Err(e) = registry.register(c.stream.source(), Token(slot), Interest::READABLE) {
        log::warn!("Error registering fd event for the new client: {e}");
        srv.clients.remove(slot);
        return None;
    }
    Some(slot)
}

/// How a read from a client's socket ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// Everything available was read (or the client is closing).
    Done,
    /// Stopped at READ_CAP_PER_TURN: more may be waiting in the socket.
    Capped,
    /// EOF, an error, or the query buffer limit: the client must go.
    Closed,
}

/// Reads what the client's socket holds into its query buffer.
pub(crate) fn read_from(srv: &mut Server, c: &mut Client, now: Instant) -> Read {
    let mut total = 0usize;
    let mut outcome = Read::Done;
    loop {
        if c.close_asap || c.close_after_reply {
            break;
        }
        let want = c
            .parser
            .bytes_wanted()
            .unwrap_or(0)
            .clamp(IOBUF_LEN, 64 * 1024 * 1024);
        let want = want.max(c.read_buf.capacity() - c.read_buf.len());
        match c.stream.read_into(&mut c.read_buf, want) {
            Ok(0) => {
                outcome = Read::Closed;
                break;
            }
            Ok(n) => {
                total += n;
                let drained = n < want;
                c.net_in += n as u64;
                srv.stats.net_input_bytes += n as u64;
                if c.read_buf.len() as u64 > srv.config.client_query_buffer_limit
                    && c.kind != ClientKind::PrimaryLink
                {
                    log::warn!(
                        "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {:?})",
                        c.id,
                        c.addr,
                        String::from_utf8_lossy(&c.read_buf[..c.read_buf.len().min(64)])
                    );
                    srv.stats.client_query_buffer_limit_disconnections += 1;
                    outcome = Read::Closed;
                    break;
                }
                if total >= READ_CAP_PER_TURN {
                    outcome = Read::Capped;
                    break;
                }
                // A short read emptied the socket's receive queue: anything
                // arriving later raises a new edge, so skip the EAGAIN read.
                if drained {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::debug!("Reading from client: {e}");
                outcome = Read::Closed;
                break;
            }
        }
    }
    if total > 0 {
        srv.stats.total_reads_processed += 1;
        c.last_interaction = now;
        if c.kind == ClientKind::PrimaryLink {
            if let Some(link) = srv.repl.link.as_mut() {
                link.last_io = now;
            }
        }
    }
    outcome
}

/// Parses and runs every complete request in the client's buffer.
pub(crate) fn process_input(srv: &mut Server, c: &mut Client) {
    let limits = Limits {
        max_bulk_len: if c.kind == ClientKind::PrimaryLink {
            usize::MAX
        } else {
            srv.config.proto_max_bulk_len as usize
        },
        ..Limits::default()
    };
    let mut clock = CmdClock::new();
    while !c.close_after_reply
        && !c.close_asap
        && c.blocked.is_none()
        && !c.postponed
        && srv.shutdown.is_none()
    {
        match c.parser.parse(&mut c.read_buf, &limits, &mut c.args) {
            Ok(Parsed::Command) if c.kind == ClientKind::PrimaryLink => {
                replication::apply_from_primary(srv, c, &mut clock)
            }
            Ok(Parsed::Command) => dispatch::execute(srv, c, &mut clock),
            Ok(Parsed::Incomplete) => break,
            Err(e) => {
                let text = format!("ERR {}", e.message());
                log::debug!(
                    "Protocol error ({}) from client: id={} addr={}",
                    e.message(),
                    c.id,
                    c.addr
                );
                srv.stats.count_error(&text);
                handoff_protocol::encode::error(&mut c.out, text.as_bytes());
                c.close_after_reply = true;
                c.read_buf.clear();
            }
        }
    }
    if c.parser.take_empty_line() {
        if let Some(info) = c.replica.as_deref_mut() {
            // A loading replica's keepalive refreshes its ACK time.
            info.ack_time = std::time::Instant::now();
        }
    }
    // Once per batch: a batch reads at most READ_CAP_PER_TURN bytes of requests.
    cron::check_output_limits(srv, c);
}

/// Puts a client back in the slab after its input ran, queueing its
/// replies for writing and a client to close.
pub(crate) fn finish_input(srv: &mut Server, mut c: Box<Client>) {
    let slot = c.slot;
    // A client to close after its replies is flushed even with nothing
    // left to write: the flush closes it.
    let needs_write = (!c.out.is_empty() || c.close_after_reply) && !c.pending_write;
    if needs_write {
        c.pending_write = true;
    }
    let close_now = c.close_asap;
    srv.clients.put_back(c);
    if needs_write {
        srv.pending_writes.push(slot);
    }
    if close_now {
        srv.clients_to_close.push(slot);
    }
}

/// Unregisters and drops a client.
pub(crate) fn close_client(srv: &mut Server, registry: &Registry, slot: usize) {
    if let Some(mut c) = srv.clients.remove(slot) {
        if c.replica.is_some() {
            crate::repl::primary::detach(srv, slot);
        }
        if c.kind == ClientKind::PrimaryLink {
            replication::link_client_closed(srv, slot, c.db);
        }
        srv.unwatch_all(&mut c);
        if c.postponed {
            srv.pause.forget(slot);
        }
        if let Some(state) = c.blocked.take() {
            srv.blocking.remove(slot, &state);
            srv.update_tracking();
        }
        crate::pubsub::forget_client(srv, &mut c);
        let _ = registry.deregister(c.stream.source());
        c.stream.shutdown();
    }
}

/// Writes a client's pending replies; registers WRITABLE interest after a
/// short write. True when the client must be closed now (a write failed,
/// or it was to close after its replies and they are all written).
pub(crate) fn write_replies(srv: &mut Server, registry: &Registry, slot: usize) -> bool {
    let Some(c) = srv.clients.get_mut(slot) else {
        return false;
    };
    c.pending_write = false;
    let mut failed = false;
    let mut wrote = false;
    while !c.out.is_empty() {
        match c.stream.write(&c.out) {
            Ok(0) => {
                failed = true;
                break;
            }
            Ok(n) => {
                // All written: clearing keeps the buffer's start, so the next replies
                // need no reclaim of the space an advance would leave behind.
                if n == c.out.len() {
                    c.out.clear();
                } else {
                    c.out.advance(n);
                }
                c.net_out += n as u64;
                srv.stats.net_output_bytes += n as u64;
                wrote = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    if wrote {
        srv.stats.total_writes_processed += 1;
    }
    if failed {
        return true;
    }
    if c.out.is_empty() {
        if c.out.capacity() > OUT_KEEP_CAPACITY {
            c.out = bytes::BytesMut::new();
        }
        if c.want_writable {
            c.want_writable = false;
            let _ = registry.reregister(c.stream.source(), Token(slot), Interest::READABLE);
        }
        c.close_after_reply
    } else {
        if !c.want_writable {
            c.want_writable = true;
            let _ = registry.reregister(
                c.stream.source(),
                Token(slot),
                Interest::READABLE | Interest::WRITABLE,
            );
        }
        false
    }
}
