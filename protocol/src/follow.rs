//! A blocking client that follows a primary/replica switchover: `-REDIRECT host:port`
//! replies (Valkey's `CLIENT CAPA redirect`) and RESP3 `MOVING seq ttl host:port` pushes
//! (the maintenance notifications of `CLIENT MAINT_NOTIFICATIONS`).
//!
//! It owns one [`Connection`] at a time, the endpoint it points at, and the handshake it
//! replays on every new connection (HELLO 3, capa, maint notifications, name, db), so a
//! moved connection looks like the old one to the server. It never retries a command that
//! may have run: only a `-REDIRECT` (the server refused it) or a close right after a
//! `MOVING` (the server promises it closed without executing) lead to a retry. Everything
//! else, an EOF or reset in particular, is returned to the caller, because an INCR sent
//! twice is a wrong answer, not a recovered one.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::client::Connection;
use crate::frame::Frame;

/// How a [`FollowingClient`] connects and what it tells the server about itself.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// Send `HELLO 3` first (needed for pushes, so for `MOVING`).
    pub resp3: bool,
    /// Send `CLIENT CAPA redirect`, asking for `-REDIRECT` instead of `-READONLY`.
    pub capa_redirect: bool,
    /// Send `CLIENT MAINT_NOTIFICATIONS ON moving-endpoint-type <moving_endpoint_type>`;
    /// an error reply is ignored, as node-redis and redis-py do in their default "auto"
    /// mode.
    pub maint_notifications: bool,
    /// The address kind `MOVING` should carry: `internal-ip` (the default), `internal-fqdn`,
    /// `external-ip`, `external-fqdn`, or `none` (a null endpoint: reconnect to the
    /// address already in use, for an endpoint that floats to the new primary).
    pub moving_endpoint_type: String,
    /// `CLIENT SETNAME` on every connection.
    pub client_name: Option<String>,
    /// `SELECT` on every connection when not 0.
    pub db: u32,
    /// Redirects and moves followed for one command before giving up.
    pub max_hops: usize,
    /// Bound on each TCP connect.
    pub connect_timeout: Duration,
    /// Read and write timeout of each connection (`None`: wait forever).
    pub io_timeout: Option<Duration>,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            resp3: false,
            capa_redirect: true,
            maint_notifications: false,
            moving_endpoint_type: "internal-ip".into(),
            client_name: None,
            db: 0,
            max_hops: 5,
            connect_timeout: Duration::from_secs(2),
            io_timeout: Some(Duration::from_secs(10)),
        }
    }
}

/// What a [`FollowingClient`] has done so far, for probes and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowCounters {
    /// Connections opened (handshake included).
    pub connects: u64,
    /// `-REDIRECT` replies followed.
    pub redirects: u64,
    /// `MOVING` pushes that changed the endpoint.
    pub moves: u64,
    /// Commands sent again because the server closed after `MOVING`.
    pub retries_after_close: u64,
    /// Whether the last handshake's `CLIENT CAPA redirect` was accepted.
    pub capa_accepted: bool,
    /// Whether the last handshake's `CLIENT MAINT_NOTIFICATIONS` was accepted.
    pub maint_accepted: bool,
}

/// A parsed `MOVING seq ttl endpoint` push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moving {
    pub seq: i64,
    /// Seconds the old endpoint stays usable.
    pub ttl: i64,
    /// The new `host:port`, or `None` for the RESP3 null ("stay where you are").
    pub endpoint: Option<String>,
}

/// Parses a `MOVING` push: exactly 4 elements, integer seq and ttl, and a bulk endpoint
/// or null. Anything else is not a `MOVING` (clients drop such frames, and so do we).
pub fn parse_moving(frame: &Frame) -> Option<Moving> {
    let Frame::Push(items) = frame else {
        return None;
    };
    let [name, seq, ttl, endpoint] = items.as_slice() else {
        return None;
    };
    if !name.as_bytes()?.eq_ignore_ascii_case(b"MOVING") {
        return None;
    }
    let (Frame::Integer(seq), Frame::Integer(ttl)) = (seq, ttl) else {
        return None;
    };
    let endpoint = match endpoint {
        Frame::Null | Frame::NullBulk => None,
        Frame::Bulk(b) | Frame::Simple(b) => {
            let text = std::str::from_utf8(b).ok()?;
            split_endpoint(text)?;
            Some(text.to_string())
        }
        _ => return None,
    };
    Some(Moving {
        seq: *seq,
        ttl: *ttl,
        endpoint,
    })
}

/// Splits `host:port` at the LAST colon, so unbracketed IPv6 (`::1:7001`, as Valkey
/// writes it in `-REDIRECT`) works; `[::1]:7001` is accepted too. The port must be
/// 1..=65535 and the host non-empty.
pub fn split_endpoint(endpoint: &str) -> Option<(&str, u16)> {
    let (host, port) = endpoint.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port: u16 = port.parse().ok()?;
    (!host.is_empty() && port != 0).then_some((host, port))
}

/// The target of a `-REDIRECT host:port` error text, if it is one.
pub fn redirect_target(error: &[u8]) -> Option<String> {
    let rest = error.strip_prefix(b"REDIRECT ")?;
    let text = std::str::from_utf8(rest).ok()?.trim();
    split_endpoint(text)?;
    Some(text.to_string())
}

/// Errors that mean the peer closed the connection (as opposed to a timeout or bad bytes).
fn is_close(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

fn resolve(endpoint: &str) -> io::Result<SocketAddr> {
    let (host, port) = split_endpoint(endpoint).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a host:port endpoint: {endpoint:?}"),
        )
    })?;
    (host, port).to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{endpoint} resolves to no address"),
        )
    })
}

/// A handshake reply that must not be an error (HELLO, SETNAME, SELECT).
fn required(step: &str, reply: Frame) -> io::Result<()> {
    match reply.error_text() {
        Some(e) => Err(io::Error::other(format!(
            "{step} refused: {}",
            String::from_utf8_lossy(e)
        ))),
        None => Ok(()),
    }
}

/// A client for one logical connection that follows the primary across switchovers.
#[derive(Debug)]
pub struct FollowingClient {
    config: FollowConfig,
    endpoint: String,
    conn: Option<Connection>,
    /// Where a `MOVING` (or the handshake) told us to go next; applied before the next
    /// command, after the reply in hand was read on the old connection.
    pending_move: Option<String>,
    counters: FollowCounters,
}

impl FollowingClient {
    /// A client for `endpoint` (`host:port`); it connects on the first command.
    pub fn new(endpoint: impl Into<String>, config: FollowConfig) -> Self {
        FollowingClient {
            config,
            endpoint: endpoint.into(),
            conn: None,
            pending_move: None,
            counters: FollowCounters::default(),
        }
    }

    /// Connects and runs the handshake now, so a bad address or refused handshake shows
    /// up here rather than on the first command.
    pub fn connect(endpoint: impl Into<String>, config: FollowConfig) -> io::Result<Self> {
        let mut client = Self::new(endpoint, config);
        client.open()?;
        Ok(client)
    }

    /// The `host:port` the next command goes to (after any move already learnt).
    pub fn endpoint(&self) -> &str {
        self.pending_move.as_deref().unwrap_or(&self.endpoint)
    }

    /// Points the client elsewhere (e.g. after discovering the primary with ROLE); the
    /// current connection is closed.
    pub fn set_endpoint(&mut self, endpoint: impl Into<String>) {
        self.conn = None;
        self.pending_move = None;
        self.endpoint = endpoint.into();
    }

    /// Closes the connection; the next command opens a new one to [`Self::endpoint`].
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    pub fn counters(&self) -> FollowCounters {
        self.counters
    }

    pub fn config(&self) -> &FollowConfig {
        &self.config
    }

    /// Opens a connection to the current endpoint and replays the handshake.
    fn open(&mut self) -> io::Result<()> {
        if let Some(next) = self.pending_move.take() {
            self.endpoint = next;
        }
        self.conn = None;
        let addr = resolve(&self.endpoint)?;
        let mut conn = Connection::connect_timeout(&addr, self.config.connect_timeout)?;
        conn.set_read_timeout(self.config.io_timeout)?;
        conn.set_write_timeout(self.config.io_timeout)?;
        self.counters.connects += 1;
        if self.config.resp3 {
            required("HELLO 3", conn.call(&["HELLO", "3"])?)?;
        }
        if self.config.capa_redirect {
            let reply = conn.call(&["CLIENT", "CAPA", "redirect"])?;
            self.counters.capa_accepted = !reply.is_error();
        }
        if self.config.maint_notifications {
            let reply = conn.call(&[
                "CLIENT",
                "MAINT_NOTIFICATIONS",
                "ON",
                "moving-endpoint-type",
                self.config.moving_endpoint_type.as_str(),
            ])?;
            self.counters.maint_accepted = !reply.is_error();
        }
        if let Some(name) = &self.config.client_name {
            required(
                "CLIENT SETNAME",
                conn.call(&["CLIENT", "SETNAME", name.as_str()])?,
            )?;
        }
        if self.config.db != 0 {
            let db = self.config.db.to_string();
            required("SELECT", conn.call(&["SELECT", db.as_str()])?)?;
        }
        // A demoted node may push MOVING right after the handshake's +OK: take it now
        // so the first command already goes to the right place.
        let moving = self.take_moving(&mut conn);
        self.conn = Some(conn);
        if let Some(m) = moving {
            self.learn(m);
        }
        Ok(())
    }

    /// The last `MOVING` among the pushes queued on `conn`; other pushes are dropped
    /// (FAILING_OVER and friends only relax timeouts in real clients).
    fn take_moving(&mut self, conn: &mut Connection) -> Option<Moving> {
        conn.pushes().iter().filter_map(parse_moving).last()
    }

    /// Records where a `MOVING` points; a null endpoint means stay.
    fn learn(&mut self, moving: Moving) {
        if let Some(to) = moving.endpoint {
            if to != self.endpoint {
                self.counters.moves += 1;
                self.pending_move = Some(to);
            }
        }
    }

    /// Sends one command and returns its reply, following `-REDIRECT` and `MOVING` for up
    /// to `max_hops` hops. Error replies are `Ok(Frame::Error)`, including the last
    /// `-REDIRECT` once the hops are used up; I/O failures are `Err` and leave the client
    /// disconnected (the next command reconnects to [`Self::endpoint`]).
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        let mut hops = 0;
        loop {
            if self.conn.is_none() || self.pending_move.is_some() {
                self.open()?;
                if self.pending_move.is_some() && hops < self.config.max_hops {
                    hops += 1;
                    continue;
                }
            }
            let Some(mut conn) = self.conn.take() else {
                return Err(io::Error::new(io::ErrorKind::NotConnected, "no connection"));
            };
            let result = conn.call(args);
            let moving = self.take_moving(&mut conn);
            let moved = moving.is_some();
            if let Some(m) = moving {
                self.learn(m);
            }
            match result {
                Ok(reply) => {
                    if let Some(target) = reply.error_text().and_then(redirect_target) {
                        if hops < self.config.max_hops {
                            hops += 1;
                            self.counters.redirects += 1;
                            // The redirect names the primary as the server sees it now,
                            // which beats any earlier MOVING.
                            self.pending_move = Some(target);
                            continue;
                        }
                    }
                    // The reply was read on the old connection; a move waits for the
                    // next command, and until then the old connection is kept only if
                    // nothing told us to leave it.
                    if self.pending_move.is_none() {
                        self.conn = Some(conn);
                    }
                    return Ok(reply);
                }
                Err(e) if moved && is_close(&e) && hops < self.config.max_hops => {
                    // A server that sent MOVING and then closed promises the command was
                    // not run (it reads, drops and closes), so sending it again is safe.
                    hops += 1;
                    self.counters.retries_after_close += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_splits_at_the_last_colon() {
        assert_eq!(split_endpoint("127.0.0.1:6379"), Some(("127.0.0.1", 6379)));
        assert_eq!(split_endpoint("::1:7001"), Some(("::1", 7001)));
        assert_eq!(split_endpoint("[::1]:7001"), Some(("::1", 7001)));
        assert_eq!(split_endpoint("localhost:1"), Some(("localhost", 1)));
        assert_eq!(
            split_endpoint("fe80::1:2:65535"),
            Some(("fe80::1:2", 65535))
        );
    }

    #[test]
    fn a_malformed_endpoint_is_refused() {
        for bad in [
            "",
            "6379",
            ":6379",
            "host:",
            "host:0",
            "host:65536",
            "h:p",
            "[]:1",
        ] {
            assert_eq!(split_endpoint(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_redirect_error_names_its_target_and_other_errors_do_not() {
        assert_eq!(
            redirect_target(b"REDIRECT 127.0.0.1:7002").as_deref(),
            Some("127.0.0.1:7002")
        );
        assert_eq!(
            redirect_target(b"REDIRECT ::1:7001").as_deref(),
            Some("::1:7001")
        );
        assert_eq!(
            redirect_target(b"READONLY You can't write against a read only replica."),
            None
        );
        assert_eq!(redirect_target(b"REDIRECT nowhere"), None);
    }

    #[test]
    fn a_moving_push_needs_four_elements_and_integer_seq_and_ttl() {
        let bulk = |s: &str| Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()));
        let ok = Frame::Push(vec![
            bulk("MOVING"),
            Frame::Integer(17),
            Frame::Integer(15),
            bulk("127.0.0.2:6390"),
        ]);
        assert_eq!(
            parse_moving(&ok),
            Some(Moving {
                seq: 17,
                ttl: 15,
                endpoint: Some("127.0.0.2:6390".into())
            })
        );
        let null = Frame::Push(vec![
            bulk("MOVING"),
            Frame::Integer(18),
            Frame::Integer(15),
            Frame::Null,
        ]);
        assert_eq!(parse_moving(&null).and_then(|m| m.endpoint), None);
        assert!(parse_moving(&null).is_some());
        let text_seq = Frame::Push(vec![
            bulk("MOVING"),
            bulk("18"),
            Frame::Integer(15),
            Frame::Null,
        ]);
        assert_eq!(parse_moving(&text_seq), None);
        let three = Frame::Push(vec![bulk("MOVING"), Frame::Integer(1), Frame::Integer(1)]);
        assert_eq!(parse_moving(&three), None);
        let other = Frame::Push(vec![
            bulk("FAILING_OVER"),
            Frame::Integer(19),
            Frame::Integer(5),
            bulk("1"),
        ]);
        assert_eq!(parse_moving(&other), None);
    }
}
