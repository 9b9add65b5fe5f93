//! Differential test: one deterministic script of key, expiry and OBJECT
//! commands run against handoff and a real redis-server, comparing the raw
//! reply bytes in RESP2 and in RESP3. KEYS and SCAN replies are compared as
//! sorted sets (their order legitimately differs); the script only scans with
//! a COUNT large enough to finish in one call from cursor 0, so cursors are
//! "0" on both (other cursors mean different things to each server).

mod common;

use std::time::Duration;

use common::script::{exchange, lines, tokenize};
use common::{ExternalServer, TestServer};
use handoff::protocol::{Connection, Frame};

/// `SLEEP` is not sent: it pauses so that short expiries pass.
const SCRIPT: &str = r#"
FLUSHALL
SET a 1
SET b hello
DEL a b c
DEL a
UNLINK b
EXISTS a b b
SET a 1
EXISTS a a a nope
TYPE a
TYPE zz
TOUCH a a zz
SET hello 1
SET hallo 1
SET hxllo 1
SET heeeello 1
KEYS *
KEYS h?llo
KEYS h*llo
KEYS h[ae]llo
KEYS h[^e]llo
KEYS h[a-b]llo
KEYS nomatch
SCAN 0 COUNT 1000
SCAN 0 COUNT 1000 MATCH h*llo
SCAN 0 COUNT 1000 TYPE string
SCAN 0 COUNT 1000 TYPE STRING MATCH *
SCAN 0 COUNT 1000 TYPE list
SCAN 0 COUNT 1000 TYPE bogus
SCAN x
SCAN 18446744073709551616
SCAN 0 COUNT 0
SCAN 0 COUNT -1
SCAN 0 COUNT x
SCAN 0 MATCH
SCAN 0 TYPE
SCAN 0 FOO bar
SCAN 0 COUNT x FOO bar
SCAN 0 FOO bar COUNT x
SCAN 0 COUNT 0 COUNT x
SCAN x
SCAN 1a
SCAN 0 COUNT 0
SCAN 0 COUNT -1
SCAN 0 COUNT x
SCAN 0 MATCH
SCAN 0 TYPE
SCAN 0 FOO bar
SCAN x COUNT 0
SCAN 18446744073709551616
SCAN
FLUSHALL
RANDOMKEY
SET only v
RANDOMKEY
RENAME only only
RENAME zz y
RENAME zz zz
RENAME only a2
GET a2
RENAMENX a2 a2
RENAMENX zz y
SET b x
RENAMENX a2 b
EXPIRE a2 100
SET dst old
EXPIRE dst 1000
RENAME a2 dst
TTL dst
GET dst
SET plain p
RENAME plain dst
TTL dst
SET src v1
EXPIRE src 100
COPY src src
COPY src src DB 0
COPY zz a
COPY src dst
COPY src dst REPLACE
TTL dst
GET dst
COPY src c DB 16
COPY src c DB x
COPY src c DB -1
COPY src c DB 4294967296
COPY src c DB
COPY src c FOO
COPY src c DB 1 REPLACE
COPY src c DB 1
COPY src src DB 1 REPLACE
SELECT 1
GET src
TTL src
GET c
SELECT 0
MOVE src 0
MOVE src 16
MOVE src x
MOVE src -4294967296
MOVE zz 1
MOVE src 1
SET src again
MOVE src 1
MOVE src 2
SELECT 2
GET src
TTL src
SELECT 0
SET s0 zero
SWAPDB 0 0
SWAPDB 0 2
GET s0
GET src
SWAPDB 2 0
GET s0
SWAPDB 0 16
SWAPDB x 0
SWAPDB 0 x
SWAPDB -1 0
SWAPDB 4294967296 0
SWAPDB 0 4294967296
FLUSHALL
SET b 1
EXPIRE b 100 nx xx
EXPIRE b 100 gt lt
EXPIRE b 100 nx gt
EXPIRE b 100 NX LT
EXPIRE b 100 xx gt lt
EXPIRE b 100 foo
EXPIRE b x foo
EXPIRE b x
EXPIRE b 9223372036854775807
EXPIRE b 9223372036854770
EXPIRE b -9223372036854775808
EXPIREAT b 9223372036854776
PEXPIRE b 9223372036854775807
expire nope 9223372036854775807
EXPIRE zz 10
EXPIRE b 100 xx
EXPIRE b 100 gt
EXPIRE b 100 nx
TTL b
EXPIRE b 100 NX
EXPIRE b 200 lt
EXPIRE b 50 gt
EXPIRE b 50 lt
TTL b
PEXPIRE b 40000 gt
PEXPIRE b 60000 gt xx
TTL b
PERSIST b
PERSIST b
PERSIST zz
EXPIRE b 10 xx
EXPIRE b 10 gt
EXPIRE b 10 lt
TTL b
EXPIRE b 10 nx
TTL zz
PTTL zz
EXPIRETIME zz
PEXPIRETIME zz
PEXPIREAT b 4102444800123
EXPIRETIME b
PEXPIRETIME b
PEXPIREAT b 4102444800500
EXPIRETIME b
PEXPIREAT b 9223372036854775807
EXPIRETIME b
PEXPIRETIME b
PEXPIREAT b 9223372036854775000
EXPIRETIME b
EXPIREAT b 1
EXISTS b
SET b 1
EXPIRETIME b
PEXPIRETIME b
TTL b
PTTL b
EXPIRE b 0
EXISTS b
SET b 1
PEXPIRE b -1
EXISTS b
SET b 1
PEXPIREAT b 0
DBSIZE
SET e1 v
SET e2 v
SET e3 v
SET e4 v
SET e5 v
SET e6 v
SET e7 v
SET e8 v
SET e9 v
SET live v
PEXPIRE e1 1
PEXPIRE e2 1
PEXPIRE e3 1
PEXPIRE e4 1
PEXPIRE e5 1
PEXPIRE e6 1
PEXPIRE e7 1
PEXPIRE e8 1
PEXPIRE e9 1
SLEEP
KEYS *
KEYS e*
EXISTS e1 live
TYPE e2
TTL e3
PTTL e3
RENAME e4 x
COPY e5 x
MOVE e6 1
PERSIST e7
EXPIRE e8 100
OBJECT ENCODING e9
RANDOMKEY
SCAN 0 COUNT 1000
DBSIZE
DEL e1 e2 e3 e4 e5 e6 e7 e8 e9
SET k1 v
SET k2 v
DBSIZE
FLUSHDB foo
FLUSHDB async sync
FLUSHDB ASYNC
DBSIZE
SET k1 v
FLUSHDB SYNC
FLUSHDB
FLUSHALL sync
FLUSHALL x
FLUSHALL async
FLUSHALL
OBJECT ENCODING zz
OBJECT FREQ zz
OBJECT IDLETIME zz
OBJECT REFCOUNT zz
OBJECT foo
OBJECT
OBJECT ENCODING
OBJECT HELP x
SET n 123
SET zero 0
SET nine 9999
SET tenk 10000
SET big 123456
SET neg -5
SET emb hello
SET raw 123456789012345678901234567890123456789012345678901234567890
SET lead 0123
OBJECT REFCOUNT n
OBJECT REFCOUNT zero
OBJECT REFCOUNT nine
OBJECT REFCOUNT tenk
OBJECT REFCOUNT big
OBJECT REFCOUNT neg
OBJECT REFCOUNT emb
OBJECT REFCOUNT raw
OBJECT ENCODING n
OBJECT ENCODING big
OBJECT ENCODING emb
OBJECT ENCODING raw
OBJECT ENCODING lead
OBJECT FREQ n
OBJECT help
OBJECT HELP
COPY emb emb2
OBJECT ENCODING emb2
COPY raw raw2
OBJECT ENCODING raw2
KEYS *
DEL n zero nine tenk big neg emb raw lead emb2 raw2
"#;

/// Runs the script, returning per command its text and the reply as compared:
/// raw bytes, or the sorted elements for KEYS/SCAN.
fn run(conn: &mut Connection, resp3: bool) -> Vec<(String, String)> {
    if resp3 {
        exchange(conn, &["HELLO", "3"]);
    }
    let mut out = Vec::new();
    for line in lines(SCRIPT, "") {
        if line == "SLEEP" {
            std::thread::sleep(Duration::from_millis(30));
            continue;
        }
        let args = tokenize(&line);
        let (frame, raw) = exchange(conn, &args);
        let shown = match (args[0].to_ascii_uppercase().as_slice(), frame) {
            (b"KEYS", Frame::Array(items)) => format!("sorted {:?}", sorted(items)),
            (b"SCAN", Frame::Array(mut parts)) if parts.len() == 2 => match parts.pop() {
                Some(Frame::Array(items)) => {
                    format!("cursor {:?} sorted {:?}", parts[0], sorted(items))
                }
                other => format!("odd scan reply {other:?}"),
            },
            _ => String::from_utf8_lossy(&raw).into_owned(),
        };
        out.push((line, shown));
    }
    out
}

fn sorted(items: Vec<Frame>) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|f| format!("{f:?}")).collect();
    v.sort();
    v
}

fn compare(resp3: bool) {
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let ours = TestServer::start();
    let expected = run(&mut redis.connect(), resp3);
    let got = run(&mut ours.connect(), resp3);
    assert_eq!(expected.len(), got.len());
    let mut mismatches = Vec::new();
    for ((cmd, want), (_, have)) in expected.iter().zip(&got) {
        if want != have {
            mismatches.push(format!("{cmd}\n  redis:   {want:?}\n  handoff: {have:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "RESP{}: {} mismatches:\n{}",
        if resp3 { 3 } else { 2 },
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn key_commands_reply_byte_for_byte_like_redis_in_resp2() {
    compare(false);
}

#[test]
fn key_commands_reply_byte_for_byte_like_redis_in_resp3() {
    compare(true);
}
