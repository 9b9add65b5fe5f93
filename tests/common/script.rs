//! Shared pieces of the differential tests (`tests/*_vs_redis.rs`,
//! `tests/differential.rs`): the script-line tokenizer, one command round trip
//! that keeps the raw reply bytes, the mismatch message, and the driver that
//! runs a script against handoff and a real redis-server in RESP2 then RESP3.
//! Check markers (`=sorted`, `!`, `?feature`...) belong to each test file.

use handoff::protocol::{Connection, Frame};

use super::{ExternalServer, TestServer};

/// Splits a script line into arguments. Words are separated by spaces;
/// `"..."` makes one argument that may hold spaces (`""` is the empty
/// argument). Inside or outside quotes a backslash escapes the next
/// character: `\xHH` is the byte 0xHH, `\r`, `\n`, `\0` and `\s` are CR, LF,
/// NUL and a space, and any other character (`\\`, `\"`) stands for itself.
pub fn tokenize(line: &str) -> Vec<Vec<u8>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let quoted = b[i] == b'"';
        if quoted {
            i += 1;
        }
        let mut arg = Vec::new();
        while i < b.len() && b[i] != if quoted { b'"' } else { b' ' } {
            if b[i] == b'\\' && i + 1 < b.len() {
                let (byte, used) = unescape(&b[i + 1..]);
                arg.push(byte);
                i += 1 + used;
            } else {
                arg.push(b[i]);
                i += 1;
            }
        }
        if quoted {
            i += 1;
        }
        out.push(arg);
    }
    out
}

/// The byte an escape stands for (`rest` follows the backslash) and how many
/// bytes of `rest` it uses.
fn unescape(rest: &[u8]) -> (u8, usize) {
    match rest[0] {
        b'x' => {
            let hex = rest
                .get(1..3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .expect("\\x takes two hex digits");
            (hex, 3)
        }
        b'r' => (b'\r', 1),
        b'n' => (b'\n', 1),
        b'0' => (0, 1),
        b's' => (b' ', 1),
        other => (other, 1),
    }
}

/// Checks `tokenize` on every escape and quoting form; a test calls it so a
/// broken tokenizer fails loudly instead of silently sending other bytes.
pub fn check_tokenizer() {
    let cases: &[(&str, &[&[u8]])] = &[
        ("SET k v", &[b"SET", b"k", b"v"]),
        ("  a   b  ", &[b"a", b"b"]),
        (r#"HSET h "" "a b""#, &[b"HSET", b"h", b"", b"a b"]),
        (r#""\x00\xff" "\r\n""#, &[b"\x00\xff", b"\r\n"]),
        (
            r#"a\0z #\0x \sworld a\sb"#,
            &[b"a\0z", b"#\0x", b" world", b"a b"],
        ),
        (r#""\\ 1" 5\\\s "q\"q""#, &[b"\\ 1", b"5\\ ", b"q\"q"]),
        (r#""x y"z w"#, &[b"x y", b"z", b"w"]),
    ];
    for (line, want) in cases {
        let want: Vec<Vec<u8>> = want.iter().map(|a| a.to_vec()).collect();
        assert_eq!(tokenize(line), want, "tokenize({line:?})");
    }
}

/// True when the server implements the command of `args` (any reply but
/// "unknown command"): probes for commands of groups that may be missing.
pub fn known(c: &mut Connection, args: &[&str]) -> bool {
    match c.call(args).expect("probe round trip") {
        Frame::Error(e) => !e.starts_with(b"ERR unknown command"),
        _ => true,
    }
}

/// Sends one command and returns its raw reply bytes.
pub fn exchange_raw<A: AsRef<[u8]>>(c: &mut Connection, args: &[A]) -> Vec<u8> {
    exchange(c, args).1
}

/// Sends one command and returns its reply, parsed and as raw bytes.
pub fn exchange<A: AsRef<[u8]>>(c: &mut Connection, args: &[A]) -> (Frame, Vec<u8>) {
    c.send(args).unwrap();
    c.flush().unwrap();
    let (frame, raw) = c.read_raw_frame().expect("reply");
    (frame, raw.to_vec())
}

/// Reply bytes made readable for a message (long ones cut).
pub fn show(raw: &[u8]) -> String {
    let s = raw.escape_ascii().to_string();
    if s.len() > 1000 {
        format!("{}... ({} bytes)", &s[..1000], raw.len())
    } else {
        s
    }
}

/// The message for a script line whose replies differ.
pub fn mismatch(line: &str, ours: &[u8], theirs: &[u8]) -> String {
    let shown: String = line.chars().take(200).collect();
    format!(
        "{shown}\n    handoff: {}\n    redis:   {}",
        show(ours),
        show(theirs)
    )
}

/// The lines of a script, trimmed, without blank ones, with `{p}` replaced
/// by `prefix`.
pub fn lines<'a>(script: &'a str, prefix: &'a str) -> impl Iterator<Item = String> + 'a {
    script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(move |l| l.replace("{p}", prefix))
}

/// Sends `args` to both servers; when the raw replies differ, records `line`.
pub fn compare_exact(
    ours: &mut Connection,
    theirs: &mut Connection,
    line: &str,
    args: &[Vec<u8>],
    mismatches: &mut Vec<String>,
) {
    let ob = exchange_raw(ours, args);
    let tb = exchange_raw(theirs, args);
    if ob != tb {
        mismatches.push(mismatch(line, &ob, &tb));
    }
}

/// Sends `args` to both servers; when `key` of the two replies differs (a
/// canonical form: sorted members, zeroed integers...), records `line`.
pub fn compare_as<K: PartialEq>(
    ours: &mut Connection,
    theirs: &mut Connection,
    line: &str,
    args: &[Vec<u8>],
    key: impl Fn(&Frame) -> K,
    mismatches: &mut Vec<String>,
) {
    let (of, ob) = exchange(ours, args);
    let (tf, tb) = exchange(theirs, args);
    if key(&of) != key(&tf) {
        mismatches.push(mismatch(line, &ob, &tb));
    }
}

/// Runs `args` on both connections, asserting neither replies with an error.
pub fn both(ours: &mut Connection, theirs: &mut Connection, args: &[&str]) {
    for c in [ours, theirs] {
        assert!(!c.call(args).unwrap().is_error(), "{args:?}");
    }
}

/// Starts handoff and a redis-server (or returns when the peer is missing
/// and not required), runs `run(ours, theirs, prefix)` in RESP2 with prefix
/// `r2:`, switches both connections to RESP3, runs it again with `r3:`, and
/// asserts that no run reported a mismatch. False when it did not run.
pub fn in_resp2_and_resp3(
    mut run: impl FnMut(&mut Connection, &mut Connection, &str) -> Vec<String>,
) -> bool {
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return false;
    };
    let server = TestServer::start();
    let mut ours = server.connect();
    let mut theirs = redis.connect();
    let mut mismatches = run(&mut ours, &mut theirs, "r2:");
    both(&mut ours, &mut theirs, &["HELLO", "3"]);
    mismatches.extend(run(&mut ours, &mut theirs, "r3:"));
    assert!(
        mismatches.is_empty(),
        "{} replies differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    true
}
