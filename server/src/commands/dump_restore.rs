//! DUMP and RESTORE: a key's value as Redis's serialized payload (RDB type
//! byte + value + 2-byte RDB version + CRC-64, all from `rdb/`), so payloads
//! move between handoff and Redis/Valkey in both directions.
//!
//! Owns the argument handling and the keyspace change; the byte format is
//! `rdb::dump_value` / `rdb::verify_payload` / `rdb::restore_value`.

use super::ctx::{is, parse_i64, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use crate::errors;
use crate::pubsub::class;
use crate::rdb::{self, Encodings, PayloadError};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("dump", 2, "readonly", "@keyspace @read @slow", keys(1, 1, 1), dump)
        .doc("generic", "2.6.0", "Returns a serialized representation of the value stored at a key.", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).")
        .tips("nondeterministic_output"),
    CommandSpec::new("restore", -4, "write denyoom", "@keyspace @write @slow @dangerous", keys(1, 1, 1), restore)
        .doc("generic", "2.6.0", "Creates a key from the serialized representation of a value.", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."),
];

fn dump(ctx: &mut Ctx) -> CmdResult {
    let opts = rdb::write_options(&ctx.srv.config);
    let db = ctx.db();
    let now = ctx.now_ms;
    let payload = match ctx.srv.keyspace.lookup_read(db, &ctx.args[1], now, false) {
        Some(e) => rdb::dump_value(&e.value, opts),
        None => {
            ctx.null();
            return Ok(());
        }
    };
    ctx.bulk(&payload);
    Ok(())
}

fn restore(ctx: &mut Ctx) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < ctx.args.len() {
        let a = &ctx.args[j];
        let more = j + 1 < ctx.args.len();
        if is(a, "replace") {
            replace = true;
        } else if is(a, "absttl") {
            absttl = true;
        } else if is(a, "idletime") && more && freq.is_none() {
            let v = parse_i64(&ctx.args[j + 1])?;
            if v < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0".into());
            }
            idle = Some(v);
            j += 1;
        } else if is(a, "freq") && more && idle.is_none() {
            let v = parse_i64(&ctx.args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into());
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let key = ctx.args[1].clone();
    if !replace && ctx.srv.keyspace.lookup_write(db, &key, now).is_some() {
        return Err("BUSYKEY Target key name already exists.".into());
    }
    let ttl = parse_i64(&ctx.args[2])?;
    if ttl < 0 {
        return Err("ERR Invalid TTL value, must be >= 0".into());
    }
    let enc = Encodings::from_config(&ctx.srv.config);
    let value = rdb::verify_payload(&ctx.args[3], false)
        .and_then(|body| rdb::restore_value(body, &enc, now))
        .map_err(|e| match e {
            PayloadError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            PayloadError::BadData => "ERR Bad data format",
        })?;
    let deleted = replace && ctx.srv.keyspace.delete(db, &key, now);
    let expire_at = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(t.saturating_add(now)),
    };
    if let Some(at) = expire_at {
        if at <= now {
            // Already expired: the key is not created (the old one is gone).
            if deleted {
                ctx.srv.keyspace.dirty += 1;
                ctx.srv.keyspace.dbs[db].touch(&key);
                ctx.notify(class::GENERIC, "del", &key);
                if ctx.replicating() {
                    ctx.propagate_as(super::argv(&[b"DEL", &key]));
                }
            }
            ctx.ok();
            return Ok(());
        }
    }
    ctx.srv.keyspace.set(db, &key, value);
    if let Some(at) = expire_at {
        ctx.srv.keyspace.dbs[db].set_expire(&key, at);
    }
    // As Redis: under LFU only FREQ counts, otherwise only IDLETIME.
    let lru = ctx
        .srv
        .keyspace
        .restored_lru(freq.map(|f| f as u8), idle.map(|s| s as u64));
    if let Some(e) = ctx.srv.keyspace.dbs[db].get_raw_mut(&key) {
        e.lru = lru;
    }
    ctx.srv.keyspace.dirty += 1;
    ctx.notify(class::GENERIC, "restore", &key);
    if let (Some(at), false, true) = (expire_at, absttl, ctx.replicating()) {
        // A relative TTL goes out absolute, as Redis 7.0: the TTL argument
        // becomes the expiry time and ABSTTL is appended.
        let mut v = ctx.args.to_vec();
        v[2] = super::num_arg(at);
        v.push(bytes::Bytes::from_static(b"ABSTTL"));
        ctx.propagate_as(v);
    }
    ctx.ok();
    Ok(())
}
