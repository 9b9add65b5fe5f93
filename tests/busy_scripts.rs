//! A script past busy-reply-threshold: other clients are served from inside
//! the script (-BUSY for most commands), SCRIPT KILL / FUNCTION KILL stop a
//! script that did not write, SHUTDOWN NOSAVE stops the server, and all of
//! it byte for byte as a real redis-server 7.0 answers.
//!
//! Every exchange goes through raw sockets, so the bytes compared are the
//! bytes on the wire.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{ExternalServer, TestServer};
use handoff::protocol::Frame;

const BIN: &str = env!("CARGO_BIN_EXE_handoff-server");

const BUSY_EVAL: &str =
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const BUSY_FUNCTION: &str =
    "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";
const UNKILLABLE: &str = "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n";
const NOTBUSY: &str = "-NOTBUSY No scripts in execution right now.\r\n";

const SPIN: &str = "while true do end";
const SPIN_SHA: &str = "694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7";
const LIBRARY: &str = "#!lua name=lib
redis.register_function('spin', function(k, a) while true do end end)
redis.register_function{function_name='spinro', callback=function(k, a) while true do end end, flags={'no-writes'}}";

/// A client on a raw socket.
struct Raw {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw { s, buf: Vec::new() }
    }

    fn send(&mut self, args: &[&str]) {
        self.send_raw(&encode(args));
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("send");
    }

    /// The bytes of the next `n` complete replies.
    fn replies(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..n {
            loop {
                if let Ok(Some((_, used))) = Frame::parse(&self.buf) {
                    out.extend(self.buf.drain(..used));
                    break;
                }
                let mut chunk = [0u8; 16384];
                match self.s.read(&mut chunk) {
                    Ok(0) => panic!("connection closed; got {:?}", show(&out)),
                    Ok(k) => self.buf.extend_from_slice(&chunk[..k]),
                    Err(e) => panic!("reading a reply: {e}; got {:?}", show(&out)),
                }
            }
        }
        out
    }

    fn call(&mut self, args: &[&str]) -> Vec<u8> {
        self.send(args);
        self.replies(1)
    }

    /// Everything until the server closes the connection.
    fn until_closed(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 16384];
        loop {
            match self.s.read(&mut chunk) {
                Ok(0) => return out,
                Ok(k) => out.extend_from_slice(&chunk[..k]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
                Err(e) => panic!("waiting for the close: {e}; got {:?}", show(&out)),
            }
        }
    }

    /// True if nothing arrives within `ms`.
    fn silent_for(&mut self, ms: u64) -> bool {
        self.s
            .set_read_timeout(Some(Duration::from_millis(ms)))
            .unwrap();
        let mut chunk = [0u8; 64];
        let silent = match self.s.read(&mut chunk) {
            Ok(k) => {
                self.buf.extend_from_slice(&chunk[..k]);
                false
            }
            Err(_) => true,
        };
        self.s
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        silent
    }
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// PINGs from `c` until the answer is -BUSY: the script is past the
/// threshold (a PING sent before it started gets +PONG).
fn wait_busy(c: &mut Raw) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c.call(&["PING"]);
        if r.starts_with(b"-BUSY") {
            return r;
        }
        assert_eq!(show(&r), "+PONG\r\n");
        assert!(Instant::now() < deadline, "the script never became busy");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn start_low_threshold(port: u16) {
    let mut c = Raw::connect(port);
    assert_eq!(
        show(&c.call(&["CONFIG", "SET", "busy-reply-threshold", "100"])),
        "+OK\r\n"
    );
}

fn handoff() -> TestServer {
    TestServer::with(|cfg| cfg.busy_reply_threshold = 100)
}

/// A server with a low busy threshold and two clients: `a` runs the script,
/// `b` sees the busy server.
fn handoff_with_two_clients() -> (TestServer, Raw, Raw) {
    let s = handoff();
    let port = s.addr().port();
    let (a, b) = (Raw::connect(port), Raw::connect(port));
    (s, a, b)
}

#[test]
fn an_endless_eval_makes_other_clients_get_busy_until_script_kill_stops_it() {
    let (_s, mut a, mut b) = handoff_with_two_clients();
    a.send(&["EVAL", SPIN, "0"]);
    assert_eq!(show(&wait_busy(&mut b)), BUSY_EVAL);
    for cmd in [&["GET", "k"][..], &["SET", "k", "v"], &["PING"]] {
        assert_eq!(show(&b.call(cmd)), BUSY_EVAL, "{cmd:?}");
    }
    assert!(a.silent_for(200), "the script is still running");
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), "+OK\r\n");
    assert_eq!(
        show(&a.replies(1)),
        format!(
            "-ERR Script killed by user with SCRIPT KILL... script: {SPIN_SHA}, on @user_script:1.\r\n"
        )
    );
    // Everyone works normally again.
    assert_eq!(show(&b.call(&["SET", "k", "v"])), "+OK\r\n");
    assert_eq!(show(&a.call(&["GET", "k"])), "$1\r\nv\r\n");
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), NOTBUSY);
    let stats = show(&b.call(&["INFO", "errorstats"]));
    assert!(stats.contains("errorstat_BUSY:count=4\r\n"), "{stats}");
}

#[test]
fn an_endless_fcall_is_stopped_by_function_kill_and_not_by_script_kill() {
    let (_s, mut a, mut b) = handoff_with_two_clients();
    assert_eq!(
        show(&a.call(&["FUNCTION", "LOAD", LIBRARY])),
        "$3\r\nlib\r\n"
    );
    for (f, line) in [("spin", 2), ("spinro", 3)] {
        a.send(&["FCALL", f, "0"]);
        assert_eq!(show(&wait_busy(&mut b)), BUSY_FUNCTION);
        assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), BUSY_FUNCTION);
        let stats = show(&b.call(&["FUNCTION", "STATS"]));
        assert!(
            stats.starts_with(&format!(
                "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n${}\r\n{f}\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n${}\r\n{f}\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:",
                f.len(),
                f.len()
            )),
            "{stats}"
        );
        assert_eq!(show(&b.call(&["FUNCTION", "KILL"])), "+OK\r\n");
        assert_eq!(
            show(&a.replies(1)),
            format!("-ERR Script killed by user with SCRIPT KILL... script: {f}, on @user_function:{line}.\r\n")
        );
    }
    assert_eq!(show(&b.call(&["FUNCTION", "KILL"])), NOTBUSY);
    assert_eq!(show(&a.call(&["PING"])), "+PONG\r\n");
}

#[test]
fn function_kill_and_function_stats_answer_busy_while_an_eval_script_runs() {
    let (_s, mut a, mut b) = handoff_with_two_clients();
    a.send(&["EVAL", SPIN, "0"]);
    wait_busy(&mut b);
    assert_eq!(show(&b.call(&["FUNCTION", "KILL"])), BUSY_EVAL);
    assert_eq!(show(&b.call(&["FUNCTION", "STATS"])), BUSY_EVAL);
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), "+OK\r\n");
    assert!(show(&a.replies(1)).starts_with("-ERR Script killed"));
}

#[test]
fn a_script_that_wrote_is_unkillable_and_shutdown_nosave_stops_the_server() {
    let (s, mut a, mut b) = handoff_with_two_clients();
    a.send(&["EVAL", "redis.call('SET', 'x', '1') while true do end", "0"]);
    wait_busy(&mut b);
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), UNKILLABLE);
    assert_eq!(show(&b.call(&["FUNCTION", "KILL"])), UNKILLABLE);
    // Only NOSAVE stops a busy server.
    assert_eq!(show(&b.call(&["SHUTDOWN"])), BUSY_EVAL);
    assert_eq!(show(&b.call(&["SHUTDOWN", "SAVE"])), BUSY_EVAL);
    b.send(&["SHUTDOWN", "NOSAVE"]);
    assert_eq!(show(&b.until_closed()), "");
    assert_eq!(show(&a.until_closed()), "");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(s.addr()).is_ok() {
        assert!(Instant::now() < deadline, "the server still accepts");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn shutdown_nosave_while_a_script_is_busy_exits_the_process() {
    let mut server = ExternalServer::start_at(Path::new(BIN), &[]);
    start_low_threshold(server.port);
    let mut a = Raw::connect(server.port);
    let mut b = Raw::connect(server.port);
    a.send(&["EVAL", SPIN, "0"]);
    wait_busy(&mut b);
    b.send(&["SHUTDOWN", "NOSAVE"]);
    assert_eq!(show(&b.until_closed()), "");
    assert_eq!(show(&a.until_closed()), "");
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the process exits");
    assert!(status.success(), "{status}");
}

#[test]
fn requests_sent_during_a_busy_script_are_answered_in_order_and_the_clients_keep_working() {
    let (s, mut a, mut b) = handoff_with_two_clients();
    let port = s.addr().port();
    let mut m = Raw::connect(port);
    let mut sub = Raw::connect(port);
    assert_eq!(
        show(&sub.call(&["SUBSCRIBE", "ch"])),
        "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    assert_eq!(show(&m.call(&["MULTI"])), "+OK\r\n");
    // The caller's own pipelined command runs after its script.
    let mut pipelined = encode(&["EVAL", SPIN, "0"]);
    pipelined.extend(encode(&["SET", "after", "1"]));
    a.send_raw(&pipelined);
    wait_busy(&mut b);

    // Pipelined requests and a partial one: answered in order.
    let mut batch = encode(&["GET", "a"]);
    batch.extend(encode(&["SET", "a", "1"]));
    batch.extend_from_slice(b"*1\r\n$4\r\nPI");
    b.send_raw(&batch);
    assert_eq!(show(&b.replies(2)), BUSY_EVAL.repeat(2));
    b.send_raw(b"NG\r\n");
    assert_eq!(show(&b.replies(1)), BUSY_EVAL);
    // Errors found before the busy check come first, as in Redis.
    assert_eq!(
        show(&b.call(&["NOSUCH", "x"])),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"
    );
    assert_eq!(
        show(&b.call(&["GET"])),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    // A transaction: MULTI, WATCH and DISCARD run, the rest aborts EXEC.
    assert_eq!(show(&m.call(&["GET", "a"])), BUSY_EVAL);
    assert_eq!(
        show(&m.call(&["EXEC"])),
        format!(
            "-EXECABORT Transaction discarded because of: {}",
            &BUSY_EVAL[1..]
        )
    );
    assert_eq!(show(&m.call(&["WATCH", "a"])), "+OK\r\n");
    // A subscribed RESP2 client: the subscribed-mode check comes first.
    assert_eq!(show(&sub.call(&["PING"])), BUSY_EVAL);
    assert_eq!(
        show(&sub.call(&["GET", "x"])),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    // A connection opened during the busy period is accepted and served.
    let mut n = Raw::connect(port);
    let hello = show(&n.call(&["HELLO", "3"]));
    assert!(hello.starts_with("%7\r\n$6\r\nserver\r\n"), "{hello}");
    assert_eq!(show(&n.call(&["PING"])), BUSY_EVAL);
    // One that leaves during the busy period is closed after it.
    let mut q = Raw::connect(port);
    assert_eq!(show(&q.call(&["QUIT"])), "+OK\r\n");
    assert_eq!(show(&q.until_closed()), "");
    drop(Raw::connect(port));

    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), "+OK\r\n");
    assert_eq!(
        show(&a.replies(2)),
        format!("-ERR Script killed by user with SCRIPT KILL... script: {SPIN_SHA}, on @user_script:1.\r\n+OK\r\n")
    );
    assert_eq!(show(&b.call(&["GET", "after"])), "$1\r\n1\r\n");
    assert_eq!(show(&m.call(&["MULTI"])), "+OK\r\n");
    assert_eq!(show(&m.call(&["GET", "after"])), "+QUEUED\r\n");
    assert_eq!(show(&m.call(&["EXEC"])), "*1\r\n$1\r\n1\r\n");
    assert_eq!(show(&sub.call(&["PING"])), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(show(&n.call(&["PING"])), "+PONG\r\n");
    let stats = show(&b.call(&["INFO", "errorstats"]));
    assert!(stats.contains("errorstat_BUSY:count=7\r\n"), "{stats}");
    assert!(stats.contains("errorstat_EXECABORT:count=1\r\n"), "{stats}");
}

#[test]
fn a_killed_script_cannot_keep_running_by_catching_the_kill_with_pcall() {
    let (_s, mut a, mut b) = handoff_with_two_clients();
    let script = "while true do pcall(function() while true do end end) end";
    a.send(&["EVAL", script, "0"]);
    wait_busy(&mut b);
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), "+OK\r\n");
    let reply = show(&a.replies(1));
    assert!(
        reply.starts_with("-ERR Script killed by user with SCRIPT KILL... script: "),
        "{reply}"
    );
    // The hook is back to its normal rate: a long script runs at full speed
    // and completes.
    assert_eq!(
        show(&a.call(&[
            "EVAL",
            "local n = 0 for i = 1, 3000000 do n = n + 1 end return n",
            "0"
        ])),
        ":3000000\r\n"
    );
}

#[test]
fn the_embedding_handle_stops_a_server_whose_script_is_busy() {
    let (s, mut a, mut b) = handoff_with_two_clients();
    a.send(&["EVAL", SPIN, "0"]);
    wait_busy(&mut b);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        s.handle.shutdown();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the server stopped");
    assert_eq!(show(&a.until_closed()), "");
}

/// The same conversation with a server on `port`: what each step got back.
fn busy_conversation(port: u16) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut note = |what: &str, bytes: Vec<u8>| out.push((what.to_string(), show(&bytes)));
    let mut c = Raw::connect(port);
    note(
        "set threshold",
        c.call(&["CONFIG", "SET", "lua-time-limit", "100"]),
    );
    note("resetstat", c.call(&["CONFIG", "RESETSTAT"]));
    note("idle script kill", c.call(&["SCRIPT", "KILL"]));
    note("idle function kill", c.call(&["FUNCTION", "KILL"]));
    note("load", c.call(&["FUNCTION", "LOAD", LIBRARY]));
    note("idle function stats", c.call(&["FUNCTION", "STATS"]));
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    let mut sub = Raw::connect(port);
    note("subscribe", sub.call(&["SUBSCRIBE", "ch"]));

    // An EVAL that never ends, killed.
    let mut pipelined = encode(&["EVAL", SPIN, "0"]);
    pipelined.extend(encode(&["PING"]));
    a.send_raw(&pipelined);
    note("busy", wait_busy(&mut b));
    for cmd in [
        &["GET", "k"][..],
        &["SET", "k", "v"],
        &["FUNCTION", "KILL"],
        &["FUNCTION", "STATS"],
        &["SHUTDOWN"],
        &["SHUTDOWN", "ABORT"],
        &["SHUTDOWN", "NOSAVE", "SAVE"],
        &["MULTI"],
        &["GET", "k"],
        &["SCRIPT", "KILL"],
        &["EXEC"],
        &["WATCH", "k"],
        &["UNWATCH"],
        &["CLIENT", "ID"],
        &["INFO"],
        &["NOSUCH"],
        &["GET"],
    ] {
        note(&format!("during eval {cmd:?}"), b.call(cmd));
    }
    note("subscriber ping", sub.call(&["PING"]));
    note("subscriber get", sub.call(&["GET", "k"]));
    let mut fresh = Raw::connect(port);
    note("fresh ping", fresh.call(&["PING"]));
    note("script kill", b.call(&["SCRIPT", "KILL"]));
    note("killed caller", a.replies(2));
    note("after", b.call(&["GET", "k"]));

    // A function that never ends, killed.
    let mut resp3 = Raw::connect(port);
    // (HELLO's reply names the server and its version: not compared.)
    resp3.call(&["HELLO", "3"]);
    a.send(&["FCALL", "spin", "0"]);
    note("busy function", wait_busy(&mut b));
    note("function script kill", b.call(&["SCRIPT", "KILL"]));
    // The duration is the one varying number.
    let masked = |stats: Vec<u8>| {
        let stats = show(&stats);
        match stats.find("duration_ms\r\n:") {
            Some(i) => {
                let from = i + "duration_ms\r\n:".len();
                let end = from + stats[from..].find("\r\n").unwrap_or(0);
                format!("{}N{}", &stats[..from], &stats[end..])
            }
            None => stats,
        }
    };
    let stats = masked(b.call(&["FUNCTION", "STATS"]));
    out_push(&mut note, "function stats", stats);
    let stats = masked(resp3.call(&["FUNCTION", "STATS"]));
    out_push(&mut note, "function stats resp3", stats);
    note("resp3 get", resp3.call(&["GET", "k"]));
    note("function kill", b.call(&["FUNCTION", "KILL"]));
    note("killed fcall", a.replies(1));
    a.send(&["FCALL_RO", "spinro", "0"]);
    note("busy function ro", wait_busy(&mut b));
    note("function kill ro", b.call(&["FUNCTION", "KILL"]));
    note("killed fcall_ro", a.replies(1));

    note("errorstats", b.call(&["INFO", "errorstats"]));
    let commandstats = show(&b.call(&["INFO", "commandstats"]));
    // Calls and times vary (the PINGs of wait_busy, durations): compare
    // what was rejected and what failed.
    let mut counts: Vec<String> = commandstats
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let keep: Vec<&str> = rest
                .split(',')
                .filter(|f| f.starts_with("rejected_calls=") || f.starts_with("failed_calls="))
                .collect();
            Some(format!("{name}:{}", keep.join(",")))
        })
        .collect();
    counts.sort();
    out_push(&mut note, "commandstats", counts.join("\n"));

    // A script that wrote: unkillable; SHUTDOWN NOSAVE ends the server.
    a.send(&["EVAL", "redis.call('SET', 'x', '1') while true do end", "0"]);
    note("busy writer", wait_busy(&mut b));
    note("writer script kill", b.call(&["SCRIPT", "KILL"]));
    note("writer function kill", b.call(&["FUNCTION", "KILL"]));
    b.send(&["SHUTDOWN", "NOSAVE"]);
    note("shutdown nosave", b.until_closed());
    note("writer caller", a.until_closed());
    note("subscriber at exit", sub.until_closed());
    out
}

/// Records an already-decoded text through the same `note` closure.
fn out_push(note: &mut impl FnMut(&str, Vec<u8>), what: &str, text: String) {
    note(what, text.into_bytes());
}

fn log_of(port: u16) -> String {
    let path = std::env::temp_dir()
        .join(format!("handoff-peer-{port}"))
        .join("server.log");
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn busy_replies_kill_errors_and_shutdown_nosave_match_redis_byte_for_byte() {
    let Some(mut redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let mut ours = ExternalServer::start_at(Path::new(BIN), &[]);
    let theirs = busy_conversation(redis.port);
    let mine = busy_conversation(ours.port);
    assert_eq!(mine.len(), theirs.len());
    for ((what, m), (_, t)) in mine.iter().zip(&theirs) {
        assert_eq!(m, t, "{what}: handoff {m:?}, redis {t:?}");
    }
    for (name, server) in [("redis", &mut redis), ("handoff", &mut ours)] {
        let status = server
            .wait_exit(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{name} still runs after SHUTDOWN NOSAVE"));
        assert!(status.success(), "{name}: {status}");
    }
    // The log lines, as Redis writes them.
    for (name, port) in [("redis", redis.port), ("handoff", ours.port)] {
        let log = log_of(port);
        for line in [
            "# Slow script detected: still in execution after ".to_string(),
            format!(" milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: {SPIN_SHA}.\n"),
            " milliseconds. You can try killing the script using the FUNCTION KILL command. Script name is: spin.\n".to_string(),
            "# Lua script killed by user with SCRIPT KILL.\n".to_string(),
        ] {
            assert!(log.contains(&line), "{name} log lacks {line:?}:\n{log}");
        }
    }
}

#[test]
fn a_replica_busy_with_a_script_applies_its_primary_stream_once_the_script_is_killed() {
    let (p, r) = common::nodes::pair();
    let rport = r.addr().port();
    start_low_threshold(rport);
    let mut pc = Raw::connect(p.addr().port());
    let mut a = Raw::connect(rport);
    let mut b = Raw::connect(rport);
    a.send(&["EVAL_RO", SPIN, "0"]);
    wait_busy(&mut b);
    for i in 0..200 {
        assert_eq!(show(&pc.call(&["SET", &format!("k{i}"), "v"])), "+OK\r\n");
    }
    // The stream waits while the script runs.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(show(&b.call(&["GET", "k199"])), BUSY_EVAL);
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), "+OK\r\n");
    assert!(show(&a.replies(1)).starts_with("-ERR Script killed"));
    common::nodes::wait_synced(&p, &[&r]);
    assert_eq!(show(&b.call(&["GET", "k199"])), "$1\r\nv\r\n");
    assert_eq!(show(&b.call(&["DBSIZE"])), ":200\r\n");
}

#[test]
fn a_primary_busy_with_a_script_keeps_its_replica_and_replicates_after_the_kill() {
    let (p, r) = common::nodes::pair();
    let pport = p.addr().port();
    start_low_threshold(pport);
    let mut a = Raw::connect(pport);
    let mut b = Raw::connect(pport);
    a.send(&["EVAL", SPIN, "0"]);
    wait_busy(&mut b);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), "+OK\r\n");
    assert!(show(&a.replies(1)).starts_with("-ERR Script killed"));
    assert_eq!(show(&b.call(&["SET", "after", "1"])), "+OK\r\n");
    common::nodes::wait_synced(&p, &[&r]);
    let mut rc = Raw::connect(r.addr().port());
    assert_eq!(show(&rc.call(&["GET", "after"])), "$1\r\n1\r\n");
    let stats = show(&b.call(&["INFO", "stats"]));
    assert!(
        stats.contains("sync_full:1\r\n"),
        "one full sync only: {stats}"
    );
}

/// `sync_full` and `sync_partial_ok` of a primary.
fn syncs(c: &mut Raw) -> (String, String) {
    let info = show(&c.call(&["INFO", "stats"]));
    let get = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or("?")
            .to_string()
    };
    (get("sync_full:"), get("sync_partial_ok:"))
}

/// Makes `port` busy with an endless read-only script for `ms`, then kills it.
fn busy_for(port: u16, ms: u64) {
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    a.send(&["EVAL_RO", SPIN, "0"]);
    wait_busy(&mut b);
    std::thread::sleep(Duration::from_millis(ms));
    assert_eq!(show(&b.call(&["SCRIPT", "KILL"])), "+OK\r\n");
    assert!(show(&a.replies(1)).starts_with("-ERR Script killed"));
}

#[test]
fn replication_survives_busy_periods_shorter_than_repl_timeout_and_resumes_partially_after_longer_ones(
) {
    // As on Redis, nothing is sent to or applied from the replication
    // links while a script is busy (no PINGs, no ACKs): a busy period
    // longer than repl-timeout ends the link, and it resumes with a
    // partial resync, never a full one.
    let (p, r) = common::nodes::pair();
    let mut pc = Raw::connect(p.addr().port());
    let mut rc = Raw::connect(r.addr().port());
    for c in [&mut pc, &mut rc] {
        for (k, v) in [
            ("repl-timeout", "3"),
            ("repl-ping-replica-period", "1"),
            ("busy-reply-threshold", "100"),
        ] {
            assert_eq!(show(&c.call(&["CONFIG", "SET", k, v])), "+OK\r\n");
        }
    }
    let before = syncs(&mut pc);
    for port in [p.addr().port(), r.addr().port()] {
        busy_for(port, 1000);
        assert_eq!(
            show(&pc.call(&["SET", "short", &port.to_string()])),
            "+OK\r\n"
        );
        common::nodes::wait_synced(&p, &[&r]);
        assert_eq!(syncs(&mut pc), before, "busy on {port} for 1 s: no resync");
    }
    busy_for(p.addr().port(), 4500);
    assert_eq!(show(&pc.call(&["SET", "long", "1"])), "+OK\r\n");
    common::nodes::wait_synced(&p, &[&r]);
    assert_eq!(show(&rc.call(&["GET", "long"])), "$1\r\n1\r\n");
    let (full, _) = syncs(&mut pc);
    assert_eq!(full, before.0, "no full sync after a long busy period");
}
