//! RESP2/RESP3 reply decoder for the client side (tests, tools, replication links).
//!
//! Owns the mapping between reply bytes and [`Frame`] values, in both directions: every
//! frame it accepts re-encodes to exactly the bytes it was parsed from, which the
//! byte-for-byte differential tests rely on. That is why RESP2's two nulls (`$-1`, `*-1`)
//! and RESP3's `_` are distinct variants and doubles keep their raw text. It is strict
//! (CRLF checked, canonical integers only) and bounded (nesting depth), and never panics.
//! Streamed (chunked) RESP3 aggregates are not supported.

use bytes::{Bytes, BytesMut};
use std::fmt;

use crate::encode;
use crate::request::string2ll;

/// Deepest aggregate nesting accepted; deeper input is refused rather than risking the
/// stack on hostile bytes.
pub const MAX_DEPTH: usize = 512;

/// One reply value.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(Bytes),
    /// `-text` (without the dash)
    Error(Bytes),
    /// `:n`
    Integer(i64),
    /// `$len` payload
    Bulk(Bytes),
    /// RESP2 null bulk `$-1`
    NullBulk,
    /// RESP2 null array `*-1`
    NullArray,
    /// RESP3 null `_`
    Null,
    /// `*n`
    Array(Vec<Frame>),
    /// `%n` pairs
    Map(Vec<(Frame, Frame)>),
    /// `~n`
    Set(Vec<Frame>),
    /// `|n` pairs; an attribute precedes the reply it describes and is parsed as its own frame.
    Attribute(Vec<(Frame, Frame)>),
    /// `>n`
    Push(Vec<Frame>),
    /// `,text`, kept as sent so it re-encodes identically.
    Double(Bytes),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(digits`
    BigNumber(Bytes),
    /// `=len fmt:text`
    Verbatim { format: Bytes, text: Bytes },
    /// RESP3 blob error `!len` payload
    BlobError(Bytes),
}

/// Malformed reply bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The first byte of a frame is not a RESP type.
    UnknownType(u8),
    /// A length or count that is not a canonical integer, or negative other than `-1`.
    InvalidLength,
    /// An integer reply that is not canonical decimal i64.
    InvalidInteger,
    /// `#` followed by something else than `t` or `f`.
    InvalidBoolean,
    /// A line or payload not terminated by CRLF.
    MissingCrlf,
    /// A verbatim string without a three-byte format and ':'.
    InvalidVerbatim,
    /// Aggregates nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// `_` followed by something before CRLF.
    InvalidNull,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::UnknownType(b) => write!(f, "unknown RESP type byte 0x{b:02x}"),
            FrameError::InvalidLength => f.write_str("invalid RESP length"),
            FrameError::InvalidInteger => f.write_str("invalid RESP integer"),
            FrameError::InvalidBoolean => f.write_str("invalid RESP boolean"),
            FrameError::MissingCrlf => f.write_str("missing CRLF in RESP frame"),
            FrameError::InvalidVerbatim => f.write_str("invalid RESP verbatim string"),
            FrameError::TooDeep => f.write_str("RESP aggregates nested too deeply"),
            FrameError::InvalidNull => f.write_str("invalid RESP null"),
        }
    }
}

impl std::error::Error for FrameError {}

type Step<T> = Result<Option<T>, FrameError>;

/// Returns the index of the `\r` of the first CRLF at or after `from`.
fn line_end(buf: &[u8], from: usize) -> Step<usize> {
    let tail = buf.get(from..).unwrap_or(&[]);
    match memchr::memchr(b'\r', tail) {
        None => Ok(None),
        Some(i) => match tail.get(i + 1) {
            None => Ok(None),
            Some(b'\n') => Ok(Some(from + i)),
            Some(_) => Err(FrameError::MissingCrlf),
        },
    }
}

/// A length or count: a canonical non-negative integer, or `-1` when `allow_null`.
fn parse_len(text: &[u8]) -> Result<Option<usize>, FrameError> {
    match string2ll(text) {
        Some(-1) => Ok(None),
        Some(n) if n >= 0 => usize::try_from(n)
            .map(Some)
            .map_err(|_| FrameError::InvalidLength),
        _ => Err(FrameError::InvalidLength),
    }
}

/// Walks one frame without building it, returning its length; used to decide cheaply
/// whether a whole frame has arrived.
fn scan(buf: &[u8], pos: usize, depth: usize) -> Step<usize> {
    if depth > MAX_DEPTH {
        return Err(FrameError::TooDeep);
    }
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(cr) = line_end(buf, pos + 1)? else {
        return Ok(None);
    };
    let header = &buf[pos + 1..cr];
    let after = cr + 2;
    match kind {
        b'+' | b'-' | b',' | b'(' => Ok(Some(after)),
        b'_' if header.is_empty() => Ok(Some(after)),
        b'_' => Err(FrameError::InvalidNull),
        b':' => {
            string2ll(header).ok_or(FrameError::InvalidInteger)?;
            Ok(Some(after))
        }
        b'#' => match header {
            b"t" | b"f" => Ok(Some(after)),
            _ => Err(FrameError::InvalidBoolean),
        },
        b'$' | b'=' | b'!' => {
            let Some(len) = parse_len(header)? else {
                return if kind == b'$' {
                    Ok(Some(after))
                } else {
                    Err(FrameError::InvalidLength)
                };
            };
            let end = after.checked_add(len).ok_or(FrameError::InvalidLength)?;
            match buf.get(end..end + 2) {
                None => Ok(None),
                Some(b"\r\n") => Ok(Some(end + 2)),
                Some(_) => Err(FrameError::MissingCrlf),
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let Some(count) = parse_len(header)? else {
                return if kind == b'*' {
                    Ok(Some(after))
                } else {
                    Err(FrameError::InvalidLength)
                };
            };
            let items = if matches!(kind, b'%' | b'|') {
                count.checked_mul(2).ok_or(FrameError::InvalidLength)?
            } else {
                count
            };
            let mut p = after;
            for _ in 0..items {
                match scan(buf, p, depth + 1)? {
                    Some(next) => p = next,
                    None => return Ok(None),
                }
            }
            Ok(Some(p))
        }
        other => Err(FrameError::UnknownType(other)),
    }
}

/// Builds the frame starting at `pos`, which `scan` has already validated as complete
/// (including its nesting depth, so the recursion here is bounded).
fn build(bytes: &Bytes, pos: usize) -> Result<(Frame, usize), FrameError> {
    let buf: &[u8] = bytes;
    let kind = *buf.get(pos).ok_or(FrameError::MissingCrlf)?;
    let cr = line_end(buf, pos + 1)?.ok_or(FrameError::MissingCrlf)?;
    let header = bytes.slice(pos + 1..cr);
    let after = cr + 2;
    let frame = match kind {
        b'+' => Frame::Simple(header),
        b'-' => Frame::Error(header),
        b',' => Frame::Double(header),
        b'(' => Frame::BigNumber(header),
        b'_' => Frame::Null,
        b':' => Frame::Integer(string2ll(&header).ok_or(FrameError::InvalidInteger)?),
        b'#' => Frame::Boolean(header.as_ref() == b"t"),
        b'$' | b'=' | b'!' => {
            let Some(len) = parse_len(&header)? else {
                return Ok((Frame::NullBulk, after));
            };
            let end = after + len;
            let payload = bytes.slice(after..end);
            let frame = match kind {
                b'$' => Frame::Bulk(payload),
                b'!' => Frame::BlobError(payload),
                _ => {
                    if payload.len() < 4 || payload[3] != b':' {
                        return Err(FrameError::InvalidVerbatim);
                    }
                    Frame::Verbatim {
                        format: payload.slice(..3),
                        text: payload.slice(4..),
                    }
                }
            };
            return Ok((frame, end + 2));
        }
        _ => {
            let Some(count) = parse_len(&header)? else {
                return Ok((Frame::NullArray, after));
            };
            let mut p = after;
            // `count` was checked against the bytes present by `scan`, so it is bounded.
            if matches!(kind, b'%' | b'|') {
                let mut pairs = Vec::with_capacity(count);
                for _ in 0..count {
                    let (k, next) = build(bytes, p)?;
                    let (v, next) = build(bytes, next)?;
                    pairs.push((k, v));
                    p = next;
                }
                let frame = if kind == b'%' {
                    Frame::Map(pairs)
                } else {
                    Frame::Attribute(pairs)
                };
                return Ok((frame, p));
            }
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                let (item, next) = build(bytes, p)?;
                items.push(item);
                p = next;
            }
            let frame = match kind {
                b'*' => Frame::Array(items),
                b'~' => Frame::Set(items),
                _ => Frame::Push(items),
            };
            return Ok((frame, p));
        }
    };
    Ok((frame, after))
}

impl Frame {
    /// Parses one frame from the front of `buf`. `Ok(None)` means more bytes are needed;
    /// otherwise returns the frame and how many bytes it used. Copies the frame's bytes
    /// once; use [`Frame::parse_bytes`] to share an existing `Bytes` instead.
    pub fn parse(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        let Some(len) = Self::complete_len(buf)? else {
            return Ok(None);
        };
        let owned = Bytes::copy_from_slice(&buf[..len]);
        let (frame, used) = build(&owned, 0)?;
        Ok(Some((frame, used)))
    }

    /// Like [`Frame::parse`], but payloads are zero-copy slices of `buf`.
    pub fn parse_bytes(buf: &Bytes) -> Result<Option<(Frame, usize)>, FrameError> {
        let Some(len) = Self::complete_len(buf)? else {
            return Ok(None);
        };
        let (frame, used) = build(buf, 0)?;
        debug_assert_eq!(used, len);
        Ok(Some((frame, used)))
    }

    /// The length of the complete frame at the front of `buf`, or `None` if it is not all
    /// there yet. Does not allocate.
    pub fn complete_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
        scan(buf, 0, 0)
    }

    /// Appends the wire form; for a parsed frame these are exactly the bytes parsed.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Frame::Simple(s) => encode::simple(out, s),
            Frame::Error(s) => encode::error(out, s),
            Frame::Integer(n) => encode::integer(out, *n),
            Frame::Bulk(b) => encode::bulk(out, b),
            Frame::NullBulk => encode::null_bulk_resp2(out),
            Frame::NullArray => encode::null_array_resp2(out),
            Frame::Null => encode::null_resp3(out),
            Frame::Array(items) => {
                encode::array_header(out, items.len());
                items.iter().for_each(|f| f.encode(out));
            }
            Frame::Set(items) => {
                encode::set_header(out, items.len());
                items.iter().for_each(|f| f.encode(out));
            }
            Frame::Push(items) => {
                encode::push_header(out, items.len());
                items.iter().for_each(|f| f.encode(out));
            }
            Frame::Map(pairs) | Frame::Attribute(pairs) => {
                if matches!(self, Frame::Map(_)) {
                    encode::map_header(out, pairs.len());
                } else {
                    encode::attribute_header(out, pairs.len());
                }
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
            Frame::Double(text) => {
                out.extend_from_slice(b",");
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Boolean(b) => encode::boolean(out, *b),
            Frame::BigNumber(d) => encode::big_number(out, d),
            Frame::Verbatim { format, text } => {
                let mut fmt = [b' '; 3];
                for (dst, src) in fmt.iter_mut().zip(format.iter()) {
                    *dst = *src;
                }
                encode::verbatim(out, &fmt, text);
            }
            Frame::BlobError(b) => {
                out.extend_from_slice(b"!");
                let mut tmp = BytesMut::new();
                encode::bulk(&mut tmp, b);
                out.extend_from_slice(&tmp[1..]);
            }
        }
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }

    /// The payload of a string-like frame (simple, bulk, verbatim text, double, big
    /// number, error); `None` for nulls, numbers and aggregates.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b)
            | Frame::Bulk(b)
            | Frame::Double(b)
            | Frame::BigNumber(b)
            | Frame::Error(b)
            | Frame::BlobError(b) => Some(b),
            Frame::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value of an integer reply, or of a simple/bulk string holding a Redis integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Frame::Integer(n) => Some(*n),
            Frame::Simple(b) | Frame::Bulk(b) => string2ll(b),
            _ => None,
        }
    }

    /// The elements of an array, set or push.
    pub fn as_array(&self) -> Option<&[Frame]> {
        match self {
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Some(v),
            _ => None,
        }
    }

    /// Whether this is an error reply (simple or blob).
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::BlobError(_))
    }

    /// Whether this is any of the null forms.
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }

    /// The text of an error reply, e.g. `ERR unknown command ...`.
    pub fn error_text(&self) -> Option<&[u8]> {
        match self {
            Frame::Error(b) | Frame::BlobError(b) => Some(b),
            _ => None,
        }
    }

    /// A readable rendering in the style of `redis-cli` (for logs and assertion messages).
    pub fn to_string_lossy(&self) -> String {
        let mut s = String::new();
        self.render(&mut s);
        s
    }

    fn render(&self, s: &mut String) {
        let text = |s: &mut String, b: &[u8]| s.push_str(&String::from_utf8_lossy(b));
        match self {
            Frame::Simple(b) | Frame::Double(b) | Frame::BigNumber(b) => text(s, b),
            Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
                s.push('"');
                text(s, b);
                s.push('"');
            }
            Frame::Error(b) | Frame::BlobError(b) => {
                s.push_str("(error) ");
                text(s, b);
            }
            Frame::Integer(n) => s.push_str(&n.to_string()),
            Frame::Boolean(b) => s.push_str(if *b { "true" } else { "false" }),
            Frame::NullBulk | Frame::NullArray | Frame::Null => s.push_str("(nil)"),
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
                s.push(match self {
                    Frame::Set(_) => '{',
                    Frame::Push(_) => '<',
                    _ => '[',
                });
                for (i, f) in v.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    f.render(s);
                }
                s.push(match self {
                    Frame::Set(_) => '}',
                    Frame::Push(_) => '>',
                    _ => ']',
                });
            }
            Frame::Map(pairs) | Frame::Attribute(pairs) => {
                s.push_str(if matches!(self, Frame::Map(_)) {
                    "{"
                } else {
                    "|{"
                });
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    k.render(s);
                    s.push_str(": ");
                    v.render(s);
                }
                s.push('}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample parses whole, re-encodes to identical bytes, stops before trailing
    /// junk and reports "incomplete" for every strict prefix.
    fn roundtrip(wire: &[u8]) -> Frame {
        let (frame, used) = Frame::parse(wire).unwrap().unwrap();
        assert_eq!(used, wire.len());
        assert_eq!(
            frame.to_bytes().as_ref(),
            wire,
            "{}",
            String::from_utf8_lossy(wire)
        );
        let mut with_junk = wire.to_vec();
        with_junk.extend_from_slice(b"+next\r\n");
        let (again, used) = Frame::parse(&with_junk).unwrap().unwrap();
        assert_eq!(used, wire.len());
        assert_eq!(again, frame);
        for cut in 0..wire.len() {
            assert_eq!(
                Frame::parse(&wire[..cut]),
                Ok(None),
                "prefix {cut} of {:?}",
                wire
            );
        }
        frame
    }

    #[test]
    fn every_resp2_type_roundtrips_byte_for_byte() {
        assert_eq!(
            roundtrip(b"+OK\r\n"),
            Frame::Simple(Bytes::from_static(b"OK"))
        );
        assert_eq!(
            roundtrip(b"-ERR bad\r\n"),
            Frame::Error(Bytes::from_static(b"ERR bad"))
        );
        assert_eq!(roundtrip(b":-12\r\n"), Frame::Integer(-12));
        assert_eq!(
            roundtrip(b"$3\r\na\r\n\r\n"),
            Frame::Bulk(Bytes::from_static(b"a\r\n"))
        );
        assert_eq!(roundtrip(b"$0\r\n\r\n"), Frame::Bulk(Bytes::new()));
        assert_eq!(roundtrip(b"$-1\r\n"), Frame::NullBulk);
        assert_eq!(roundtrip(b"*-1\r\n"), Frame::NullArray);
        assert_eq!(roundtrip(b"*0\r\n"), Frame::Array(vec![]));
        roundtrip(b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n");
    }

    #[test]
    fn every_resp3_type_roundtrips_byte_for_byte() {
        assert_eq!(roundtrip(b"_\r\n"), Frame::Null);
        assert_eq!(roundtrip(b"#t\r\n"), Frame::Boolean(true));
        assert_eq!(roundtrip(b"#f\r\n"), Frame::Boolean(false));
        assert_eq!(
            roundtrip(b",0.10000000000000001\r\n"),
            Frame::Double(Bytes::from_static(b"0.10000000000000001"))
        );
        roundtrip(b",inf\r\n");
        roundtrip(b"(3492890328409238509324850943850943825024385\r\n");
        assert_eq!(
            roundtrip(b"=15\r\ntxt:Some string\r\n"),
            Frame::Verbatim {
                format: Bytes::from_static(b"txt"),
                text: Bytes::from_static(b"Some string")
            }
        );
        roundtrip(b"%2\r\n+a\r\n:1\r\n$1\r\nb\r\n%0\r\n");
        roundtrip(b"~2\r\n+a\r\n+b\r\n");
        roundtrip(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
        roundtrip(b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n");
        roundtrip(b"!21\r\nSYNTAX invalid syntax\r\n");
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert_eq!(Frame::parse(b"?x\r\n"), Err(FrameError::UnknownType(b'?')));
        assert_eq!(Frame::parse(b":01\r\n"), Err(FrameError::InvalidInteger));
        assert_eq!(Frame::parse(b":1x\r\n"), Err(FrameError::InvalidInteger));
        assert_eq!(Frame::parse(b"$-2\r\n"), Err(FrameError::InvalidLength));
        assert_eq!(Frame::parse(b"%-1\r\n"), Err(FrameError::InvalidLength));
        assert_eq!(Frame::parse(b"$1\r\nabc\r\n"), Err(FrameError::MissingCrlf));
        assert_eq!(Frame::parse(b"+a\rb\r\n"), Err(FrameError::MissingCrlf));
        assert_eq!(Frame::parse(b"#x\r\n"), Err(FrameError::InvalidBoolean));
        assert_eq!(Frame::parse(b"_x\r\n"), Err(FrameError::InvalidNull));
        assert_eq!(
            Frame::parse(b"=3\r\ntxt\r\n"),
            Err(FrameError::InvalidVerbatim)
        );
        assert_eq!(Frame::parse(b"*99999999999999999\r\n"), Ok(None));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 2);
        assert_eq!(Frame::parse(&deep), Err(FrameError::TooDeep));
        let mut ok = b"*1\r\n".repeat(10);
        ok.extend_from_slice(b":1\r\n");
        roundtrip(&ok);
    }

    #[test]
    fn zero_copy_parsing_shares_the_input() {
        let input = Bytes::from_static(b"*1\r\n$5\r\nhello\r\n");
        let (frame, _) = Frame::parse_bytes(&input).unwrap().unwrap();
        let Frame::Array(items) = frame else {
            panic!("not an array")
        };
        let Frame::Bulk(b) = &items[0] else {
            panic!("not a bulk")
        };
        assert_eq!(b.as_ptr(), input[8..].as_ptr());
    }

    #[test]
    fn helpers_expose_payloads() {
        let f = roundtrip(b"-WRONGTYPE Operation\r\n");
        assert!(f.is_error());
        assert_eq!(f.error_text(), Some(&b"WRONGTYPE Operation"[..]));
        assert_eq!(Frame::Bulk(Bytes::from_static(b"42")).as_int(), Some(42));
        assert_eq!(Frame::Integer(7).as_int(), Some(7));
        assert!(Frame::NullBulk.is_null());
        let a = roundtrip(b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(a.to_string_lossy(), "[\"a\", 1]");
        assert_eq!(a.as_array().map(<[Frame]>::len), Some(2));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x2545F4914F6CDD1D;
        let alphabet = b"+-:$*%~>|,#(=_!\r\n0123-tfx:";
        for _ in 0..50000 {
            let len = (x % 30) as usize;
            let mut data = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.push(if x & 7 == 0 {
                    x as u8
                } else {
                    alphabet[(x >> 8) as usize % alphabet.len()]
                });
            }
            if let Ok(Some((frame, used))) = Frame::parse(&data) {
                assert_eq!(frame.to_bytes().as_ref(), &data[..used], "{:?}", data);
            }
        }
    }
}
