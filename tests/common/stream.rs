//! A fake replica for byte-level checks of a primary's replication stream:
//! it attaches to any server (handoff or a real redis-server) with
//! `REPLCONF capa eof capa psync2` + `PSYNC ? -1`, skips the RDB payload
//! (`$<len>` or `$EOF:<mark>` framing), acknowledges like a real replica
//! (`REPLCONF ACK <offset>` every 100 ms, which also puts it online after a
//! diskless transfer) and hands back the commands of the stream.
//!
//! [`Recorder`] drives a script against a primary with such a replica
//! attached and returns the stream each command produced, normalized so that
//! two servers can be compared: wall-clock times (PXAT, PEXPIREAT, XCLAIM
//! TIME) and stream IDs with a millisecond part become `<T>` placeholders.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff::protocol::{Connection, Frame};

/// One command of the stream, as raw arguments.
pub type Cmd = Vec<Vec<u8>>;

fn encode(args: &[&[u8]]) -> bytes::BytesMut {
    let mut out = bytes::BytesMut::new();
    handoff::protocol::encode::encode_command(&mut out, args);
    out
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

/// Reads one command of the stream (a RESP array of bulk strings), and
/// its length in bytes (for the replication offset).
fn read_command(r: &mut impl BufRead) -> std::io::Result<(Cmd, usize)> {
    loop {
        let line = read_line(r)?;
        if line.is_empty() {
            continue; // keepalive newline
        }
        let mut size = line.len() + 2;
        let Some(n) = line.strip_prefix(b"*") else {
            return Err(std::io::Error::other(format!(
                "unexpected stream line {:?}",
                String::from_utf8_lossy(&line)
            )));
        };
        let n: usize = String::from_utf8_lossy(n)
            .parse()
            .map_err(std::io::Error::other)?;
        let mut cmd = Vec::with_capacity(n);
        for _ in 0..n {
            let h = read_line(r)?;
            size += h.len() + 2;
            let len: usize = String::from_utf8_lossy(h.strip_prefix(b"$").unwrap_or(&h))
                .parse()
                .map_err(std::io::Error::other)?;
            let mut buf = vec![0; len + 2];
            r.read_exact(&mut buf)?;
            size += len + 2;
            buf.truncate(len);
            cmd.push(buf);
        }
        return Ok((cmd, size));
    }
}

/// A raw replica connection: commands arrive on a channel.
pub struct FakeReplica {
    rx: Receiver<Cmd>,
    sock: TcpStream,
}

impl FakeReplica {
    /// Attaches to the primary at `addr` and waits until the full sync's
    /// payload has been read.
    pub fn attach(addr: SocketAddr) -> FakeReplica {
        let sock = TcpStream::connect(addr).expect("connect fake replica");
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut r = BufReader::new(sock.try_clone().unwrap());
        w.write_all(&encode(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]))
            .unwrap();
        let ok = read_line(&mut r).unwrap();
        assert_eq!(ok, b"+OK", "REPLCONF capa reply");
        w.write_all(&encode(&[b"PSYNC", b"?", b"-1"])).unwrap();
        let full = read_line(&mut r).unwrap();
        assert!(
            full.starts_with(b"+FULLRESYNC "),
            "PSYNC reply {:?}",
            String::from_utf8_lossy(&full)
        );
        let start: i64 = String::from_utf8_lossy(&full)
            .rsplit(' ')
            .next()
            .and_then(|o| o.parse().ok())
            .expect("FULLRESYNC offset");
        let mut head = read_line(&mut r).unwrap();
        while head.is_empty() {
            head = read_line(&mut r).unwrap();
        }
        if let Some(mark) = head.strip_prefix(b"$EOF:") {
            // Read until the 40-byte mark closes the payload.
            let mark = mark.to_vec();
            let mut tail: Vec<u8> = Vec::new();
            let mut byte = [0u8; 1];
            loop {
                r.read_exact(&mut byte).unwrap();
                tail.push(byte[0]);
                if tail.len() > mark.len() {
                    tail.remove(0);
                }
                if tail == mark {
                    break;
                }
            }
        } else {
            let len: usize = String::from_utf8_lossy(&head[1..]).parse().expect("$len");
            let mut payload = vec![0; len];
            r.read_exact(&mut payload).unwrap();
        }
        let offset = Arc::new(AtomicI64::new(start));
        // ACKs as a real replica sends them (and the first one puts a
        // diskless replica online).
        let acker = offset.clone();
        let mut aw = sock.try_clone().unwrap();
        std::thread::spawn(move || loop {
            let off = acker.load(Ordering::Relaxed).to_string();
            if aw
                .write_all(&encode(&[b"REPLCONF", b"ACK", off.as_bytes()]))
                .is_err()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        });
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            while let Ok((cmd, size)) = read_command(&mut r) {
                offset.fetch_add(size as i64, Ordering::Relaxed);
                if tx.send(cmd).is_err() {
                    return;
                }
            }
        });
        FakeReplica { rx, sock }
    }

    /// The next command of the stream, if one comes within `wait`.
    pub fn next(&self, wait: Duration) -> Option<Cmd> {
        self.rx.recv_timeout(wait).ok()
    }
}

impl Drop for FakeReplica {
    fn drop(&mut self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }
}

/// True for stream traffic that carries no data (PING, REPLCONF GETACK).
pub fn is_keepalive(cmd: &Cmd) -> bool {
    let name = cmd
        .first()
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default();
    name == b"ping" || name == b"replconf"
}

/// `<T>` for what looks like a Unix time in milliseconds (2001..2286), and
/// `<T>-seq` for stream IDs whose ms part is one.
pub fn normalize_arg(a: &[u8]) -> String {
    let s = String::from_utf8_lossy(a).into_owned();
    let is_time = |t: &str| t.len() == 13 && t.bytes().all(|b| b.is_ascii_digit());
    if is_time(&s) {
        return "<T>".into();
    }
    if let Some((ms, seq)) = s.split_once('-') {
        if is_time(ms) && !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()) {
            return format!("<T>-{seq}");
        }
    }
    s
}

/// A command as one readable, normalized line.
pub fn show(cmd: &Cmd) -> String {
    cmd.iter()
        .map(|a| normalize_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A primary, a client connection to it and a fake replica attached to it.
pub struct Recorder {
    pub conn: Connection,
    replica: FakeReplica,
    marks: u64,
}

impl Recorder {
    /// Attaches a fake replica to the server at `addr` (its data should be
    /// empty, so the sync is quick) and opens a client connection.
    pub fn new(addr: SocketAddr) -> Recorder {
        let mut conn = Connection::connect(addr).expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let _ = conn.call(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
        let replica = FakeReplica::attach(addr);
        let mut r = Recorder {
            conn,
            replica,
            marks: 0,
        };
        // Drain whatever the attach produced (SELECT, first PINGs).
        r.record(&[]);
        r
    }

    /// Runs `script` and returns the stream it produced (keepalives left
    /// out), each command normalized by [`show`]. A forced `PUBLISH` to a
    /// marker channel closes the run: everything before it belongs to it.
    pub fn record(&mut self, script: &[Vec<String>]) -> Vec<String> {
        self.record_with(script, |_, _| {})
    }

    /// As [`Recorder::record`], calling `check(args, reply)` for each reply.
    pub fn record_with(
        &mut self,
        script: &[Vec<String>],
        mut check: impl FnMut(&[String], &Frame),
    ) -> Vec<String> {
        for args in script {
            let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            let reply = self.conn.call(&refs).expect("script command");
            check(args, &reply);
        }
        self.marks += 1;
        let mark = self.marks.to_string();
        self.conn
            .call(&["PUBLISH", "__stream_mark__", &mark])
            .expect("mark");
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(cmd) = self.replica.next(left) else {
                panic!("stream mark {mark} not seen; got so far: {out:#?}");
            };
            if is_keepalive(&cmd) {
                continue;
            }
            if cmd.len() == 3
                && cmd[0].eq_ignore_ascii_case(b"publish")
                && cmd[1] == b"__stream_mark__"
            {
                if cmd[2] == mark.as_bytes() {
                    return out;
                }
                continue;
            }
            out.push(show(&cmd));
        }
    }
}

/// Splits a script written one command per line (words separated by
/// spaces, `#` comments) into argument lists.
pub fn script(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}
