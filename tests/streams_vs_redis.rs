//! Differential test: one script of stream commands runs against handoff
//! and a real redis-server, in RESP2 and in RESP3, and every reply must be
//! byte-identical.
//!
//! IDs are explicit so both servers generate the same ones (one `*` line
//! only checks the shape). Lines starting with `!` are compared with every
//! integer zeroed: idle times, delivery times and XINFO's radix-tree-nodes
//! (a Redis internal) are not deterministic. Left out on purpose: XINFO
//! CONSUMERS and XINFO STREAM FULL, whose fields differ between the 7.0
//! oracle and Redis 7.2 (7.2 adds `inactive` / `active-time`), and BLOCK.
//! Script syntax as in tests/common/script.rs; `{p}` is a per-protocol prefix.

mod common;

use common::script::{compare_as, compare_exact, in_resp2_and_resp3, lines, tokenize};
use handoff::protocol::{Connection, Frame};

const SCRIPT: &str = r#"
XADD {p}s 1-1 a 1
XADD {p}s 1-2 b 2 c 3
XADD {p}s 2-0 a 1
XADD {p}s 2-* a 2
XADD {p}s 2-* a 3
XADD {p}s 1-5 a 1
XADD {p}s 2-2 a 1
XADD {p}s 0-0 a 1
XADD {p}new 0 a 1
XADD {p}new 0-* a 1
XADD {p}new 0-* a 2
XADD {p}s abc a 1
XADD {p}s 1-x a 1
XADD {p}s - a 1
XADD {p}s + a 1
XADD {p}s -1 a 1
XADD {p}s 3-1
XADD {p}s 3-1 a
XADD {p}s 3-1 a 1 b
XADD {p}s
XADD {p}s 3
XADD {p}s 18446744073709551616-0 a 1
XADD {p}s 1--0 a 1
XADD {p}s NOMKSTREAM 3-0 a 1
XADD {p}none NOMKSTREAM 3-0 a 1
EXISTS {p}none
XADD {p}s MAXLEN
XADD {p}s MAXLEN 5
XADD {p}s MAXLEN abc 4-0 a 1
XADD {p}s MAXLEN -1 4-0 a 1
XADD {p}s MAXLEN 10 MINID 0 4-0 a 1
XADD {p}s MINID abc 4-0 a 1
XADD {p}s LIMIT 10 4-0 a 1
XADD {p}s MAXLEN 10 LIMIT 10 4-0 a 1
XADD {p}s MAXLEN ~ 10 LIMIT -1 4-0 a 1
XADD {p}s MAXLEN ~ 10 LIMIT x 4-0 a 1
XADD {p}s LIMIT 0 4-0 a 1
XADD {p}s MAXLEN = 6 5-0 a 1
XLEN {p}s
XRANGE {p}s - +
XADD {p}s MAXLEN ~ 1 6-0 a 1
XLEN {p}s
XADD {p}s MINID 5 7-0 a 1
XRANGE {p}s - +
XADD {p}s MINID = 6-0 LIMIT 0 8-0 a 1
XADD {p}s MAXLEN ~ 0 LIMIT 0 9-0 a 1
XLEN {p}s
SET {p}str x
XADD {p}str 1-1 a 1
XLEN {p}str
XRANGE {p}str - +
XLEN {p}missing
XADD {p}r 1-1 f1 v1
XADD {p}r 1-2 f1 v2
XADD {p}r 2-1 f1 v3 f2 x
XADD {p}r 3-0 other v
XADD {p}r 18446744073709551615-18446744073709551615 last v
XADD {p}r 18446744073709551615-* a b
XADD {p}r * a b
XRANGE {p}r - +
XRANGE {p}r - + COUNT 2
XRANGE {p}r - + COUNT 0
XRANGE {p}r - + COUNT -5
XRANGE {p}r - + COUNT
XRANGE {p}r - + COUNT x
XRANGE {p}r - + FOO 1
XRANGE {p}r 1 1
XRANGE {p}r 1-2 2
XRANGE {p}r (1-1 +
XRANGE {p}r (1 +
XRANGE {p}r - (2-1
XRANGE {p}r (- +
XRANGE {p}r - (+
XRANGE {p}r ( +
XRANGE {p}r (18446744073709551615-18446744073709551615 +
XRANGE {p}r - (0-0
XRANGE {p}r 5 1
XRANGE {p}r abc +
XRANGE {p}missing - +
XRANGE {p}missing - + COUNT 0
XREVRANGE {p}r + -
XREVRANGE {p}r + - COUNT 1
XREVRANGE {p}r (3 (1-1
XREVRANGE {p}r 2 1
XREVRANGE {p}r - +
XDEL {p}r 1-2 9-9
XDEL {p}r 1-2
XDEL {p}r abc
XDEL {p}r 2-1 abc
XDEL {p}missing 1-1
XDEL {p}str 1-1
XRANGE {p}r - +
XLEN {p}r
XTRIM {p}r
XTRIM {p}r MAXLEN
XTRIM {p}r MAXLEN 2 extra
XTRIM {p}r FOO 1
XTRIM {p}r LIMIT 2
XTRIM {p}missing MAXLEN 0
XTRIM {p}str MAXLEN 0
XTRIM {p}r MAXLEN 2
XRANGE {p}r - +
XTRIM {p}r MINID 18446744073709551615
XLEN {p}r
XRANGE {p}r - +
EXISTS {p}r
XSETID {p}r 5-5
XSETID {p}r 0-1
XSETID {p}missing 1-1
XSETID {p}r abc
XSETID {p}r 9-9 ENTRIESADDED -1
XSETID {p}r 9-9 ENTRIESADDED 0
XSETID {p}r 9-9 MAXDELETEDID 10-0
XSETID {p}r 9-9 MAXDELETEDID 8-0 ENTRIESADDED 100
XSETID {p}r 9-9 FOO
XSETID {p}r 8-0
XADD {p}r 9-9 a 1
XADD {p}r 9-10 a 1
XSETID {p}r 9-9
XSETID {p}r 9-11 ENTRIESADDED 0
XINFO GROUPS {p}r
XADD {p}q 1-0 k v1
XADD {p}q 2-0 k v2
XADD {p}q 3-0 k v3
XADD {p}q 4-0 k v4
XADD {p}q 5-0 k v5
XREAD STREAMS {p}q 0
XREAD COUNT 2 STREAMS {p}q 0
XREAD COUNT 2 STREAMS {p}q 2
XREAD STREAMS {p}q $
XREAD STREAMS {p}q {p}r 3 0
XREAD STREAMS {p}q {p}missing 3 0
XREAD STREAMS {p}missing 0
XREAD STREAMS {p}q 5
XREAD STREAMS {p}q
XREAD STREAMS {p}q {p}r 0
XREAD COUNT x STREAMS {p}q 0
XREAD COUNT -1 STREAMS {p}q 3
XREAD STREAMS {p}q >
XREAD STREAMS {p}q abc
XREAD GROUP g c STREAMS {p}q 0
XREAD NOACK STREAMS {p}q 0
XREAD FOO STREAMS {p}q 0
XREAD STREAMS {p}str 0
XREAD COUNT 1
XGROUP CREATE {p}q g1 0
XGROUP CREATE {p}q g1 0
XGROUP CREATE {p}q g2 $
XGROUP CREATE {p}q g3 2-0 ENTRIESREAD 2
XGROUP CREATE {p}q g4 0 ENTRIESREAD -2
XGROUP CREATE {p}q g4 0 ENTRIESREAD x
XGROUP CREATE {p}q g4 0 FOO
XGROUP CREATE {p}q g4 abc
XGROUP CREATE {p}missing g 0
XGROUP CREATE {p}mk g 0 MKSTREAM
XLEN {p}mk
XINFO GROUPS {p}mk
XGROUP CREATE {p}str g 0
XGROUP CREATE {p}str g 0 MKSTREAM
XGROUP FOO {p}q g
XGROUP CREATE {p}q
XGROUP SETID {p}q nog 0
XGROUP CREATECONSUMER {p}q nog c
XGROUP DELCONSUMER {p}q nog c
XGROUP DESTROY {p}q nog
XGROUP DESTROY {p}missing nog
XINFO GROUPS {p}q
XREADGROUP GROUP g1 alice COUNT 2 STREAMS {p}q >
XREADGROUP GROUP g1 bob COUNT 1 STREAMS {p}q >
XREADGROUP GROUP g1 alice STREAMS {p}q 0
XREADGROUP GROUP g1 bob STREAMS {p}q 0
XREADGROUP GROUP g1 carol STREAMS {p}q 0
XINFO GROUPS {p}q
XPENDING {p}q g1
XPENDING {p}q g2
XPENDING {p}q nog
XPENDING {p}missing g1
XPENDING {p}str g1
XPENDING {p}q g1 - + 10 extra extra extra
XPENDING {p}q g1 - +
XPENDING {p}q g1 IDLE 0 - +
XPENDING {p}q g1 - + x
XPENDING {p}q g1 abc + 10
XPENDING {p}q g1 (18446744073709551615-18446744073709551615 + 10
!XPENDING {p}q g1 - + 10
!XPENDING {p}q g1 - + 1
!XPENDING {p}q g1 (1 + 10
!XPENDING {p}q g1 - + 10 bob
!XPENDING {p}q g1 - + 10 nobody
!XPENDING {p}q g1 IDLE 0 - + 10 alice
!XPENDING {p}q g1 IDLE 99999999 - + 10
XACK {p}q g1 1-0 9-0
XACK {p}q g1 1-0
XACK {p}q nog 1-0
XACK {p}missing g1 1-0
XACK {p}q g1 abc
XACK {p}str g1 1-0
XPENDING {p}q g1
XREADGROUP GROUP g1 alice NOACK STREAMS {p}q >
XREADGROUP GROUP g1 alice STREAMS {p}q >
XPENDING {p}q g1
XREADGROUP GROUP g1 alice STREAMS {p}q $
XREADGROUP GROUP nog alice STREAMS {p}q >
XREADGROUP GROUP g1 alice STREAMS {p}missing >
XREADGROUP GROUP g1 alice STREAMS {p}str >
XREADGROUP GROUP g1 alice STREAMS {p}q
XREADGROUP COUNT 1 STREAMS {p}q >
XREADGROUP GROUP g1 alice STREAMS {p}q abc
XREADGROUP GROUP g2 dave STREAMS {p}q >
XADD {p}q 6-0 k v6
XREADGROUP GROUP g2 dave STREAMS {p}q >
XREADGROUP GROUP g2 dave STREAMS {p}q 0
XREADGROUP GROUP g3 dave COUNT 1 STREAMS {p}q {p}q > >
XINFO GROUPS {p}q
XDEL {p}q 2-0
XREADGROUP GROUP g1 bob STREAMS {p}q 0
XINFO GROUPS {p}q
XCLAIM {p}q g1 carol 0 2-0 3-0
XCLAIM {p}q g1 carol 0 3-0 JUSTID
XCLAIM {p}q g1 carol 0 4-0 FORCE JUSTID
XCLAIM {p}q g1 carol 0 4-0 RETRYCOUNT 7
XCLAIM {p}q g1 carol 0 99-0 FORCE
XCLAIM {p}q g1 carol 0 1-0 FORCE LASTID 50-0
XINFO GROUPS {p}q
XCLAIM {p}q g1 carol x 1-0
XCLAIM {p}q g1 carol 0 1-0 IDLE x
XCLAIM {p}q g1 carol 0 1-0 TIME x
XCLAIM {p}q g1 carol 0 1-0 RETRYCOUNT x
XCLAIM {p}q g1 carol 0 1-0 LASTID x
XCLAIM {p}q g1 carol 0 1-0 BOGUS
XCLAIM {p}q g1 carol 0 abc
XCLAIM {p}q nog carol 0 1-0
XCLAIM {p}missing g1 carol 0 1-0
XCLAIM {p}q g1 carol 999999999 1-0 3-0
!XPENDING {p}q g1 - + 10
XAUTOCLAIM {p}q g1 erin 0 0 COUNT 1
XAUTOCLAIM {p}q g1 erin 0 0 COUNT 2 JUSTID
XAUTOCLAIM {p}q g1 erin 0 (1 COUNT 10
XAUTOCLAIM {p}q g1 erin 0 0 COUNT 0
XAUTOCLAIM {p}q g1 erin 0 0 COUNT x
XAUTOCLAIM {p}q g1 erin 0 0 FOO
XAUTOCLAIM {p}q g1 erin x 0
XAUTOCLAIM {p}q g1 erin 0 abc
XAUTOCLAIM {p}q nog erin 0 0
XAUTOCLAIM {p}q g1 erin 999999999 0
XADD {p}q 7-0 k v7
XADD {p}q 8-0 k v8
XGROUP SETID {p}q g1 6-0
XREADGROUP GROUP g1 frank STREAMS {p}q >
XDEL {p}q 7-0
XAUTOCLAIM {p}q g1 erin 0 7 COUNT 1
!XPENDING {p}q g1 - + 10
XGROUP CREATECONSUMER {p}q g1 zed
XGROUP CREATECONSUMER {p}q g1 zed
XGROUP DELCONSUMER {p}q g1 erin
XGROUP DELCONSUMER {p}q g1 erin
XGROUP SETID {p}q g1 0
XGROUP SETID {p}q g1 $ ENTRIESREAD 3
XGROUP SETID {p}q g1 - 
XGROUP SETID {p}q g1 abc
XGROUP SETID {p}q g1 0 FOO 1
XGROUP SETID {p}q g1 0 ENTRIESREAD -5
XINFO GROUPS {p}q
XGROUP DESTROY {p}q g2
XGROUP DESTROY {p}q g2
XINFO GROUPS {p}q
XINFO FOO {p}q
XINFO GROUPS {p}missing
XINFO GROUPS {p}str
XINFO CONSUMERS {p}q nog
XINFO STREAM {p}missing
XINFO STREAM {p}q FOO
XINFO STREAM {p}q FULL COUNT
XINFO STREAM {p}q FULL COUNT x
XINFO STREAM {p}q FULL FOO 1
!XINFO STREAM {p}q
!XINFO STREAM {p}mk
XGROUP HELP
XINFO HELP
XGROUP HELP extra
XADD {p}lag 1-0 a 1
XADD {p}lag 2-0 a 1
XADD {p}lag 3-0 a 1
XGROUP CREATE {p}lag g 0
XINFO GROUPS {p}lag
XREADGROUP GROUP g c COUNT 1 STREAMS {p}lag >
XINFO GROUPS {p}lag
XDEL {p}lag 3-0
XINFO GROUPS {p}lag
XREADGROUP GROUP g c STREAMS {p}lag >
XINFO GROUPS {p}lag
XADD {p}lag 4-0 a 1
XINFO GROUPS {p}lag
XTRIM {p}lag MAXLEN 0
XINFO GROUPS {p}lag
XGROUP SETID {p}lag g 0
XINFO GROUPS {p}lag
OBJECT ENCODING {p}lag
TYPE {p}lag
"#;

/// The frame with every integer replaced by 0 (for time-dependent replies).
fn mask(f: &Frame) -> Frame {
    match f {
        Frame::Integer(_) => Frame::Integer(0),
        Frame::Array(v) => Frame::Array(v.iter().map(mask).collect()),
        Frame::Map(v) => Frame::Map(v.iter().map(|(k, x)| (mask(k), mask(x))).collect()),
        other => other.clone(),
    }
}

fn run_script(ours: &mut Connection, theirs: &mut Connection, prefix: &str) -> Vec<String> {
    let mut mismatches = Vec::new();
    let mut lines_run = 0;
    for line in lines(SCRIPT, prefix) {
        let (masked, rest) = match line.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, line.as_str()),
        };
        lines_run += 1;
        let args = tokenize(rest);
        if masked {
            compare_as(ours, theirs, &line, &args, mask, &mut mismatches);
        } else {
            compare_exact(ours, theirs, &line, &args, &mut mismatches);
        }
    }
    assert!(lines_run > 250, "the script ran ({lines_run} lines)");
    mismatches
}

#[test]
fn stream_replies_match_redis_byte_for_byte_in_resp2_and_resp3() {
    in_resp2_and_resp3(run_script);
}
