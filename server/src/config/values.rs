//! Scalar value parsing and formatting with Redis's exact rules and error texts
//! (yes/no, strict integers, memory units, octal, quoting for error reports).
//! Owns no state; must not know about individual directives.

/// Error text for a non-integer argument.
pub const ERR_INT: &str = "argument couldn't be parsed into an integer";
/// Error text for a bad yes/no argument.
pub const ERR_BOOL: &str = "argument must be 'yes' or 'no'";
/// Error text for a bad memory argument.
pub const ERR_MEM: &str = "argument must be a memory value";

/// Parses `yes`/`no` (case-insensitive).
pub fn parse_bool(s: &str) -> Result<bool, String> {
    if s.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err(ERR_BOOL.to_string())
    }
}

/// Formats a bool as Redis does.
pub fn fmt_bool(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// Strict integer parsing like Redis's string2ll: optional `-`, digits, no `+`,
/// no spaces, no leading zeros.
pub fn parse_i64(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || b.len() != digits.len()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an integer and checks it against an inclusive range.
pub fn parse_int_range(s: &str, min: i64, max: i64) -> Result<i64, String> {
    let v = parse_i64(s).ok_or_else(|| ERR_INT.to_string())?;
    if v < min || v > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(v)
}

/// Parses a memory value like Redis's memtoull: digits then an optional unit
/// (b, k=1000, kb=1024, m, mb, g, gb; case-insensitive). Overflow saturates.
pub fn parse_memory(s: &str) -> Option<u64> {
    let split = s
        .bytes()
        .position(|c| !(c.is_ascii_digit() || c == b'.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if num.contains('.') {
        return None;
    }
    let n = if num.is_empty() {
        0
    } else {
        num.parse::<u64>().unwrap_or(u64::MAX)
    };
    Some(n.saturating_mul(mul))
}

/// Parses a memory value and checks it against an inclusive range.
pub fn parse_memory_range(s: &str, min: u64, max: u64) -> Result<u64, String> {
    let v = parse_memory(s).ok_or_else(|| ERR_MEM.to_string())?;
    if v < min || v > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(v)
}

/// Parses an octal permission such as `700` (unixsocketperm).
pub fn parse_octal(s: &str) -> Result<u32, String> {
    let err = || "argument couldn't be parsed as an octal number".to_string();
    if s.is_empty() || !s.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return Err(err());
    }
    u32::from_str_radix(s, 8)
        .ok()
        .filter(|v| *v <= 0o777)
        .ok_or_else(err)
}

/// Matches `s` against a list of enum names (case-insensitive); the error lists them.
pub fn parse_enum(s: &str, names: &[&'static str]) -> Result<&'static str, String> {
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(s))
        .copied()
        .ok_or_else(|| {
            format!(
                "argument(s) must be one of the following: {}",
                names.join(", ")
            )
        })
}

/// Quotes bytes like Redis's sdscatrepr (used in the fatal error block).
pub fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s.as_bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// Quotes a value for writing into a config file only when it needs quoting.
pub fn quote_if_needed(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
    if plain {
        s.to_string()
    } else {
        repr(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_value_accepts_redis_units() {
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("2m"), Some(2_000_000));
        assert_eq!(parse_memory("2mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("1g"), Some(1_000_000_000));
        assert_eq!(parse_memory("1Gb"), Some(1 << 30));
        assert_eq!(parse_memory("10b"), Some(10));
        assert_eq!(parse_memory("007"), Some(7));
        assert_eq!(parse_memory(""), Some(0));
        assert_eq!(parse_memory("99999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_memory("99999999999gb"), Some(u64::MAX));
    }

    #[test]
    fn a_memory_value_rejects_junk() {
        for s in ["12x", "1.5k", "-1", "+5", " 1k", "10 ", "0x10", "1 k"] {
            assert_eq!(parse_memory(s), None, "{s}");
        }
    }

    #[test]
    fn integers_are_parsed_strictly_like_string2ll() {
        assert_eq!(parse_i64("0"), Some(0));
        assert_eq!(parse_i64("-12"), Some(-12));
        for s in [
            "",
            "-",
            "+5",
            "05",
            " 5",
            "1.0",
            "-0",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(parse_i64(s), None, "{s}");
        }
        assert_eq!(
            parse_int_range("70000", 0, 65535).unwrap_err(),
            "argument must be between 0 and 65535 inclusive"
        );
    }

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        assert_eq!(repr("a\"b\\\n\x01"), "\"a\\\"b\\\\\\n\\x01\"");
    }

    #[test]
    fn octal_permissions_are_checked() {
        assert_eq!(parse_octal("700"), Ok(0o700));
        assert!(parse_octal("999").is_err());
        assert!(parse_octal("").is_err());
    }
}
