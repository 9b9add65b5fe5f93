//! Differential test: one script of hash commands runs against handoff and a
//! real redis-server, in RESP2 and in RESP3, and replies must match.
//!
//! Script lines: words separated by spaces, `"..."` for arguments with
//! spaces, `""` for the empty string. `{p}` becomes a key prefix per protocol
//! so both runs share one server. A line may start with a check marker:
//! - (none): the raw reply bytes must be identical;
//! - `=sorted`: an array reply compared with its elements sorted (HKEYS and
//!   HVALS of hashtable-encoded hashes, whose order is the table's own);
//! - `=pairs`: a field,value reply (HGETALL, HSCAN's element list, HRANDFIELD
//!   WITHVALUES) compared as sorted pairs;
//! - `=shape`: only the reply's type and length must agree (random picks).
//!
//! `@fill KEY N [VALUE_LEN]` sends one HSET of N fields `f0..` with values
//! `v0..` (padded to VALUE_LEN) to both servers.
//!
//! Left out on purpose (the oracle is Redis 7.0, handoff follows 7.2):
//! an HSET carrying more pairs than hash-max-listpack-entries converts to
//! hashtable in 7.2 even when the pairs repeat a field (7.0 stays listpack);
//! tests/hashes.rs checks that case. HINCRBYFLOAT sums that need more than
//! f64 precision are avoided too (Redis adds in long double and prints
//! integers above 2^53 exactly; see `format_incrbyfloat`).

mod common;

use common::script::{
    check_tokenizer, compare_as, compare_exact, in_resp2_and_resp3, lines, tokenize,
};
use handoff::protocol::{Connection, Frame};

const SCRIPT: &str = r#"
HSET {p}h a 1 b 2 c 3
HSET {p}h a 1 b
HSET {p}h
HSET {p}h a
HMSET {p}h a 1 b
HMSET {p}h a 10 d 4
HSET {p}h a 1 a 2 e 5
HGETALL {p}h
HKEYS {p}h
HVALS {p}h
HLEN {p}h
HGET {p}h a
HGET {p}h zz
HGET {p}missing a
HMGET {p}h a zz b
HMGET {p}missing a b
HSTRLEN {p}h a
HSTRLEN {p}h zz
HSTRLEN {p}missing zz
HEXISTS {p}h a
HEXISTS {p}h zz
HEXISTS {p}missing a
HSETNX {p}h a 100
HSETNX {p}h newf 100
HSETNX {p}nx f v
HGETALL {p}nx
HGETALL {p}missing
HKEYS {p}missing
HVALS {p}missing
HLEN {p}missing
OBJECT ENCODING {p}h
HDEL {p}h a zz a b
HDEL {p}h
HDEL {p}missing a
HGETALL {p}h
HDEL {p}nx f
EXISTS {p}nx
HSET {p}h "" ""
HGET {p}h ""
HSET {p}h "with space" "v a l"
HGETALL {p}h
SET {p}str x
HSET {p}str a 1
HSETNX {p}str a 1
HGET {p}str a
HMGET {p}str a
HDEL {p}str a
HLEN {p}str
HSTRLEN {p}str a
HEXISTS {p}str a
HKEYS {p}str
HVALS {p}str
HGETALL {p}str
HINCRBY {p}str a 1
HINCRBYFLOAT {p}str a 1
HRANDFIELD {p}str
HRANDFIELD {p}str 1
HSCAN {p}str 0
HINCRBY {p}n i 5
HINCRBY {p}n i -7
HINCRBY {p}n i x
HINCRBY {p}n i 1.5
HINCRBY {p}n i 9223372036854775808
HINCRBY {p}n i
HSET {p}n big 9223372036854775806 small -9223372036854775807 txt abc sp " 1" lz 01 f 1.5
HINCRBY {p}n big 1
HINCRBY {p}n big 1
HINCRBY {p}n big 0
HINCRBY {p}n small -1
HINCRBY {p}n small -1
HINCRBY {p}n txt 1
HINCRBY {p}n sp 1
HINCRBY {p}n lz 1
HINCRBY {p}n f 1
HINCRBYFLOAT {p}n f 0.25
HINCRBYFLOAT {p}n f -1.75
HINCRBYFLOAT {p}n nf 3
HINCRBYFLOAT {p}n nf 1e3
HINCRBYFLOAT {p}n nf 2.5e-1
HINCRBYFLOAT {p}n nf abc
HINCRBYFLOAT {p}n nf inf
HINCRBYFLOAT {p}n nf -inf
HINCRBYFLOAT {p}n nf nan
HINCRBYFLOAT {p}n nf ""
HINCRBYFLOAT {p}n txt 1
HINCRBYFLOAT {p}n sp 1
HINCRBYFLOAT {p}n lz 1
HINCRBYFLOAT {p}n i 0
HSET {p}n e 1e10 hx 0x10 inf inf tiny 1e-400
HINCRBYFLOAT {p}n inf 1
HINCRBYFLOAT {p}n tiny 1
HINCRBY {p}n hx 1
HINCRBYFLOAT {p}n e 1
HINCRBYFLOAT {p}n hx 1
HINCRBYFLOAT {p}n newfloat 5.0e3
HINCRBYFLOAT {p}n newfloat 1.5
HGETALL {p}n
HRANDFIELD {p}missing
HRANDFIELD {p}missing 5
HRANDFIELD {p}missing 5 WITHVALUES
HRANDFIELD {p}missing -5 WITHVALUES
HRANDFIELD {p}missing 0
HRANDFIELD {p}missing x
HRANDFIELD {p}h x
HRANDFIELD {p}h 1 foo
HRANDFIELD {p}h 1 withvalues foo
HRANDFIELD {p}h 0
HRANDFIELD {p}h 0 WITHVALUES
HRANDFIELD {p}h 100
HRANDFIELD {p}h 100 WITHVALUES
=shape HRANDFIELD {p}h 4 withvalues
HRANDFIELD {p}h -9223372036854775808
HRANDFIELD {p}h 9223372036854775807 WITHVALUES
HRANDFIELD {p}h -4611686018427387904 WITHVALUES
HRANDFIELD {p}h 4611686018427387904 WITHVALUES
HRANDFIELD {p}h 9223372036854775808
HSET {p}one only 1
HRANDFIELD {p}one
HRANDFIELD {p}one -3
HRANDFIELD {p}one -3 WITHVALUES
HRANDFIELD {p}one 1 WITHVALUES
HRANDFIELD {p}one 2 WITHVALUES
=shape HRANDFIELD {p}h
=shape HRANDFIELD {p}h 2
=shape HRANDFIELD {p}h -10
=shape HRANDFIELD {p}h -10 WITHVALUES
=shape HRANDFIELD {p}h 2 WITHVALUES
HSCAN {p}h 0
HSCAN {p}h 0 COUNT 1
HSCAN {p}h 0 MATCH *o*
HSCAN {p}h 0 MATCH "with*" COUNT 100
HSCAN {p}h 0 match * count 2
HSCAN {p}h 0 COUNT 0
HSCAN {p}h 0 COUNT -1
HSCAN {p}h 0 COUNT x
HSCAN {p}h 0 MATCH
HSCAN {p}h 0 TYPE string
HSCAN {p}h 0 NOVALUES
HSCAN {p}h 0 COUNT x BOGUS 1
HSCAN {p}h 0 BOGUS 1 COUNT x
HSCAN {p}h 0 COUNT 0 COUNT x
HSCAN {p}h x
HSCAN {p}h -1
HSCAN {p}h 18446744073709551616
HSCAN {p}h ""
HSCAN {p}missing 0
HSCAN {p}missing 0 COUNT 0
HSCAN {p}missing x
OBJECT ENCODING {p}h
CONFIG SET hash-max-listpack-entries 4
HSET {p}t a 1 b 2 c 3 d 4
OBJECT ENCODING {p}t
HGETALL {p}t
HSET {p}t d 44
OBJECT ENCODING {p}t
HSET {p}t e 5
OBJECT ENCODING {p}t
=pairs HGETALL {p}t
=sorted HKEYS {p}t
=sorted HVALS {p}t
HLEN {p}t
HDEL {p}t a b c d
OBJECT ENCODING {p}t
HGETALL {p}t
HDEL {p}t e
EXISTS {p}t
CONFIG SET hash-max-listpack-entries 512
CONFIG SET hash-max-listpack-value 8
HSET {p}v a 12345678
OBJECT ENCODING {p}v
HSET {p}v b 123456789
OBJECT ENCODING {p}v
HSET {p}v2 123456789 a
OBJECT ENCODING {p}v2
HSETNX {p}v3 f 123456789
OBJECT ENCODING {p}v3
HINCRBY {p}v4 longfieldname 1
OBJECT ENCODING {p}v4
HINCRBYFLOAT {p}v5 longfieldname 1
OBJECT ENCODING {p}v5
HINCRBY {p}v6 f 12345678
HINCRBY {p}v6 f 900000000
OBJECT ENCODING {p}v6
HINCRBYFLOAT {p}v7 f 1234567.5
HINCRBYFLOAT {p}v7 f 1
OBJECT ENCODING {p}v7
CONFIG SET hash-max-listpack-value 64
@fill {p}big 600
OBJECT ENCODING {p}big
HLEN {p}big
HGET {p}big f599
HGET {p}big f600
HMGET {p}big f0 f1 nope f599
HSTRLEN {p}big f123
HEXISTS {p}big f42
=pairs HGETALL {p}big
=sorted HKEYS {p}big
=sorted HVALS {p}big
HINCRBY {p}big f7 1
HINCRBY {p}big f8 1
HINCRBYFLOAT {p}big f9 1.5
HSETNX {p}big f10 x
HSETNX {p}big newfield x
HDEL {p}big f0 f1 f2 nope
HLEN {p}big
=shape HRANDFIELD {p}big
=shape HRANDFIELD {p}big 5
=shape HRANDFIELD {p}big 500
=shape HRANDFIELD {p}big -700 WITHVALUES
=shape HRANDFIELD {p}big 5 WITHVALUES
=pairs HRANDFIELD {p}big 1000 WITHVALUES
=sorted HRANDFIELD {p}big 1000
=pairs HSCAN {p}big 0 COUNT 10000
=pairs HSCAN {p}big 0 MATCH f1?? COUNT 10000
@fill {p}wide 20 100
OBJECT ENCODING {p}wide
=pairs HGETALL {p}wide
HSET {p}dup a 1 b 2 a 3
HGETALL {p}dup
HLEN {p}dup
HSET {p}bin "\x00\xff" "\r\n"
HGETALL {p}bin
HGET {p}bin "\x00\xff"
"#;

/// How one script line is checked.
#[derive(Clone, Copy)]
enum Check {
    Exact,
    Sorted,
    Pairs,
    Shape,
}

/// The elements of an aggregate reply (an HSCAN reply contributes its
/// element list), or None.
fn elements(f: &Frame) -> Option<Vec<Frame>> {
    match f {
        Frame::Array(v)
            if v.len() == 2
                && matches!(&v[0], Frame::Bulk(_))
                && matches!(&v[1], Frame::Array(_)) =>
        {
            elements(&v[1])
        }
        Frame::Array(v) | Frame::Set(v) => Some(v.clone()),
        Frame::Map(m) => Some(m.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect()),
        _ => None,
    }
}

/// A canonical form of `f` for an order-insensitive comparison.
fn canonical(f: &Frame, check: Check) -> String {
    let kind = match f {
        Frame::Array(_) => "array",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        Frame::Bulk(_) if matches!(check, Check::Shape) => return "bulk".into(),
        _ => return format!("{f:?}"),
    };
    let Some(items) = elements(f) else {
        return format!("{f:?}");
    };
    match check {
        Check::Shape => format!("{kind} of {}", items.len()),
        Check::Sorted => {
            let mut s: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
            s.sort();
            format!("{kind} {s:?}")
        }
        _ => {
            // Pairs: either flat (field, value, ...) or nested [field, value] arrays.
            let mut pairs: Vec<String> = if items.iter().all(|i| matches!(i, Frame::Array(_))) {
                items.iter().map(|i| format!("{i:?}")).collect()
            } else {
                items
                    .chunks(2)
                    .map(|c| format!("{:?}", c.to_vec()))
                    .collect()
            };
            pairs.sort();
            format!("{kind} {pairs:?}")
        }
    }
}

fn fill(key: &str, n: usize, value_len: usize) -> Vec<Vec<u8>> {
    let mut args = vec![b"HSET".to_vec(), key.as_bytes().to_vec()];
    for i in 0..n {
        args.push(format!("f{i}").into_bytes());
        args.push(format!("v{i:0>width$}", width = value_len.max(1)).into_bytes());
    }
    args
}

/// Runs the script with key prefix `prefix` on both connections; returns
/// the mismatches.
fn run_script(ours: &mut Connection, theirs: &mut Connection, prefix: &str) -> Vec<String> {
    let mut mismatches = Vec::new();
    let mut lines_run = 0;
    for line in lines(SCRIPT, prefix) {
        let (check, args) = if let Some(rest) = line.strip_prefix("@fill ") {
            let parts: Vec<&str> = rest.split(' ').collect();
            let n = parts[1].parse().unwrap();
            let len = parts.get(2).map_or(1, |l| l.parse().unwrap());
            (Check::Exact, fill(parts[0], n, len))
        } else if let Some(rest) = line.strip_prefix('=') {
            let (marker, rest) = rest.split_once(' ').unwrap();
            let check = match marker {
                "sorted" => Check::Sorted,
                "pairs" => Check::Pairs,
                "shape" => Check::Shape,
                other => panic!("unknown marker {other}"),
            };
            (check, tokenize(rest))
        } else {
            (Check::Exact, tokenize(&line))
        };
        lines_run += 1;
        let m = &mut mismatches;
        match check {
            Check::Exact => compare_exact(ours, theirs, &line, &args, m),
            _ => compare_as(ours, theirs, &line, &args, |f| canonical(f, check), m),
        }
    }
    assert!(lines_run > 200, "the script ran ({lines_run} lines)");
    mismatches
}

#[test]
fn hash_replies_match_redis_in_resp2_and_resp3() {
    // The shared tokenizer decides which bytes every differential test sends.
    check_tokenizer();
    in_resp2_and_resp3(run_script);
}
