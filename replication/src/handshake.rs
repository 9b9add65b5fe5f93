//! The replica's side of the replication handshake, as a state machine fed
//! with the bytes the primary sends (replication-interop.md §1.1):
//! `PING`, then pipelined `[AUTH]`, `REPLCONF listening-port`,
//! `[REPLCONF ip-address]`, `REPLCONF capa eof capa psync2`, then `PSYNC`.
//! It does no I/O: the server writes what `Action::Send` carries.

use bytes::{Bytes, BytesMut};
use handoff_protocol::encode::encode_command;

/// What the replica introduces itself with.
#[derive(Clone, Debug, Default)]
pub struct HandshakeConfig {
    pub listening_port: u16,
    pub announce_ip: Option<String>,
    pub masteruser: Option<String>,
    pub masterauth: Option<String>,
    /// (replid, offset of the last byte we hold) of the cached primary,
    /// for a partial resync; None asks `PSYNC ? -1`.
    pub cached: Option<(String, i64)>,
    /// Sent as the fourth PSYNC argument by a primary handing over.
    pub failover: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes to the primary.
    Send(Bytes),
    /// `+FULLRESYNC`: an RDB follows; the stream continues after `offset`.
    FullSync { replid: String, offset: i64 },
    /// `+CONTINUE [replid]`: the stream continues at our offset.
    Continue { replid: Option<String> },
    /// This attempt failed; retry later (the log line says why).
    Fail(String),
    /// The primary answered PSYNC with something else than `+CONTINUE` or
    /// `+FULLRESYNC` (a FAILOVER gives up on this; otherwise like `Fail`).
    Rejected(String),
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Start,
    AwaitPong,
    /// Replies still expected for the pipelined block: (step, fatal on error).
    AwaitReplies(Vec<(&'static str, bool)>),
    AwaitPsync,
    Done,
}

pub struct Handshake {
    cfg: HandshakeConfig,
    state: State,
    buf: Vec<u8>,
}

impl Handshake {
    pub fn new(cfg: HandshakeConfig) -> Self {
        Handshake {
            cfg,
            state: State::Start,
            buf: Vec::new(),
        }
    }

    /// The first action, once the connection is established: PING.
    pub fn start(&mut self) -> Action {
        self.state = State::AwaitPong;
        let mut out = BytesMut::new();
        encode_command(&mut out, &["PING"]);
        Action::Send(out.freeze())
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// What the primary sent after the PSYNC reply (RDB bytes or stream).
    pub fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Feeds bytes read from the primary; returns the actions they cause.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Action> {
        self.buf.extend_from_slice(data);
        let mut actions = Vec::new();
        while self.state != State::Done {
            let Some(nl) = memchr_nl(&self.buf) else {
                break;
            };
            let mut line: Vec<u8> = self.buf.drain(..=nl).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            if let Some(a) = self.on_line(&line) {
                actions.push(a);
                if matches!(actions.last(), Some(Action::Fail(_) | Action::Rejected(_))) {
                    self.state = State::Done;
                }
            }
        }
        actions
    }

    fn on_line(&mut self, line: &str) -> Option<Action> {
        match &mut self.state {
            State::AwaitPong => {
                if line.is_empty() {
                    return None;
                }
                let auth_error = line.starts_with("-NOAUTH")
                    || line.starts_with("-NOPERM")
                    || line.starts_with("-ERR operation not permitted");
                if !line.starts_with('+') && !auth_error {
                    return Some(Action::Fail(format!(
                        "Error reply to PING from master: '{line}'"
                    )));
                }
                let (bytes, expected) = self.pipelined_block();
                self.state = State::AwaitReplies(expected);
                Some(Action::Send(bytes))
            }
            State::AwaitReplies(expected) => {
                if line.is_empty() {
                    return None;
                }
                let (what, fatal) = expected.remove(0);
                if line.starts_with('-') && fatal {
                    return Some(Action::Fail(format!(
                        "Unable to AUTH to MASTER: {}",
                        line.trim_start_matches('-')
                    )));
                }
                // Errors to the other steps are non-critical, as in Redis.
                let _ = what;
                if expected.is_empty() {
                    self.state = State::AwaitPsync;
                    return Some(Action::Send(self.psync_request()));
                }
                None
            }
            State::AwaitPsync => {
                if line.is_empty() {
                    return None; // keepalive while the primary prepares the RDB
                }
                self.state = State::Done;
                if let Some(rest) = line.strip_prefix("+FULLRESYNC") {
                    let mut parts = rest.split_whitespace();
                    let replid = parts.next().unwrap_or("").to_string();
                    let offset = parts.next().and_then(|o| o.parse().ok()).unwrap_or(-1);
                    Some(Action::FullSync { replid, offset })
                } else if let Some(rest) = line.strip_prefix("+CONTINUE") {
                    let id = rest.trim();
                    Some(Action::Continue {
                        replid: (id.len() == 40).then(|| id.to_string()),
                    })
                } else {
                    Some(Action::Rejected(format!(
                        "Unexpected reply to PSYNC from master: {line}"
                    )))
                }
            }
            State::Start | State::Done => None,
        }
    }

    fn pipelined_block(&self) -> (Bytes, Vec<(&'static str, bool)>) {
        let mut out = BytesMut::new();
        let mut expected = Vec::new();
        if let Some(pass) = &self.cfg.masterauth {
            match &self.cfg.masteruser {
                Some(user) => encode_command(&mut out, &["AUTH", user, pass]),
                None => encode_command(&mut out, &["AUTH", pass]),
            }
            expected.push(("AUTH", true));
        }
        let port = self.cfg.listening_port.to_string();
        encode_command(&mut out, &["REPLCONF", "listening-port", &port]);
        expected.push(("REPLCONF listening-port", false));
        if let Some(ip) = &self.cfg.announce_ip {
            encode_command(&mut out, &["REPLCONF", "ip-address", ip]);
            expected.push(("REPLCONF ip-address", false));
        }
        encode_command(&mut out, &["REPLCONF", "capa", "eof", "capa", "psync2"]);
        expected.push(("REPLCONF capa", false));
        (out.freeze(), expected)
    }

    fn psync_request(&self) -> Bytes {
        let mut out = BytesMut::new();
        let (id, offset) = match &self.cfg.cached {
            Some((id, off)) => (id.clone(), (off + 1).to_string()),
            None => ("?".to_string(), "-1".to_string()),
        };
        if self.cfg.failover {
            encode_command(&mut out, &["PSYNC", &id, &offset, "FAILOVER"]);
        } else {
            encode_command(&mut out, &["PSYNC", &id, &offset]);
        }
        out.freeze()
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(a: &Action) -> String {
        match a {
            Action::Send(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("expected Send, got {other:?}"),
        }
    }

    #[test]
    fn a_first_sync_pings_then_pipelines_then_asks_for_everything() {
        let mut h = Handshake::new(HandshakeConfig {
            listening_port: 6380,
            ..Default::default()
        });
        assert_eq!(sent(&h.start()), "*1\r\n$4\r\nPING\r\n");
        let a = h.feed(b"+PONG\r\n");
        assert_eq!(
            sent(&a[0]),
            "*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6380\r\n*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n"
        );
        let a = h.feed(b"+OK\r\n+O");
        assert!(a.is_empty());
        let a = h.feed(b"K\r\n");
        assert_eq!(sent(&a[0]), "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
        let a = h.feed(b"\n\n+FULLRESYNC 9c2b0000000000000000000000000000000f7d35 83\r\n$EOF:");
        assert_eq!(
            a,
            vec![Action::FullSync {
                replid: "9c2b0000000000000000000000000000000f7d35".into(),
                offset: 83
            }]
        );
        assert_eq!(h.take_rest(), b"$EOF:");
    }

    #[test]
    fn a_cached_primary_asks_for_the_next_byte_and_auth_errors_are_fatal() {
        let mut h = Handshake::new(HandshakeConfig {
            listening_port: 1,
            masterauth: Some("pw".into()),
            cached: Some(("a".repeat(40), 929)),
            ..Default::default()
        });
        h.start();
        let a = h.feed(b"-NOAUTH Authentication required.\r\n");
        assert!(sent(&a[0]).starts_with("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"));
        let a = h.feed(b"+OK\r\n-ERR x\r\n+OK\r\n");
        assert!(sent(&a[0]).contains("$3\r\n930\r\n"));
        let a = h.feed(format!("+CONTINUE {}\r\n", "b".repeat(40)).as_bytes());
        assert_eq!(
            a,
            vec![Action::Continue {
                replid: Some("b".repeat(40))
            }]
        );

        let mut h = Handshake::new(HandshakeConfig {
            masterauth: Some("bad".into()),
            ..Default::default()
        });
        h.start();
        h.feed(b"+PONG\r\n");
        let a = h.feed(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n");
        assert!(matches!(&a[0], Action::Fail(m) if m.contains("WRONGPASS")));
    }

    #[test]
    fn other_errors_to_ping_fail_the_attempt() {
        let mut h = Handshake::new(HandshakeConfig::default());
        h.start();
        let a = h.feed(b"-LOADING Redis is loading the dataset in memory\r\n");
        assert!(matches!(&a[0], Action::Fail(_)));
    }
}
