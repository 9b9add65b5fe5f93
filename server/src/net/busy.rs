//! Serving the network while a script runs past `busy-reply-threshold`.
//!
//! A script runs inside its command, on the loop's thread, with the server
//! borrowed all the way down to the Lua instruction hook. Redis, from that
//! hook, re-enters its event loop (`processEventsWhileBlocked`): it accepts
//! connections, reads and parses requests, runs the commands flagged
//! `allow_busy` (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, MULTI...),
//! answers `-BUSY` to the rest (dispatch decides, see `commands::dispatch`)
//! and writes replies. [`serve`] is that step; the hook reaches it through
//! the running command's own `&mut Server` (see `scripting::run`), so no
//! second path to the server's state exists and nothing here is `unsafe`.
//!
//! It does not touch the loop's `Poll`, which `EventLoop` owns and which is
//! out of reach while a command runs. For the length of a busy period it
//! polls an epoll instance of its own, created when the period starts and
//! dropped when it ends, in which the sockets it serves and the listeners
//! are registered by file descriptor. The kernel reports readiness to each
//! epoll instance separately: what this step sees, the loop still sees
//! afterwards, so no event is taken from the loop or has to be handed back
//! (at worst the loop reads a socket this step already drained and gets
//! nothing). New connections are registered with the loop's registry (a
//! clone of it) as the loop would, and with this step's poll.
//!
//! Served: normal and pub/sub clients. Served clients that disconnect, QUIT
//! or must close are closed during the period, as Redis frees them. Left
//! alone until the script ends: the script's caller (taken out of the slab
//! while its command runs, like Redis's protected client), replicas, the
//! primary link, the replication link socket and the snapshot pipe. Redis
//! also reads its replicas' REPLCONF ACKs and piles up its primary's stream
//! (applied after the script) while busy; here both wait in their sockets.
//! The links fare the same: neither sends PINGs nor ACKs while busy, so a
//! busy period longer than repl-timeout ends a link on both, and it comes
//! back with a partial resync.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use super::listener::Listener;
use super::{
    accept_all, close_client, finish_input, process_input, read_from, write_replies, Control, Read,
    LISTENER_BASE,
};
use crate::client::{Client, ClientKind};
use crate::server::{Server, ShutdownRequest};

/// Redis's processEventsWhileBlocked polls at most this many times per call.
const ROUNDS: usize = 4;

/// What the serving step needs from the loop, built once with it.
pub struct BusyIo {
    /// The loop's registry (same epoll instance): new clients are
    /// registered there, and WRITABLE interest after a short write.
    registry: Registry,
    /// Duplicates of the loop's listening sockets.
    listeners: Vec<Listener>,
    /// The embedding handle's requests (a shutdown stops the script).
    control: Option<Receiver<Control>>,
    /// Present during a busy period only.
    period: Option<Period>,
}

/// One busy period's own poll.
struct Period {
    poll: Poll,
    events: Events,
    /// Clients whose reading stopped at the per-turn cap.
    capped: Vec<usize>,
}

impl BusyIo {
    /// Handles on the loop's poll and listeners for [`serve`].
    pub fn new(poll: &Poll, listeners: &[Listener]) -> io::Result<BusyIo> {
        Ok(BusyIo {
            registry: poll.registry().try_clone()?,
            listeners: listeners.iter().map(duplicate).collect::<io::Result<_>>()?,
            control: None,
            period: None,
        })
    }

    /// The embedding handle's channel, also read while a script is busy.
    pub fn set_control(&mut self, rx: Receiver<Control>) {
        self.control = Some(rx);
    }
}

/// A second descriptor for the same listening socket.
fn duplicate(l: &Listener) -> io::Result<Listener> {
    Ok(match l {
        Listener::Tcp(t, addr) => {
            let std = std::net::TcpListener::from(t.as_fd().try_clone_to_owned()?);
            std.set_nonblocking(true)?;
            Listener::Tcp(mio::net::TcpListener::from_std(std), *addr)
        }
        Listener::Unix(u, path) => {
            let std = std::os::unix::net::UnixListener::from(u.as_fd().try_clone_to_owned()?);
            std.set_nonblocking(true)?;
            Listener::Unix(mio::net::UnixListener::from_std(std), path.clone())
        }
    })
}

/// Clients this step reads from and writes to.
fn served(c: &Client) -> bool {
    matches!(c.kind, ClientKind::Normal | ClientKind::Pubsub)
        && c.replica.is_none()
        && !c.close_asap
}

/// One step of serving other clients while a script is busy: new
/// connections, requests (dispatch answers `-BUSY` to those without
/// `allow_busy`), replies written. The first step of a period starts it.
pub fn serve(srv: &mut Server) {
    let Some(mut io) = srv.busy_io.take() else {
        return;
    };
    if let Some(rx) = &io.control {
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Control::Shutdown => srv.shutdown = Some(ShutdownRequest { by_signal: None }),
            }
        }
    }
    if io.period.is_none() {
        match start(srv, &io.listeners) {
            Ok(p) => io.period = Some(p),
            Err(e) => log::warn!("Cannot serve clients while the script is busy: {e}"),
        }
    }
    if let Some(period) = io.period.as_mut() {
        for _ in 0..ROUNDS {
            if srv.shutdown.is_some() || !period.round(srv, &io.registry, &io.listeners) {
                break;
            }
        }
    }
    write_pending(srv, &io.registry);
    close_marked(srv, &io.registry);
    srv.busy_io = Some(io);
}

/// Ends the busy period (the script finished or was stopped).
pub fn end(srv: &mut Server) {
    if let Some(io) = srv.busy_io.as_mut() {
        io.period = None;
    }
}

fn start(srv: &Server, listeners: &[Listener]) -> io::Result<Period> {
    let poll = Poll::new()?;
    for (i, l) in listeners.iter().enumerate() {
        let fd = match l {
            Listener::Tcp(t, _) => t.as_raw_fd(),
            Listener::Unix(u, _) => u.as_raw_fd(),
        };
        poll.registry().register(
            &mut SourceFd(&fd),
            Token(LISTENER_BASE + i),
            Interest::READABLE,
        )?;
    }
    for c in srv.clients.iter() {
        watch(poll.registry(), c);
    }
    Ok(Period {
        poll,
        events: Events::with_capacity(256),
        capped: Vec::new(),
    })
}

/// Registers a served client's socket with the period's poll. Readiness
/// already present is reported at once (epoll checks it when adding).
fn watch(busy: &Registry, c: &Client) {
    if !served(c) {
        return;
    }
    let fd = c.stream.raw_fd();
    if let Err(e) = busy.register(
        &mut SourceFd(&fd),
        Token(c.slot),
        Interest::READABLE | Interest::WRITABLE,
    ) {
        log::debug!("Watching client id={} while busy: {e}", c.id);
    }
}

impl Period {
    /// Polls once without waiting and handles what is ready; false when
    /// nothing was.
    fn round(&mut self, srv: &mut Server, registry: &Registry, listeners: &[Listener]) -> bool {
        match self.poll.poll(&mut self.events, Some(Duration::ZERO)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return true,
            Err(e) => {
                log::debug!("Polling while busy: {e}");
                return false;
            }
        }
        let ready: Vec<(Token, bool, bool)> = self
            .events
            .iter()
            .map(|ev| {
                let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                (ev.token(), readable, ev.is_writable())
            })
            .collect();
        let capped = std::mem::take(&mut self.capped);
        let work = !ready.is_empty() || !capped.is_empty();
        for slot in capped {
            self.read_client(srv, registry, slot);
        }
        for (token, readable, writable) in ready {
            if srv.shutdown.is_some() {
                break;
            }
            match token {
                Token(t) if t >= LISTENER_BASE => {
                    let Some(l) = listeners.get(t - LISTENER_BASE) else {
                        continue;
                    };
                    let busy = self.poll.registry();
                    accept_all(srv, registry, l, |srv, slot| {
                        if let Some(c) = srv.clients.get(slot) {
                            watch(busy, c);
                        }
                    });
                }
                Token(slot) => {
                    if readable {
                        self.read_client(srv, registry, slot);
                    }
                    if writable {
                        write_one(srv, registry, slot);
                    }
                }
            }
        }
        work
    }

    /// Reads a served client's socket and runs its requests.
    fn read_client(&mut self, srv: &mut Server, registry: &Registry, slot: usize) {
        let Some(mut c) = srv.clients.take(slot) else {
            // The script's caller, or gone.
            return;
        };
        if !served(&c) {
            srv.clients.put_back(c);
            return;
        }
        match read_from(srv, &mut c, Instant::now()) {
            Read::Closed => {
                srv.clients.put_back(c);
                close_client(srv, registry, slot);
                return;
            }
            Read::Capped => self.capped.push(slot),
            Read::Done => {}
        }
        process_input(srv, &mut c);
        finish_input(srv, c);
    }
}

/// Writes a served client's replies.
fn write_one(srv: &mut Server, registry: &Registry, slot: usize) {
    let Some(c) = srv.clients.get(slot) else {
        return;
    };
    if !served(c) || c.out.is_empty() {
        return;
    }
    if write_replies(srv, registry, slot) {
        close_client(srv, registry, slot);
    }
}

/// Writes the replies queued for served clients; the others stay queued
/// for the loop.
fn write_pending(srv: &mut Server, registry: &Registry) {
    if srv.pending_writes.is_empty() {
        return;
    }
    let mut slots = std::mem::take(&mut srv.pending_writes);
    slots.retain(|&slot| {
        if !srv.clients.get(slot).is_some_and(served) {
            return true;
        }
        if write_replies(srv, registry, slot) {
            close_client(srv, registry, slot);
        }
        false
    });
    // Nothing above queues writes, but keep any that were.
    slots.append(&mut srv.pending_writes);
    srv.pending_writes = slots;
}

/// Closes the served clients a command marked `close_asap` (CLIENT KILL
/// is refused while busy, but output limits mark clients too); the others
/// stay listed for the loop.
fn close_marked(srv: &mut Server, registry: &Registry) {
    if srv.clients_to_close.is_empty() {
        return;
    }
    let mut slots = std::mem::take(&mut srv.clients_to_close);
    slots.retain(|&slot| match srv.clients.get(slot) {
        Some(c) if served_or_closing(c) && c.close_asap => {
            close_client(srv, registry, slot);
            false
        }
        _ => true,
    });
    slots.append(&mut srv.clients_to_close);
    srv.clients_to_close = slots;
}

/// A normal or pub/sub client, including one already marked to close.
fn served_or_closing(c: &Client) -> bool {
    matches!(c.kind, ClientKind::Normal | ClientKind::Pubsub) && c.replica.is_none()
}
