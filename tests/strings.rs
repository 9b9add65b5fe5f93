//! Integration tests for the string commands through real sockets: replies
//! in RESP2 and RESP3, option conflicts, error texts, expiry and limits.
//! Byte-for-byte agreement with redis-server is checked separately in
//! strings_vs_redis.rs.

mod common;

use std::thread::sleep;
use std::time::Duration;

use bytes::Bytes;
use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

fn bin(b: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(b))
}

fn ok() -> Frame {
    simple("OK")
}

fn resp3(c: &mut Connection) {
    assert!(!call(c, &["HELLO", "3"]).is_error());
}

/// True when handoff implements a non-string type (lists), so WRONGTYPE paths can be tested.
fn has_lists(c: &mut Connection) -> bool {
    !matches!(call(c, &["LPUSH", "probe:list", "x"]), Frame::Error(e) if e.starts_with(b"ERR unknown command"))
}

#[test]
fn set_then_get_round_trips_binary_values() {
    let s = TestServer::start();
    let mut c = s.connect();
    let v: &[u8] = b"\x00\r\n\xffbinary";
    assert_eq!(c.call(&[&b"SET"[..], b"k", v]).unwrap(), ok());
    assert_eq!(c.call(&[&b"GET"[..], b"k"]).unwrap(), bin(v));
    assert_eq!(call(&mut c, &["SET", "empty", ""]), ok());
    assert_eq!(call(&mut c, &["GET", "empty"]), bulk(""));
    assert_eq!(call(&mut c, &["SET", "n", "-9223372036854775808"]), ok());
    assert_eq!(call(&mut c, &["GET", "n"]), bulk("-9223372036854775808"));
}

#[test]
fn get_of_a_missing_key_is_a_null_bulk_in_resp2_and_a_null_in_resp3() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["GET", "nope"]), Frame::NullBulk);
    resp3(&mut c);
    assert_eq!(call(&mut c, &["GET", "nope"]), Frame::Null);
}

#[test]
fn set_nx_and_xx_only_set_when_the_key_is_absent_or_present() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "k", "1", "XX"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GET", "k"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["SET", "k", "1", "NX"]), ok());
    assert_eq!(call(&mut c, &["SET", "k", "2", "nx"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["SET", "k", "3", "xx"]), ok());
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("3"));
    resp3(&mut c);
    assert_eq!(call(&mut c, &["SET", "k", "2", "NX"]), Frame::Null);
}

#[test]
fn set_with_get_returns_the_old_value() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "k", "v1", "GET"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["SET", "k", "v2", "GET"]), bulk("v1"));
    // NX with GET: not set, but the old value is still returned.
    assert_eq!(call(&mut c, &["SET", "k", "v3", "NX", "GET"]), bulk("v2"));
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("v2"));
    assert_eq!(
        call(&mut c, &["SET", "new", "x", "XX", "GET"]),
        Frame::NullBulk
    );
    assert_eq!(call(&mut c, &["GET", "new"]), Frame::NullBulk);
}

#[test]
fn conflicting_or_unknown_set_options_are_syntax_errors() {
    let s = TestServer::start();
    let mut c = s.connect();
    for args in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "10"],
        &["SET", "k", "v", "EXAT", "10", "PXAT", "10"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "PERSIST"],
        &["SET", "k", "v", "BOGUS"],
        &["SET", "k", "v", "EX", "abc", "NX", "XX"],
    ] {
        assert_eq!(call(&mut c, args), err("ERR syntax error"), "{args:?}");
    }
    // The same kind twice is allowed: the last value wins.
    assert_eq!(
        call(&mut c, &["SET", "k", "v", "EX", "10", "EX", "20"]),
        ok()
    );
    assert_eq!(
        call(&mut c, &["SET", "k", "v", "NX", "NX"]),
        Frame::NullBulk
    );
    assert_eq!(
        call(&mut c, &["SET", "k", "v", "EX", "1", "EX", "abc"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn invalid_expire_times_name_the_command() {
    let s = TestServer::start();
    let mut c = s.connect();
    let set_err = err("ERR invalid expire time in 'set' command");
    for args in [
        &["SET", "k", "v", "EX", "0"][..],
        &["SET", "k", "v", "EX", "-5"],
        &["SET", "k", "v", "PX", "0"],
        &["SET", "k", "v", "EXAT", "0"],
        &["SET", "k", "v", "PXAT", "-1"],
        &["SET", "k", "v", "EX", "9223372036854775"],
        &["SET", "k", "v", "PX", "9223372036854775807"],
    ] {
        assert_eq!(call(&mut c, args), set_err, "{args:?}");
    }
    assert_eq!(
        call(&mut c, &["SET", "k", "v", "EX", "1.5"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, &["SETEX", "k", "0", "v"]),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(
        call(&mut c, &["SETEX", "k", "9223372036854776", "v"]),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(
        call(&mut c, &["SETEX", "k", "x", "v"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, &["PSETEX", "k", "-1", "v"]),
        err("ERR invalid expire time in 'psetex' command")
    );
    assert_eq!(call(&mut c, &["SET", "k", "v"]), ok());
    assert_eq!(
        call(&mut c, &["GETEX", "k", "EX", "0"]),
        err("ERR invalid expire time in 'getex' command")
    );
    // GETEX looks the key up before validating the time.
    assert_eq!(
        call(&mut c, &["GETEX", "missing", "EX", "0"]),
        Frame::NullBulk
    );
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("v"));
}

#[test]
fn relative_expiries_remove_the_key_once_elapsed() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "a", "v", "PX", "100"]), ok());
    assert_eq!(call(&mut c, &["PSETEX", "b", "100", "v"]), ok());
    assert_eq!(call(&mut c, &["SETEX", "c", "100", "v"]), ok());
    assert_eq!(call(&mut c, &["GET", "a"]), bulk("v"));
    sleep(Duration::from_millis(250));
    assert_eq!(call(&mut c, &["GET", "a"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GET", "b"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GET", "c"]), bulk("v"));
}

#[test]
fn keepttl_keeps_the_expiry_and_a_plain_set_clears_it() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "kept", "v", "PX", "150"]), ok());
    assert_eq!(call(&mut c, &["SET", "kept", "v2", "KEEPTTL"]), ok());
    assert_eq!(call(&mut c, &["SET", "cleared", "v", "PX", "150"]), ok());
    assert_eq!(call(&mut c, &["SET", "cleared", "v2"]), ok());
    assert_eq!(call(&mut c, &["SET", "getset", "v", "PX", "150"]), ok());
    assert_eq!(call(&mut c, &["GETSET", "getset", "v2"]), bulk("v"));
    assert_eq!(call(&mut c, &["SET", "incr", "1", "PX", "150"]), ok());
    assert_eq!(call(&mut c, &["INCR", "incr"]), int(2));
    assert_eq!(call(&mut c, &["SET", "append", "a", "PX", "150"]), ok());
    assert_eq!(call(&mut c, &["APPEND", "append", "b"]), int(2));
    sleep(Duration::from_millis(300));
    assert_eq!(call(&mut c, &["GET", "kept"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GET", "cleared"]), bulk("v2"));
    assert_eq!(call(&mut c, &["GET", "getset"]), bulk("v2"));
    // In-place modifications keep the TTL, as in Redis.
    assert_eq!(call(&mut c, &["GET", "incr"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GET", "append"]), Frame::NullBulk);
}

#[test]
fn an_absolute_expiry_in_the_past_deletes_the_key_and_still_replies_ok() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "k", "v"]), ok());
    assert_eq!(call(&mut c, &["SET", "k", "v2", "EXAT", "1"]), ok());
    assert_eq!(call(&mut c, &["GET", "k"]), Frame::NullBulk);
    assert_eq!(
        call(&mut c, &["SET", "k", "v3", "PXAT", "1", "GET"]),
        Frame::NullBulk
    );
    assert_eq!(
        call(&mut c, &["SET", "k", "v4", "EXAT", "99999999999"]),
        ok()
    );
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("v4"));
}

#[test]
fn setnx_replies_one_or_zero() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SETNX", "k", "1"]), int(1));
    assert_eq!(call(&mut c, &["SETNX", "k", "2"]), int(0));
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("1"));
    assert_eq!(
        call(&mut c, &["SETNX", "k"]),
        err("ERR wrong number of arguments for 'setnx' command")
    );
}

#[test]
fn getex_sets_replaces_and_removes_the_expiry() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "gone", "v"]), ok());
    assert_eq!(call(&mut c, &["SET", "persisted", "v", "PX", "150"]), ok());
    assert_eq!(call(&mut c, &["GETEX", "gone", "PX", "100"]), bulk("v"));
    assert_eq!(call(&mut c, &["GETEX", "persisted", "PERSIST"]), bulk("v"));
    assert_eq!(call(&mut c, &["GETEX", "persisted"]), bulk("v"));
    sleep(Duration::from_millis(300));
    assert_eq!(call(&mut c, &["GET", "gone"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GET", "persisted"]), bulk("v"));
    assert_eq!(
        call(&mut c, &["GETEX", "persisted", "EXAT", "1"]),
        bulk("v")
    );
    assert_eq!(call(&mut c, &["GET", "persisted"]), Frame::NullBulk);
    for args in [
        &["GETEX", "k", "NX"][..],
        &["GETEX", "k", "KEEPTTL"],
        &["GETEX", "k", "GET"],
        &["GETEX", "k", "PERSIST", "EX", "1"],
        &["GETEX", "k", "EX", "1", "PX", "1"],
        &["GETEX", "k", "EX"],
    ] {
        assert_eq!(call(&mut c, args), err("ERR syntax error"), "{args:?}");
    }
    resp3(&mut c);
    assert_eq!(call(&mut c, &["GETEX", "missing", "PERSIST"]), Frame::Null);
}

#[test]
fn getdel_returns_the_value_and_removes_the_key() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "k", "v"]), ok());
    assert_eq!(call(&mut c, &["GETDEL", "k"]), bulk("v"));
    assert_eq!(call(&mut c, &["GETDEL", "k"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GET", "k"]), Frame::NullBulk);
}

#[test]
fn getset_returns_the_old_value() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["GETSET", "k", "a"]), Frame::NullBulk);
    assert_eq!(call(&mut c, &["GETSET", "k", "b"]), bulk("a"));
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("b"));
}

#[test]
fn mget_returns_values_and_nulls_in_order() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b", "2"]), ok());
    let want2 = arr(vec![bulk("1"), Frame::NullBulk, bulk("2")]);
    assert_eq!(call(&mut c, &["MGET", "a", "x", "b"]), want2);
    resp3(&mut c);
    let want3 = arr(vec![bulk("1"), Frame::Null, bulk("2")]);
    assert_eq!(call(&mut c, &["MGET", "a", "x", "b"]), want3);
}

#[test]
fn mset_and_msetnx_need_key_value_pairs() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["MSET", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        call(&mut c, &["MSETNX", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'msetnx' command")
    );
    assert_eq!(
        call(&mut c, &["MSET", "a"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(call(&mut c, &["GET", "a"]), Frame::NullBulk);
}

#[test]
fn msetnx_sets_all_keys_or_none() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["MSETNX", "a", "1", "b", "2"]), int(1));
    assert_eq!(call(&mut c, &["MSETNX", "b", "x", "c", "3"]), int(0));
    assert_eq!(
        call(&mut c, &["MGET", "a", "b", "c"]),
        arr(vec![bulk("1"), bulk("2"), Frame::NullBulk])
    );
    // A key named twice: the last value wins, as in Redis.
    assert_eq!(call(&mut c, &["MSETNX", "d", "1", "d", "2"]), int(1));
    assert_eq!(call(&mut c, &["GET", "d"]), bulk("2"));
}

#[test]
fn append_and_strlen_track_the_length() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["STRLEN", "k"]), int(0));
    assert_eq!(call(&mut c, &["APPEND", "k", "hello"]), int(5));
    assert_eq!(call(&mut c, &["APPEND", "k", " world"]), int(11));
    assert_eq!(call(&mut c, &["APPEND", "k", ""]), int(11));
    assert_eq!(call(&mut c, &["STRLEN", "k"]), int(11));
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("hello world"));
    assert_eq!(call(&mut c, &["SET", "n", "-123"]), ok());
    assert_eq!(call(&mut c, &["STRLEN", "n"]), int(4));
    assert_eq!(call(&mut c, &["APPEND", "n", "4"]), int(5));
    assert_eq!(call(&mut c, &["INCR", "n"]), int(-1233));
}

#[test]
fn append_and_setrange_refuse_to_grow_past_proto_max_bulk_len() {
    let s = TestServer::with(|cfg| cfg.proto_max_bulk_len = 1 << 20);
    let mut c = s.connect();
    let big = "x".repeat((1 << 20) - 2);
    assert_eq!(call(&mut c, &["SET", "k", &big]), ok());
    assert_eq!(call(&mut c, &["APPEND", "k", "ab"]), int(1 << 20));
    let exceeds = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    assert_eq!(call(&mut c, &["APPEND", "k", "c"]), exceeds);
    assert_eq!(call(&mut c, &["SETRANGE", "k", "1048576", "c"]), exceeds);
    assert_eq!(call(&mut c, &["SETRANGE", "new", "1048575", "cd"]), exceeds);
    assert_eq!(
        call(&mut c, &["SETRANGE", "new", "9223372036854775807", "x"]),
        exceeds
    );
    assert_eq!(
        call(&mut c, &["SETRANGE", "k", "1048575", "z"]),
        int(1 << 20)
    );
    // Nothing to write: no limit check, and a missing key is not created.
    assert_eq!(
        call(&mut c, &["SETRANGE", "k", "9999999", ""]),
        int(1 << 20)
    );
    assert_eq!(call(&mut c, &["SETRANGE", "new", "9999999", ""]), int(0));
    assert_eq!(call(&mut c, &["GET", "new"]), Frame::NullBulk);
}

#[test]
fn incr_and_decr_count_from_zero_and_refuse_overflow() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["INCR", "n"]), int(1));
    assert_eq!(call(&mut c, &["INCRBY", "n", "41"]), int(42));
    assert_eq!(call(&mut c, &["DECR", "n"]), int(41));
    assert_eq!(call(&mut c, &["DECRBY", "n", "-9"]), int(50));
    assert_eq!(call(&mut c, &["GET", "n"]), bulk("50"));
    let overflow = err("ERR increment or decrement would overflow");
    assert_eq!(call(&mut c, &["SET", "n", "9223372036854775807"]), ok());
    assert_eq!(call(&mut c, &["INCR", "n"]), overflow);
    assert_eq!(call(&mut c, &["DECRBY", "n", "-1"]), overflow);
    assert_eq!(call(&mut c, &["SET", "n", "-9223372036854775808"]), ok());
    assert_eq!(call(&mut c, &["DECR", "n"]), overflow);
    assert_eq!(
        call(&mut c, &["DECRBY", "n", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
    assert_eq!(
        call(&mut c, &["INCRBY", "fresh", "-9223372036854775808"]),
        int(i64::MIN)
    );
}

#[test]
fn incr_rejects_values_that_are_not_canonical_integers() {
    let s = TestServer::start();
    let mut c = s.connect();
    let not_int = err("ERR value is not an integer or out of range");
    for v in [
        "abc",
        " 1",
        "1 ",
        "01",
        "+1",
        "1.0",
        "",
        "9223372036854775808",
    ] {
        assert_eq!(call(&mut c, &["SET", "n", v]), ok());
        assert_eq!(call(&mut c, &["INCR", "n"]), not_int, "{v:?}");
    }
    assert_eq!(call(&mut c, &["INCRBY", "m", "1.5"]), not_int);
    assert_eq!(call(&mut c, &["DECRBY", "m", "x"]), not_int);
    assert_eq!(call(&mut c, &["GET", "m"]), Frame::NullBulk);
}

#[test]
fn incrbyfloat_formats_like_redis_and_refuses_nan_or_infinity() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "-10.6"]), bulk("0"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "5.0e3"]), bulk("5000"));
    assert_eq!(call(&mut c, &["INCRBY", "f", "1"]), int(5001));
    assert_eq!(call(&mut c, &["SET", "h", "0x10"]), ok());
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "h", "1"]), bulk("17"));
    assert_eq!(
        call(&mut c, &["INCRBYFLOAT", "f", "inf"]),
        err("ERR increment would produce NaN or Infinity")
    );
    for bad in ["abc", "nan", " 1", ""] {
        assert_eq!(
            call(&mut c, &["INCRBYFLOAT", "f", bad]),
            err("ERR value is not a valid float"),
            "{bad:?}"
        );
    }
    assert_eq!(call(&mut c, &["SET", "s", "text"]), ok());
    assert_eq!(
        call(&mut c, &["INCRBYFLOAT", "s", "1"]),
        err("ERR value is not a valid float")
    );
}

#[test]
fn getrange_clamps_indexes_like_redis() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SET", "k", "Hello World"]), ok());
    assert_eq!(call(&mut c, &["GETRANGE", "k", "0", "4"]), bulk("Hello"));
    assert_eq!(call(&mut c, &["GETRANGE", "k", "-5", "-1"]), bulk("World"));
    assert_eq!(call(&mut c, &["GETRANGE", "k", "0", "-100"]), bulk("H"));
    assert_eq!(call(&mut c, &["GETRANGE", "k", "-1", "-5"]), bulk(""));
    assert_eq!(call(&mut c, &["GETRANGE", "k", "6", "1000"]), bulk("World"));
    assert_eq!(
        call(
            &mut c,
            &[
                "GETRANGE",
                "k",
                "9223372036854775807",
                "-9223372036854775808"
            ]
        ),
        bulk("")
    );
    assert_eq!(
        call(
            &mut c,
            &["SUBSTR", "k", "-9223372036854775808", "9223372036854775807"]
        ),
        bulk("Hello World")
    );
    assert_eq!(call(&mut c, &["GETRANGE", "missing", "0", "-1"]), bulk(""));
    assert_eq!(
        call(&mut c, &["GETRANGE", "k", "a", "1"]),
        err("ERR value is not an integer or out of range")
    );
    resp3(&mut c);
    // An empty string, not a null, in RESP3 too.
    assert_eq!(call(&mut c, &["GETRANGE", "missing", "0", "-1"]), bulk(""));
}

#[test]
fn setrange_pads_with_zero_bytes_and_rejects_negative_offsets() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["SETRANGE", "k", "3", "ab"]), int(5));
    assert_eq!(call(&mut c, &["GET", "k"]), bin(b"\0\0\0ab"));
    assert_eq!(call(&mut c, &["SETRANGE", "k", "0", "xyz"]), int(5));
    assert_eq!(call(&mut c, &["GET", "k"]), bulk("xyzab"));
    assert_eq!(
        call(&mut c, &["SETRANGE", "k", "-1", "x"]),
        err("ERR offset is out of range")
    );
    assert_eq!(
        call(&mut c, &["SETRANGE", "k", "x", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(call(&mut c, &["SET", "n", "12345"]), ok());
    assert_eq!(call(&mut c, &["SETRANGE", "n", "1", "0"]), int(5));
    assert_eq!(call(&mut c, &["GET", "n"]), bulk("10345"));
}

#[test]
fn lcs_replies_with_the_string_the_length_or_the_matches() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["MSET", "a", "ohmytext", "b", "mynewtext"]),
        ok()
    );
    assert_eq!(call(&mut c, &["LCS", "a", "b"]), bulk("mytext"));
    assert_eq!(call(&mut c, &["LCS", "a", "b", "LEN"]), int(6));
    let range = |a: i64, b: i64| arr(vec![int(a), int(b)]);
    let matches = arr(vec![
        arr(vec![range(4, 7), range(5, 8), int(4)]),
        arr(vec![range(2, 3), range(0, 1), int(2)]),
    ]);
    let flat = arr(vec![bulk("matches"), matches.clone(), bulk("len"), int(6)]);
    assert_eq!(
        call(&mut c, &["LCS", "a", "b", "IDX", "WITHMATCHLEN"]),
        flat
    );
    let only_long = arr(vec![
        bulk("matches"),
        arr(vec![arr(vec![range(4, 7), range(5, 8)])]),
        bulk("len"),
        int(6),
    ]);
    assert_eq!(
        call(&mut c, &["LCS", "a", "b", "IDX", "MINMATCHLEN", "3"]),
        only_long
    );
    assert_eq!(call(&mut c, &["LCS", "a", "missing"]), bulk(""));
    assert_eq!(
        call(&mut c, &["LCS", "a", "b", "IDX", "LEN"]),
        err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(
        call(&mut c, &["LCS", "a", "b", "MINMATCHLEN"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["LCS", "a", "b", "MINMATCHLEN", "x"]),
        err("ERR value is not an integer or out of range")
    );
    resp3(&mut c);
    let map = Frame::Map(vec![(bulk("matches"), matches), (bulk("len"), int(6))]);
    assert_eq!(call(&mut c, &["LCS", "a", "b", "IDX", "WITHMATCHLEN"]), map);
}

#[test]
fn lcs_memory_is_bounded_by_proto_max_bulk_len() {
    let s = TestServer::with(|cfg| cfg.proto_max_bulk_len = 1 << 20);
    let mut c = s.connect();
    let long = "a".repeat(600);
    assert_eq!(call(&mut c, &["SET", "a", &long]), ok());
    assert_eq!(
        call(&mut c, &["LCS", "a", "a"]),
        err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    );
    assert_eq!(call(&mut c, &["SET", "b", &"a".repeat(400)]), ok());
    assert_eq!(call(&mut c, &["LCS", "b", "b", "LEN"]), int(400));
}

#[test]
fn arity_is_checked_before_the_command_runs() {
    let s = TestServer::start();
    let mut c = s.connect();
    for (args, name) in [
        (&["GET"][..], "get"),
        (&["GET", "a", "b"], "get"),
        (&["SET", "a"], "set"),
        (&["GETDEL"], "getdel"),
        (&["SETEX", "a", "1"], "setex"),
        (&["INCRBYFLOAT", "a"], "incrbyfloat"),
        (&["LCS", "a"], "lcs"),
        (&["MGET"], "mget"),
        (&["GETRANGE", "a", "0"], "getrange"),
    ] {
        assert_eq!(
            call(&mut c, args),
            err(&format!(
                "ERR wrong number of arguments for '{name}' command"
            ))
        );
    }
}

#[test]
fn string_commands_on_another_type_reply_wrongtype() {
    let s = TestServer::start();
    let mut c = s.connect();
    if !has_lists(&mut c) {
        eprintln!("SKIPPED: no non-string type is implemented yet");
        return;
    }
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert!(!call(&mut c, &["LPUSH", "l", "a"]).is_error());
    for args in [
        &["GET", "l"][..],
        &["GETEX", "l"],
        &["GETDEL", "l"],
        &["GETSET", "l", "v"],
        &["SET", "l", "v", "GET"],
        &["APPEND", "l", "x"],
        &["STRLEN", "l"],
        &["INCR", "l"],
        &["INCRBYFLOAT", "l", "1"],
        &["GETRANGE", "l", "0", "1"],
        &["SETRANGE", "l", "0", "x"],
    ] {
        assert_eq!(call(&mut c, args), wrongtype, "{args:?}");
    }
    assert_eq!(
        call(&mut c, &["LCS", "l", "x"]),
        err("ERR The specified keys must contain string values")
    );
    assert_eq!(call(&mut c, &["MGET", "l"]), arr(vec![Frame::NullBulk]));
    // Invalid expiry is detected before the type of the old value.
    assert_eq!(
        call(&mut c, &["SET", "l", "v", "GET", "EX", "0"]),
        err("ERR invalid expire time in 'set' command")
    );
    assert_eq!(call(&mut c, &["SET", "l", "v"]), ok());
    assert_eq!(call(&mut c, &["GET", "l"]), bulk("v"));
}

#[test]
fn writes_work_for_a_client_in_no_touch_mode() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["CLIENT", "NO-TOUCH", "ON"]), ok());
    assert_eq!(call(&mut c, &["INCR", "n"]), int(1));
    assert_eq!(call(&mut c, &["INCR", "n"]), int(2));
    assert_eq!(call(&mut c, &["APPEND", "n", "x"]), int(2));
    assert_eq!(call(&mut c, &["SETRANGE", "n", "0", "y"]), int(2));
    assert_eq!(
        call(&mut c, &["SET", "n", "z", "KEEPTTL", "GET"]),
        bulk("yx")
    );
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "1.5"]), bulk("1.5"));
    assert_eq!(call(&mut c, &["SETBIT", "n", "0", "1"]), int(0));
    assert_eq!(
        call(&mut c, &["BITFIELD", "n", "INCRBY", "u8", "0", "1"]),
        int_array(&[251])
    );
    assert_eq!(call(&mut c, &["GET", "n"]), bin(b"\xfb"));
}

fn int_array(v: &[i64]) -> Frame {
    arr(v.iter().map(|&n| int(n)).collect())
}
