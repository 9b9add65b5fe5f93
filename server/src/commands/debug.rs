//! DEBUG: the testing hooks Redis test suites and clients rely on — SLEEP,
//! SET-ACTIVE-EXPIRE, OBJECT, POPULATE, DIGEST, DIGEST-VALUE, ERROR, LOG,
//! HELP — gated by `enable-debug-command` as in Redis 7.
//!
//! DIGEST is content-derived and independent of key order (per-key digests
//! XORed together), but not Redis's exact SHA1 mixing: two handoff servers
//! with the same data agree; a handoff and a Redis server do not.

use std::hash::{Hash, Hasher};

use super::ctx::{is, parse_float, parse_i64, CmdResult, Ctx};
use super::server_cmds::help_reply;
use super::spec::{CommandSpec, NO_KEYS};
use crate::config::EnableMode;
use crate::errors;
use crate::keyspace::value::itoa_buf;
use crate::keyspace::{Entry, RStr, Value, NO_EXPIRE};

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "debug",
    -2,
    "admin noscript loading stale",
    "@admin @slow @dangerous",
    NO_KEYS,
    debug,
)
.doc(
    "server",
    "1.0.0",
    "A container for debugging commands.",
    "Depends on subcommand.",
)];

const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty and load the dump.
fn reload(ctx: &mut Ctx) -> CmdResult {
    let (mut save, mut flush, mut merge) = (true, true, false);
    for a in &ctx.args[2..] {
        if is(a, "merge") {
            flush = false;
            merge = true;
        } else if is(a, "noflush") {
            flush = false;
        } else if is(a, "nosave") {
            save = false;
        } else {
            return Err(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into(),
            );
        }
    }
    crate::persist::debug_reload(ctx.srv, save, flush, merge)?;
    ctx.ok();
    Ok(())
}

/// Whether this client may run DEBUG under `enable-debug-command`.
fn allowed(ctx: &Ctx) -> bool {
    match ctx.srv.config.enable_debug_command {
        EnableMode::Yes => true,
        EnableMode::No => false,
        EnableMode::Local => ctx.client.is_unix || is_loopback(&ctx.client.addr),
    }
}

fn is_loopback(addr: &str) -> bool {
    addr.rsplit_once(':')
        .map(|(ip, _)| ip.trim_matches(['[', ']']))
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

fn debug(ctx: &mut Ctx) -> CmdResult {
    if !allowed(ctx) {
        return Err(NOT_ALLOWED.into());
    }
    let sub = ctx.args[1].clone();
    let argc = ctx.args.len();
    if is(&sub, "help") && argc == 2 {
        help_reply(ctx, HELP)
    } else if is(&sub, "sleep") && argc == 3 {
        // Redis uses atof: anything unparsable sleeps for 0 seconds.
        let secs = parse_float(&ctx.args[2]).unwrap_or(0.0);
        if secs.is_finite() && secs > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
        }
        ctx.ok();
        Ok(())
    } else if is(&sub, "set-active-expire") && argc == 3 {
        // Redis uses atoi: non-numbers mean 0.
        ctx.srv.keyspace.active_expire_enabled = atoi(&ctx.args[2]) != 0;
        ctx.ok();
        Ok(())
    } else if is(&sub, "reload") {
        reload(ctx)
    } else if is(&sub, "object") && argc == 3 {
        object(ctx)
    } else if is(&sub, "populate") && (3..=5).contains(&argc) {
        populate(ctx)
    } else if is(&sub, "digest") && argc == 2 {
        let d = digest_keyspace(ctx);
        ctx.simple(hex(&d).as_bytes());
        Ok(())
    } else if is(&sub, "digest-value") && argc >= 2 {
        let db = ctx.db();
        let digests: Vec<[u8; 20]> = ctx.args[2..]
            .iter()
            .map(|k| {
                ctx.srv.keyspace.dbs[db]
                    .get_raw(k)
                    .map(|e| value_digest(&e.value))
                    .unwrap_or([0; 20])
            })
            .collect();
        ctx.array(digests.len());
        for d in digests {
            ctx.simple(hex(&d).as_bytes());
        }
        Ok(())
    } else if is(&sub, "error") && argc == 3 {
        let text = String::from_utf8_lossy(&ctx.args[2]).replace(['\r', '\n'], " ");
        Err(text.into())
    } else if is(&sub, "log") && argc == 3 {
        log::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&ctx.args[2]));
        ctx.ok();
        Ok(())
    } else {
        Err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            errors::truncated(&sub, 128)
        )
        .into())
    }
}

/// C atoi: optional sign and leading digits, 0 otherwise.
fn atoi(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut n: i64 = 0;
    for c in digits.bytes().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    if neg {
        -n
    } else {
        n
    }
}

fn object(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let clock = ctx.srv.keyspace.lru_clock;
    let key = ctx.args[2].clone();
    let Some(e) = ctx.srv.keyspace.lookup_read(db, &key, now, true) else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    // The LRU clock is in seconds, 24 bits wide, and wraps.
    let idle = clock.wrapping_sub(e.lru) & 0xFF_FFFF;
    let addr = &e.value as *const Value as usize;
    let line = format!(
        "Value at:{addr:#x} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{idle}",
        e.value.encoding(),
        serialized_length(&e.value),
        e.lru
    );
    ctx.simple(line.as_bytes());
    Ok(())
}

/// Bytes of RDB's length prefix for `len`.
fn rdb_len_size(len: usize) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if len <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// The size the value takes in an RDB file (uncompressed), as DEBUG OBJECT's `serializedlength`.
fn serialized_length(v: &Value) -> usize {
    match v {
        Value::Str(RStr::Int(n)) if i8::try_from(*n).is_ok() => 2,
        Value::Str(RStr::Int(n)) if i16::try_from(*n).is_ok() => 3,
        Value::Str(RStr::Int(n)) if i32::try_from(*n).is_ok() => 5,
        Value::Str(s) => {
            let len = s.len();
            rdb_len_size(len) + len
        }
        other => {
            let items = other.digest_items();
            rdb_len_size(items.len())
                + items
                    .iter()
                    .map(|i| rdb_len_size(i.len()) + i.len())
                    .sum::<usize>()
        }
    }
}

fn populate(ctx: &mut Ctx) -> CmdResult {
    const POSITIVE: &str = "ERR value is out of range, must be positive";
    let count = parse_i64(&ctx.args[2])
        .ok()
        .filter(|n| *n >= 0)
        .ok_or(POSITIVE)?;
    let prefix = ctx
        .args
        .get(3)
        .cloned()
        .unwrap_or_else(|| bytes::Bytes::from_static(b"key"));
    let size = match ctx.args.get(4) {
        Some(a) => parse_i64(a).ok().filter(|n| *n >= 0).ok_or(POSITIVE)? as usize,
        None => 0,
    };
    let db = ctx.db();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for j in 0..count {
        key.clear();
        key.extend_from_slice(&prefix);
        key.push(b':');
        key.extend_from_slice(itoa_buf::Buf::new().format(j));
        if ctx.srv.keyspace.dbs[db].get_raw(&key).is_some() {
            continue;
        }
        let label = format!("value:{j}");
        let value = if size == 0 {
            Value::from_bytes(label.as_bytes())
        } else {
            let mut v = vec![0u8; size];
            let n = size.min(label.len());
            v[..n].copy_from_slice(&label.as_bytes()[..n]);
            Value::from_bytes(&v)
        };
        ctx.srv.keyspace.set(db, &key, value);
    }
    ctx.ok();
    Ok(())
}

/// A 160-bit digest of bytes: three salted SipHash lanes, truncated to 20 bytes.
fn digest_bytes(parts: &[&[u8]]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for lane in 0..3u8 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        lane.hash(&mut h);
        for p in parts {
            p.hash(&mut h);
        }
        let v = h.finish().to_le_bytes();
        let start = lane as usize * 8;
        let end = (start + 8).min(20);
        out[start..end].copy_from_slice(&v[..end - start]);
    }
    out
}

fn value_digest(v: &Value) -> [u8; 20] {
    match v {
        Value::Str(s) => {
            let bytes = s.to_vec();
            digest_bytes(&[b"string", &bytes])
        }
        other => {
            let items = other.digest_items();
            let mut parts: Vec<&[u8]> = vec![other.type_name().as_bytes()];
            parts.extend(items.iter().map(|i| i.as_slice()));
            digest_bytes(&parts)
        }
    }
}

fn entry_digest(db: usize, e: &Entry) -> [u8; 20] {
    let vd = value_digest(&e.value);
    let expire = if e.expire_at == NO_EXPIRE {
        -1
    } else {
        e.expire_at
    };
    digest_bytes(&[
        &(db as u64).to_le_bytes(),
        &e.key,
        &vd,
        &expire.to_le_bytes(),
    ])
}

/// XOR of every key's digest: independent of iteration order, zero when empty.
fn digest_keyspace(ctx: &Ctx) -> [u8; 20] {
    let mut acc = [0u8; 20];
    for (i, db) in ctx.srv.keyspace.dbs.iter().enumerate() {
        for e in db.iter() {
            let d = entry_digest(i, e);
            for (a, b) in acc.iter_mut().zip(d.iter()) {
                *a ^= b;
            }
        }
    }
    acc
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_leading_digits_like_c() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"-3"), -3);
    }

    #[test]
    fn serialized_length_follows_rdb_string_encoding() {
        assert_eq!(serialized_length(&Value::from_bytes(b"bar")), 4);
        assert_eq!(serialized_length(&Value::from_bytes(b"100")), 2);
        assert_eq!(serialized_length(&Value::from_bytes(b"1000")), 3);
        assert_eq!(serialized_length(&Value::from_bytes(&[b'a'; 100])), 102);
    }

    #[test]
    fn value_digests_depend_on_content() {
        assert_ne!(
            value_digest(&Value::from_bytes(b"a")),
            value_digest(&Value::from_bytes(b"b"))
        );
        assert_eq!(
            value_digest(&Value::from_bytes(b"a")),
            value_digest(&Value::from_bytes(b"a"))
        );
    }
}
