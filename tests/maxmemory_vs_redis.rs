//! maxmemory against redis-server 7.0 where the outcome does not depend on
//! how much memory each server uses: with `maxmemory 1` every server is
//! over the limit, so `noeviction` (and a volatile policy without volatile
//! keys) refuses, and an allkeys policy evicts every key and then refuses.
//! The same scenario runs on a redis-server process and a handoff-server
//! process; replies are compared byte for byte (RESP2 and RESP3, inside
//! MULTI, in scripts and functions, keyspace notifications), then the INFO
//! fields whose values are deterministic.

mod common;

use std::path::Path;
use std::time::Duration;

use common::script::{exchange_raw, show};
use common::workload::{info_field, wait_for};
use common::ExternalServer;
use handoff::protocol::Connection;

const HANDOFF: &str = env!("CARGO_BIN_EXE_handoff-server");

/// Each step and its raw reply.
struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    fn x(&mut self, c: &mut Connection, args: &[&str]) -> Vec<u8> {
        let raw = exchange_raw(c, args);
        self.lines.push(format!(
            "{} -> {}",
            args.join(" ").escape_debug(),
            show(&raw)
        ));
        raw
    }

    fn note(&mut self, what: String) {
        self.lines.push(what);
    }
}

const WRITE_SCRIPT: &str = "return redis.call('set','x','y')";
const PCALL_SCRIPT: &str = "return redis.pcall('set','x','y')";
const READ_SCRIPT: &str = "return redis.call('get','a')";
const DEL_THEN_SET: &str = "redis.call('del','nothing'); return redis.call('set','x','y')";
const SHEBANG: &str = "#!lua\nreturn 1";
const SHEBANG_NO_WRITES: &str = "#!lua flags=no-writes\nreturn redis.call('get','a')";
const SHEBANG_ALLOW_OOM: &str = "#!lua flags=allow-oom\nreturn redis.call('set','x','y')";
const LIBRARY: &str = "#!lua name=lib\n\
    redis.register_function('plain', function() return 1 end)\n\
    redis.register_function{function_name='ro', callback=function() return 2 end, flags={'no-writes'}}\n\
    redis.register_function{function_name='oomok', callback=function() return redis.call('set','f','1') end, flags={'allow-oom'}}";

/// Keeps other processes on this machine out (a client of another test
/// left pointing at a recycled port would write here).
const PASS: &str = "maxmemory-test";

fn connect(server: &ExternalServer) -> Connection {
    let mut c = server.connect();
    assert_eq!(exchange_raw(&mut c, &["AUTH", PASS]), b"+OK\r\n");
    c
}

fn scenario(server: &ExternalServer) -> Vec<String> {
    let mut t = Transcript { lines: Vec::new() };
    let mut first = server.connect();
    exchange_raw(&mut first, &["CONFIG", "SET", "requirepass", PASS]);
    exchange_raw(
        &mut first,
        &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"],
    );
    let mut c = connect(server);
    let mut other = connect(server);
    t.x(&mut c, &["FLUSHALL"]);
    t.x(&mut c, &["SET", "a", "1"]);
    t.x(&mut c, &["FUNCTION", "LOAD", LIBRARY]);
    // A transaction queued before the limit, executed after it.
    t.x(&mut other, &["MULTI"]);
    t.x(&mut other, &["SET", "q", "1"]);
    let mut reader = connect(server);
    t.x(&mut reader, &["MULTI"]);
    t.x(&mut reader, &["GET", "a"]);

    t.x(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    for args in [
        &["SET", "k", "v"][..],
        &["GET", "a"],
        &["INCR", "a"],
        &["APPEND", "a", "x"],
        &["LPUSH", "l", "x"],
        &["SETRANGE", "a", "0", "x"],
        &["EXPIRE", "a", "100"],
        &["PERSIST", "a"],
        &["GETEX", "a", "PERSIST"],
        &["EXISTS", "a"],
        &["PING"],
    ] {
        t.x(&mut c, args);
    }
    t.x(&mut other, &["EXEC"]);
    t.x(&mut reader, &["EXEC"]);

    // Inside MULTI everything but EXEC / DISCARD / QUIT / RESET is refused.
    t.x(&mut c, &["MULTI"]);
    t.x(&mut c, &["SET", "k", "v"]);
    t.x(&mut c, &["GET", "a"]);
    t.x(&mut c, &["PING"]);
    t.x(&mut c, &["EXEC"]);
    t.x(&mut c, &["MULTI"]);
    t.x(&mut c, &["GET", "a"]);
    t.x(&mut c, &["DISCARD"]);

    // Scripts: compat ones are refused at their first memory-growing call
    // (unless they already wrote), declared ones by their flags.
    t.x(&mut c, &["EVAL", WRITE_SCRIPT, "0"]);
    t.x(&mut c, &["EVAL", PCALL_SCRIPT, "0"]);
    t.x(&mut c, &["EVAL", READ_SCRIPT, "0"]);
    t.x(&mut c, &["EVAL_RO", READ_SCRIPT, "0"]);
    t.x(&mut c, &["EVAL", DEL_THEN_SET, "0"]);
    t.x(&mut c, &["EVAL", SHEBANG, "0"]);
    t.x(&mut c, &["EVAL", SHEBANG_NO_WRITES, "0"]);
    t.x(&mut c, &["EVAL", SHEBANG_ALLOW_OOM, "0"]);
    t.x(&mut c, &["FCALL", "plain", "0"]);
    t.x(&mut c, &["FCALL", "ro", "0"]);
    t.x(&mut c, &["FCALL_RO", "ro", "0"]);
    t.x(&mut c, &["FCALL", "oomok", "0"]);
    t.x(&mut c, &["MULTI"]);
    t.x(&mut c, &["EVAL", READ_SCRIPT, "0"]);
    t.x(&mut c, &["EXEC"]);

    // Deleting is allowed, and so is DEL's lazy form.
    t.x(&mut c, &["DEL", "x"]);
    t.x(&mut c, &["UNLINK", "f"]);

    // RESP3: the same error.
    let mut r3 = connect(server);
    exchange_raw(&mut r3, &["HELLO", "3"]);
    t.x(&mut r3, &["SET", "k", "v"]);
    t.x(&mut r3, &["HSET", "h", "f", "v"]);
    t.x(&mut r3, &["EVAL", WRITE_SCRIPT, "0"]);
    t.x(&mut r3, &["MULTI"]);
    t.x(&mut r3, &["SET", "k", "v"]);
    t.x(&mut r3, &["EXEC"]);

    // A volatile policy finds no key with a TTL: still refused.
    t.x(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
    );
    t.x(&mut c, &["SET", "k", "v"]);
    t.x(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
    );
    t.x(&mut c, &["SET", "k", "v"]);
    t.x(&mut c, &["DBSIZE"]);
    for field in ["maxmemory", "maxmemory_human", "maxmemory_policy"] {
        let v = info_field(&mut c, "memory", field);
        t.note(format!("INFO {field}: {v:?}"));
    }
    t.note(format!(
        "INFO evicted_keys: {:?}",
        info_field(&mut c, "stats", "evicted_keys")
    ));
    t.note(format!(
        "INFO mem_not_counted_for_evict: {:?}",
        info_field(&mut c, "memory", "mem_not_counted_for_evict")
    ));

    // An allkeys policy evicts every key (each announced, WATCHes touched),
    // then refuses as noeviction does.
    t.x(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    t.x(&mut c, &["MSET", "b", "2", "c", "3"]);
    t.x(&mut c, &["DBSIZE"]);
    t.x(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    let mut sub = connect(server);
    t.x(&mut sub, &["SUBSCRIBE", "__keyevent@0__:evicted"]);
    let mut watcher = connect(server);
    t.x(&mut watcher, &["WATCH", "a"]);
    t.x(&mut watcher, &["MULTI"]);
    t.x(&mut watcher, &["PING"]);
    t.x(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    );
    t.x(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    wait_for(10, "every key evicted", || {
        exchange_raw(&mut c, &["DBSIZE"]) == b":0\r\n"
    });
    t.x(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    t.x(&mut watcher, &["EXEC"]);
    let mut seen = Vec::new();
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..3 {
        let (_, raw) = sub.read_raw_frame().expect("an evicted notification");
        seen.push(show(&raw));
    }
    seen.sort();
    t.note(format!("evicted notifications: {seen:?}"));
    t.note(format!(
        "INFO evicted_keys: {:?}",
        info_field(&mut c, "stats", "evicted_keys")
    ));
    t.x(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    t.x(&mut c, &["SET", "k", "v"]);
    t.x(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    t.x(&mut c, &["SET", "k", "v"]);
    t.lines
}

fn compare(redis: Vec<String>, ours: Vec<String>) {
    let mut diffs = Vec::new();
    for (i, (r, h)) in redis.iter().zip(&ours).enumerate() {
        if r != h {
            diffs.push(format!("step {i}\n    redis:   {r}\n    handoff: {h}"));
        }
    }
    assert_eq!(redis.len(), ours.len(), "transcript lengths");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn oom_replies_evictions_and_info_match_redis_at_maxmemory_one() {
    let ours = ExternalServer::start_at(Path::new(HANDOFF), &[]);
    let handoff_lines = scenario(&ours);
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let redis_lines = scenario(&redis);
    if std::env::var_os("SHOW_TRANSCRIPT").is_some() {
        for (r, h) in redis_lines.iter().zip(&handoff_lines) {
            println!("R {r}\nH {h}");
        }
    }
    compare(redis_lines, handoff_lines);
}
