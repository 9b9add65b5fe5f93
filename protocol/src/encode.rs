//! RESP2/RESP3 reply and request writers.
//!
//! Owns the exact wire form of every reply type and the text Redis uses for numbers
//! (integers, `%.17g` doubles, INCRBYFLOAT's human form). Functions append to a caller's
//! `BytesMut`; they never allocate beyond growing it, except the double formatters.
//! It does not decide *which* reply a command gives, nor whether the client speaks RESP2
//! or RESP3: callers pick the matching writer.

use bytes::{BufMut, BytesMut};

/// Room for the longest decimal i64 ("-9223372036854775808").
const DIGITS: usize = 20;

/// Writes the decimal form of `v` right-aligned to end just before `end` in `buf`
/// (which has room for it), returning where it starts.
#[inline(always)]
fn decimal_before(tmp: &mut [u8], end: usize, v: i64) -> usize {
    let mut i = end;
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        tmp[i] = b'-';
    }
    i
}

/// Room for a type byte, the longest decimal i64 and CRLF.
const INT_LINE: usize = 1 + DIGITS + 2;

/// The line `prefix`, decimal `v`, CRLF, right-aligned in a stack buffer: the line is
/// `tmp[start..]`, so it is appended with a single copy.
#[inline]
fn int_line(prefix: u8, v: i64) -> ([u8; INT_LINE], usize) {
    let mut tmp = [0u8; INT_LINE];
    tmp[INT_LINE - 2..].copy_from_slice(b"\r\n");
    let i = decimal_before(&mut tmp, INT_LINE - 2, v) - 1;
    tmp[i] = prefix;
    (tmp, i)
}

/// The line `prefix`, decimal `v`, CRLF for `v` in `0..100_000` (most lengths and counts),
/// as a little-endian word and the line's length. Built in a register: digits stored one
/// by one and then copied out as a line stall the copy's loads (store forwarding fails).
#[inline]
fn short_int_line(prefix: u8, v: i64) -> Option<(u64, usize)> {
    if !(0..100_000).contains(&v) {
        return None;
    }
    let mut n = v as u64;
    let mut digits = 0u64;
    let mut count = 0;
    loop {
        // The most significant digit ends up in the lowest byte: the text order.
        digits = digits << 8 | (u64::from(b'0') + n % 10);
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let crlf = u64::from(u16::from_le_bytes(*b"\r\n"));
    Some((
        u64::from(prefix) | digits << 8 | crlf << (8 * (count + 1)),
        count + 3,
    ))
}

/// Writes `prefix`, the decimal `v` and CRLF, without `format!`.
#[inline]
fn prefixed_int(buf: &mut BytesMut, prefix: u8, v: i64) {
    match short_int_line(prefix, v) {
        Some((word, len)) => {
            // All eight bytes go in with one store, then the length is cut back: a
            // copy of `len` bytes would be a memcpy call for a few bytes.
            let end = buf.len() + len;
            buf.put_u64_le(word);
            buf.truncate(end);
        }
        None => {
            let (tmp, start) = int_line(prefix, v);
            buf.extend_from_slice(&tmp[start..]);
        }
    }
}

#[inline]
fn prefixed_len(buf: &mut BytesMut, prefix: u8, len: usize) {
    // Lengths of real buffers always fit in i64.
    prefixed_int(buf, prefix, i64::try_from(len).unwrap_or(i64::MAX));
}

#[inline]
fn line(buf: &mut BytesMut, prefix: u8, text: &[u8]) {
    buf.reserve(text.len() + 3);
    buf.put_u8(prefix);
    buf.extend_from_slice(text);
    buf.extend_from_slice(b"\r\n");
}

/// `+text\r\n`. `text` must not contain CR or LF.
#[inline]
pub fn simple(buf: &mut BytesMut, text: &[u8]) {
    line(buf, b'+', text);
}

/// `-text\r\n`; `text` is the full error without the dash, e.g. `b"ERR unknown command"`.
#[inline]
pub fn error(buf: &mut BytesMut, text: &[u8]) {
    line(buf, b'-', text);
}

/// `:v\r\n`.
#[inline]
pub fn integer(buf: &mut BytesMut, v: i64) {
    prefixed_int(buf, b':', v);
}

/// `$len\r\ndata\r\n`.
#[inline]
pub fn bulk(buf: &mut BytesMut, data: &[u8]) {
    // Room for the header and CRLF of any real length (the slack also spares a client's
    // reply buffer a reclaim on every request).
    buf.reserve(data.len() + 16);
    prefixed_len(buf, b'$', data.len());
    buf.extend_from_slice(data);
    buf.extend_from_slice(b"\r\n");
}

/// A bulk holding the decimal text of `v` (e.g. INCR's reply in a bulk context).
#[inline]
pub fn bulk_integer(buf: &mut BytesMut, v: i64) {
    let mut tmp = [0u8; DIGITS];
    let start = decimal_before(&mut tmp, DIGITS, v);
    bulk(buf, &tmp[start..]);
}

/// RESP2 null bulk `$-1\r\n`.
#[inline]
pub fn null_bulk_resp2(buf: &mut BytesMut) {
    buf.extend_from_slice(b"$-1\r\n");
}

/// RESP2 null array `*-1\r\n`.
#[inline]
pub fn null_array_resp2(buf: &mut BytesMut) {
    buf.extend_from_slice(b"*-1\r\n");
}

/// RESP3 null `_\r\n`.
#[inline]
pub fn null_resp3(buf: &mut BytesMut) {
    buf.extend_from_slice(b"_\r\n");
}

/// The null bulk of the reader's protocol: `$-1` in RESP2, `_` in RESP3.
#[inline]
pub fn null_bulk(buf: &mut BytesMut, resp3: bool) {
    buf.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" });
}

/// The null array of the reader's protocol: `*-1` in RESP2, `_` in RESP3.
#[inline]
pub fn null_array(buf: &mut BytesMut, resp3: bool) {
    buf.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" });
}

/// `*len\r\n`.
#[inline]
pub fn array_header(buf: &mut BytesMut, len: usize) {
    prefixed_len(buf, b'*', len);
}

/// RESP3 map `%len\r\n` (`len` counts pairs).
#[inline]
pub fn map_header(buf: &mut BytesMut, len: usize) {
    prefixed_len(buf, b'%', len);
}

/// RESP3 set `~len\r\n`.
#[inline]
pub fn set_header(buf: &mut BytesMut, len: usize) {
    prefixed_len(buf, b'~', len);
}

/// RESP3 push `>len\r\n`.
#[inline]
pub fn push_header(buf: &mut BytesMut, len: usize) {
    prefixed_len(buf, b'>', len);
}

/// RESP3 attribute `|len\r\n` (`len` counts pairs).
#[inline]
pub fn attribute_header(buf: &mut BytesMut, len: usize) {
    prefixed_len(buf, b'|', len);
}

/// RESP3 double `,text\r\n` with the text Redis 7.0 uses (`%.17g`, `inf`, `-inf`).
pub fn double(buf: &mut BytesMut, v: f64) {
    line(buf, b',', format_double_like_redis(v).as_bytes());
}

/// A RESP2 bulk holding a double as Redis 7.0 prints it (ZSCORE and friends in RESP2).
pub fn bulk_double(buf: &mut BytesMut, v: f64) {
    bulk(buf, format_double_like_redis(v).as_bytes());
}

/// RESP3 boolean `#t\r\n` / `#f\r\n`.
#[inline]
pub fn boolean(buf: &mut BytesMut, v: bool) {
    buf.extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
}

/// RESP3 big number `(digits\r\n`.
#[inline]
pub fn big_number(buf: &mut BytesMut, digits: &[u8]) {
    line(buf, b'(', digits);
}

/// RESP3 verbatim string `=len\r\nfmt:text\r\n`; `len` counts the `fmt:` prefix.
pub fn verbatim(buf: &mut BytesMut, format: &[u8; 3], text: &[u8]) {
    buf.reserve(text.len() + 24);
    prefixed_len(buf, b'=', text.len() + 4);
    buf.extend_from_slice(format);
    buf.put_u8(b':');
    buf.extend_from_slice(text);
    buf.extend_from_slice(b"\r\n");
}

/// Writes a request as a multibulk: `*n` then one bulk per argument.
pub fn encode_command<A: AsRef<[u8]>>(buf: &mut BytesMut, args: &[A]) {
    array_header(buf, args.len());
    for a in args {
        bulk(buf, a.as_ref());
    }
}

/// Formats like C `printf("%.17g", v)`, which is what Redis 7.0 replies for doubles
/// (ZSCORE: `0.1` -> `0.10000000000000001`, `1e22` -> `1e+22`), with RESP3's `inf`,
/// `-inf` and `nan` for the special values.
pub fn format_double_like_redis(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    format_g17(v)
}

/// `%.17g` for a finite value.
fn format_g17(v: f64) -> String {
    const P: i32 = 17;
    // `{:.16e}` rounds to 17 significant digits exactly as printf does; its exponent is
    // the one %g decides with.
    let sci = format!("{:.16e}", v);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let negative = mantissa.starts_with('-');
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut out = String::with_capacity(32);
    if negative {
        out.push('-');
    }
    if !(-4..P).contains(&exp) {
        let (first, rest) = digits
            .split_first()
            .map_or((b'0', &[][..]), |(f, r)| (*f, r));
        out.push(first as char);
        let rest = trim_trailing_zeros(rest);
        if !rest.is_empty() {
            out.push('.');
            out.extend(rest.iter().map(|&d| d as char));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if exp >= 0 {
        let int_len = (exp + 1) as usize;
        let (int_part, frac) = digits.split_at(int_len.min(digits.len()));
        out.extend(int_part.iter().map(|&d| d as char));
        let frac = trim_trailing_zeros(frac);
        if !frac.is_empty() {
            out.push('.');
            out.extend(frac.iter().map(|&d| d as char));
        }
    } else {
        let frac = trim_trailing_zeros(&digits);
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.extend(frac.iter().map(|&d| d as char));
    }
    out
}

fn trim_trailing_zeros(d: &[u8]) -> &[u8] {
    let end = d.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
    &d[..end]
}

/// The text INCRBYFLOAT (and HINCRBYFLOAT) stores and replies: fixed notation, no
/// exponent, no trailing zeros, `-0` shown as `0`.
///
/// Redis computes in `long double` and prints `%.17Lf`; an `f64` cannot reproduce the
/// extra precision, so this prints the shortest text that round-trips the `f64`, rounded
/// to 17 decimals. It agrees with Redis whenever the long double result prints with at
/// most ~15 significant digits (`10.5 + 0.1` -> `10.6`, `3.0e3` -> `3000`), and differs
/// where Redis exposes long double noise (`5.0e3 + 2.0e-1` is `5000.20000000000000018`
/// in Redis, `5000.2` here) or integers above 2^53.
pub fn format_incrbyfloat(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let mut s = format!("{}", v);
    if let Some(dot) = s.find('.') {
        if s.len() - dot - 1 > 17 {
            s = format!("{:.17}", v);
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut b = BytesMut::new();
        f(&mut b);
        b.to_vec()
    }

    #[test]
    fn integers_are_written_in_decimal_including_extremes() {
        assert_eq!(out(|b| integer(b, 0)), b":0\r\n");
        assert_eq!(out(|b| integer(b, -42)), b":-42\r\n");
        assert_eq!(out(|b| integer(b, i64::MAX)), b":9223372036854775807\r\n");
        assert_eq!(out(|b| integer(b, i64::MIN)), b":-9223372036854775808\r\n");
        assert_eq!(out(|b| bulk_integer(b, -7)), b"$2\r\n-7\r\n");
    }

    #[test]
    fn integers_on_both_sides_of_the_short_form_match_format() {
        let edges = [
            0,
            1,
            9,
            10,
            99,
            100,
            9_999,
            10_000,
            99_999,
            100_000,
            123_456_789,
        ];
        for v in edges.into_iter().chain(1..2_000).flat_map(|v| [v, -v]) {
            assert_eq!(out(|b| integer(b, v)), format!(":{v}\r\n").into_bytes());
            let len = v.unsigned_abs() as usize;
            assert_eq!(
                out(|b| array_header(b, len)),
                format!("*{len}\r\n").into_bytes()
            );
        }
        let data = vec![b'x'; 100_001];
        for len in [0, 9, 10, 99_999, 100_000, 100_001] {
            let mut want = format!("${len}\r\n").into_bytes();
            want.extend_from_slice(&data[..len]);
            want.extend_from_slice(b"\r\n");
            assert_eq!(out(|b| bulk(b, &data[..len])), want);
        }
    }

    #[test]
    fn every_writer_produces_its_resp_wire_form() {
        assert_eq!(out(|b| simple(b, b"OK")), b"+OK\r\n");
        assert_eq!(
            out(|b| error(b, b"ERR unknown command")),
            b"-ERR unknown command\r\n"
        );
        assert_eq!(out(|b| bulk(b, b"hello")), b"$5\r\nhello\r\n");
        assert_eq!(out(|b| bulk(b, b"")), b"$0\r\n\r\n");
        assert_eq!(out(null_bulk_resp2), b"$-1\r\n");
        assert_eq!(out(null_array_resp2), b"*-1\r\n");
        assert_eq!(out(null_resp3), b"_\r\n");
        assert_eq!(out(|b| array_header(b, 3)), b"*3\r\n");
        assert_eq!(out(|b| map_header(b, 2)), b"%2\r\n");
        assert_eq!(out(|b| set_header(b, 1)), b"~1\r\n");
        assert_eq!(out(|b| push_header(b, 3)), b">3\r\n");
        assert_eq!(out(|b| attribute_header(b, 1)), b"|1\r\n");
        assert_eq!(out(|b| boolean(b, true)), b"#t\r\n");
        assert_eq!(out(|b| boolean(b, false)), b"#f\r\n");
        assert_eq!(
            out(|b| big_number(b, b"1234567890123456789012")),
            b"(1234567890123456789012\r\n"
        );
        assert_eq!(
            out(|b| verbatim(b, b"txt", b"Some string")),
            b"=15\r\ntxt:Some string\r\n"
        );
        assert_eq!(out(|b| double(b, 1.5)), b",1.5\r\n");
        assert_eq!(out(|b| double(b, f64::INFINITY)), b",inf\r\n");
        assert_eq!(out(|b| double(b, f64::NEG_INFINITY)), b",-inf\r\n");
        assert_eq!(out(|b| double(b, f64::NAN)), b",nan\r\n");
        assert_eq!(
            out(|b| bulk_double(b, 0.1)),
            b"$19\r\n0.10000000000000001\r\n"
        );
    }

    #[test]
    fn a_command_is_encoded_as_a_multibulk_of_bulks() {
        assert_eq!(
            out(|b| encode_command(b, &["SET", "k", "v"])),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        );
        let empty: [&[u8]; 0] = [];
        assert_eq!(out(|b| encode_command(b, &empty)), b"*0\r\n");
    }

    #[test]
    fn doubles_print_like_redis_7_0_zscore() {
        // Texts observed from redis-server 7.0.15 ZSCORE (RESP2 and RESP3 agree).
        for (v, s) in [
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (1e300, "1.0000000000000001e+300"),
            (3.0, "3"),
            (1e-7, "9.9999999999999995e-08"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.30000000000000004, "0.30000000000000004"),
            (1e22, "1e+22"),
            (1e21, "1e+21"),
            (1e16, "10000000000000000"),
            (1e15, "1000000000000000"),
            (12345600.0, "12345600"),
            (0.0, "0"),
            (-0.0, "-0"),
            (-2.5, "-2.5"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
        ] {
            assert_eq!(format_double_like_redis(v), s, "{v:e}");
        }
    }

    #[test]
    fn incrbyfloat_text_matches_redis_where_f64_precision_allows() {
        assert_eq!(format_incrbyfloat(10.5 + 0.1), "10.6");
        assert_eq!(format_incrbyfloat(3.0e3), "3000");
        assert_eq!(format_incrbyfloat(0.1), "0.1");
        assert_eq!(format_incrbyfloat(1.1), "1.1");
        assert_eq!(format_incrbyfloat(1e-20), "0");
        assert_eq!(format_incrbyfloat(1e17), "100000000000000000");
        assert_eq!(format_incrbyfloat(1e15), "1000000000000000");
        assert_eq!(format_incrbyfloat(-0.0), "0");
        assert_eq!(format_incrbyfloat(-1.25), "-1.25");
    }
}
