//! Integration tests for the bitmap commands through real sockets: replies
//! in RESP2 and RESP3, ranges in bytes and bits, overflow modes, limits and
//! errors. Byte-for-byte agreement with redis-server is checked in
//! strings_vs_redis.rs.

mod common;

use bytes::Bytes;
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn ints(v: &[i64]) -> Frame {
    Frame::Array(v.iter().map(|&n| int(n)).collect())
}

fn bin(b: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(b))
}

fn set_bytes(c: &mut Connection, key: &str, v: &[u8]) {
    assert_eq!(
        c.call(&[&b"SET"[..], key.as_bytes(), v]).unwrap(),
        simple("OK")
    );
}

#[test]
fn setbit_returns_the_previous_bit_and_grows_the_string_with_zeros() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SETBIT", "b", "7", "1"]), int(0));
    assert_eq!(call(&mut c, &["SETBIT", "b", "7", "1"]), int(1));
    assert_eq!(call(&mut c, &["SETBIT", "b", "7", "0"]), int(1));
    assert_eq!(call(&mut c, &["SETBIT", "b", "17", "1"]), int(0));
    assert_eq!(call(&mut c, &["GET", "b"]), bin(b"\x00\x00\x40"));
    assert_eq!(call(&mut c, &["GETBIT", "b", "17"]), int(1));
    assert_eq!(call(&mut c, &["GETBIT", "b", "16"]), int(0));
    assert_eq!(call(&mut c, &["GETBIT", "b", "1000"]), int(0));
    assert_eq!(call(&mut c, &["GETBIT", "missing", "3"]), int(0));
    // An integer-encoded string is read through its digits: '1' is 0x31.
    assert_eq!(call(&mut c, &["SET", "n", "1"]), simple("OK"));
    assert_eq!(call(&mut c, &["GETBIT", "n", "2"]), int(1));
    assert_eq!(call(&mut c, &["SETBIT", "n", "7", "0"]), int(1));
    assert_eq!(call(&mut c, &["GET", "n"]), bulk("0"));
}

#[test]
fn setbit_and_getbit_reject_bad_offsets_and_bit_values() {
    let s = TestServer::start();
    let mut c = s.connect();
    let offset = err("ERR bit offset is not an integer or out of range");
    let bit = err("ERR bit is not an integer or out of range");
    assert_eq!(call(&mut c, &["SETBIT", "b", "-1", "1"]), offset);
    assert_eq!(call(&mut c, &["SETBIT", "b", "abc", "1"]), offset);
    assert_eq!(call(&mut c, &["SETBIT", "b", "4294967296", "1"]), offset);
    assert_eq!(call(&mut c, &["GETBIT", "b", "4294967296"]), offset);
    assert_eq!(call(&mut c, &["SETBIT", "b", "0", "2"]), bit);
    assert_eq!(call(&mut c, &["SETBIT", "b", "0", "-1"]), bit);
    assert_eq!(call(&mut c, &["SETBIT", "b", "0", "x"]), bit);
    // The offset is checked first.
    assert_eq!(call(&mut c, &["SETBIT", "b", "x", "x"]), offset);
    assert_eq!(call(&mut c, &["GET", "b"]), Frame::NullBulk);
}

#[test]
fn bit_offsets_are_limited_by_proto_max_bulk_len() {
    let s = TestServer::with(|cfg| cfg.proto_max_bulk_len = 1 << 20);
    let mut c = s.connect();
    let offset = err("ERR bit offset is not an integer or out of range");
    assert_eq!(call(&mut c, &["SETBIT", "b", "8388608", "1"]), offset);
    assert_eq!(call(&mut c, &["SETBIT", "b", "8388607", "1"]), int(0));
    assert_eq!(call(&mut c, &["STRLEN", "b"]), int(1 << 20));
    assert_eq!(
        call(&mut c, &["BITFIELD", "b", "GET", "u8", "#1048575"]),
        ints(&[1])
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "b", "GET", "u8", "#1048576"]),
        offset
    );
}

#[test]
fn bitcount_counts_whole_strings_and_byte_or_bit_ranges() {
    let s = TestServer::start();
    let mut c = s.connect();
    set_bytes(&mut c, "k", b"foobar");
    assert_eq!(call(&mut c, &["BITCOUNT", "k"]), int(26));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "0"]), int(4));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "1", "1", "BYTE"]), int(6));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "5", "30", "BIT"]), int(17));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "-1", "-1", "bit"]), int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "-5", "-10"]), int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "100", "200"]), int(0));
    assert_eq!(
        call(
            &mut c,
            &[
                "BITCOUNT",
                "k",
                "-9223372036854775808",
                "9223372036854775807",
                "BIT"
            ]
        ),
        int(26)
    );
    assert_eq!(
        call(&mut c, &["BITCOUNT", "k", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITCOUNT", "k", "0", "1", "WORD"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITCOUNT", "k", "0", "1", "BIT", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITCOUNT", "k", "a", "1"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn bitcount_and_bitpos_on_a_missing_key_answer_before_parsing_the_range() {
    // Redis 7.2 looks the key up first (the stricter order came in 8.0).
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["BITCOUNT", "missing"]), int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "missing", "0"]), int(0));
    assert_eq!(
        call(&mut c, &["BITCOUNT", "missing", "0", "1", "WORD"]),
        int(0)
    );
    assert_eq!(call(&mut c, &["BITPOS", "missing", "0"]), int(0));
    assert_eq!(call(&mut c, &["BITPOS", "missing", "1"]), int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "missing", "1", "x"]), int(-1));
    assert_eq!(
        call(&mut c, &["BITPOS", "missing", "2"]),
        err("ERR The bit argument must be 1 or 0.")
    );
}

#[test]
fn bitpos_finds_the_first_set_or_clear_bit() {
    let s = TestServer::start();
    let mut c = s.connect();
    set_bytes(&mut c, "k", b"\xff\xf0\x00");
    assert_eq!(call(&mut c, &["BITPOS", "k", "0"]), int(12));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1"]), int(0));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "2"]), int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "k", "0", "1"]), int(12));
    assert_eq!(
        call(&mut c, &["BITPOS", "k", "1", "7", "15", "BIT"]),
        int(7)
    );
    assert_eq!(
        call(&mut c, &["BITPOS", "k", "0", "2", "12", "BIT"]),
        int(12)
    );
    assert_eq!(
        call(&mut c, &["BITPOS", "k", "1", "12", "23", "BIT"]),
        int(-1)
    );
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "-5", "-10"]), int(0));
    assert_eq!(
        call(&mut c, &["BITPOS", "k", "1", "0", "1", "FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITPOS", "k", "1", "0", "x", "FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITPOS", "k", "1", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, &["BITPOS", "k", "3"]),
        err("ERR The bit argument must be 1 or 0.")
    );
}

#[test]
fn bitpos_sees_zero_padding_only_when_no_end_is_given() {
    let s = TestServer::start();
    let mut c = s.connect();
    set_bytes(&mut c, "ones", b"\xff\xff");
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0"]), int(16));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0", "1"]), int(16));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0", "0", "-1"]), int(-1));
    assert_eq!(
        call(&mut c, &["BITPOS", "ones", "0", "0", "15", "BIT"]),
        int(-1)
    );
    set_bytes(&mut c, "empty", b"");
    assert_eq!(call(&mut c, &["BITPOS", "empty", "0"]), int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "empty", "1"]), int(-1));
}

#[test]
fn bitop_combines_sources_padding_short_ones_with_zeros() {
    let s = TestServer::start();
    let mut c = s.connect();
    set_bytes(&mut c, "a", b"\xff\x0f");
    set_bytes(&mut c, "b", b"\x0f");
    assert_eq!(call(&mut c, &["BITOP", "AND", "d", "a", "b"]), int(2));
    assert_eq!(call(&mut c, &["GET", "d"]), bin(b"\x0f\x00"));
    assert_eq!(call(&mut c, &["BITOP", "or", "d", "a", "b"]), int(2));
    assert_eq!(call(&mut c, &["GET", "d"]), bin(b"\xff\x0f"));
    assert_eq!(
        call(&mut c, &["BITOP", "XOR", "d", "a", "b", "missing"]),
        int(2)
    );
    assert_eq!(call(&mut c, &["GET", "d"]), bin(b"\xf0\x0f"));
    assert_eq!(call(&mut c, &["BITOP", "NOT", "d", "a"]), int(2));
    assert_eq!(call(&mut c, &["GET", "d"]), bin(b"\x00\xf0"));
    assert_eq!(call(&mut c, &["BITOP", "AND", "d", "a", "missing"]), int(2));
    assert_eq!(call(&mut c, &["GET", "d"]), bin(b"\x00\x00"));
}

#[test]
fn bitop_with_only_empty_sources_deletes_the_destination() {
    let s = TestServer::start();
    let mut c = s.connect();
    set_bytes(&mut c, "d", b"old");
    set_bytes(&mut c, "e", b"");
    assert_eq!(call(&mut c, &["BITOP", "OR", "d", "missing", "e"]), int(0));
    assert_eq!(call(&mut c, &["GET", "d"]), Frame::NullBulk);
}

#[test]
fn bitop_rejects_unknown_operations_and_not_with_several_keys() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["BITOP", "NAND", "d", "a"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITOP", "NOT", "d", "a", "b"]),
        err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(
        call(&mut c, &["BITOP", "AND", "d"]),
        err("ERR wrong number of arguments for 'bitop' command")
    );
}

#[test]
fn bitfield_gets_sets_and_increments_signed_and_unsigned_fields() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "SET", "i8", "0", "100", "GET", "i8", "0"]
        ),
        ints(&[0, 100])
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "INCRBY", "i8", "0", "100"]),
        ints(&[-56])
    );
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "GET", "u8", "0", "GET", "u4", "0", "GET", "i4", "4"]
        ),
        ints(&[200, 12, -8])
    );
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "SET", "u3", "9", "15", "GET", "u3", "9"]
        ),
        ints(&[0, 7])
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "GET", "i64", "0"]),
        ints(&[-4_003_700_068_732_370_944])
    );
    assert_eq!(call(&mut c, &["BITFIELD", "k"]), ints(&[]));
    assert_eq!(
        call(&mut c, &["BITFIELD", "missing", "GET", "u16", "100"]),
        ints(&[0])
    );
    assert_eq!(call(&mut c, &["GET", "missing"]), Frame::NullBulk);
}

#[test]
fn bitfield_hash_offsets_are_multiplied_by_the_field_width() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "SET", "u8", "#1", "65", "SET", "u8", "#2", "66"]
        ),
        ints(&[0, 0])
    );
    assert_eq!(call(&mut c, &["GET", "k"]), bin(b"\x00AB"));
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "GET", "u4", "#3"]),
        ints(&[1])
    );
}

#[test]
fn bitfield_overflow_wraps_saturates_or_fails() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "250"]),
        ints(&[0])
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "INCRBY", "u8", "0", "10"]),
        ints(&[4])
    );
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-10"]
        ),
        ints(&[0])
    );
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "1000"]
        ),
        ints(&[127])
    );
    // FAIL leaves the field alone and answers null for that operation only.
    let mixed = Frame::Array(vec![Frame::NullBulk, int(126)]);
    assert_eq!(
        call(
            &mut c,
            &[
                "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1", "INCRBY", "i8", "0",
                "-1"
            ]
        ),
        mixed
    );
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"]
        ),
        ints(&[126, 255])
    );
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "WRAP", "SET", "i8", "0", "-1000", "GET", "i8", "0"]
        ),
        ints(&[-1, 24])
    );
    assert!(!call(&mut c, &["HELLO", "3"]).is_error());
    let null3 = Frame::Array(vec![Frame::Null]);
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "0", "7"]
        ),
        null3
    );
}

#[test]
fn bitfield_rejects_bad_types_offsets_and_subcommands() {
    let s = TestServer::start();
    let mut c = s.connect();
    let bad_type = err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    for t in ["I8", "u64", "i65", "i0", "i", "x8"] {
        assert_eq!(
            call(&mut c, &["BITFIELD", "k", "GET", t, "0"]),
            bad_type,
            "{t}"
        );
    }
    let offset = err("ERR bit offset is not an integer or out of range");
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "i8", "-1"]), offset);
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "i8", "#-1"]), offset);
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "i8", "#"]), offset);
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "GET", "i8"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "OVERFLOW", "foo"]),
        err("ERR Invalid OVERFLOW type specified")
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "SET", "i8", "0", "x"]),
        err("ERR value is not an integer or out of range")
    );
    // Parsing finishes before anything is written.
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "SET", "i8", "0", "1", "FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(call(&mut c, &["GET", "k"]), Frame::NullBulk);
}

#[test]
fn bitfield_ro_only_accepts_get() {
    let s = TestServer::start();
    let mut c = s.connect();
    set_bytes(&mut c, "k", b"\x80");
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD_RO", "k", "GET", "i8", "0", "GET", "u1", "0"]
        ),
        ints(&[-128, 1])
    );
    assert_eq!(
        call(
            &mut c,
            &["BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u8", "0"]
        ),
        ints(&[128])
    );
    assert_eq!(
        call(&mut c, &["BITFIELD_RO", "k", "SET", "i8", "0", "1"]),
        err("ERR BITFIELD_RO only supports the GET subcommand")
    );
    assert_eq!(
        call(&mut c, &["BITFIELD_RO", "k", "INCRBY", "i8", "0", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, &["BITFIELD_RO", "missing", "GET", "i8", "0"]),
        ints(&[0])
    );
}

#[test]
fn bitmap_commands_on_another_type_reply_wrongtype() {
    let s = TestServer::start();
    let mut c = s.connect();
    let lists = !matches!(call(&mut c, &["LPUSH", "l", "a"]), Frame::Error(e) if e.starts_with(b"ERR unknown command"));
    if !lists {
        eprintln!("SKIPPED: no non-string type is implemented yet");
        return;
    }
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for args in [
        &["SETBIT", "l", "0", "1"][..],
        &["GETBIT", "l", "0"],
        &["BITCOUNT", "l"],
        &["BITPOS", "l", "1"],
        &["BITOP", "AND", "d", "l"],
        &["BITFIELD", "l", "GET", "i8", "0"],
        &["BITFIELD", "l", "SET", "i8", "0", "1"],
        &["BITFIELD_RO", "l", "GET", "i8", "0"],
    ] {
        assert_eq!(call(&mut c, args), wrongtype, "{args:?}");
    }
}
