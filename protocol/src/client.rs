//! A small blocking RESP client over TCP or a Unix socket.
//!
//! Used by tests, tools and the replication link's handshake. Owns buffering and frame
//! reading on one connection; it knows nothing about which commands exist, except that the
//! (un)subscribe family is answered with RESP3 push frames, which `call` must return
//! rather than queue.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::encode;
use crate::frame::Frame;

/// Smallest read attempted; grows with big replies so they are not read in slivers.
const MIN_READ: usize = 16 * 1024;

#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            Stream::Unix(s) => s.write_all(buf),
        }
    }
}

/// One client connection: buffered writes (`send` + `flush`) and frame reads.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    pushes: VecDeque<Frame>,
}

/// Builds an argument vector from string literals: `cmd(&["SET", "k", "v"])`.
pub fn cmd(args: &[&str]) -> Vec<Bytes> {
    args.iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect()
}

/// Commands whose RESP3 reply is itself a push frame.
fn replies_with_push(name: &[u8]) -> bool {
    const NAMES: [&[u8]; 6] = [
        b"subscribe",
        b"psubscribe",
        b"ssubscribe",
        b"unsubscribe",
        b"punsubscribe",
        b"sunsubscribe",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

impl Connection {
    fn from_stream(stream: Stream) -> Self {
        Connection {
            stream,
            rbuf: BytesMut::with_capacity(MIN_READ),
            wbuf: BytesMut::new(),
            pushes: VecDeque::new(),
        }
    }

    /// Connects over TCP (with `TCP_NODELAY`, as request/response latency matters more
    /// than packet count here).
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<Self> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(Self::from_stream(Stream::Tcp(s)))
    }

    /// Connects over TCP, giving up after `timeout`.
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<Self> {
        let s = TcpStream::connect_timeout(addr, timeout)?;
        s.set_nodelay(true)?;
        Ok(Self::from_stream(Stream::Tcp(s)))
    }

    /// Connects to a Unix domain socket.
    pub fn connect_unix(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Self::from_stream(Stream::Unix(UnixStream::connect(path)?)))
    }

    /// Wraps an already connected TCP stream.
    pub fn from_tcp(stream: TcpStream) -> Self {
        Self::from_stream(Stream::Tcp(stream))
    }

    /// Sets the read timeout; a timed-out read returns `WouldBlock` or `TimedOut`.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.stream {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
        }
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.stream {
            Stream::Tcp(s) => s.set_write_timeout(timeout),
            Stream::Unix(s) => s.set_write_timeout(timeout),
        }
    }

    /// Buffers one command; nothing is written until [`Connection::flush`].
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        encode::encode_command(&mut self.wbuf, args);
        Ok(())
    }

    /// Writes all buffered commands.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            let result = self.stream.write_all(&self.wbuf);
            self.wbuf.clear();
            result?;
        }
        Ok(())
    }

    /// Writes buffered commands, then `bytes` as they are (for protocol tests).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.flush()?;
        self.stream.write_all(bytes)
    }

    /// Reads the next frame (pushes included). EOF gives `UnexpectedEof`, malformed
    /// bytes `InvalidData`.
    pub fn read_frame(&mut self) -> io::Result<Frame> {
        self.read_raw_frame().map(|(frame, _)| frame)
    }

    /// Reads the next frame together with its exact wire bytes.
    pub fn read_raw_frame(&mut self) -> io::Result<(Frame, Bytes)> {
        loop {
            match Frame::complete_len(&self.rbuf) {
                Ok(Some(len)) => {
                    let raw = self.rbuf.split_to(len).freeze();
                    let (frame, _) = Frame::parse_bytes(&raw)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
                        .ok_or_else(|| {
                            io::Error::new(io::ErrorKind::InvalidData, "frame vanished")
                        })?;
                    return Ok((frame, raw));
                }
                Ok(None) => self.fill()?,
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }

    /// Reads more bytes into the read buffer; EOF is an error because a frame is pending.
    fn fill(&mut self) -> io::Result<()> {
        let want = MIN_READ.max(self.rbuf.len());
        let old = self.rbuf.len();
        self.rbuf.resize(old + want, 0);
        let result = loop {
            match self.stream.read(&mut self.rbuf[old..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        match result {
            Ok(0) => {
                self.rbuf.truncate(old);
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed by peer",
                ))
            }
            Ok(n) => {
                self.rbuf.truncate(old + n);
                Ok(())
            }
            Err(e) => {
                self.rbuf.truncate(old);
                Err(e)
            }
        }
    }

    /// Sends a command and returns its reply. RESP3 push frames arriving first are queued
    /// (see [`Connection::pushes`]); for the (un)subscribe family the push is the reply.
    /// Attribute frames preceding a reply are skipped.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        self.send(args)?;
        self.flush()?;
        let push_is_reply = args.first().is_some_and(|a| replies_with_push(a.as_ref()));
        loop {
            match self.read_frame()? {
                Frame::Push(items) if !push_is_reply => self.pushes.push_back(Frame::Push(items)),
                Frame::Attribute(_) => {}
                frame => return Ok(frame),
            }
        }
    }

    /// Drains the push frames queued by [`Connection::call`].
    pub fn pushes(&mut self) -> Vec<Frame> {
        self.pushes.drain(..).collect()
    }

    /// Whether unread bytes are buffered (e.g. a reply that arrived early).
    pub fn has_buffered_input(&self) -> bool {
        !self.rbuf.is_empty()
    }

    /// Local address of a TCP connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.stream {
            Stream::Tcp(s) => s.local_addr(),
            Stream::Unix(_) => Err(io::Error::new(io::ErrorKind::Unsupported, "unix socket")),
        }
    }

    /// Peer address of a TCP connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.stream {
            Stream::Tcp(s) => s.peer_addr(),
            Stream::Unix(_) => Err(io::Error::new(io::ErrorKind::Unsupported, "unix socket")),
        }
    }

    /// Closes the write half so the server sees EOF after the pending commands.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.flush()?;
        match &self.stream {
            Stream::Tcp(s) => s.shutdown(Shutdown::Write),
            Stream::Unix(s) => s.shutdown(Shutdown::Write),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A one-connection server that checks the request bytes and answers canned bytes,
    /// in the given pieces (to exercise reassembly).
    fn canned(expect: &'static [u8], reply: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = vec![0u8; expect.len()];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, expect);
            for piece in reply {
                s.write_all(piece).unwrap();
                s.flush().unwrap();
                thread::sleep(Duration::from_millis(5));
            }
        });
        addr
    }

    #[test]
    fn call_sends_a_multibulk_and_reads_a_reply_split_across_packets() {
        let addr = canned(
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
            vec![b"+O", b"K\r", b"\n"],
        );
        let mut c = Connection::connect(addr).unwrap();
        let reply = c.call(&cmd(&["SET", "k", "v"])).unwrap();
        assert_eq!(reply, Frame::Simple(Bytes::from_static(b"OK")));
    }

    #[test]
    fn push_frames_before_the_reply_are_queued() {
        let addr = canned(
            b"*1\r\n$4\r\nPING\r\n",
            vec![b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n+PONG\r\n"],
        );
        let mut c = Connection::connect(addr).unwrap();
        assert_eq!(
            c.call(&["PING"]).unwrap(),
            Frame::Simple(Bytes::from_static(b"PONG"))
        );
        let pushes = c.pushes();
        assert_eq!(pushes.len(), 1);
        assert!(c.pushes().is_empty());
    }

    #[test]
    fn a_subscribe_reply_push_is_returned_by_call() {
        let addr = canned(
            b"*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n",
            vec![b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"],
        );
        let mut c = Connection::connect(addr).unwrap();
        let reply = c.call(&["SUBSCRIBE", "ch"]).unwrap();
        assert!(matches!(reply, Frame::Push(ref v) if v.len() == 3));
    }

    #[test]
    fn raw_frames_keep_their_exact_bytes_and_eof_is_unexpected() {
        let addr = canned(b"", vec![b",1.5\r\n*2\r\n$-1\r\n_\r\n", b"$5\r\nab"]);
        let mut c = Connection::connect(addr).unwrap();
        let (f, raw) = c.read_raw_frame().unwrap();
        assert_eq!(f, Frame::Double(Bytes::from_static(b"1.5")));
        assert_eq!(raw.as_ref(), b",1.5\r\n");
        let (_, raw) = c.read_raw_frame().unwrap();
        assert_eq!(raw.as_ref(), b"*2\r\n$-1\r\n_\r\n");
        let err = c.read_frame().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn malformed_replies_are_invalid_data() {
        let addr = canned(b"", vec![b"?oops\r\n"]);
        let mut c = Connection::connect(addr).unwrap();
        assert_eq!(
            c.read_frame().unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[test]
    fn a_big_bulk_reply_is_reassembled() {
        static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let big = BIG.get_or_init(|| {
            let mut v = b"$200000\r\n".to_vec();
            v.resize(v.len() + 200000, b'z');
            v.extend_from_slice(b"\r\n");
            v
        });
        let addr = canned(b"", vec![&big[..70000], &big[70000..]]);
        let mut c = Connection::connect(addr).unwrap();
        let f = c.read_frame().unwrap();
        assert_eq!(f.as_bytes().map(<[u8]>::len), Some(200000));
    }
}
