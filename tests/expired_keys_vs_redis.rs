//! Commands run over a key whose TTL has passed but that nothing has
//! reclaimed yet (active expiry off: `DEBUG SET-ACTIVE-EXPIRE 0`), against a
//! real redis-server 7.0 running the same script: the replies, the keyspace
//! notifications a `__keyevent@*__:*` + `__keyspace@*__:*` subscriber gets
//! (`notify-keyspace-events KEA`), and the replication stream a raw replica
//! reads (wall-clock times normalized) must be equal.
//!
//! What Redis 7.0 does, and so handoff: the lookup that finds the key
//! expired deletes it there and then, raising `expired` before anything the
//! command raises, and adds a `DEL` to the command's effects at that point.
//! A command that changed nothing itself (a read, `SET XX`, `EXPIRE` on the
//! now missing key) propagates that DEL alone; one that did change something
//! goes out as `MULTI`, `DEL`, its own effect, `EXEC`. Inside MULTI/EXEC and
//! scripts the DEL takes its place among the other effects, with the
//! `SELECT` of its own database. A read miss (`keymiss`, class `m`) on the
//! expired key comes right after its `expired`. Skipped when redis-server is missing,
//! unless HANDOFF_REQUIRE_PEERS=1.

mod common;

use std::time::Duration;

use common::script::tokenize;
use common::stream::Recorder;
use common::{ExternalServer, TestServer};
use handoff::protocol::{Connection, Frame};

/// One server as both tests see it: a client and raw replica (`rec`) and a
/// subscriber to every keyspace notification (`sub`).
struct Side {
    rec: Recorder,
    sub: Connection,
}

impl Side {
    fn new(addr: std::net::SocketAddr, events: &str) -> Side {
        let mut rec = Recorder::new(addr);
        for cmd in [
            &["DEBUG", "SET-ACTIVE-EXPIRE", "0"][..],
            &["CONFIG", "SET", "notify-keyspace-events", events],
        ] {
            let reply = rec.conn.call(cmd).expect("setup command");
            assert_eq!(reply.to_string_lossy(), "OK", "{cmd:?}");
        }
        let mut sub = Connection::connect(addr).expect("connect subscriber");
        sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        sub.send(&["PSUBSCRIBE", "__keyevent@*__:*", "__keyspace@*__:*"])
            .unwrap();
        sub.flush().unwrap();
        sub.read_frame().unwrap();
        sub.read_frame().unwrap();
        Side { rec, sub }
    }

    /// The notifications delivered since the last call. A PING answered in
    /// subscribed mode closes the batch: the server wrote every earlier
    /// notification to this connection before it.
    fn notifications(&mut self) -> Vec<String> {
        self.sub.send(&["PING"]).unwrap();
        self.sub.flush().unwrap();
        let mut got = Vec::new();
        loop {
            let f = self.sub.read_frame().expect("notification");
            let Frame::Array(parts) = &f else {
                panic!("unexpected frame {f:?}");
            };
            let word = |i: usize| {
                parts
                    .get(i)
                    .and_then(|p| p.as_bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default()
            };
            match word(0).as_str() {
                "pong" => return got,
                "pmessage" => got.push(format!("{} {}", word(2), word(3))),
                _ => panic!("unexpected frame {f:?}"),
            }
        }
    }

    /// Runs one case: `setup` creates keys (each with `PX 1`) that have
    /// expired when `commands` run. Returns what `commands` produced.
    fn run(&mut self, setup: &[Vec<String>], commands: &[Vec<String>]) -> Outcome {
        let mut before = lines("FLUSHALL\nSELECT 0");
        before.extend_from_slice(setup);
        self.rec.record(&before);
        std::thread::sleep(Duration::from_millis(10));
        self.notifications();
        let mut replies = Vec::new();
        let stream = self.rec.record_with(commands, |_, reply| {
            replies.push(reply.to_string_lossy());
        });
        Outcome {
            replies,
            notifications: self.notifications(),
            stream,
        }
    }
}

#[derive(Debug, PartialEq)]
struct Outcome {
    replies: Vec<String>,
    notifications: Vec<String>,
    stream: Vec<String>,
}

/// Script lines (see [`tokenize`]: `"..."` holds spaces), `#` comments.
fn lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            tokenize(l)
                .into_iter()
                .map(|a| String::from_utf8(a).expect("utf-8 script"))
                .collect()
        })
        .collect()
}

fn start_pair(events: &str) -> Option<(ExternalServer, TestServer, Side, Side)> {
    let redis = ExternalServer::start("redis-server", &["--enable-debug-command", "yes"])?;
    let ours = TestServer::with(|c| {
        c.repl_diskless_sync_delay = 0;
        c.enable_debug_command = handoff_server::config::EnableMode::Yes;
    });
    let theirs = Side::new(([127, 0, 0, 1], redis.port).into(), events);
    let mine = Side::new(ours.addr(), events);
    Some((redis, ours, theirs, mine))
}

/// Runs every case on both servers (`notify-keyspace-events KEA`); all
/// mismatches are reported together.
fn same_as_redis(cases: &[(&str, &str, &str)]) {
    same_as_redis_with("KEA", cases)
}

fn same_as_redis_with(events: &str, cases: &[(&str, &str, &str)]) {
    let Some((_redis, _ours, mut theirs, mut mine)) = start_pair(events) else {
        return;
    };
    let mut diffs = Vec::new();
    for (name, setup, commands) in cases {
        let (setup, commands) = (lines(setup), lines(commands));
        let want = theirs.run(&setup, &commands);
        // Every case is about an expired key: a run that saw none proves nothing.
        assert!(
            want.notifications.iter().any(|n| n.ends_with(" expired"))
                && want.stream.iter().any(|l| l.starts_with("DEL ")),
            "case {name}: no key expired on redis-server: {want:#?}"
        );
        let got = mine.run(&setup, &commands);
        if got != want {
            diffs.push(format!(
                "case {name}:\n  handoff:      {got:#?}\n  redis-server: {want:#?}"
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// An expired string `k` in db 0.
const K: &str = "SET k old PX 1";

#[test]
fn string_writes_over_an_expired_key_raise_expired_first_and_wrap_the_del_with_their_effect() {
    same_as_redis(&[
        ("set", K, "SET k v"),
        ("set nx", K, "SET k v NX"),
        ("set ex", K, "SET k v EX 100"),
        ("set get", K, "SET k v GET"),
        ("setnx", K, "SETNX k v"),
        ("setex", K, "SETEX k 100 v"),
        ("getset", K, "GETSET k v"),
        ("incr", K, "INCR k"),
        ("incrbyfloat", K, "INCRBYFLOAT k 1.5"),
        ("append", K, "APPEND k a"),
        ("setrange", K, "SETRANGE k 2 v"),
        ("setbit", K, "SETBIT k 3 1"),
        ("pfadd", K, "PFADD k a"),
        ("mset", "SET a old PX 1\nSET b old PX 1", "MSET a 1 b 2"),
        ("msetnx", "SET a old PX 1", "MSETNX a 1 b 2"),
    ]);
}

#[test]
fn a_command_that_changes_nothing_over_an_expired_key_propagates_only_the_del() {
    same_as_redis(&[
        ("set xx", K, "SET k v XX"),
        ("get", K, "GET k"),
        ("getex", K, "GETEX k EX 100"),
        ("getdel", K, "GETDEL k"),
        ("exists", K, "EXISTS k"),
        ("ttl", K, "TTL k"),
        ("type", K, "TYPE k"),
        ("expire", K, "EXPIRE k 100"),
        ("persist", K, "PERSIST k"),
        ("del", K, "DEL k"),
        ("rename", K, "RENAME k z"),
        ("hdel", "HSET k f v\nPEXPIRE k 1", "HDEL k f"),
        ("srem", "SADD k m\nPEXPIRE k 1", "SREM k m"),
        ("spop", "SADD k m\nPEXPIRE k 1", "SPOP k"),
        ("lpop", "RPUSH k x\nPEXPIRE k 1", "LPOP k"),
        ("rpushx", "RPUSH k x\nPEXPIRE k 1", "RPUSHX k a"),
        ("mget", "SET a old PX 1\nSET b old PX 1", "MGET a b"),
    ]);
}

#[test]
fn writes_of_every_type_over_an_expired_key_match_redis() {
    same_as_redis(&[
        ("lpush", "RPUSH k x\nPEXPIRE k 1", "LPUSH k a"),
        ("hset", "HSET k f v\nPEXPIRE k 1", "HSET k f v"),
        (
            "hincrbyfloat",
            "HSET k f 1\nPEXPIRE k 1",
            "HINCRBYFLOAT k f 1.5",
        ),
        ("sadd", "SADD k m\nPEXPIRE k 1", "SADD k m"),
        ("zadd", "ZADD k 1 m\nPEXPIRE k 1", "ZADD k 2 n"),
        ("zincrby", "ZADD k 1 m\nPEXPIRE k 1", "ZINCRBY k 2 n"),
        (
            "geoadd",
            "ZADD k 1 m\nPEXPIRE k 1",
            "GEOADD k 13.361389 38.115556 P",
        ),
        ("xadd", "XADD k 1-1 f v\nPEXPIRE k 1", "XADD k 2-1 f v"),
        (
            "smove to it",
            "SADD k m\nPEXPIRE k 1\nSADD s2 m",
            "SMOVE s2 k m",
        ),
        (
            "sunionstore into it",
            "SADD k m\nPEXPIRE k 1\nSADD s2 m",
            "SUNIONSTORE k s2",
        ),
        (
            "sunionstore from it",
            "SADD k m\nPEXPIRE k 1\nSADD s2 m",
            "SUNIONSTORE d k s2",
        ),
        (
            "lmove into it",
            "RPUSH k x\nPEXPIRE k 1\nRPUSH src x",
            "LMOVE src k LEFT RIGHT",
        ),
        (
            "rpoplpush into it",
            "RPUSH k x\nPEXPIRE k 1\nRPUSH src x",
            "RPOPLPUSH src k",
        ),
        (
            "blpop past it",
            "RPUSH k x\nPEXPIRE k 1\nRPUSH q x",
            "BLPOP k q 1",
        ),
        ("copy onto it", "SET k old PX 1\nSET src x", "COPY src k"),
        (
            "sort store into it",
            "RPUSH k x\nPEXPIRE k 1\nRPUSH l2 1",
            "SORT l2 STORE k",
        ),
    ]);
}

#[test]
fn inside_multi_exec_the_del_takes_its_place_among_the_transaction_effects() {
    same_as_redis(&[
        ("set", K, "MULTI\nSET k v\nGET k\nEXEC"),
        ("get alone", K, "MULTI\nGET k\nEXEC"),
        ("set xx alone", K, "MULTI\nSET k v XX\nEXEC"),
        ("after a write", K, "MULTI\nSET a 1\nSET k v XX\nEXEC"),
        (
            "two reads",
            "SET a old PX 1\nSET b old PX 1",
            "MULTI\nGET a\nGET b\nEXEC",
        ),
        (
            "eval inside",
            K,
            "MULTI\nSET a 1\nEVAL \"return redis.call('GET', KEYS[1])\" 1 k\nEXEC",
        ),
    ]);
}

#[test]
fn inside_scripts_the_del_takes_its_place_among_the_script_effects() {
    same_as_redis(&[
        (
            "set",
            K,
            "EVAL \"return redis.call('SET', KEYS[1], 'v')\" 1 k",
        ),
        ("get", K, "EVAL \"return redis.call('GET', KEYS[1])\" 1 k"),
        (
            "after a write, changing nothing",
            K,
            "EVAL \"redis.call('SET', 'a', '1') return redis.call('SET', KEYS[1], 'v', 'XX')\" 1 k",
        ),
        (
            "after a write",
            K,
            "EVAL \"redis.call('SET', 'a', '1') return redis.call('SET', KEYS[1], 'v')\" 1 k",
        ),
    ]);
}

/// The expired key lives in db 3 while the stream last selected db 0: the
/// SELECT comes before the MULTI (or the lone DEL).
const IN_DB3: &str = "SELECT 3\nSET k old PX 1\nSELECT 0\nSET o x";

#[test]
fn a_key_in_another_db_gets_its_select_before_the_wrapper() {
    same_as_redis(&[
        ("set", IN_DB3, "SELECT 3\nSET k v"),
        ("get", IN_DB3, "SELECT 3\nGET k"),
        ("set xx", IN_DB3, "SELECT 3\nSET k v XX"),
        (
            "multi across dbs",
            IN_DB3,
            "MULTI\nSET a 1\nSELECT 3\nSET k v\nSET b 2\nEXEC",
        ),
        (
            "script selecting it",
            IN_DB3,
            "EVAL \"redis.call('SELECT', '3') return redis.call('SET', KEYS[1], 'v')\" 1 k",
        ),
    ]);
}

#[test]
fn a_read_miss_on_an_expired_key_follows_its_expired_event() {
    same_as_redis_with(
        "KEAm",
        &[
            (
                "mget",
                "SET a old PX 1\nSET c old PX 1\nSET d x",
                "MGET x a d c y",
            ),
            ("getex", K, "GETEX k"),
            ("set get", K, "SET k v GET"),
        ],
    );
}
