//! Incremental, zero-copy decoder for client requests (multibulk and inline).
//!
//! Owns exactly the byte-level rules Redis 7.0 applies to a client's query buffer: which
//! bytes form one request, which malformed headers are protocol errors and with which
//! text. It does no I/O and knows nothing about commands; the server feeds it its read
//! buffer and dispatches the argument vectors it yields.
//!
//! Several Redis quirks are reproduced on purpose, because clients and differential tests
//! observe them: header lines are found by looking for `\r` only (the byte after it is
//! skipped unchecked), the two bytes after a bulk payload are skipped unchecked, and a NUL
//! byte before the end of a header or inline line hides the terminator (Redis searches with
//! `strchr`), so such a request waits until it trips the size limit.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Size limits applied while decoding; the server derives them from its config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest bulk argument accepted.
    pub max_bulk_len: usize,
    /// The largest multibulk count accepted (Redis: `INT_MAX`).
    pub max_multibulk_len: usize,
    /// How many bytes may be buffered without finding the end of an inline request or a
    /// header line (Redis `PROTO_INLINE_MAX_SIZE`).
    pub inline_max: usize,
    /// Set while the client still has to authenticate: Redis then refuses multibulk counts
    /// above 10 and bulks above 16384 bytes so that an unauthenticated peer cannot make the
    /// server allocate much.
    pub unauthenticated: bool,
}

/// Multibulk count above which an unauthenticated client is refused.
pub const UNAUTHENTICATED_MAX_MULTIBULK_LEN: usize = 10;
/// Bulk length above which an unauthenticated client is refused.
pub const UNAUTHENTICATED_MAX_BULK_LEN: usize = 16384;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as usize,
            inline_max: 64 * 1024,
            unauthenticated: false,
        }
    }
}

/// A malformed request. The server replies `-ERR <message>` and closes the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    /// A bulk header did not start with `$`; carries the byte found instead.
    ExpectedDollar(u8),
    TooBigInlineRequest,
    TooBigMbulkCountString,
    TooBigBulkCountString,
    UnbalancedQuotes,
    /// Multibulk count above 10 before authentication.
    UnauthenticatedMultibulkLength,
    /// Bulk length above 16384 before authentication.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The exact wire text that follows `-ERR `. For [`ProtocolError::ExpectedDollar`] with a
    /// byte that is not valid UTF-8 on its own, prefer [`ProtocolError::message_bytes`].
    pub fn message(&self) -> String {
        String::from_utf8_lossy(&self.message_bytes()).into_owned()
    }

    /// The exact wire bytes that follow `-ERR `. Redis prints the offending byte raw, except
    /// that `\r` and `\n` become spaces (its error replies must stay on one line).
    pub fn message_bytes(&self) -> Vec<u8> {
        let text: &[u8] = match self {
            ProtocolError::InvalidMultibulkLength => b"Protocol error: invalid multibulk length",
            ProtocolError::InvalidBulkLength => b"Protocol error: invalid bulk length",
            ProtocolError::ExpectedDollar(b) => {
                let shown = if *b == b'\r' || *b == b'\n' { b' ' } else { *b };
                let mut v = b"Protocol error: expected '$', got '".to_vec();
                v.push(shown);
                v.push(b'\'');
                return v;
            }
            ProtocolError::TooBigInlineRequest => b"Protocol error: too big inline request",
            ProtocolError::TooBigMbulkCountString => b"Protocol error: too big mbulk count string",
            ProtocolError::TooBigBulkCountString => b"Protocol error: too big bulk count string",
            ProtocolError::UnbalancedQuotes => b"Protocol error: unbalanced quotes in request",
            ProtocolError::UnauthenticatedMultibulkLength => {
                b"Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::UnauthenticatedBulkLength => {
                b"Protocol error: unauthenticated bulk length"
            }
        };
        text.to_vec()
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ProtocolError {}

/// Outcome of [`RequestParser::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// `args` holds one complete request.
    Command,
    /// More bytes are needed; `buf` keeps the partial request.
    Incomplete,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No request in progress: the next byte decides multibulk or inline.
    #[default]
    Idle,
    /// Inside a multibulk request. `pos` is where the next bulk header (or, with
    /// `bulk_len` known, the next payload) starts in the buffer.
    Multibulk {
        remaining: usize,
        pos: usize,
        bulk_len: Option<usize>,
    },
}

/// Where one inline argument's bytes are: a plain range of the request, or (after quote or
/// escape processing) a range of the parser's scratch buffer.
#[derive(Debug, Clone, Copy)]
enum InlineArg {
    Input(usize, usize),
    Scratch(usize, usize),
}

/// Decoder state for one client connection. Keeps progress across calls so that a
/// half-received huge multibulk is not rescanned from the start.
///
/// The caller must only ever append to the buffer between calls that returned
/// [`Parsed::Incomplete`]; the parser remembers offsets into it.
#[derive(Debug, Default)]
pub struct RequestParser {
    state: State,
    /// Argument ranges of the multibulk in progress, reused across requests.
    ranges: Vec<(usize, usize)>,
    inline: Vec<InlineArg>,
    scratch: Vec<u8>,
    wanted: Option<usize>,
    /// An empty inline line was consumed (see [`RequestParser::take_empty_line`]).
    empty_line: bool,
    /// Tests compare the whole-request shortcut against the general path alone.
    #[cfg(test)]
    general_only: bool,
}

enum Step {
    /// The request at the front was consumed without yielding a command.
    Skipped,
    Command,
    Incomplete,
}

impl RequestParser {
    /// Creates a parser with no request in progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once after an empty line (`\n` or `\r\n`) was consumed: a
    /// replica's keepalive while it loads a snapshot, which its primary
    /// counts as an acknowledgement, as Redis does.
    pub fn take_empty_line(&mut self) -> bool {
        std::mem::take(&mut self.empty_line)
    }

    /// Parses at most one request from the front of `buf`. On [`Parsed::Command`], the bytes
    /// of that request are removed from `buf` and `args` (cleared first) holds zero-copy
    /// slices of them. Empty inline lines and `*0`/`*-N` headers are consumed silently and
    /// parsing continues with the next request. Errors are reported as soon as the malformed
    /// header line is complete, never waiting for more bytes than Redis would.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        args: &mut Vec<Bytes>,
    ) -> Result<Parsed, ProtocolError> {
        let result = self.parse_inner(buf, limits, args);
        if result.is_err() {
            // The connection is going to be closed; leave no offsets into a buffer the
            // caller may reuse.
            self.state = State::Idle;
            self.wanted = None;
        }
        result
    }

    fn parse_inner(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        args: &mut Vec<Bytes>,
    ) -> Result<Parsed, ProtocolError> {
        loop {
            let step = match self.state {
                State::Idle => match buf.first().copied() {
                    None => {
                        self.wanted = None;
                        return Ok(Parsed::Incomplete);
                    }
                    Some(b'*') if self.whole_multibulk(buf, limits, args) => Step::Command,
                    Some(b'*') => self.start_multibulk(buf, limits)?,
                    Some(_) => self.parse_inline(buf, limits, args)?,
                },
                State::Multibulk { .. } => self.continue_multibulk(buf, limits, args)?,
            };
            match step {
                Step::Skipped => continue,
                Step::Command => {
                    self.wanted = None;
                    return Ok(Parsed::Command);
                }
                Step::Incomplete => return Ok(Parsed::Incomplete),
            }
        }
    }

    /// How many more bytes the request in progress needs at least, if known (lets the
    /// server reserve capacity for a big bulk so it is read straight into place).
    pub fn bytes_wanted(&self) -> Option<usize> {
        self.wanted
    }

    /// Whether a multibulk request has been started but not completed.
    pub fn is_multibulk_in_progress(&self) -> bool {
        matches!(self.state, State::Multibulk { .. })
    }

    /// Takes a whole multibulk request from the front of `buf` in one pass, when all of it
    /// is there and every header has the form clients send ([`canonical_header`]) within the
    /// limits: true, with its arguments in `args`. Otherwise false, leaving `buf` and the
    /// parser's state as they were, and the general path below judges the request (a
    /// partial request, an odd header, an error) exactly as it always does; this path only
    /// spares the common case the state machine's bookkeeping.
    fn whole_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        args: &mut Vec<Bytes>,
    ) -> bool {
        #[cfg(test)]
        if self.general_only {
            return false;
        }
        let (max_count, max_len) = if limits.unauthenticated {
            (
                UNAUTHENTICATED_MAX_MULTIBULK_LEN.min(limits.max_multibulk_len),
                UNAUTHENTICATED_MAX_BULK_LEN.min(limits.max_bulk_len),
            )
        } else {
            (limits.max_multibulk_len, limits.max_bulk_len)
        };
        let b: &[u8] = buf;
        let Some((count, cr)) = canonical_header(&b[1..]) else {
            return false;
        };
        if count == 0 || count > max_count as u64 {
            return false;
        }
        self.ranges.clear();
        let mut pos = 1 + cr + 2;
        for _ in 0..count {
            if b.get(pos) != Some(&b'$') {
                return false;
            }
            let Some((len, cr)) = canonical_header(&b[pos + 1..]) else {
                return false;
            };
            if len > max_len as u64 {
                return false;
            }
            let start = pos + 1 + cr + 2;
            // Payload plus the two terminator bytes, which Redis skips without checking.
            let next = match usize::try_from(len)
                .ok()
                .and_then(|l| start.checked_add(l)?.checked_add(2))
            {
                Some(n) if n <= b.len() => n,
                _ => return false,
            };
            self.ranges.push((start, next - 2));
            pos = next;
        }
        self.take_request(buf, pos, args);
        true
    }

    /// Moves the request of `self.ranges`, `pos` bytes long, from `buf` to `args`.
    fn take_request(&mut self, buf: &mut BytesMut, pos: usize, args: &mut Vec<Bytes>) {
        // The request's own handle becomes its last argument, so each argument holds one
        // reference to the shared buffer and none is left over for the request as a
        // whole (a multibulk request has at least one argument).
        let mut request = buf.split_to(pos).freeze();
        args.clear();
        let (&(last_start, last_end), init) =
            self.ranges.split_last().expect("a multibulk has arguments");
        let mut consumed = 0;
        for &(a, b) in init {
            request.advance(a - consumed);
            args.push(request.split_to(b - a));
            consumed = b;
        }
        request.advance(last_start - consumed);
        request.truncate(last_end - last_start);
        args.push(request);
        self.ranges.clear();
    }

    fn start_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Step, ProtocolError> {
        self.wanted = None;
        let (count, cr) = match canonical_header(&buf[1..]) {
            Some((n, i)) => (n as i64, 1 + i),
            None => {
                let cr = match find_header_end(buf, 0) {
                    HeaderEnd::Line(cr) => cr,
                    HeaderEnd::Partial => return Ok(Step::Incomplete),
                    HeaderEnd::Missing => {
                        if buf.len() > limits.inline_max {
                            return Err(ProtocolError::TooBigMbulkCountString);
                        }
                        return Ok(Step::Incomplete);
                    }
                };
                let count = string2ll(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
                (count, cr)
            }
        };
        if count > 0 && count as u64 > limits.max_multibulk_len as u64 {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        if limits.unauthenticated && count > UNAUTHENTICATED_MAX_MULTIBULK_LEN as i64 {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        if count <= 0 {
            // Redis treats `*0` and negative counts as an empty request and moves on.
            buf.advance(cr + 2);
            return Ok(Step::Skipped);
        }
        self.ranges.clear();
        // `count` is bounded by max_multibulk_len, but do not trust it for the allocation.
        self.ranges.reserve((count as usize).min(1024));
        self.state = State::Multibulk {
            remaining: count as usize,
            pos: cr + 2,
            bulk_len: None,
        };
        Ok(Step::Skipped)
    }

    fn continue_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        args: &mut Vec<Bytes>,
    ) -> Result<Step, ProtocolError> {
        let State::Multibulk {
            mut remaining,
            mut pos,
            mut bulk_len,
        } = self.state
        else {
            return Ok(Step::Skipped);
        };
        let result = loop {
            if remaining == 0 {
                break Ok(Step::Command);
            }
            let len = match bulk_len {
                Some(len) => len,
                None => {
                    let canonical = if buf.get(pos) == Some(&b'$') {
                        canonical_header(&buf[pos + 1..])
                    } else {
                        None
                    };
                    let (n, cr) = match canonical {
                        Some((n, i)) => (Some(n as i64), pos + 1 + i),
                        None => {
                            let cr = match find_header_end(buf, pos) {
                                HeaderEnd::Line(cr) => cr,
                                HeaderEnd::Partial => break Ok(Step::Incomplete),
                                HeaderEnd::Missing => {
                                    if buf.len() - pos > limits.inline_max {
                                        break Err(ProtocolError::TooBigBulkCountString);
                                    }
                                    break Ok(Step::Incomplete);
                                }
                            };
                            let first = buf[pos];
                            if first != b'$' {
                                break Err(ProtocolError::ExpectedDollar(first));
                            }
                            (string2ll(&buf[pos + 1..cr]), cr)
                        }
                    };
                    let len = match n {
                        Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len as u64 => n as usize,
                        _ => break Err(ProtocolError::InvalidBulkLength),
                    };
                    if limits.unauthenticated && len > UNAUTHENTICATED_MAX_BULK_LEN {
                        break Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    pos = cr + 2;
                    bulk_len = Some(len);
                    len
                }
            };
            // Payload plus the two terminator bytes, which Redis skips without checking.
            let need = len.saturating_add(2);
            let have = buf.len() - pos;
            if have < need {
                self.wanted = Some(need - have);
                break Ok(Step::Incomplete);
            }
            self.ranges.push((pos, pos + len));
            pos += need;
            remaining -= 1;
            bulk_len = None;
        };
        match result {
            Ok(Step::Command) => {
                self.take_request(buf, pos, args);
                self.state = State::Idle;
                Ok(Step::Command)
            }
            Ok(step) => {
                if bulk_len.is_none() {
                    self.wanted = None;
                }
                self.state = State::Multibulk {
                    remaining,
                    pos,
                    bulk_len,
                };
                Ok(step)
            }
            Err(e) => Err(e),
        }
    }

    fn parse_inline(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        args: &mut Vec<Bytes>,
    ) -> Result<Step, ProtocolError> {
        self.wanted = None;
        // A NUL ends Redis's strchr search for the newline, so the line is "not found yet".
        let nl = match memchr::memchr2(b'\n', 0, buf) {
            Some(i) if buf[i] == b'\n' => i,
            _ => {
                if buf.len() > limits.inline_max {
                    return Err(ProtocolError::TooBigInlineRequest);
                }
                return Ok(Step::Incomplete);
            }
        };
        let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        self.inline.clear();
        self.scratch.clear();
        split_inline(&buf[..line_end], &mut self.inline, &mut self.scratch)?;
        if self.inline.is_empty() {
            self.empty_line |= line_end == 0;
            buf.advance(nl + 1);
            return Ok(Step::Skipped);
        }
        let request = buf.split_to(nl + 1).freeze();
        args.clear();
        for arg in &self.inline {
            args.push(match *arg {
                InlineArg::Input(a, b) => request.slice(a..b),
                InlineArg::Scratch(a, b) => Bytes::copy_from_slice(&self.scratch[a..b]),
            });
        }
        Ok(Step::Command)
    }
}

enum HeaderEnd {
    /// A `\r` at this index with at least one byte after it.
    Line(usize),
    /// The `\r` is the last byte so far: wait for one more.
    Partial,
    /// No `\r` yet (or a NUL hides it).
    Missing,
}

/// Reads the number of a header line in the form clients send (`*3\r\n`, `$16\r\n`): after
/// the type byte, `s` holds digits without sign or leading zero (or a lone `0`), at most 18
/// of them, then `\r` and at least one more byte. Gives the value and the index of the `\r`
/// in `s`. Anything else is None and left to [`find_header_end`] and [`string2ll`], which
/// agree with this on every line it accepts; this only saves scanning the line twice.
#[inline(always)]
fn canonical_header(s: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in s.iter().enumerate().take(19) {
        match b {
            b'0'..=b'9' => v = v * 10 + u64::from(b - b'0'),
            b'\r' if i > 0 && i + 1 < s.len() && (s[0] != b'0' || i == 1) => return Some((v, i)),
            _ => return None,
        }
    }
    None
}

/// Header lines up to this long are scanned byte by byte (see [`find_header_end`]).
const SHORT_HEADER: usize = 32;

/// Finds the end of a header line starting at `from` the way Redis does: the first `\r`,
/// unless a NUL comes first; the byte after `\r` is assumed to be `\n`.
#[inline]
fn find_header_end(buf: &[u8], from: usize) -> HeaderEnd {
    let Some(tail) = buf.get(from..) else {
        return HeaderEnd::Missing;
    };
    // Header lines are a few bytes (`$3`, `*16`): a plain loop finds their end in fewer
    // instructions than the SIMD search costs to set up, which only pays off on long lines.
    let short = tail.len().min(SHORT_HEADER);
    let found = match tail[..short].iter().position(|&b| b == b'\r' || b == 0) {
        Some(i) => Some(i),
        None if short < tail.len() => memchr::memchr2(b'\r', 0, &tail[short..]).map(|i| short + i),
        None => None,
    };
    match found {
        Some(i) if tail[i] == b'\r' => {
            if i + 1 < tail.len() {
                HeaderEnd::Line(from + i)
            } else {
                HeaderEnd::Partial
            }
        }
        _ => HeaderEnd::Missing,
    }
}

/// Parses a decimal i64 with Redis's `string2ll` rules: optional `-`, no `+`, no spaces,
/// no leading zeros (except the string "0"), no "-0", no overflow.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [] => return None,
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// C `isspace` in the "C" locale.
#[inline]
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits an inline request line the way Redis's `sdssplitargs` does. Unquoted tokens are
/// recorded as ranges of `line`; tokens that went through quote/escape handling are
/// written to `scratch`. `line` never contains NUL (the caller stops at one).
fn split_inline(
    line: &[u8],
    out: &mut Vec<InlineArg>,
    scratch: &mut Vec<u8>,
) -> Result<(), ProtocolError> {
    let n = line.len();
    let at = |i: usize| line.get(i).copied();
    let mut p = 0;
    loop {
        while p < n && is_c_space(line[p]) {
            p += 1;
        }
        if p >= n {
            return Ok(());
        }
        let start = p;
        // Stays true while the token is a plain run of input bytes.
        let mut plain = true;
        let scratch_start = scratch.len();
        let mut in_dq = false;
        let mut in_sq = false;
        let mut end = n;
        loop {
            let Some(c) = at(p) else {
                if in_dq || in_sq {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                break;
            };
            if in_dq {
                if c == b'\\' && at(p + 1) == Some(b'x') {
                    if let (Some(h), Some(l)) =
                        (at(p + 2).and_then(hex_val), at(p + 3).and_then(hex_val))
                    {
                        scratch.push(h * 16 + l);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && p + 1 < n {
                    scratch.push(match line[p + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                    p += 2;
                } else if c == b'"' {
                    // A closing quote must be followed by a space or the end of line.
                    if let Some(next) = at(p + 1) {
                        if !is_c_space(next) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                    }
                    p += 1;
                    break;
                } else {
                    scratch.push(c);
                    p += 1;
                }
            } else if in_sq {
                if c == b'\\' && at(p + 1) == Some(b'\'') {
                    scratch.push(b'\'');
                    p += 2;
                } else if c == b'\'' {
                    if let Some(next) = at(p + 1) {
                        if !is_c_space(next) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                    }
                    p += 1;
                    break;
                } else {
                    scratch.push(c);
                    p += 1;
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' => {
                        end = p;
                        p += 1;
                        break;
                    }
                    b'"' | b'\'' => {
                        if plain {
                            plain = false;
                            scratch.extend_from_slice(&line[start..p]);
                        }
                        in_dq = c == b'"';
                        in_sq = c == b'\'';
                    }
                    _ => {
                        if !plain {
                            scratch.push(c);
                        }
                    }
                }
                p += 1;
            }
        }
        if plain {
            out.push(InlineArg::Input(start, end));
        } else {
            out.push(InlineArg::Scratch(scratch_start, scratch.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Commands = Vec<Vec<Vec<u8>>>;

    fn parse_all(input: &[u8], limits: &Limits) -> (Result<Commands, ProtocolError>, Vec<u8>) {
        let mut buf = BytesMut::from(input);
        let mut parser = RequestParser::default();
        let mut args = Vec::new();
        let mut cmds = Vec::new();
        loop {
            match parser.parse(&mut buf, limits, &mut args) {
                Ok(Parsed::Command) => cmds.push(args.iter().map(|a| a.to_vec()).collect()),
                Ok(Parsed::Incomplete) => return (Ok(cmds), buf.to_vec()),
                Err(e) => return (Err(e), buf.to_vec()),
            }
        }
    }

    /// Parses one step and returns (result, args, remaining buffer).
    fn one(input: &[u8]) -> (Result<Parsed, ProtocolError>, Vec<Vec<u8>>, Vec<u8>) {
        one_with(input, &Limits::default())
    }

    fn one_with(
        input: &[u8],
        limits: &Limits,
    ) -> (Result<Parsed, ProtocolError>, Vec<Vec<u8>>, Vec<u8>) {
        let mut buf = BytesMut::from(input);
        let mut parser = RequestParser::default();
        let mut args = Vec::new();
        let r = parser.parse(&mut buf, limits, &mut args);
        let a = if r == Ok(Parsed::Command) {
            args.iter().map(|a| a.to_vec()).collect()
        } else {
            Vec::new()
        };
        (r, a, buf.to_vec())
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    /// Checks a complete request alone and followed by junk / another request.
    fn check_command(input: &[u8], expected: &[&str]) {
        for suffix in [&b""[..], b"junk", b"*1\r\n$4\r\nPING\r\n", b"PING\r\n"] {
            let mut data = input.to_vec();
            data.extend_from_slice(suffix);
            let (r, args, rest) = one(&data);
            assert_eq!(
                r,
                Ok(Parsed::Command),
                "input {:?}",
                String::from_utf8_lossy(&data)
            );
            assert_eq!(
                args,
                v(expected),
                "input {:?}",
                String::from_utf8_lossy(&data)
            );
            assert_eq!(rest, suffix, "input {:?}", String::from_utf8_lossy(&data));
        }
    }

    /// Checks an error alone and with trailing bytes (the error must not depend on them).
    fn check_error(input: &[u8], expected: ProtocolError) {
        for suffix in [&b""[..], b"junk", b"*1\r\n$4\r\nPING\r\n"] {
            let mut data = input.to_vec();
            data.extend_from_slice(suffix);
            let (r, _, _) = one(&data);
            assert_eq!(
                r,
                Err(expected.clone()),
                "input {:?}",
                String::from_utf8_lossy(&data)
            );
        }
    }

    fn check_incomplete(input: &[u8]) {
        let (r, _, rest) = one(input);
        assert_eq!(
            r,
            Ok(Parsed::Incomplete),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(rest, input);
    }

    #[test]
    fn a_simple_multibulk_is_parsed_and_removed_from_the_buffer() {
        check_command(
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n",
            &["SET", "k", "value"],
        );
    }

    #[test]
    fn an_empty_bulk_is_an_empty_argument() {
        check_command(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", &["ECHO", ""]);
    }

    #[test]
    fn binary_payloads_with_crlf_and_nul_inside_are_kept_whole() {
        check_command(b"*1\r\n$6\r\na\r\n\0\nb\r\n", &["a\r\n\0\nb"]);
    }

    #[test]
    fn the_two_bytes_after_a_bulk_are_skipped_unchecked_like_redis() {
        check_command(b"*1\r\n$4\r\nPINGxx", &["PING"]);
    }

    #[test]
    fn the_byte_after_a_header_cr_is_skipped_unchecked_like_redis() {
        check_command(b"*1\rX$4\rXPING\r\n", &["PING"]);
    }

    #[test]
    fn a_multibulk_count_of_zero_or_negative_is_consumed_silently() {
        for input in [&b"*0\r\n"[..], b"*-1\r\n", b"*-2\r\n"] {
            let (r, _, rest) = one(input);
            assert_eq!(r, Ok(Parsed::Incomplete));
            assert!(rest.is_empty());
            let mut data = input.to_vec();
            data.extend_from_slice(b"*1\r\n$4\r\nPING\r\nrest");
            let (r, args, rest) = one(&data);
            assert_eq!(r, Ok(Parsed::Command));
            assert_eq!(args, v(&["PING"]));
            assert_eq!(rest, b"rest");
        }
    }

    #[test]
    fn empty_inline_lines_are_consumed_silently() {
        let (r, _, rest) = one(b"\r\n\n   \r\n");
        assert_eq!(r, Ok(Parsed::Incomplete));
        assert!(rest.is_empty());
        check_command(b"\r\n\r\n \t\x0bPING\r\n", &["PING"]);
    }

    #[test]
    fn an_empty_line_is_reported_once_and_a_blank_one_is_not() {
        let limits = Limits::default();
        let mut parser = RequestParser::default();
        let mut args = Vec::new();
        let mut buf = BytesMut::from(&b"   \r\n"[..]);
        assert_eq!(
            parser.parse(&mut buf, &limits, &mut args),
            Ok(Parsed::Incomplete)
        );
        assert!(
            !parser.take_empty_line(),
            "Redis counts only a zero-length line"
        );
        let mut buf = BytesMut::from(&b"\n*1\r\n$4\r\nPING\r\n"[..]);
        assert_eq!(
            parser.parse(&mut buf, &limits, &mut args),
            Ok(Parsed::Command)
        );
        assert!(parser.take_empty_line());
        assert!(!parser.take_empty_line());
    }

    #[test]
    fn a_multibulk_count_that_is_not_a_redis_integer_is_invalid() {
        for input in [
            &b"*\r\n"[..],
            b"* 1\r\n",
            b"*+1\r\n",
            b"*01\r\n",
            b"*-0\r\n",
            b"*-\r\n",
            b"*abc\r\n",
            b"*1 \r\n",
            b"*1\n$4\r\n",
            b"*99999999999999999999\r\n",
        ] {
            check_error(input, ProtocolError::InvalidMultibulkLength);
        }
    }

    #[test]
    fn a_multibulk_count_above_int_max_is_invalid() {
        check_error(b"*2147483648\r\n", ProtocolError::InvalidMultibulkLength);
        check_incomplete(b"*2147483647\r\n");
    }

    #[test]
    fn a_multibulk_count_above_the_configured_limit_is_invalid() {
        let limits = Limits {
            max_multibulk_len: 3,
            ..Limits::default()
        };
        assert_eq!(
            one_with(b"*4\r\n", &limits).0,
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(one_with(b"*3\r\n", &limits).0, Ok(Parsed::Incomplete));
    }

    #[test]
    fn a_bulk_header_without_a_dollar_is_reported_with_the_byte_found() {
        check_error(b"*1\r\nx\r\n", ProtocolError::ExpectedDollar(b'x'));
        check_error(b"*1\r\n\r\n", ProtocolError::ExpectedDollar(b'\r'));
        check_error(
            b"*2\r\n$1\r\na\r\n:1\r\n",
            ProtocolError::ExpectedDollar(b':'),
        );
    }

    #[test]
    fn a_bulk_header_is_judged_only_once_its_line_is_complete() {
        check_incomplete(b"*1\r\nx");
        check_incomplete(b"*1\r\n\n");
        check_incomplete(b"*1\r\nx\r");
    }

    #[test]
    fn a_bulk_length_that_is_not_a_redis_integer_or_negative_is_invalid() {
        for input in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$-2\r\n",
            b"*1\r\n$-0\r\n",
            b"*1\r\n$+4\r\n",
            b"*1\r\n$04\r\n",
            b"*1\r\n$ 4\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$4\nPING\r\n",
        ] {
            check_error(input, ProtocolError::InvalidBulkLength);
        }
    }

    #[test]
    fn a_bulk_longer_than_proto_max_bulk_len_is_rejected() {
        check_error(b"*1\r\n$536870913\r\n", ProtocolError::InvalidBulkLength);
        check_incomplete(b"*1\r\n$536870912\r\n");
        let limits = Limits {
            max_bulk_len: 4,
            ..Limits::default()
        };
        assert_eq!(
            one_with(b"*1\r\n$5\r\n", &limits).0,
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            one_with(b"*1\r\n$4\r\nPING\r\n", &limits).0,
            Ok(Parsed::Command)
        );
    }

    #[test]
    fn unauthenticated_clients_get_small_limits_with_their_own_errors() {
        let limits = Limits {
            unauthenticated: true,
            ..Limits::default()
        };
        assert_eq!(
            one_with(b"*11\r\n", &limits).0,
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        assert_eq!(one_with(b"*10\r\n", &limits).0, Ok(Parsed::Incomplete));
        assert_eq!(
            one_with(b"*1\r\n$16385\r\n", &limits).0,
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
        assert_eq!(
            one_with(b"*1\r\n$16384\r\n", &limits).0,
            Ok(Parsed::Incomplete)
        );
    }

    #[test]
    fn unauthenticated_limits_apply_to_requests_that_arrived_whole() {
        let limits = Limits {
            unauthenticated: true,
            ..Limits::default()
        };
        let mut big = b"*1\r\n$16385\r\n".to_vec();
        big.extend_from_slice(&[b'x'; 16385]);
        big.extend_from_slice(b"\r\n");
        assert_eq!(
            one_with(&big, &limits).0,
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
        let mut many = b"*11\r\n".to_vec();
        for _ in 0..11 {
            many.extend_from_slice(b"$1\r\na\r\n");
        }
        assert_eq!(
            one_with(&many, &limits).0,
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        assert_eq!(
            one_with(&many[..], &Limits::default()).0,
            Ok(Parsed::Command)
        );
    }

    #[test]
    fn a_header_hidden_by_a_nul_waits_until_the_size_limit() {
        check_incomplete(b"*1\0\r\n");
        check_incomplete(b"*1\r\n$4\0\r\nPING\r\n");
        check_incomplete(b"PING\0\r\n");
        let mut big = b"*1\0\r\n".to_vec();
        big.resize(64 * 1024 + 1, b'x');
        assert_eq!(one(&big).0, Err(ProtocolError::TooBigMbulkCountString));
    }

    #[test]
    fn header_lines_longer_than_the_short_scan_are_found_the_same_way() {
        // The `\r` (or a NUL hiding it) lies past the byte-by-byte part of the search.
        let mut long = b"*1\r\n$".to_vec();
        long.extend_from_slice(&[b'1'; 40]);
        long.extend_from_slice(b"\r\n");
        check_error(&long, ProtocolError::InvalidBulkLength);
        let mut hidden = b"*1\r\n$".to_vec();
        hidden.extend_from_slice(&[b'1'; 40]);
        hidden.extend_from_slice(b"\0\r\n");
        check_incomplete(&hidden);
        let mut count = b"*".to_vec();
        count.extend_from_slice(&[b'0'; 40]);
        count.extend_from_slice(b"1\r\n");
        check_error(&count, ProtocolError::InvalidMultibulkLength);
    }

    #[test]
    fn the_canonical_header_shortcut_agrees_with_the_general_rules() {
        let mut rng = Rng(0x5eed);
        let alphabet = b"0123456789\r\n\0-+ x";
        let mut accepted = 0;
        for _ in 0..200_000 {
            let len = (rng.next() % 24) as usize;
            let mut line = vec![b'$'];
            line.extend((0..len).map(|_| {
                let r = rng.next() as usize;
                // Mostly digits, so that long numbers and leading zeros come up.
                if r.is_multiple_of(4) {
                    alphabet[(r >> 8) % alphabet.len()]
                } else {
                    b'0' + ((r >> 8) % 10) as u8
                }
            }));
            if let Some((v, i)) = canonical_header(&line[1..]) {
                accepted += 1;
                match find_header_end(&line, 0) {
                    HeaderEnd::Line(cr) => assert_eq!(cr, i + 1, "{line:?}"),
                    _ => panic!("{line:?}"),
                }
                assert_eq!(string2ll(&line[1..i + 1]), Some(v as i64), "{line:?}");
            }
        }
        assert!(accepted > 1000);
        assert_eq!(canonical_header(b"0\r\n"), Some((0, 1)));
        assert_eq!(canonical_header(b"16\r\n"), Some((16, 2)));
        assert_eq!(canonical_header(b"16\r"), None);
        assert_eq!(canonical_header(b"016\r\n"), None);
        assert_eq!(canonical_header(b"\r\n"), None);
        assert_eq!(
            canonical_header(b"999999999999999999\r\n"),
            Some((999_999_999_999_999_999, 18))
        );
        assert_eq!(canonical_header(b"1000000000000000000\r\n"), None);
    }

    /// How feeding ended: the bytes left and what the parser still wants, or the error.
    type Outcome = Result<(Vec<u8>, Option<usize>), ProtocolError>;

    /// Everything a parser yields from `input` fed whole: commands, then the error or the
    /// bytes left and what it still wants.
    fn parse_all_with(
        mut parser: RequestParser,
        input: &[u8],
        limits: &Limits,
    ) -> (Commands, Outcome) {
        let mut buf = BytesMut::from(input);
        let mut args = Vec::new();
        let mut cmds = Vec::new();
        loop {
            match parser.parse(&mut buf, limits, &mut args) {
                Ok(Parsed::Command) => cmds.push(args.iter().map(|a| a.to_vec()).collect()),
                Ok(Parsed::Incomplete) => {
                    return (cmds, Ok((buf.to_vec(), parser.bytes_wanted())));
                }
                Err(e) => return (cmds, Err(e)),
            }
        }
    }

    #[test]
    fn the_whole_request_shortcut_agrees_with_the_general_path() {
        let mut rng = Rng(0xfeed_f00d);
        let odd_counts = [
            "0",
            "-1",
            "01",
            "+2",
            "",
            " 2",
            "99999999999999999999",
            "11",
            "2 ",
        ];
        let odd_lens = ["-1", "+1", "00", " 1", "", "99999999999999999999", "16385"];
        let payload_bytes = b"ab\r\n\0$*";
        let limit_sets = [
            Limits::default(),
            Limits {
                unauthenticated: true,
                ..Limits::default()
            },
            Limits {
                max_bulk_len: 5,
                max_multibulk_len: 2,
                inline_max: 16,
                unauthenticated: false,
            },
        ];
        let mut shortcut_commands = 0;
        for round in 0..30_000 {
            let mut data = Vec::new();
            for _ in 0..1 + rng.next() % 3 {
                let argc = (rng.next() % 5) as usize;
                let count = if rng.next().is_multiple_of(10) {
                    odd_counts[rng.next() as usize % odd_counts.len()].to_string()
                } else {
                    argc.to_string()
                };
                data.extend_from_slice(format!("*{count}\r\n").as_bytes());
                for _ in 0..argc {
                    let len = (rng.next() % 20) as usize;
                    let header = match rng.next() % 12 {
                        0 => format!("${}", odd_lens[rng.next() as usize % odd_lens.len()]),
                        1 => format!("${}", len + 1),
                        2 => format!(":{len}"),
                        _ => format!("${len}"),
                    };
                    data.extend_from_slice(header.as_bytes());
                    data.extend_from_slice(b"\r\n");
                    data.extend(
                        (0..len).map(|_| payload_bytes[rng.next() as usize % payload_bytes.len()]),
                    );
                    if rng.next().is_multiple_of(20) {
                        data.extend_from_slice(b"xx");
                    } else {
                        data.extend_from_slice(b"\r\n");
                    }
                }
            }
            if rng.next().is_multiple_of(3) {
                data.truncate(rng.next() as usize % (data.len() + 1));
            }
            let limits = &limit_sets[round % limit_sets.len()];
            let both = parse_all_with(RequestParser::default(), &data, limits);
            let general = RequestParser {
                general_only: true,
                ..RequestParser::default()
            };
            assert_eq!(
                both,
                parse_all_with(general, &data, limits),
                "{:?} with {limits:?}",
                String::from_utf8_lossy(&data)
            );
            shortcut_commands += both.0.len();
        }
        assert!(shortcut_commands > 10_000);
    }

    #[test]
    fn a_multibulk_count_line_without_cr_longer_than_inline_max_is_too_big() {
        let mut data = b"*1".to_vec();
        data.resize(64 * 1024, b'1');
        check_incomplete(&data);
        data.push(b'1');
        assert_eq!(one(&data).0, Err(ProtocolError::TooBigMbulkCountString));
    }

    #[test]
    fn a_bulk_count_line_without_cr_longer_than_inline_max_is_too_big() {
        let mut data = b"*2\r\n$1\r\na\r\n$".to_vec();
        let header_at = data.len() - 1;
        data.resize(header_at + 64 * 1024, b'1');
        check_incomplete(&data);
        data.push(b'1');
        assert_eq!(one(&data).0, Err(ProtocolError::TooBigBulkCountString));
    }

    #[test]
    fn an_inline_request_without_newline_longer_than_inline_max_is_too_big() {
        let mut data = vec![b'a'; 64 * 1024];
        check_incomplete(&data);
        data.push(b'a');
        assert_eq!(one(&data).0, Err(ProtocolError::TooBigInlineRequest));
    }

    #[test]
    fn inline_requests_split_on_spaces_and_tabs_and_accept_bare_newlines() {
        check_command(b"SET  k\tv\r\n", &["SET", "k", "v"]);
        check_command(b"PING\n", &["PING"]);
        check_command(b"ECHO a\rb\r\n", &["ECHO", "a", "b"]);
        check_command(b"ECHO a\x0bb\r\n", &["ECHO", "a\x0bb"]);
        check_command(b"  PING  \r\n", &["PING"]);
    }

    #[test]
    fn inline_double_quotes_understand_escapes() {
        check_command(b"ECHO \"a b\"\r\n", &["ECHO", "a b"]);
        check_command(b"ECHO \"\"\r\n", &["ECHO", ""]);
        check_command(
            b"ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\"\r\n",
            &["ECHO", "\n\r\t\x08\x07\\\""],
        );
        check_command(b"ECHO \"\\x41\\x4g\"\r\n", &["ECHO", "Ax4g"]);
        check_command(b"ECHO \"\\x4\"\r\n", &["ECHO", "x4"]);
        check_command(b"ECHO \"a\\zb\"\r\n", &["ECHO", "azb"]);
        check_command(b"ECHO \"x\"\t\r\n", &["ECHO", "x"]);
        check_command(b"ECHO \"x\"\x0b\r\n", &["ECHO", "x"]);
        check_command(b"ECHO a\"b c\"\r\n", &["ECHO", "ab c"]);
    }

    #[test]
    fn inline_single_quotes_only_unescape_a_quote() {
        check_command(b"ECHO 'a\\'b'\r\n", &["ECHO", "a'b"]);
        check_command(b"ECHO 'a\\nb'\r\n", &["ECHO", "a\\nb"]);
    }

    #[test]
    fn inline_quotes_must_close_and_be_followed_by_a_space() {
        for input in [
            &b"PING \"a\r\n"[..],
            b"PING \"a\"b\r\n",
            b"ECHO \"a\"\"b\"\r\n",
            b"ECHO \"\\\"\r\n",
            b"ECHO 'a\r\n",
            b"ECHO 'a'b\r\n",
        ] {
            check_error(input, ProtocolError::UnbalancedQuotes);
        }
    }

    #[test]
    fn inline_plain_arguments_are_zero_copy_slices() {
        let mut buf = BytesMut::from(&b"SET key value\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let mut args = Vec::new();
        let r = RequestParser::default().parse(&mut buf, &Limits::default(), &mut args);
        assert_eq!(r, Ok(Parsed::Command));
        assert_eq!(args[1].as_ptr() as usize, base + 4);
    }

    #[test]
    fn multibulk_arguments_are_zero_copy_slices() {
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let mut args = Vec::new();
        let r = RequestParser::default().parse(&mut buf, &Limits::default(), &mut args);
        assert_eq!(r, Ok(Parsed::Command));
        assert_eq!(args[0].as_ptr() as usize, base + 8);
    }

    #[test]
    fn error_messages_match_redis_text() {
        assert_eq!(
            ProtocolError::InvalidMultibulkLength.message(),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'x').message(),
            "Protocol error: expected '$', got 'x'"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\r').message(),
            "Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\n').message(),
            "Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(0xff).message_bytes(),
            b"Protocol error: expected '$', got '\xff'".to_vec()
        );
        assert_eq!(
            ProtocolError::UnbalancedQuotes.message(),
            "Protocol error: unbalanced quotes in request"
        );
    }

    #[test]
    fn string2ll_follows_redis_rules() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", bad);
        }
    }

    const PIPELINE: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n\r\n*0\r\nPING\r\n\
        ECHO \"a b\" 'c'\n*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n*-1\r\n*1\r\n$4\r\nQUIT\r\n";

    fn expected_pipeline() -> Vec<Vec<Vec<u8>>> {
        vec![
            v(&["SET", "k", "value"]),
            v(&["PING"]),
            v(&["ECHO", "a b", "c"]),
            v(&["ECHO", "0123456789"]),
            v(&["QUIT"]),
        ]
    }

    fn feed_in_chunks(data: &[u8], cuts: &[usize]) -> Vec<Vec<Vec<u8>>> {
        let mut parser = RequestParser::default();
        let limits = Limits::default();
        let mut buf = BytesMut::new();
        let mut args = Vec::new();
        let mut cmds = Vec::new();
        let mut prev = 0;
        for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
            buf.extend_from_slice(&data[prev..cut]);
            prev = cut;
            while let Parsed::Command = parser.parse(&mut buf, &limits, &mut args).unwrap() {
                cmds.push(args.iter().map(|a| a.to_vec()).collect());
            }
        }
        assert!(buf.is_empty());
        cmds
    }

    #[test]
    fn a_pipeline_fed_whole_yields_every_command() {
        let (cmds, rest) = parse_all(PIPELINE, &Limits::default());
        assert_eq!(cmds.unwrap(), expected_pipeline());
        assert!(rest.is_empty());
    }

    #[test]
    fn a_pipeline_fed_byte_by_byte_gives_the_same_commands() {
        let cuts: Vec<usize> = (1..PIPELINE.len()).collect();
        assert_eq!(feed_in_chunks(PIPELINE, &cuts), expected_pipeline());
    }

    /// Small deterministic xorshift so the tests need no extra dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn a_pipeline_split_at_random_points_gives_the_same_commands() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        for _ in 0..2000 {
            let n = (rng.next() % 6) as usize;
            let mut cuts: Vec<usize> = (0..n)
                .map(|_| (rng.next() as usize) % (PIPELINE.len() + 1))
                .collect();
            cuts.sort_unstable();
            assert_eq!(
                feed_in_chunks(PIPELINE, &cuts),
                expected_pipeline(),
                "cuts {:?}",
                cuts
            );
        }
    }

    #[test]
    fn bytes_wanted_reports_the_rest_of_a_big_bulk() {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nSET\r\n$100000\r\nabc"[..]);
        let mut args = Vec::new();
        assert_eq!(
            parser.parse(&mut buf, &Limits::default(), &mut args),
            Ok(Parsed::Incomplete)
        );
        assert!(parser.is_multibulk_in_progress());
        assert_eq!(parser.bytes_wanted(), Some(100000 + 2 - 3));
        buf.extend_from_slice(&vec![b'x'; 100000 - 3]);
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            parser.parse(&mut buf, &Limits::default(), &mut args),
            Ok(Parsed::Command)
        );
        assert_eq!(args[1].len(), 100000);
        assert!(!parser.is_multibulk_in_progress());
        assert_eq!(parser.bytes_wanted(), None);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(12345);
        let alphabet = b"*$\r\n01-9 \"'\\x\0aZ";
        for _ in 0..20000 {
            let len = (rng.next() % 40) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng.next();
                    if r & 3 == 0 {
                        r as u8
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            let limits = Limits {
                inline_max: 16,
                max_bulk_len: 20,
                ..Limits::default()
            };
            let _ = parse_all(&data, &limits);
            // Byte-by-byte must agree with whole feeding up to the first error.
            let whole = parse_all(&data, &limits).0;
            if let Ok(whole) = whole {
                let mut parser = RequestParser::default();
                let mut buf = BytesMut::new();
                let mut args = Vec::new();
                let mut cmds = Vec::new();
                let mut failed = false;
                for &b in &data {
                    buf.extend_from_slice(&[b]);
                    loop {
                        match parser.parse(&mut buf, &limits, &mut args) {
                            Ok(Parsed::Command) => {
                                cmds.push(args.iter().map(|a| a.to_vec()).collect::<Vec<_>>())
                            }
                            Ok(Parsed::Incomplete) => break,
                            Err(_) => {
                                failed = true;
                                break;
                            }
                        }
                    }
                    if failed {
                        break;
                    }
                }
                if !failed {
                    assert_eq!(cmds, whole, "data {:?}", data);
                }
            }
        }
    }
}
