//! A write load for replication tests: a mix of every data type with TTLs
//! in several dbs, written through the commands whose replication effects
//! differ from the commands themselves (EX, PSETEX, INCRBYFLOAT, EXPIRE,
//! SPOP, XADD *, XREADGROUP...), and the polling helpers the tests use.
//! Comparing servers is `dataset::snapshot` + `dataset::assert_same`.

use std::time::{Duration, Instant};

use handoff::protocol::{Connection, Frame};

/// Runs `args`, panicking on an I/O error or an error reply.
pub fn must(c: &mut Connection, args: &[&str]) -> Frame {
    let f = c.call(args).expect("call");
    if let Frame::Error(e) = &f {
        panic!("{args:?} failed: {}", String::from_utf8_lossy(e));
    }
    f
}

/// Writes a mix of every data type under `prefix`, `n` keys per type, in
/// dbs 0 and 3, some with a TTL far enough to survive the test.
pub fn write_mixed(c: &mut Connection, prefix: &str, n: usize) {
    for db in ["0", "3"] {
        must(c, &["SELECT", db]);
        for i in 0..n {
            let k = |t: &str| format!("{prefix}:{t}:{i}");
            must(c, &["SET", &k("str"), &format!("v{i}")]);
            must(c, &["SET", &k("int"), &i.to_string()]);
            must(c, &["SET", &k("ttl"), "x", "EX", "1000"]);
            must(c, &["PSETEX", &k("pttl"), "900000", "y"]);
            must(c, &["INCRBYFLOAT", &k("float"), "1.5"]);
            let big = i % 5 == 0;
            let m = if big { 200 } else { 3 };
            for j in 0..m {
                let js = j.to_string();
                must(c, &["RPUSH", &k("list"), &format!("e{j}")]);
                must(c, &["HSET", &k("hash"), &format!("f{j}"), &js]);
                must(c, &["SADD", &k("set"), &format!("m{j}")]);
                must(c, &["SADD", &k("intset"), &js]);
                must(
                    c,
                    &["ZADD", &k("zset"), &format!("{j}.5"), &format!("z{j}")],
                );
            }
            must(c, &["EXPIRE", &k("hash"), "5000"]);
            must(c, &["XADD", &k("stream"), "*", "a", "1", "b", "2"]);
            must(c, &["XADD", &k("stream"), "*", "a", "3"]);
            must(c, &["XGROUP", "CREATE", &k("stream"), "g1", "0"]);
            must(
                c,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g1",
                    "alice",
                    "COUNT",
                    "1",
                    "STREAMS",
                    &k("stream"),
                    ">",
                ],
            );
            must(c, &["PFADD", &k("hll"), "a", "b", "c"]);
            must(c, &["SPOP", &k("set")]);
            must(c, &["LPOP", &k("list")]);
        }
    }
    must(c, &["SELECT", "0"]);
}

/// A field of INFO replication (or any INFO section).
pub fn info_field(c: &mut Connection, section: &str, field: &str) -> Option<String> {
    let info = match must(c, &["INFO", section]) {
        Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("INFO gave {other:?}"),
    };
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

/// Polls `check` until it holds or `secs` pass (then panics with `what`).
pub fn wait_for(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// INFO replication `master_repl_offset` (-1 if absent).
pub fn repl_offset(c: &mut Connection) -> i64 {
    info_field(c, "replication", "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Waits until `who` (a replica) reports `master_link_status:up`.
pub fn wait_link_up(c: &mut Connection, who: &str) {
    wait_for(30, &format!("{who} master_link_status:up"), || {
        info_field(c, "replication", "master_link_status").as_deref() == Some("up")
    });
}

/// Waits until `replica` processed everything `primary` produced.
pub fn wait_offsets(primary: &mut Connection, replica: &mut Connection, who: &str) {
    wait_for(30, &format!("{who} to reach the primary's offset"), || {
        let p = repl_offset(primary);
        p > 0 && repl_offset(replica) == p
    });
}
