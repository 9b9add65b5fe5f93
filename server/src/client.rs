//! A connected client: its socket, buffers, protocol state and the per-client
//! settings commands change (RESP version, db, name, CLIENT flags).
//!
//! The event loop owns reading and writing; handlers only append replies to
//! `out` and set flags such as `close_after_reply`.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use handoff_protocol::request::RequestParser;

/// The socket of a client.
pub enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Stream {
    pub fn raw_fd(&self) -> i32 {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    /// Reads at most `want` bytes into the spare capacity of `buf`.
    pub fn read_into(&mut self, buf: &mut BytesMut, want: usize) -> io::Result<usize> {
        use bytes::BufMut;
        buf.reserve(want);
        let spare = buf.chunk_mut();
        let len = spare.len().min(want);
        // SAFETY: read(2) writes at most `len` bytes into the spare capacity,
        // and only the bytes it reports as read are marked initialized.
        let n = unsafe { libc::read(self.raw_fd(), spare.as_mut_ptr() as *mut libc::c_void, len) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel initialized `n` bytes.
        unsafe { buf.advance_mut(n as usize) };
        Ok(n as usize)
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        match self {
            Stream::Tcp(s) => s.write(data),
            Stream::Unix(s) => s.write(data),
        }
    }

    pub fn shutdown(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }
}

/// What kind of peer a client is (decides output buffer limits, timeouts,
/// and whether replies are sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    Normal,
    Replica,
    PrimaryLink,
    Pubsub,
}

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping the reply of the current command.
    Skip,
}

/// One connection.
pub struct Client {
    pub id: u64,
    /// Index in the client slab (the mio token minus the client base).
    pub slot: usize,
    pub stream: Stream,
    /// `ip:port` of the peer (or `path:0` style for unix sockets).
    pub addr: String,
    pub laddr: String,
    pub is_unix: bool,
    pub read_buf: BytesMut,
    pub parser: RequestParser,
    /// Arguments of the request being executed (reused between requests).
    pub args: Vec<Bytes>,
    /// Replies not yet written to the socket.
    pub out: BytesMut,
    /// Protocol version chosen with HELLO (2 or 3).
    pub resp: u8,
    pub db: usize,
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    pub kind: ClientKind,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    pub no_touch: bool,
    /// Capabilities declared with CLIENT CAPA (e.g. `redirect`).
    pub capa_redirect: bool,
    /// READONLY was sent: reads are served here even on a replica.
    pub readonly_mode: bool,
    /// CLIENT MAINT_NOTIFICATIONS ON: endpoint type and moving state.
    pub maint: Option<crate::maint::MaintClient>,
    /// Held by a pause: the command in `args` runs again when it ends, and
    /// nothing more is read from `read_buf` until then.
    pub postponed: bool,
    /// When the held command first arrived (a blocking command's timeout
    /// counts from then).
    pub postponed_since: Option<Instant>,
    /// Close once pending replies are written (QUIT, protocol error).
    pub close_after_reply: bool,
    /// Close at the next opportunity without writing more (CLIENT KILL, limits).
    pub close_asap: bool,
    pub created: Instant,
    pub last_interaction: Instant,
    /// Command table id of the last command run (CLIENT LIST `cmd=`).
    pub last_cmd: Option<usize>,
    /// Since when the output buffer has been over the soft limit.
    pub obuf_soft_since: Option<Instant>,
    /// WRITABLE interest is registered (after a short write).
    pub want_writable: bool,
    /// Queued in the loop's pending-write list.
    pub pending_write: bool,
    pub net_in: u64,
    pub net_out: u64,
    pub commands: u64,
    /// Largest query buffer seen recently (shrinking decisions).
    pub qbuf_peak: usize,
    /// The open transaction (after MULTI).
    pub multi: Option<crate::multi::MultiState>,
    /// Keys this client WATCHes.
    pub watched: Vec<(usize, Box<[u8]>)>,
    /// A watched key changed: the next EXEC fails.
    pub watch_dirty: bool,
    /// Channels, patterns and shard channels subscribed to.
    pub subs: ahash::AHashSet<Bytes>,
    pub psubs: ahash::AHashSet<Bytes>,
    pub ssubs: ahash::AHashSet<Bytes>,
    /// Waiting for keys (BLPOP...): the command to re-run and its deadline.
    pub blocked: Option<Box<crate::blocking::BlockState>>,
    /// Running the commands of an EXEC: blocking commands do not block.
    pub in_exec: bool,
    /// Set on a client that became a replica (SYNC/PSYNC).
    pub replica: Option<Box<crate::repl::primary::ReplicaInfo>>,
}

impl Client {
    pub fn new(
        id: u64,
        slot: usize,
        stream: Stream,
        addr: String,
        laddr: String,
        is_unix: bool,
        now: Instant,
    ) -> Self {
        Client {
            id,
            slot,
            stream,
            addr,
            laddr,
            is_unix,
            read_buf: BytesMut::new(),
            parser: RequestParser::default(),
            args: Vec::new(),
            out: BytesMut::new(),
            resp: 2,
            db: 0,
            name: None,
            lib_name: None,
            lib_ver: None,
            kind: ClientKind::Normal,
            authenticated: false,
            reply_mode: ReplyMode::On,
            no_evict: false,
            no_touch: false,
            capa_redirect: false,
            readonly_mode: false,
            maint: None,
            postponed: false,
            postponed_since: None,
            close_after_reply: false,
            close_asap: false,
            created: now,
            last_interaction: now,
            last_cmd: None,
            obuf_soft_since: None,
            want_writable: false,
            pending_write: false,
            net_in: 0,
            net_out: 0,
            commands: 0,
            qbuf_peak: 0,
            multi: None,
            watched: Vec::new(),
            watch_dirty: false,
            subs: Default::default(),
            psubs: Default::default(),
            ssubs: Default::default(),
            blocked: None,
            in_exec: false,
            replica: None,
        }
    }

    /// Subscribed to anything: a RESP2 client is then in subscribed mode.
    pub fn in_pubsub(&self) -> bool {
        !(self.subs.is_empty() && self.psubs.is_empty() && self.ssubs.is_empty())
    }

    /// Channel + pattern subscriptions (the count SUBSCRIBE replies carry).
    pub fn sub_count(&self) -> i64 {
        (self.subs.len() + self.psubs.len()) as i64
    }

    /// The `flags=` letters of CLIENT LIST.
    pub fn flag_letters(&self) -> String {
        let mut f = String::new();
        match self.kind {
            ClientKind::Replica => f.push('S'),
            ClientKind::PrimaryLink => f.push('M'),
            _ => {}
        }
        if self.close_asap {
            f.push('A');
        }
        if self.close_after_reply {
            f.push('c');
        }
        if self.no_evict {
            f.push('e');
        }
        if self.multi.is_some() {
            f.push('x');
        }
        if self.in_pubsub() {
            f.push('P');
        }
        if self.blocked.is_some() || self.postponed {
            f.push('b');
        }
        if self.watch_dirty {
            f.push('d');
        }
        if self.readonly_mode {
            f.push('r');
        }
        if self.no_touch {
            f.push('T');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }
}
