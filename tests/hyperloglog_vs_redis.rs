//! Differential test: the same PFADD / PFCOUNT / PFMERGE / PFDEBUG sequences
//! run against handoff and a real redis-server, in RESP2 and RESP3. Every
//! reply must be byte-identical, and so must the raw bytes of the HLL values
//! (GET) after each step: sparse ones while they grow opcode by opcode,
//! promoted dense ones (~100k elements), merged ones, and values whose
//! cached cardinality PFCOUNT rewrote.

mod common;

use common::script::{exchange_raw, in_resp2_and_resp3, show};
use handoff::protocol::Connection;

/// Runs commands on both servers and records any reply that differs.
struct Pair<'a> {
    ours: &'a mut Connection,
    theirs: &'a mut Connection,
    prefix: String,
    mismatches: Vec<String>,
    compared: usize,
}

impl Pair<'_> {
    fn key(&self, k: &str) -> Vec<u8> {
        format!("{}{k}", self.prefix).into_bytes()
    }

    fn run(&mut self, args: Vec<Vec<u8>>) -> Vec<u8> {
        let ours = exchange_raw(self.ours, &args);
        let theirs = exchange_raw(self.theirs, &args);
        self.compared += 1;
        if ours != theirs && self.mismatches.len() < 20 {
            let line: Vec<String> = args.iter().take(4).map(|a| show(a)).collect();
            self.mismatches.push(format!(
                "{} (resp prefix {})\n    handoff: {}\n    redis:   {}",
                line.join(" "),
                self.prefix,
                show(&ours),
                show(&theirs)
            ));
        }
        theirs
    }

    /// `cmd key args...` with `key` prefixed.
    fn cmd(&mut self, cmd: &str, keys: &[&str], rest: &[&[u8]]) -> Vec<u8> {
        let mut args = vec![cmd.as_bytes().to_vec()];
        args.extend(keys.iter().map(|k| self.key(k)));
        args.extend(rest.iter().map(|r| r.to_vec()));
        self.run(args)
    }

    fn pfadd(&mut self, key: &str, elements: impl IntoIterator<Item = String>) {
        let mut args = vec![b"PFADD".to_vec(), self.key(key)];
        args.extend(elements.into_iter().map(String::into_bytes));
        self.run(args);
    }

    /// keyspace_hits and keyspace_misses of each server (ours, theirs).
    fn hits(&mut self) -> [(i64, i64); 2] {
        let read = |c: &mut Connection| {
            let info = c.call(&["INFO", "stats"]).unwrap().to_string_lossy();
            let field = |name: &str| -> i64 {
                info.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(-1)
            };
            (field("keyspace_hits:"), field("keyspace_misses:"))
        };
        [read(self.ours), read(self.theirs)]
    }

    fn get(&mut self, key: &str) -> Vec<u8> {
        self.cmd("GET", &[key], &[])
    }
}

fn elements(tag: &str, range: std::ops::Range<u32>) -> impl Iterator<Item = String> + '_ {
    range.map(move |i| format!("{tag}-{i}"))
}

fn script(p: &mut Pair) {
    // Small sets, one element at a time: every sparse split and merge.
    p.cmd("PFADD", &["small"], &[]);
    p.get("small");
    p.cmd("PFADD", &["small"], &[b"a", b"b", b"c"]);
    p.get("small");
    p.cmd("PFADD", &["small"], &[b"a"]);
    p.cmd("PFCOUNT", &["small"], &[]);
    p.get("small");
    p.cmd("PFCOUNT", &["small"], &[]);
    p.cmd("PFDEBUG", &[], &[b"ENCODING", &p.key("small")]);
    p.cmd("PFDEBUG", &[], &[b"DECODE", &p.key("small")]);
    for i in 0..1500u32 {
        p.pfadd("grow", [format!("g{i}")]);
        if i % 25 == 0 {
            p.get("grow");
            p.cmd("PFCOUNT", &["grow"], &[]);
        }
    }
    p.get("grow");
    p.cmd("PFDEBUG", &[], &[b"ENCODING", &p.key("grow")]);

    // Batched adds: sparse until the 3000-byte limit, then dense.
    for batch in 0..10u32 {
        p.pfadd("batched", elements("b", batch * 300..batch * 300 + 300));
        p.get("batched");
        p.cmd("PFCOUNT", &["batched"], &[]);
        p.cmd("PFDEBUG", &[], &[b"ENCODING", &p.key("batched")]);
    }

    // A large dense set.
    for batch in 0..100u32 {
        p.pfadd("large", elements("L", batch * 1000..batch * 1000 + 1000));
        if batch % 10 == 9 {
            p.get("large");
            p.cmd("PFCOUNT", &["large"], &[]);
            p.get("large");
        }
    }
    p.pfadd("large", elements("L", 0..1000));

    // Merges: sparse + sparse stays sparse, any dense input makes it dense.
    p.pfadd("m1", elements("x", 0..40));
    p.pfadd("m2", elements("x", 20..90));
    p.cmd("PFCOUNT", &["m1", "m2"], &[]);
    p.cmd("PFCOUNT", &["m1", "m2", "nosuch"], &[]);
    p.get("m1");
    p.cmd("PFMERGE", &["msparse", "m1", "m2"], &[]);
    p.get("msparse");
    p.cmd("PFCOUNT", &["msparse"], &[]);
    p.cmd("PFMERGE", &["m1", "m2"], &[]);
    p.get("m1");
    p.cmd("PFMERGE", &["mdense", "m1", "large"], &[]);
    p.get("mdense");
    p.cmd("PFCOUNT", &["mdense"], &[]);
    p.cmd("PFCOUNT", &["m1", "large", "grow"], &[]);
    p.cmd("PFMERGE", &["monly"], &[]);
    p.get("monly");
    p.cmd("PFMERGE", &["mbig", "batched", "grow"], &[]);
    p.get("mbig");
    p.cmd("PFMERGE", &["mnone", "nosuch1", "nosuch2"], &[]);
    p.get("mnone");

    // Key lookups count hits and misses as in Redis (PFMERGE reads its
    // destination too).
    let before = p.hits();
    p.cmd("PFCOUNT", &["m1", "nosuch", "m2"], &[]);
    p.cmd("PFCOUNT", &["nosuch"], &[]);
    p.cmd("PFCOUNT", &["m1"], &[]);
    p.cmd("PFMERGE", &["newdest", "m1", "nosuch"], &[]);
    p.cmd("PFMERGE", &["newdest", "m1"], &[]);
    p.cmd("PFADD", &["m1"], &[b"q"]);
    p.cmd("PFDEBUG", &[], &[b"ENCODING", &p.key("m1")]);
    let after = p.hits();
    let delta = |i: usize| (after[i].0 - before[i].0, after[i].1 - before[i].1);
    if delta(0) != delta(1) {
        p.mismatches.push(format!(
            "keyspace hits/misses deltas: handoff {:?}, redis {:?}",
            delta(0),
            delta(1)
        ));
    }

    // Debug subcommands.
    p.cmd("PFDEBUG", &[], &[b"GETREG", &p.key("m2")]);
    p.get("m2");
    p.cmd("PFDEBUG", &[], &[b"DECODE", &p.key("m2")]);
    p.cmd("PFDEBUG", &[], &[b"TODENSE", &p.key("msparse")]);
    p.cmd("PFDEBUG", &[], &[b"TODENSE", &p.key("msparse")]);
    p.get("msparse");
    p.cmd("PFDEBUG", &[], &[b"nope", &p.key("msparse")]);
    p.cmd("PFDEBUG", &[], &[b"nope", &p.key("nosuch")]);
    p.cmd("PFDEBUG", &[], &[b"getreg"]);
    p.cmd("PFDEBUG", &[], &[b"getreg", b"a", b"b"]);

    // Wrong types and corrupted values.
    p.cmd("SET", &["str"], &[b"hello"]);
    p.cmd("SET", &["int"], &[b"12345"]);
    p.cmd("SET", &["hyll"], &[b"HYLL"]);
    p.cmd(
        "SET",
        &["badenc"],
        &[b"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"],
    );
    p.cmd(
        "SET",
        &["shortdense"],
        &[b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"],
    );
    p.cmd(
        "SET",
        &["noops"],
        &[b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"],
    );
    p.cmd(
        "SET",
        &["overrun"],
        &[b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x7f\xff"],
    );
    p.cmd(
        "SET",
        &["cached"],
        &[b"HYLL\x01\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00\x7f\xff"],
    );
    for key in [
        "str",
        "int",
        "hyll",
        "badenc",
        "shortdense",
        "noops",
        "overrun",
    ] {
        p.cmd("PFADD", &[key], &[b"e"]);
        p.cmd("PFCOUNT", &[key], &[]);
        p.cmd("PFCOUNT", &[key, "small"], &[]);
        p.cmd("PFMERGE", &["dst", key], &[]);
        p.cmd("PFMERGE", &[key, "small"], &[]);
        p.cmd("PFDEBUG", &[], &[b"ENCODING", &p.key(key)]);
        p.get(key);
    }
    p.cmd("PFCOUNT", &["cached"], &[]);
    p.cmd("PFADD", &["cached"], &[b"z"]);
    p.cmd("PFCOUNT", &["cached"], &[]);
    p.get("cached");
    // A valid HLL stored by SET is embstr; the HLL commands leave it raw.
    p.cmd(
        "SET",
        &["emb"],
        &[b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"],
    );
    p.cmd("OBJECT", &[], &[b"ENCODING", &p.key("emb")]);
    p.cmd("PFCOUNT", &["emb"], &[]);
    p.cmd("OBJECT", &[], &[b"ENCODING", &p.key("emb")]);
    p.cmd("PFADD", &[], &[]);
    p.cmd("PFCOUNT", &[], &[]);
    p.cmd("PFMERGE", &[], &[]);

    // A lower sparse limit promotes earlier.
    p.run(vec![
        b"CONFIG".to_vec(),
        b"SET".to_vec(),
        b"hll-sparse-max-bytes".to_vec(),
        b"100".to_vec(),
    ]);
    for i in 0..40u32 {
        p.pfadd("tiny", [format!("t{i}")]);
        p.get("tiny");
    }
    p.cmd("PFMERGE", &["tinymerge", "m1"], &[]);
    p.cmd("PFMERGE", &["tinymerge2", "tiny", "small"], &[]);
    p.get("tinymerge2");
    p.get("tinymerge");
    p.run(vec![
        b"CONFIG".to_vec(),
        b"SET".to_vec(),
        b"hll-sparse-max-bytes".to_vec(),
        b"3000".to_vec(),
    ]);
}

#[test]
fn hyperloglog_replies_and_stored_bytes_match_redis_in_resp2_and_resp3() {
    let mut compared = 0;
    let ran = in_resp2_and_resp3(|ours, theirs, prefix| {
        let mut pair = Pair {
            ours,
            theirs,
            prefix: prefix.to_string(),
            mismatches: Vec::new(),
            compared: 0,
        };
        script(&mut pair);
        compared += pair.compared;
        pair.mismatches
    });
    assert!(!ran || compared > 3000, "compared {compared} replies");
}
