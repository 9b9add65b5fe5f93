//! What a command handler may touch (`Ctx`), the error type handlers return,
//! the reply writers (RESP2/RESP3 aware) and argument parsing helpers.
//!
//! Handlers never see sockets: they read `args`, change `srv` and append to
//! the current client's output buffer through the reply methods.

use std::borrow::Cow;

use bytes::Bytes;
use handoff_protocol::encode;

use crate::client::Client;
use crate::errors;
use crate::server::Server;

/// An error reply, without the leading '-'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError(Cow::Borrowed(s))
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError(Cow::Owned(s))
    }
}

pub type CmdResult = Result<(), CmdError>;

/// The context of one command execution.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut Client,
    pub args: &'a [Bytes],
    /// Unix time in milliseconds, taken once for the command.
    pub now_ms: i64,
    /// Id of the command being run in the command table.
    pub cmd: usize,
    /// The batch's command clock (EXEC runs queued commands with it).
    pub clock: &'a mut crate::clock::CmdClock,
}

impl Ctx<'_> {
    /// True when this node writes a replication stream: handlers build
    /// rewritten effects only then (it costs allocations).
    #[inline]
    pub fn replicating(&self) -> bool {
        self.srv.repl.recording()
    }

    /// Propagates `args` instead of the command as received (relative TTLs
    /// made absolute, INCRBYFLOAT as SET KEEPTTL...). Takes effect only if
    /// the command changed the dataset (or forced propagation).
    pub fn propagate_as(&mut self, args: Vec<Bytes>) {
        if self.replicating() {
            self.srv.repl.frame.rewrite = Some(args);
        }
    }

    /// Adds an effect to the stream besides (before) the command's own; the
    /// whole command is then wrapped in MULTI/EXEC. Pair with
    /// [`Ctx::prevent_propagation`] to replace the command by several effects.
    pub fn also_propagate(&mut self, args: Vec<Bytes>) {
        if self.replicating() {
            if !self.srv.keyspace.expired.is_empty() {
                // Keys the command's lookups expired go out before this.
                crate::pubsub::settle_lookups(self.srv, Some(self.client));
            }
            let db = self.db();
            self.srv.repl.effects.push((db, args));
        }
    }

    /// The command itself is not propagated (its effects went out through
    /// [`Ctx::also_propagate`] or nested calls: EXEC, scripts).
    pub fn prevent_propagation(&mut self) {
        self.srv.repl.frame.prevent = true;
    }

    /// Propagates the command even though the dataset did not change
    /// (PUBLISH reaches the replicas' subscribers).
    pub fn force_propagation(&mut self) {
        self.srv.repl.frame.force = true;
    }

    /// Blocks the client on `keys` (in the current db) until one changes or
    /// `timeout` passes; the command is re-run then. Inside EXEC a blocking
    /// command does not block: it times out at once, as in Redis.
    pub fn block(
        &mut self,
        keys: &[Bytes],
        timeout: Option<std::time::Duration>,
        on_timeout: crate::blocking::TimeoutReply,
    ) {
        let args = self.args.to_vec();
        self.block_with_args(keys, timeout, on_timeout, args);
    }

    /// [`Ctx::block`] with the arguments to re-run given explicitly (XREAD
    /// pins `$` to the ID it meant when the client blocked).
    pub fn block_with_args(
        &mut self,
        keys: &[Bytes],
        timeout: Option<std::time::Duration>,
        on_timeout: crate::blocking::TimeoutReply,
        args: Vec<Bytes>,
    ) {
        use crate::blocking::{BlockState, TimeoutReply};
        if self.client.in_exec || self.client.kind == crate::client::ClientKind::PrimaryLink {
            match on_timeout {
                TimeoutReply::NullArray => self.null_array(),
                TimeoutReply::NullBulk => self.null(),
                TimeoutReply::ReplicaCount { offset, .. } => {
                    let n = crate::repl::primary::replicas_at(self.srv, offset);
                    self.int(n)
                }
                TimeoutReply::Shutdown => self.error(crate::errors::SHUTDOWN_FAILED),
            }
            return;
        }
        let db = self.db();
        let state = BlockState {
            keys: keys
                .iter()
                .map(|k| (db, Box::<[u8]>::from(&k[..])))
                .collect(),
            // A re-run that blocks again keeps its first deadline.
            deadline: match self.srv.blocking.inherit_deadline.take() {
                Some(original) => original,
                // A command held by a pause counts from its arrival.
                None => {
                    timeout.map(|t| self.client.postponed_since.unwrap_or(self.clock.last()) + t)
                }
            },
            on_timeout,
            cmd: self.cmd,
            args,
        };
        self.srv.blocking.add(self.client.slot, &state);
        self.client.blocked = Some(Box::new(state));
        self.srv.update_tracking();
    }

    /// Raises a keyspace notification (`notify-keyspace-events`) for `event`
    /// on `key` in the current database, if `class` is enabled.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.srv.notify_classes() & class == 0 {
            return;
        }
        let db = self.db();
        crate::pubsub::drain_new(self.srv, Some(self.client));
        crate::pubsub::notify(self.srv, Some(self.client), class, event, key, db);
    }

    /// Like [`Ctx::notify`] but without first raising pending `new` events
    /// (for an event Redis raises before the key creation it reports).
    pub fn notify_before_new(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.srv.notify_classes() & class == 0 {
            return;
        }
        let db = self.db();
        crate::pubsub::notify(self.srv, Some(self.client), class, event, key, db);
    }

    /// Runs write handler `run`, then raises its keyspace notification (see
    /// [`Ctx::notify_write`]). Command tables use it through small wrappers.
    pub fn run_notified(
        &mut self,
        run: super::spec::Handler,
        class: u32,
        event: &str,
        store: bool,
    ) -> CmdResult {
        let before = self.srv.keyspace.dirty;
        run(self)?;
        self.notify_write(before, class, event, store);
        Ok(())
    }

    /// After a write handler: raises `event` on `args[1]` if the command
    /// changed the dataset (`dirty` moved past `dirty_before`), then `del`
    /// if the key is gone. For STORE commands (`store`), an empty result
    /// raises only `del`, as in Redis.
    pub fn notify_write(&mut self, dirty_before: u64, class: u32, event: &str, store: bool) {
        if self.srv.keyspace.dirty == dirty_before || self.srv.notify_classes() == 0 {
            return;
        }
        let args = self.args;
        let key = &args[1];
        let db = self.db();
        let gone = self.srv.keyspace.dbs[db].get_raw(key).is_none();
        if !(store && gone) {
            self.notify(class, event, key);
        }
        if gone {
            self.notify(crate::pubsub::class::GENERIC, "del", key);
        }
    }

    /// Like [`Ctx::notify`] for a key of database `db` (MOVE, COPY ... DB).
    pub fn notify_in(&mut self, db: usize, class: u32, event: &str, key: &[u8]) {
        if self.srv.notify_classes() & class == 0 {
            return;
        }
        crate::pubsub::drain_new(self.srv, Some(self.client));
        crate::pubsub::notify(self.srv, Some(self.client), class, event, key, db);
    }

    /// The client's selected database.
    pub fn db(&self) -> usize {
        self.client.db
    }

    pub fn resp3(&self) -> bool {
        self.client.resp >= 3
    }

    fn out(&mut self) -> &mut bytes::BytesMut {
        &mut self.client.out
    }

    pub fn ok(&mut self) {
        self.out().extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &[u8]) {
        encode::simple(self.out(), s);
    }

    pub fn int(&mut self, n: i64) {
        encode::integer(self.out(), n);
    }

    pub fn bulk(&mut self, b: &[u8]) {
        encode::bulk(self.out(), b);
    }

    /// A bulk string holding a formatted integer (`$2\r\n42\r\n`).
    pub fn bulk_int(&mut self, n: i64) {
        let mut buf = crate::keyspace::value::itoa_buf::Buf::new();
        let s = buf.format(n);
        encode::bulk(&mut self.client.out, s);
    }

    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        let resp3 = self.resp3();
        encode::null_bulk(self.out(), resp3);
    }

    /// The null array reply: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        let resp3 = self.resp3();
        encode::null_array(self.out(), resp3);
    }

    pub fn array(&mut self, len: usize) {
        encode::array_header(self.out(), len);
    }

    /// A map of `len` pairs (a flat array of 2*len in RESP2).
    pub fn map(&mut self, len: usize) {
        if self.resp3() {
            encode::map_header(self.out(), len);
        } else {
            encode::array_header(self.out(), len * 2);
        }
    }

    /// A set of `len` members (an array in RESP2).
    pub fn set(&mut self, len: usize) {
        if self.resp3() {
            encode::set_header(self.out(), len);
        } else {
            encode::array_header(self.out(), len);
        }
    }

    /// A double: RESP3 `,` type, a bulk string in RESP2.
    pub fn double(&mut self, d: f64) {
        if self.resp3() {
            encode::double(self.out(), d);
        } else {
            let s = encode::format_double_like_redis(d);
            encode::bulk(self.out(), s.as_bytes());
        }
    }

    /// A boolean: RESP3 `#t`/`#f`, integer 1/0 in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3() {
            encode::boolean(self.out(), b);
        } else {
            encode::integer(self.out(), b as i64);
        }
    }

    /// Verbatim text (`=len\r\ntxt:...` in RESP3, a bulk string in RESP2).
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3() {
            encode::verbatim(self.out(), b"txt", text);
        } else {
            encode::bulk(self.out(), text);
        }
    }

    /// An error reply counted in errorstats, as Redis counts every error it sends.
    pub fn error(&mut self, text: &str) {
        self.srv.stats.count_error(text);
        encode::error(&mut self.client.out, text.as_bytes());
    }

    /// The argument at `i` (callers check arity first).
    pub fn arg(&self, i: usize) -> &Bytes {
        &self.args[i]
    }

    pub fn arg_i64(&self, i: usize) -> Result<i64, CmdError> {
        parse_i64(&self.args[i])
    }

    pub fn arg_is(&self, i: usize, word: &str) -> bool {
        self.args
            .get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
    }
}

/// Parses an integer argument the way Redis does (string2ll), or returns
/// `ERR value is not an integer or out of range`.
pub fn parse_i64(b: &[u8]) -> Result<i64, CmdError> {
    crate::keyspace::value::parse_canonical_i64(b).ok_or(CmdError::from(errors::NOT_INTEGER))
}

/// Parses a float argument like Redis's getDoubleFromObject (strtod on the
/// whole string, no spaces, NaN rejected), or `ERR value is not a valid float`.
pub fn parse_f64(b: &[u8]) -> Result<f64, CmdError> {
    parse_float(b).ok_or(CmdError::from(errors::NOT_FLOAT))
}

/// strtold-compatible parsing: accepts inf/infinity (any case), rejects NaN,
/// leading/trailing spaces and empty input.
pub fn parse_float(b: &[u8]) -> Option<f64> {
    if b.is_empty()
        || b.len() > 5000
        || b[0].is_ascii_whitespace()
        || b[b.len() - 1].is_ascii_whitespace()
    {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.contains("nan") {
        return None;
    }
    if body.starts_with("0x") {
        return parse_hex_float(&lower);
    }
    if body == "inf" || body == "infinity" {
        return Some(if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || c == b'.' || c == b'e' || c == b'+' || c == b'-')
    {
        return None;
    }
    s.parse::<f64>().ok()
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let hex = rest.strip_prefix("0x")?;
    let (mantissa, exp) = match hex.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (hex, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// Case-insensitive comparison of an argument with an ASCII word.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_parse_like_strtold() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
        assert_eq!(parse_float(b".5"), Some(0.5));
        assert_eq!(parse_float(b"0x10"), Some(16.0));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"abc", b"1,5"] {
            assert_eq!(parse_float(bad), None, "{:?}", bad);
        }
    }
}
