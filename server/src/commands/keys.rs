//! Generic keyspace commands: DEL UNLINK EXISTS TYPE TOUCH KEYS SCAN RANDOMKEY
//! RENAME RENAMENX COPY MOVE SWAPDB DBSIZE FLUSHDB FLUSHALL.
//!
//! Keys that logically expired behave as missing: every lookup goes through
//! the keyspace's `lookup_*`/`exists`, which expire lazily. Moving a key
//! (RENAME, MOVE) keeps its value, TTL and LRU stamp; COPY duplicates the value
//! and keeps the TTL, as Redis does. Expiry commands are in `expire_cmds`,
//! OBJECT in `object_cmd`. Every change bumps `keyspace.dirty` as Redis bumps
//! `server.dirty`.

use handoff_protocol::encode;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::scan_args;
use super::spec::{keys, CommandSpec, NO_KEYS};
use crate::config::glob::glob_match;
use crate::errors;
use crate::keyspace::{lazyfree, SmallBytes, Value, NO_EXPIRE};
use crate::pubsub::class;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, "write", "@keyspace @write @slow", keys(1, -1, 1), del)
        .doc("generic", "1.0.0", "Deletes one or more keys.", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).")
        .tips("request_policy:multi_shard response_policy:agg_sum"),
    CommandSpec::new("unlink", -2, "write fast", "@keyspace @write @fast", keys(1, -1, 1), unlink)
        .doc("generic", "4.0.0", "Asynchronously deletes one or more keys.", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.")
        .tips("request_policy:multi_shard response_policy:agg_sum"),
    CommandSpec::new("exists", -2, "readonly fast", "@keyspace @read @fast", keys(1, -1, 1), exists)
        .doc("generic", "1.0.0", "Determines whether one or more keys exist.", "O(N) where N is the number of keys to check.")
        .tips("request_policy:multi_shard response_policy:agg_sum"),
    CommandSpec::new("type", 2, "readonly fast", "@keyspace @read @fast", keys(1, 1, 1), type_cmd)
        .doc("generic", "1.0.0", "Determines the type of value stored at a key.", "O(1)"),
    CommandSpec::new("touch", -2, "readonly fast", "@keyspace @read @fast", keys(1, -1, 1), touch)
        .doc("generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "O(N) where N is the number of keys that will be touched.")
        .tips("request_policy:multi_shard response_policy:agg_sum"),
    CommandSpec::new("keys", 2, "readonly", "@keyspace @read @slow @dangerous", NO_KEYS, keys_cmd)
        .doc("generic", "1.0.0", "Returns all key names that match a pattern.", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.")
        .tips("request_policy:all_shards nondeterministic_output_order"),
    CommandSpec::new("scan", -2, "readonly", "@keyspace @read @slow", NO_KEYS, scan)
        .doc("generic", "2.8.0", "Iterates over the key names in the database.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")
        .tips("nondeterministic_output request_policy:special"),
    CommandSpec::new("randomkey", 1, "readonly", "@keyspace @read @slow", NO_KEYS, randomkey)
        .doc("generic", "1.0.0", "Returns a random key name from the database.", "O(1)")
        .tips("request_policy:all_shards nondeterministic_output"),
    CommandSpec::new("rename", 3, "write", "@keyspace @write @slow", keys(1, 2, 1), rename)
        .doc("generic", "1.0.0", "Renames a key and overwrites the destination.", "O(1)"),
    CommandSpec::new("renamenx", 3, "write fast", "@keyspace @write @fast", keys(1, 2, 1), renamenx)
        .doc("generic", "1.0.0", "Renames a key only when the target key name doesn't exist.", "O(1)"),
    CommandSpec::new("copy", -3, "write denyoom", "@keyspace @write @slow", keys(1, 2, 1), copy)
        .doc("generic", "6.2.0", "Copies the value of a key to a new key.", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."),
    CommandSpec::new("move", 3, "write fast", "@keyspace @write @fast", keys(1, 1, 1), move_cmd)
        .doc("generic", "1.0.0", "Moves a key to another database.", "O(1)"),
    CommandSpec::new("swapdb", 3, "write fast", "@keyspace @write @fast @dangerous", NO_KEYS, swapdb)
        .doc("server", "4.0.0", "Swaps two Redis databases.", "O(N) where N is the count of clients watching or blocking on keys from both databases."),
    CommandSpec::new("dbsize", 1, "readonly fast", "@keyspace @read @fast", NO_KEYS, dbsize)
        .doc("server", "1.0.0", "Returns the number of keys in the database.", "O(1)")
        .tips("request_policy:all_shards response_policy:agg_sum"),
    CommandSpec::new("flushdb", -1, "write", "@keyspace @write @slow @dangerous", NO_KEYS, flushdb)
        .doc("server", "1.0.0", "Removes all keys from the current database.", "O(N) where N is the number of keys in the selected database")
        .tips("request_policy:all_shards response_policy:all_succeeded"),
    CommandSpec::new("flushall", -1, "write", "@keyspace @write @slow @dangerous", NO_KEYS, flushall)
        .doc("server", "1.0.0", "Removes all keys from all databases.", "O(N) where N is the total number of keys in all databases")
        .tips("request_policy:all_shards response_policy:all_succeeded"),
];

/// Redis's getIntFromObjectOrReply range error (MOVE, COPY DB).
const INT_RANGE: &str = "ERR value is out of range, value must between -2147483648 and 2147483647";

/// A copy of a value for COPY.
pub fn dup_value(v: &Value) -> Value {
    v.clone()
}

/// A database index argument as MOVE and COPY parse it: an integer, within
/// C `int` range, naming an existing database.
fn parse_db_index(ctx: &Ctx, arg: &[u8]) -> Result<usize, CmdError> {
    let n = parse_i64(arg)?;
    if i32::try_from(n).is_err() {
        return Err(INT_RANGE.into());
    }
    match usize::try_from(n) {
        Ok(i) if i < ctx.srv.keyspace.dbs.len() => Ok(i),
        _ => Err(errors::DB_INDEX_OUT_OF_RANGE.into()),
    }
}

/// DEL and UNLINK. Values big enough to matter are always freed on the
/// lazyfree thread (`lazyfree::drop_value`), so DEL with
/// `lazyfree-lazy-user-del` and UNLINK need no separate path.
fn delete_keys(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let args = ctx.args;
    let ks = &mut ctx.srv.keyspace;
    let mut n = 0i64;
    let mut deleted = Vec::new();
    for key in &args[1..] {
        if ks.expire_keys {
            // Lazily expire first, so an expired key counts as expired, not deleted.
            ks.exists(db, key, now);
        }
        if ks.delete(db, key, now) {
            n += 1;
            deleted.push(key);
        }
    }
    ks.dirty += n as u64;
    for key in deleted {
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.int(n);
    Ok(())
}

fn del(ctx: &mut Ctx) -> CmdResult {
    delete_keys(ctx)
}

fn unlink(ctx: &mut Ctx) -> CmdResult {
    delete_keys(ctx)
}

fn exists(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let args = ctx.args;
    let mut n = 0;
    for key in &args[1..] {
        if ctx.srv.keyspace.lookup_read(db, key, now, true).is_some() {
            n += 1;
        }
    }
    ctx.int(n);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let name = match ctx
        .srv
        .keyspace
        .lookup_read(db, &ctx.args[1], ctx.now_ms, true)
    {
        Some(e) => e.value.type_name(),
        None => "none",
    };
    ctx.simple(name.as_bytes());
    Ok(())
}

/// TOUCH updates the access time even for a CLIENT NO-TOUCH client, as Redis does.
fn touch(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let args = ctx.args;
    let mut n = 0;
    for key in &args[1..] {
        if ctx.srv.keyspace.lookup_read(db, key, now, false).is_some() {
            n += 1;
        }
    }
    ctx.int(n);
    Ok(())
}

/// True when an entry with expiry `at` is logically expired at `now`.
fn is_expired(at: i64, now: i64) -> bool {
    at != NO_EXPIRE && at <= now
}

/// KEYS skips expired keys without deleting them, as Redis's keyIsExpired check.
fn keys_cmd(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let pattern = &ctx.args[1][..];
    // "*" matches every key, even the empty one the glob matcher rejects.
    let all = pattern == b"*";
    let d = &ctx.srv.keyspace.dbs[db];
    let found: Vec<&[u8]> = d
        .iter()
        .filter(|e| all || glob_match(pattern, &e.key, false))
        .filter(|e| !is_expired(e.expire_at, now))
        .map(|e| &e.key[..])
        .collect();
    let out = &mut ctx.client.out;
    encode::array_header(out, found.len());
    for k in found {
        encode::bulk(out, k);
    }
    Ok(())
}

fn scan(ctx: &mut Ctx) -> CmdResult {
    let cursor = scan_args::cursor(&ctx.args[1])?;
    let opts = scan_args::options(&ctx.args[2..], true)?;
    let db = ctx.db();
    let now = ctx.now_ms;
    let ks = &mut ctx.srv.keyspace;
    let mut found: Vec<SmallBytes> = Vec::new();
    let next = ks.dbs[db].scan(cursor, opts.count, |e| found.push(e.key.clone()));
    found.retain(|key| {
        if !opts.matches(key) {
            return false;
        }
        if let Some(t) = opts.type_name {
            // As Redis: a type lookup (which may expire the key); a missing key is "none".
            let name = ks
                .lookup_read(db, key, now, true)
                .map_or("none", |e| e.value.type_name());
            if !name.as_bytes().eq_ignore_ascii_case(t) {
                return false;
            }
        }
        match ks.dbs[db].get_raw(key) {
            Some(e) if is_expired(e.expire_at, now) => {
                ks.exists(db, key, now);
                false
            }
            _ => true,
        }
    });
    scan_args::reply_header(&mut ctx.client.out, next, found.len());
    for k in &found {
        ctx.bulk(k);
    }
    Ok(())
}

fn randomkey(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let ks = &mut ctx.srv.keyspace;
    let mut tries = 100;
    let key: Option<SmallBytes> = loop {
        let mut x = ks.random() | 1;
        let d = &ks.dbs[db];
        let all_volatile = d.len() == d.expires_len();
        let picked = d.random_key(|| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        });
        let Some(e) = picked else { break None };
        if !is_expired(e.expire_at, now) {
            break Some(e.key.clone());
        }
        let key = e.key.clone();
        if !ks.expire_keys {
            // A replica does not delete expired keys; when every key has a
            // TTL they may all be expired: give up after some tries, as Redis.
            tries -= 1;
            if all_volatile && tries == 0 {
                break Some(key);
            }
            continue;
        }
        ks.exists(db, &key, now);
    };
    match key {
        Some(k) => ctx.bulk(&k),
        None => ctx.null(),
    }
    Ok(())
}

fn rename_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let (src, dst) = (&ctx.args[1][..], &ctx.args[2][..]);
    let ks = &mut ctx.srv.keyspace;
    if ks.lookup_write(db, src, now).is_none() {
        return Err(errors::NO_SUCH_KEY.into());
    }
    if src == dst {
        if nx {
            ctx.int(0);
        } else {
            ctx.ok();
        }
        return Ok(());
    }
    if ks.exists(db, dst, now) {
        if nx {
            ctx.int(0);
            return Ok(());
        }
        if let Some(old) = ks.dbs[db].remove(dst) {
            lazyfree::drop_value(old.value);
        }
    }
    let d = &mut ks.dbs[db];
    // Read the TTL first: removal clears it.
    let at = d.get_raw(src).map_or(NO_EXPIRE, |e| e.expire_at);
    let Some(e) = d.remove(src) else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    d.insert(dst, e.value, e.lru);
    if at != NO_EXPIRE {
        d.set_expire(dst, at);
    }
    ks.dirty += 1;
    ctx.notify(class::GENERIC, "rename_from", src);
    ctx.notify(class::GENERIC, "rename_to", dst);
    if nx {
        ctx.int(1);
    } else {
        ctx.ok();
    }
    Ok(())
}

fn rename(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, false)
}

fn renamenx(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, true)
}

fn copy(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let args = ctx.args;
    let mut dst_db = db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "db") && j + 1 < args.len() {
            dst_db = parse_db_index(ctx, &args[j + 1])?;
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let (src, dst) = (&args[1][..], &args[2][..]);
    if dst_db == db && src == dst {
        return Err(errors::SAME_OBJECT.into());
    }
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = ks.lookup_read(db, src, now, no_touch) else {
        ctx.int(0);
        return Ok(());
    };
    let value = dup_value(&e.value);
    let at = e.expire_at;
    if ks.exists(dst_db, dst, now) {
        if !replace {
            ctx.int(0);
            return Ok(());
        }
        if let Some(old) = ks.dbs[dst_db].remove(dst) {
            lazyfree::drop_value(old.value);
        }
    }
    ks.set(dst_db, dst, value);
    if at != NO_EXPIRE {
        ks.dbs[dst_db].set_expire(dst, at);
    }
    ks.dirty += 1;
    ctx.notify_in(dst_db, class::GENERIC, "copy_to", dst);
    ctx.int(1);
    Ok(())
}

fn move_cmd(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let dst_db = parse_db_index(ctx, &ctx.args[2])?;
    if dst_db == db {
        return Err(errors::SAME_OBJECT.into());
    }
    let key = &ctx.args[1][..];
    let ks = &mut ctx.srv.keyspace;
    if ks.lookup_write(db, key, now).is_none() || ks.exists(dst_db, key, now) {
        ctx.int(0);
        return Ok(());
    }
    // Read the TTL first: removal clears it.
    let at = ks.dbs[db].get_raw(key).map_or(NO_EXPIRE, |e| e.expire_at);
    let Some(e) = ks.dbs[db].remove(key) else {
        ctx.int(0);
        return Ok(());
    };
    let d = &mut ks.dbs[dst_db];
    d.insert(key, e.value, e.lru);
    if at != NO_EXPIRE {
        d.set_expire(key, at);
    }
    ks.dirty += 1;
    ctx.notify_in(db, class::GENERIC, "move_from", key);
    ctx.notify_in(dst_db, class::GENERIC, "move_to", key);
    ctx.int(1);
    Ok(())
}

/// SWAPDB's index parsing: any non-integer or out-of-`int` value gets `msg`.
fn parse_swap_index(arg: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match parse_i64(arg) {
        Ok(n) if i32::try_from(n).is_ok() => Ok(n),
        _ => Err(msg.into()),
    }
}

fn swapdb(ctx: &mut Ctx) -> CmdResult {
    let a = parse_swap_index(&ctx.args[1], "ERR invalid first DB index")?;
    let b = parse_swap_index(&ctx.args[2], "ERR invalid second DB index")?;
    let n = ctx.srv.keyspace.dbs.len();
    let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
        return Err(errors::DB_INDEX_OUT_OF_RANGE.into());
    };
    if a >= n || b >= n {
        return Err(errors::DB_INDEX_OUT_OF_RANGE.into());
    }
    // Clients keep their index and so see the other database's content.
    ctx.srv.keyspace.dbs.swap(a, b);
    // WATCHed keys and blocked clients of both databases see new content.
    ctx.srv.keyspace.dbs[a].touch_all();
    ctx.srv.keyspace.dbs[b].touch_all();
    ctx.srv.keyspace.dirty += 1;
    ctx.ok();
    Ok(())
}

fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.srv.keyspace.dbs[ctx.db()].len();
    ctx.int(n as i64);
    Ok(())
}

/// The ASYNC/SYNC argument of FLUSHDB and FLUSHALL; true for a lazy flush.
fn flush_mode(ctx: &Ctx) -> Result<bool, CmdError> {
    match ctx.args.len() {
        1 => Ok(ctx.srv.config.lazyfree_lazy_user_flush),
        2 if ctx.arg_is(1, "async") => Ok(true),
        2 if ctx.arg_is(1, "sync") => Ok(false),
        _ => Err(errors::SYNTAX.into()),
    }
}

fn flushdb(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_mode(ctx)?;
    let db = ctx.db();
    let n = ctx.srv.keyspace.flush_db(db, lazy);
    ctx.srv.keyspace.dirty += n as u64;
    // Propagated even when the db was empty, as Redis 7.0.
    ctx.force_propagation();
    ctx.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_mode(ctx)?;
    let n = ctx.srv.keyspace.flush_all(lazy);
    ctx.srv.keyspace.dirty += n as u64;
    crate::persist::after_flushall(ctx.srv);
    ctx.force_propagation();
    ctx.ok();
    Ok(())
}
