//! The replication stream handoff writes for each write command, byte for
//! byte against a real redis-server 7.0 running the same script (times and
//! time-based stream IDs normalized), read by a fake replica attached with
//! PSYNC; and convergence of a real redis-server replica of handoff after
//! mixed writes of every type with TTLs. Skipped when redis-server is
//! missing, unless HANDOFF_REQUIRE_PEERS=1.

mod common;

use std::time::Duration;

use common::dataset::{assert_same, snapshot};
use common::stream::{script, Recorder};
use common::workload::{info_field, must, wait_for, write_mixed};
use common::{ExternalServer, TestServer};
use handoff::protocol::Frame;

fn handoff_server() -> TestServer {
    TestServer::with(|c| c.repl_diskless_sync_delay = 0)
}

/// Both primaries, each with a fake replica attached.
struct Pair {
    _ours: TestServer,
    _redis: ExternalServer,
    ours: Recorder,
    redis: Recorder,
}

fn pair() -> Option<Pair> {
    let redis = ExternalServer::start("redis-server", &[])?;
    let ours = handoff_server();
    let a = Recorder::new(ours.addr());
    let b = Recorder::new(([127, 0, 0, 1], redis.port).into());
    Some(Pair {
        _ours: ours,
        _redis: redis,
        ours: a,
        redis: b,
    })
}

/// handoff's stream as Redis 7.0 would write it: without the
/// `XGROUP SETID ... ENTRIESREAD` handoff adds after the XCLAIMs of a group
/// read (so replicas also get the read counter), and so without the
/// MULTI/EXEC that then wrapped a single XCLAIM.
fn as_redis_70(stream: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in stream {
        let after_xclaim = out.last().is_some_and(|l| l.starts_with("XCLAIM "));
        if line.starts_with("XGROUP SETID ") && after_xclaim {
            continue;
        }
        out.push(line);
    }
    let mut collapsed = Vec::new();
    let mut i = 0;
    while i < out.len() {
        if out[i] == "MULTI" && out.get(i + 2).is_some_and(|l| l == "EXEC") {
            collapsed.push(out[i + 1].clone());
            i += 3;
        } else {
            collapsed.push(out[i].clone());
            i += 1;
        }
    }
    collapsed
}

/// Runs `text` on both and asserts the streams are equal.
fn same_stream(text: &str) -> Option<Vec<String>> {
    let mut p = pair()?;
    let s = script(text);
    let got = as_redis_70(p.ours.record(&s));
    let want = p.redis.record(&s);
    assert_eq!(
        got, want,
        "stream differs (left: handoff, right: redis-server)"
    );
    Some(got)
}

#[test]
fn set_family_and_expiries_propagate_absolute_times_as_redis() {
    let Some(got) = same_stream(
        "SET a 1 EX 100
         SET a 2 PX 100000 GET
         SET a 3 KEEPTTL
         SET a 4 NX EX 10
         SET a 4 XX EXAT 9999999999 GET
         SET a 5 PXAT 9999999999000
         SET a 6 GET
         SETNX n 1
         SETEX b 10 x
         PSETEX b 100000 x
         GETEX b EX 100
         GETEX b PX 100000
         GETEX b EXAT 9999999999
         GETEX b PERSIST
         GETEX b PERSIST
         GETEX b
         GETEX b PXAT 1
         SET b x
         GETDEL b
         GETDEL b
         GETSET g 1
         SET e 1
         EXPIRE e 100 NX
         EXPIRE e 50 GT
         EXPIRE e 200 XX
         PEXPIRE e 1000000 LT
         EXPIREAT e 9999999999
         PEXPIREAT e 9999999999000
         PERSIST e
         PERSIST e
         EXPIRE missing 10
         EXPIREAT e 1
         SET c 1.5
         INCRBYFLOAT c 2
         INCRBYFLOAT c 0.1
         SET ct 1 EX 1000
         INCRBYFLOAT ct 1
         INCR i
         APPEND s abc
         SETRANGE s 1 zz
         MSET m1 1 m2 2
         MSETNX m1 1 m3 3",
    ) else {
        return;
    };
    assert!(got.contains(&"SET a 1 PXAT <T>".to_string()), "{got:#?}");
    assert!(got.contains(&"SET c 3.5 KEEPTTL".to_string()), "{got:#?}");
}

#[test]
fn geoadd_propagates_as_the_zadd_redis_rewrites_it_to() {
    let Some(got) = same_stream(
        "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
         GEOADD g 13.361389 38.115556 Palermo
         GEOADD g CH 13.361389 38.115557 Palermo
         GEOADD g NX 1 1 Palermo 2 2 newone
         GEOADD g XX 3 3 newone 4 4 nothere
         GEOADD g xx ch 5 5 newone
         GEOADD g XX 6 6 nothere",
    ) else {
        return;
    };
    assert!(got[0].starts_with("zadd g "), "{got:#?}");
}

#[test]
fn hashes_sets_and_pubsub_propagate_as_redis() {
    same_stream(
        "HSET h f 1.5 g 2
         HINCRBYFLOAT h f 1
         HINCRBYFLOAT h n 2.5e3
         HINCRBY h g 5
         HDEL h g
         SADD one a
         SPOP one
         SADD two a b
         SPOP two 2
         SADD three a b c
         SPOP three 5
         SPOP three
         SPOP nokey
         SPOP nokey 3
         SADD four a b
         SPOP four 0
         SRANDMEMBER four
         SRANDMEMBER four -5
         PUBLISH ch hello
         SPUBLISH sch hello
         PFADD hll a b c
         PFCOUNT hll
         PFCOUNT hll",
    );
}

/// SPOP with a count smaller than the set picks random members: both servers
/// propagate one `SREM key member` per popped member, in MULTI/EXEC, and the
/// members are the ones replied.
#[test]
fn spop_with_a_count_propagates_the_popped_members_as_srem() {
    let Some(mut p) = pair() else { return };
    let s = script("SADD s a b c d e\nSPOP s 3");
    for rec in [&mut p.ours, &mut p.redis] {
        let mut popped = Vec::new();
        let got = rec.record_with(&s, |args, reply| {
            if args[0] == "SPOP" {
                if let Frame::Array(items) = reply {
                    for f in items {
                        if let Frame::Bulk(b) = f {
                            popped.push(format!("SREM s {}", String::from_utf8_lossy(b)));
                        }
                    }
                }
            }
        });
        assert_eq!(got[0], "SADD s a b c d e");
        assert_eq!(got[1], "MULTI");
        let mut srems: Vec<String> = got[2..got.len() - 1].to_vec();
        srems.sort();
        popped.sort();
        assert_eq!(srems, popped, "{got:#?}");
        assert_eq!(got.last().map(String::as_str), Some("EXEC"));
    }
}

#[test]
fn blocking_pops_served_at_once_propagate_their_plain_forms_as_redis() {
    same_stream(
        "RPUSH l a b c d e f g h
         BLPOP l 0
         BRPOP nothing l 0
         BLMOVE l l2 LEFT RIGHT 0
         BRPOPLPUSH l l2 0
         BLMPOP 0 1 l LEFT COUNT 1
         LMPOP 2 nothing l RIGHT COUNT 50
         LMPOP 1 l2 LEFT
         LMPOP 1 nothing LEFT
         RPUSH q x
         LPOP q 5
         RPUSH q x y
         RPOPLPUSH q q
         LMOVE q q2 LEFT LEFT
         ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
         BZPOPMIN z 0
         BZPOPMAX nothing z 0
         ZMPOP 1 z MIN COUNT 1
         BZMPOP 0 1 z MAX COUNT 10
         ZADD z 1 a
         ZPOPMIN z 5
         ZPOPMIN nothing",
    );
}

/// A client blocked in `blocking` is served by `push` from another client:
/// the stream holds the push, then the served pop in its plain form.
fn blocked_then_served(
    rec: &mut Recorder,
    addr: std::net::SocketAddr,
    blocking: &str,
    push: &str,
) -> Vec<String> {
    let words: Vec<String> = blocking.split_whitespace().map(String::from).collect();
    let waiter = std::thread::spawn(move || {
        let mut c = handoff::protocol::Connection::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let refs: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
        c.call(&refs).unwrap()
    });
    // Wait until it is blocked.
    let mut seen = None;
    let blocked = (0..500).any(|_| {
        seen = info_field(&mut rec.conn, "clients", "blocked_clients");
        let yes = seen.as_deref() == Some("1");
        if !yes {
            std::thread::sleep(Duration::from_millis(20));
        }
        yes
    });
    assert!(
        blocked,
        "{blocking} did not block (blocked_clients: {seen:?})"
    );
    let got = rec.record(&script(push));
    let reply = waiter.join().unwrap();
    assert!(
        !matches!(reply, Frame::Null | Frame::NullArray | Frame::NullBulk),
        "{reply:?}"
    );
    got
}

#[test]
fn blocking_pops_served_later_propagate_their_plain_forms_as_redis() {
    let Some(mut p) = pair() else { return };
    let ours_addr = p._ours.addr();
    let redis_addr = ([127, 0, 0, 1], p._redis.port).into();
    let setup = script("XGROUP CREATE bg g $ MKSTREAM\nXGROUP CREATECONSUMER bg g c");
    assert_eq!(p.ours.record(&setup), p.redis.record(&setup));
    for (blocking, push) in [
        ("BLPOP bl 0", "RPUSH bl a"),
        ("BRPOP bl 0", "RPUSH bl c"),
        ("BLMOVE bm bm2 RIGHT LEFT 0", "RPUSH bm a"),
        ("BRPOPLPUSH bm bm2 0", "RPUSH bm b"),
        ("BLMPOP 0 2 x bmp RIGHT COUNT 3", "RPUSH bmp a b c d"),
        ("BZPOPMAX bz 0", "ZADD bz 1 a 2 b"),
        ("BZMPOP 0 1 bz2 MIN COUNT 5", "ZADD bz2 1 a 2 b"),
        ("XREAD BLOCK 0 STREAMS bx $", "XADD bx 1-1 f v"),
        ("BLPOP bq 0", "RPUSH bq 1"),
        (
            "XREADGROUP GROUP g c BLOCK 0 STREAMS bg >",
            "XADD bg 5-1 f v",
        ),
    ] {
        let got = as_redis_70(blocked_then_served(&mut p.ours, ours_addr, blocking, push));
        let want = blocked_then_served(&mut p.redis, redis_addr, blocking, push);
        assert_eq!(got, want, "{blocking} served by {push} (left: handoff)");
    }
}

#[test]
fn stream_writes_propagate_actual_ids_and_exact_trimming_as_redis() {
    same_stream(
        "XADD s * a 1
         XADD s 99999999999999-* a 2
         XADD s 99999999999999 a 2b
         XADD s MAXLEN ~ 5 * a 3
         XADD s MAXLEN 5 99999999999999-10 a 3
         XADD s NOMKSTREAM MINID ~ 0 LIMIT 10 99999999999999-11 a 4
         XADD nokey NOMKSTREAM * a 1
         XTRIM s MAXLEN ~ 2
         XTRIM s MAXLEN 3
         XTRIM s MINID 99999999999999-10
         XDEL s 99999999999999-11 1-1
         XSETID s 99999999999999-20
         XGROUP CREATE s g $
         XGROUP CREATE s g2 0 ENTRIESREAD 1
         XGROUP CREATE s2 g $ MKSTREAM
         XGROUP CREATECONSUMER s g c0
         XGROUP CREATECONSUMER s g c0
         XGROUP DELCONSUMER s g c0
         XGROUP SETID s g $
         XGROUP SETID s g 0 ENTRIESREAD 3
         XGROUP DESTROY s g2
         XGROUP DESTROY s g2",
    );
}

#[test]
fn stream_approximate_trimming_that_removes_nodes_is_made_exact_as_redis() {
    let mut text = String::new();
    for i in 1..=250 {
        text.push_str(&format!("XADD big {i}-1 f v\n"));
    }
    text.push_str("XADD big MAXLEN ~ 120 251-1 f v\n");
    text.push_str("XTRIM big MINID ~ 200\n");
    text.push_str("XTRIM big MAXLEN ~ 10 LIMIT 100\n");
    same_stream(&text);
}

#[test]
fn consumer_group_reads_and_claims_propagate_xclaim_and_setid_as_redis() {
    same_stream(
        "XADD s 1-1 a 1
         XADD s 2-1 a 2
         XADD s 3-1 a 3
         XGROUP CREATE s g 0
         XGROUP CREATE s g2 0
         XREADGROUP GROUP g c1 COUNT 2 STREAMS s >
         XREADGROUP GROUP g c1 STREAMS s >
         XREADGROUP GROUP g2 c2 NOACK STREAMS s >
         XADD s 4-1 a 4
         XREADGROUP GROUP g2 c2 NOACK COUNT 1 STREAMS s >
         XCLAIM s g c9 0 1-1
         XCLAIM s g c9 0 2-1 JUSTID
         XCLAIM s g c9 0 2-1 3-1 JUSTID RETRYCOUNT 7
         XCLAIM s g c9 0 9-9
         XCLAIM s g c8 0 4-1 FORCE
         XCLAIM s g c8 0 1-1 LASTID 9-9
         XDEL s 2-1
         XCLAIM s g c7 0 2-1
         XAUTOCLAIM s g c6 0 0-0 COUNT 2
         XAUTOCLAIM s g c6 0 0-0 COUNT 5 JUSTID
         XDEL s 3-1
         XAUTOCLAIM s g c5 0 0-0
         XACK s g 1-1
         XACK s g 1-1",
    );
}

/// XREADGROUP that only creates its consumer (nothing new to read, or a
/// history read) propagates `XGROUP CREATECONSUMER`, so a replica lists the
/// same consumers (Redis 7.0 leaves this out; checked here on handoff only).
#[test]
fn a_group_read_propagates_xclaims_then_the_group_read_counter() {
    let ours = handoff_server();
    let mut rec = Recorder::new(ours.addr());
    let got = rec.record(&script(
        "XADD s 1-1 a 1
         XADD s 2-1 a 2
         XGROUP CREATE s g 0
         XREADGROUP GROUP g c1 STREAMS s >",
    ));
    assert_eq!(
        got[3..],
        [
            "MULTI",
            "XCLAIM s g c1 0 1-1 TIME <T> RETRYCOUNT 1 FORCE JUSTID LASTID 1-1",
            "XCLAIM s g c1 0 2-1 TIME <T> RETRYCOUNT 1 FORCE JUSTID LASTID 2-1",
            "XGROUP SETID s g 2-1 ENTRIESREAD 2",
            "EXEC",
        ]
    );
}

#[test]
fn a_group_read_that_only_creates_the_consumer_propagates_its_creation() {
    let ours = handoff_server();
    let mut rec = Recorder::new(ours.addr());
    let got = rec.record(&script(
        "XADD s 1-1 a 1
         XGROUP CREATE s g $
         XREADGROUP GROUP g c1 STREAMS s >
         XREADGROUP GROUP g c1 STREAMS s >
         XREADGROUP GROUP g c2 STREAMS s 0",
    ));
    assert_eq!(
        got,
        vec![
            "XADD s 1-1 a 1",
            "XGROUP CREATE s g $",
            "XGROUP CREATECONSUMER s g c1",
            "XGROUP CREATECONSUMER s g c2",
        ]
    );
}

#[test]
fn transactions_scripts_and_dbs_propagate_as_redis() {
    same_stream(
        "MULTI
         SET t 1 EX 100
         INCRBYFLOAT f 1.5
         SELECT 2
         SPOP nothing
         SET t2 2
         EXEC
         SELECT 0
         EVAL redis.call('set','sc','1','ex','100');redis.call('incrbyfloat','sf','2') 0
         EVAL return(1) 0
         SELECT 5
         SET in5 x
         MOVE in5 6
         SWAPDB 5 6
         COPY in5 c5 DB 7
         FLUSHDB
         SELECT 0",
    );
}

/// A real redis-server 7.0 replicating from handoff ends with exactly the
/// primary's keys, values, types and expiry times after mixed writes of
/// every type, including the rewritten commands.
#[test]
fn a_redis_replica_of_handoff_converges_after_mixed_writes() {
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let ours = handoff_server();
    let mut pc = ours.connect();
    let mut rc = redis.connect();
    write_mixed(&mut pc, "before", 8);
    let port = ours.addr().port().to_string();
    must(&mut rc, &["REPLICAOF", "127.0.0.1", &port]);
    wait_for(20, "redis replica link up", || {
        info_field(&mut rc, "replication", "master_link_status").as_deref() == Some("up")
    });
    write_mixed(&mut pc, "after", 8);
    for cmd in script(
        "SET px 1 PX 500000
         SETEX sx 5000 v
         GETEX after:str:1 EX 4000
         GETEX after:str:2 PERSIST
         GETDEL after:str:3
         EXPIRE after:int:1 3000
         PEXPIREAT after:int:2 9999999999000
         EXPIREAT after:int:3 1
         INCRBYFLOAT fl 0.1
         INCRBYFLOAT fl 0.2
         HINCRBYFLOAT hf x 0.3
         HINCRBYFLOAT hf x 0.4
         SADD sp a b c d e f g
         SPOP sp 3
         SPOP sp
         LMPOP 1 after:list:0 LEFT COUNT 3
         BLMOVE after:list:1 dst RIGHT LEFT 0
         ZMPOP 1 after:zset:0 MAX COUNT 2
         BZPOPMIN after:zset:1 0
         XADD xs MAXLEN ~ 3 * f v
         XADD xs * f w
         XGROUP CREATE xs g1 0
         XREADGROUP GROUP g1 c1 COUNT 1 STREAMS xs >
         XREADGROUP GROUP g1 c2 NOACK STREAMS xs >
         XCLAIM xs g1 c3 0 0-1 FORCE
         XAUTOCLAIM xs g1 c4 0 0-0
         XREADGROUP GROUP g1 c5 STREAMS xs 0
         PFCOUNT after:hll:0",
    ) {
        let refs: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let _ = pc.call(&refs).expect("write");
    }
    // Wait until the replica processed the whole stream.
    wait_for(20, "redis replica offset to reach handoff's", || {
        let p = info_field(&mut pc, "replication", "master_repl_offset");
        let r = info_field(&mut rc, "replication", "slave_repl_offset");
        p.is_some() && p == r
    });
    assert_same(
        &snapshot(&mut pc),
        &snapshot(&mut rc),
        "handoff vs its redis replica",
    );
}

/// Keyspace and admin commands: FLUSHDB/FLUSHALL always go out (even on
/// empty dbs), SORT ... STORE only when it changed something, RESTORE with
/// a relative TTL as `ABSTTL`; SCRIPT, CONFIG SET, SAVE, DEBUG never.
#[test]
fn keyspace_and_admin_commands_propagate_as_redis() {
    let Some(mut p) = pair() else { return };
    // A DUMP payload made by the same server, so both restore the same bytes.
    let mut dumps = Vec::new();
    for rec in [&mut p.ours, &mut p.redis] {
        let _ = rec.conn.call(&["SET", "src", "payload"]).unwrap();
        let Frame::Bulk(d) = rec.conn.call(&["DUMP", "src"]).unwrap() else {
            panic!("DUMP")
        };
        let _ = rec.conn.call(&["DEL", "src"]).unwrap();
        dumps.push(d);
        rec.record(&[]);
    }
    let text = "FLUSHDB
         FLUSHALL
         SELECT 3
         FLUSHDB
         SWAPDB 1 2
         SCRIPT LOAD return(1)
         SCRIPT FLUSH
         FUNCTION FLUSH
         CONFIG SET maxmemory 0
         SELECT 0
         SET k v
         SORT nolist STORE dst
         RPUSH li 3 1 2
         SORT li STORE dst
         SORT li LIMIT 0 1 STORE dst
         SORT nolist STORE dst
         DEL dst li
         SETBIT b 1 1
         COPY k k2
         MOVE k2 4
         RENAME k k3
         UNLINK k3
         SAVE
         DEBUG SLEEP 0
         OBJECT FREQ nokey
         TOUCH b
         RANDOMKEY";
    let s = script(text);
    let got = p.ours.record(&s);
    let want = p.redis.record(&s);
    assert_eq!(got, want, "left: handoff, right: redis-server");
    // RESTORE: a relative TTL goes out absolute with ABSTTL; an expired
    // absolute one that replaced a key as DEL.
    let mut streams = Vec::new();
    for (rec, dump) in [&mut p.ours, &mut p.redis].into_iter().zip(&dumps) {
        let d: &[u8] = dump;
        for args in [
            vec![&b"RESTORE"[..], b"r1", b"100000", d],
            vec![b"RESTORE", b"r2", b"0", d],
            vec![
                b"RESTORE",
                b"r1",
                b"9999999999000",
                d,
                b"REPLACE",
                b"ABSTTL",
            ],
            vec![b"RESTORE", b"r2", b"1", d, b"REPLACE", b"ABSTTL"],
            vec![b"RESTORE", b"r3", b"1", d, b"ABSTTL"],
        ] {
            let reply = rec.conn.call(&args).unwrap();
            assert_eq!(
                reply,
                Frame::Simple("OK".into()),
                "{:?}",
                String::from_utf8_lossy(args[2])
            );
        }
        let got: Vec<String> = rec
            .record(&[])
            .into_iter()
            .map(|c| c.replace(&String::from_utf8_lossy(d).into_owned(), "<payload>"))
            .collect();
        streams.push(got);
    }
    assert_eq!(streams[0], streams[1], "RESTORE (left: handoff)");
    assert_eq!(
        streams[0],
        vec![
            "RESTORE r1 <T> <payload> ABSTTL",
            "RESTORE r2 0 <payload>",
            "RESTORE r1 <T> <payload> REPLACE ABSTTL",
            "DEL r2",
        ]
    );
}
