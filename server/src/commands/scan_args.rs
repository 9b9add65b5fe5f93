//! The arguments shared by SCAN, HSCAN, SSCAN and ZSCAN: the cursor and the
//! `[MATCH pattern] [COUNT count] [TYPE type]` options, parsed with Redis's
//! errors (`scanGenericCommand`), plus the reply's header. It does not look
//! up keys or walk collections: each command does that, and decides when to
//! parse (HSCAN/SSCAN/ZSCAN parse the options after the key lookup, as Redis
//! does, so a missing key answers an empty page whatever the options).

use bytes::{Bytes, BytesMut};
use handoff_protocol::encode;

use super::ctx::{is, parse_i64, CmdError};
use crate::config::glob::glob_match;
use crate::errors;

/// The reply of a scan over a missing key: cursor 0 and no elements.
pub const EMPTY_REPLY: &[u8] = b"*2\r\n$1\r\n0\r\n*0\r\n";

/// The options of one scan call.
pub struct ScanOptions<'a> {
    /// COUNT, at least 1 (10 when not given).
    pub count: usize,
    /// MATCH, or None when absent or `*` (everything matches).
    pub pattern: Option<&'a [u8]>,
    /// TYPE (SCAN only), compared case-insensitively with the type name.
    pub type_name: Option<&'a [u8]>,
}

impl ScanOptions<'_> {
    /// True when `item` passes MATCH.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, item, false))
    }
}

/// Parses a cursor argument, or `ERR invalid cursor`.
pub fn cursor(arg: &[u8]) -> Result<u64, CmdError> {
    parse_cursor(arg).ok_or(CmdError::from("ERR invalid cursor"))
}

/// Parses the options that follow the cursor. Each option takes a value; a
/// later one overrides an earlier one. An unknown word, a missing value, or
/// TYPE when `with_type` is false is `ERR syntax error`; a COUNT that is not
/// an integer is `ERR value is not an integer or out of range`, and one below
/// 1 is `ERR syntax error`, reported in argument order as Redis does.
pub fn options(opts: &[Bytes], with_type: bool) -> Result<ScanOptions<'_>, CmdError> {
    let mut parsed = ScanOptions {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut i = 0;
    while i < opts.len() {
        let value = opts.get(i + 1).map(|v| &v[..]);
        match value {
            Some(v) if is(&opts[i], "count") => {
                let count = parse_i64(v)?;
                if count < 1 {
                    return Err(errors::SYNTAX.into());
                }
                parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
            }
            Some(v) if is(&opts[i], "match") => parsed.pattern = (v != b"*").then_some(v),
            Some(v) if with_type && is(&opts[i], "type") => parsed.type_name = Some(v),
            _ => return Err(errors::SYNTAX.into()),
        }
        i += 2;
    }
    Ok(parsed)
}

/// Starts a scan reply: the array of two, the next cursor, and the header of
/// the `len` elements that the caller appends.
pub fn reply_header(out: &mut BytesMut, next: u64, len: usize) {
    encode::array_header(out, 2);
    encode::bulk(out, next.to_string().as_bytes());
    encode::array_header(out, len);
}

/// Parses a SCAN cursor like Redis's strtoul-based parser: base 10, optional
/// sign ('-' negates modulo 2^64), no leading space, nothing after the digits
/// (the string ends at a NUL byte, as a C string would), empty means 0.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = match arg.iter().position(|&c| c == 0) {
        Some(p) => &arg[..p],
        None => arg,
    };
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn error(words: &[&str], with_type: bool) -> String {
        match options(&args(words), with_type) {
            Ok(_) => "ok".into(),
            Err(e) => e.0.into_owned(),
        }
    }

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"017"), Some(17));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-0"), Some(0));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_cursor(b"3\0junk"), Some(3));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"+",
            b"-",
            b"0x1",
            b"1a",
            b"+-1",
        ] {
            assert_eq!(parse_cursor(bad), None, "{:?}", bad);
        }
        assert!(cursor(b"x").is_err());
    }

    #[test]
    fn options_parse_with_redis_errors_in_order() {
        let words = args(&["MATCH", "a*", "count", "5"]);
        let o = options(&words, false).unwrap();
        assert_eq!((o.count, o.pattern), (5, Some(&b"a*"[..])));
        assert!(o.matches(b"ab") && !o.matches(b"ba"));
        let words = args(&["match", "*", "COUNT", "3", "COUNT", "7"]);
        let o = options(&words, false).unwrap();
        assert_eq!((o.count, o.pattern), (7, None));
        assert!(o.matches(b"anything"));
        assert_eq!(options(&[], false).unwrap().count, 10);
        let words = args(&["TYPE", "string"]);
        let o = options(&words, true).unwrap();
        assert_eq!(o.type_name, Some(&b"string"[..]));

        let syntax = "ERR syntax error";
        let not_int = "ERR value is not an integer or out of range";
        assert_eq!(error(&["TYPE", "string"], false), syntax);
        assert_eq!(error(&["COUNT"], false), syntax);
        assert_eq!(error(&["COUNT", "0"], false), syntax);
        assert_eq!(error(&["COUNT", "-1"], false), syntax);
        assert_eq!(error(&["COUNT", "x"], false), not_int);
        assert_eq!(error(&["COUNT", "x", "bogus", "1"], false), not_int);
        assert_eq!(error(&["bogus", "1", "COUNT", "x"], false), syntax);
        assert_eq!(error(&["MATCH", "a", "COUNT"], false), syntax);
    }
}
