//! HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST, with
//! Redis 7's replies, errors, keyspace accounting and side effects.
//!
//! HLLs are ordinary string values holding Redis's `HYLL` bytes (see
//! [`crate::hll`]), so GET / DUMP / replication see exactly what Redis
//! stores. Like Redis, a single-key PFCOUNT that recomputes the cached
//! cardinality writes it back into the value and counts as a change
//! (dirty, WATCH), although the command is flagged read-only. Every command
//! that modifies a value leaves it `raw` encoded (Redis unshares it).

use super::ctx::{is, CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec, NO_KEYS};
use super::strings::{lookup_write, string_mut, string_ref};
use crate::config::Config;
use crate::hll::{self, Corrupt};
use crate::keyspace::{RStr, Value};
use crate::pubsub::{self, class};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, "write denyoom fast", "@write @hyperloglog @fast", keys(1, 1, 1), pfadd)
        .doc("hyperloglog", "2.8.9", "Adds the specified elements to the specified HyperLogLog.", "O(1) to add every element."),
    CommandSpec::new("pfcount", -2, "readonly", "@read @hyperloglog @slow", keys(1, -1, 1), pfcount)
        .doc("hyperloglog", "2.8.9", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys."),
    CommandSpec::new("pfmerge", -2, "write denyoom", "@write @hyperloglog @slow", keys(1, -1, 1), pfmerge)
        .doc("hyperloglog", "2.8.9", "Merge N different HyperLogLogs into a single one.", "O(N) to merge N HyperLogLogs, but with high constant times."),
    CommandSpec::new("pfdebug", 3, "write denyoom admin", "@write @hyperloglog @admin @slow @dangerous", keys(2, 2, 1), pfdebug)
        .doc("hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values", "N/A"),
    CommandSpec::new("pfselftest", 1, "admin", "@hyperloglog @admin @slow @dangerous", NO_KEYS, pfselftest)
        .doc("hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values", "N/A"),
];

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const INVALID_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";
const NO_KEY: &str = "ERR The specified key does not exist";
const NOT_SPARSE: &str = "ERR HLL encoding is not sparse";

fn invalid(_: Corrupt) -> CmdError {
    INVALID_HLL.into()
}

/// `hll-sparse-max-bytes` (an accepted-only directive kept in `Config::other`).
fn sparse_max_bytes(cfg: &Config) -> usize {
    cfg.other
        .get("hll-sparse-max-bytes")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(hll::DEFAULT_SPARSE_MAX_BYTES)
}

/// The bytes of `v` when it is a string holding a valid HLL; WRONGTYPE
/// otherwise. Integer-encoded strings are never HLLs (Redis requires an
/// sds-encoded object).
fn hll_ref(v: &Value) -> Result<&[u8], CmdError> {
    let b: &[u8] = match string_ref(v)? {
        RStr::Int(_) => return Err(NOT_HLL.into()),
        RStr::Emb(b) => b,
        RStr::Raw(b) => b,
    };
    if hll::is_valid(b) {
        Ok(b)
    } else {
        Err(NOT_HLL.into())
    }
}

/// The HLL held by `v` for modification (validated, then made raw).
fn hll_mut(v: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    hll_ref(v)?;
    Ok(string_mut(v)?.make_raw())
}

/// Effect: the key's HLL with the elements added, when any register
/// changed or the key was created.
fn pfadd(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let key = &args[1];
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let max_bytes = sparse_max_bytes(&ctx.srv.config);
    let ks = &mut ctx.srv.keyspace;

    let add_all = |v: &mut Vec<u8>, mut updated: u64| -> Result<u64, Corrupt> {
        for ele in &args[2..] {
            if hll::add(v, ele, max_bytes)? {
                updated += 1;
            }
        }
        if updated > 0 {
            hll::invalidate_cache(v);
        }
        Ok(updated)
    };
    let updated = match lookup_write(ks, db, key, now, no_touch) {
        Some(e) => add_all(hll_mut(&mut e.value)?, 0).map_err(invalid)?,
        None => {
            let mut v = hll::new_sparse();
            let updated = add_all(&mut v, 1);
            ks.set(db, key, Value::Str(RStr::Raw(v.into())));
            updated.map_err(invalid)?
        }
    };
    if updated > 0 {
        ks.dbs[db].touch(key);
        ks.dirty += updated;
        pubsub::notify(ctx.srv, Some(ctx.client), class::STRING, "pfadd", key, db);
    }
    ctx.int((updated > 0) as i64);
    Ok(())
}

fn pfcount(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;

    if args.len() > 2 {
        // The union of several HLLs, computed aside: no key changes.
        let mut max = vec![0u8; hll::REGISTERS];
        for key in &args[1..] {
            if let Some(e) = ks.lookup_read(db, key, now, no_touch) {
                hll::merge_into(&mut max, hll_ref(&e.value)?).map_err(invalid)?;
            }
        }
        let card = hll::count_raw(&max);
        ctx.int(card as i64);
        return Ok(());
    }

    let key = &args[1];
    let Some(e) = ks.lookup_read(db, key, now, no_touch) else {
        ctx.int(0);
        return Ok(());
    };
    let v = hll_mut(&mut e.value)?;
    let (card, recomputed) = match hll::cached_card(v) {
        Some(c) => (c, false),
        None => {
            let c = hll::count(v).map_err(invalid)?;
            hll::set_cached_card(v, c);
            (c, true)
        }
    };
    if recomputed {
        // The cache lives in the value: a change to replicate and to
        // invalidate WATCH with, as in Redis.
        ks.dbs[db].touch(key);
        ks.dirty += 1;
    }
    ctx.int(card as i64);
    Ok(())
}

/// Effect: the destination holds the register-wise maximum of itself and
/// every source; dense when any input was dense, sparse otherwise (promoted
/// as it fills, exactly as Redis writes it).
fn pfmerge(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let dest = &args[1];
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let max_bytes = sparse_max_bytes(&ctx.srv.config);
    let ks = &mut ctx.srv.keyspace;

    let mut max = vec![0u8; hll::REGISTERS];
    let mut use_dense = false;
    for key in &args[1..] {
        if let Some(e) = ks.lookup_read(db, key, now, no_touch) {
            let b = hll_ref(&e.value)?;
            use_dense |= b[4] == hll::DENSE;
            hll::merge_into(&mut max, b).map_err(invalid)?;
        }
    }

    let fill = |v: &mut Vec<u8>| -> Result<(), Corrupt> {
        if use_dense {
            hll::to_dense(v)?;
        }
        for (j, &m) in max.iter().enumerate() {
            if m != 0 {
                // Redis ignores a failure here: every input was validated.
                let _ = hll::set(v, j, m, max_bytes);
            }
        }
        hll::invalidate_cache(v);
        Ok(())
    };
    match lookup_write(ks, db, dest, now, no_touch) {
        Some(e) => fill(hll_mut(&mut e.value)?).map_err(invalid)?,
        None => {
            let mut v = hll::new_sparse();
            let r = fill(&mut v);
            ks.set(db, dest, Value::Str(RStr::Raw(v.into())));
            r.map_err(invalid)?
        }
    }
    ks.dbs[db].touch(dest);
    ks.dirty += 1;
    // Redis raises "pfadd" for PFMERGE too.
    pubsub::notify(ctx.srv, Some(ctx.client), class::STRING, "pfadd", dest, db);
    ctx.ok();
    Ok(())
}

/// What PFDEBUG answers, computed before the reply is written.
enum DebugReply {
    Registers(Vec<u8>),
    Text(String),
    Status(&'static str),
    Int(i64),
}

fn pfdebug(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let sub = &args[1];
    let key = &args[2];
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;

    let e = lookup_write(ks, db, key, now, no_touch).ok_or(CmdError::from(NO_KEY))?;
    let v = hll_mut(&mut e.value)?;
    let mut converted = false;
    let reply = if is(sub, "getreg") {
        converted = hll::to_dense(v).map_err(invalid)?;
        let regs = &v[hll::HDR_SIZE..];
        DebugReply::Registers(
            (0..hll::REGISTERS)
                .map(|i| hll::dense_get(regs, i))
                .collect(),
        )
    } else if is(sub, "decode") {
        if v[4] != hll::SPARSE {
            return Err(NOT_SPARSE.into());
        }
        DebugReply::Text(hll::decode_sparse(v))
    } else if is(sub, "encoding") {
        DebugReply::Status(if v[4] == hll::DENSE {
            "dense"
        } else {
            "sparse"
        })
    } else if is(sub, "todense") {
        converted = hll::to_dense(v).map_err(invalid)?;
        DebugReply::Int(converted as i64)
    } else {
        // Redis's error formatting turns CR / LF into spaces.
        let name: String = String::from_utf8_lossy(sub)
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        return Err(format!("ERR Unknown PFDEBUG subcommand '{name}'").into());
    };
    if converted {
        ks.dbs[db].touch(key);
        ks.dirty += 1;
    }
    match reply {
        DebugReply::Registers(regs) => {
            ctx.array(regs.len());
            for r in regs {
                ctx.int(r as i64);
            }
        }
        DebugReply::Text(t) => ctx.bulk(t.as_bytes()),
        DebugReply::Status(s) => ctx.simple(s.as_bytes()),
        DebugReply::Int(n) => ctx.int(n),
    }
    Ok(())
}

/// Checks register packing with random values, then that sparse and dense
/// HLLs fed the same 10 million elements agree and stay within six standard
/// errors at every power of ten, as Redis's PFSELFTEST does.
fn pfselftest(ctx: &mut Ctx) -> CmdResult {
    const CYCLES: usize = 1000;
    let max_bytes = sparse_max_bytes(&ctx.srv.config);
    let ks = &mut ctx.srv.keyspace;

    let mut dense = vec![0u8; hll::DENSE_SIZE];
    let mut bytes = vec![0u8; hll::REGISTERS];
    for _ in 0..CYCLES {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (ks.random() & 63) as u8;
            *b = r;
            hll::dense_put(&mut dense[hll::HDR_SIZE..], i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = hll::dense_get(&dense[hll::HDR_SIZE..], i);
            if got != b {
                return Err(
                    format!("ERR TESTFAILED Register {i} should be {b} but is {got}").into(),
                );
            }
        }
    }

    let mut dense = hll::sparse_to_dense(&hll::new_sparse()).map_err(invalid)?;
    let mut sparse = hll::new_sparse();
    let relerr = 1.04 / (hll::REGISTERS as f64).sqrt();
    let seed = ks.random();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        hll::add(&mut dense, &ele, max_bytes).map_err(invalid)?;
        hll::add(&mut sparse, &ele, max_bytes).map_err(invalid)?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_bytes / 2 && sparse[4] != hll::SPARSE {
            return Err("ERR TESTFAILED sparse encoding not used".into());
        }
        let card = hll::count(&dense).map_err(invalid)?;
        if hll::count(&sparse).map_err(invalid)? != card {
            return Err("ERR TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(card);
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(
                format!("ERR TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}").into(),
            );
        }
        checkpoint *= 10;
    }
    ctx.ok();
    Ok(())
}
