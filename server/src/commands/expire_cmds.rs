//! Key expiry commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (with NX XX GT LT),
//! TTL PTTL EXPIRETIME PEXPIRETIME and PERSIST.
//!
//! Expiries are stored as absolute Unix milliseconds. Setting an expiry that
//! is already in the past deletes the key, except on a replica (which waits
//! for its primary's DEL), as Redis's checkAlreadyExpired.

use super::ctx::{is, parse_i64, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use crate::keyspace::NO_EXPIRE;
use crate::pubsub::class;

const EXPIRE_ACL: &str = "@keyspace @write @fast";
const TTL_ACL: &str = "@keyspace @read @fast";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "expire",
        -3,
        "write fast",
        EXPIRE_ACL,
        keys(1, 1, 1),
        expire,
    )
    .doc(
        "generic",
        "1.0.0",
        "Sets the expiration time of a key in seconds.",
        "O(1)",
    ),
    CommandSpec::new(
        "pexpire",
        -3,
        "write fast",
        EXPIRE_ACL,
        keys(1, 1, 1),
        pexpire,
    )
    .doc(
        "generic",
        "2.6.0",
        "Sets the expiration time of a key in milliseconds.",
        "O(1)",
    ),
    CommandSpec::new(
        "expireat",
        -3,
        "write fast",
        EXPIRE_ACL,
        keys(1, 1, 1),
        expireat,
    )
    .doc(
        "generic",
        "1.2.0",
        "Sets the expiration time of a key to a Unix timestamp.",
        "O(1)",
    ),
    CommandSpec::new(
        "pexpireat",
        -3,
        "write fast",
        EXPIRE_ACL,
        keys(1, 1, 1),
        pexpireat,
    )
    .doc(
        "generic",
        "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        "O(1)",
    ),
    CommandSpec::new("ttl", 2, "readonly fast", TTL_ACL, keys(1, 1, 1), ttl)
        .doc(
            "generic",
            "1.0.0",
            "Returns the expiration time in seconds of a key.",
            "O(1)",
        )
        .tips("nondeterministic_output"),
    CommandSpec::new("pttl", 2, "readonly fast", TTL_ACL, keys(1, 1, 1), pttl)
        .doc(
            "generic",
            "2.6.0",
            "Returns the expiration time in milliseconds of a key.",
            "O(1)",
        )
        .tips("nondeterministic_output"),
    CommandSpec::new(
        "expiretime",
        2,
        "readonly fast",
        TTL_ACL,
        keys(1, 1, 1),
        expiretime,
    )
    .doc(
        "generic",
        "7.0.0",
        "Returns the expiration time of a key as a Unix timestamp.",
        "O(1)",
    ),
    CommandSpec::new(
        "pexpiretime",
        2,
        "readonly fast",
        TTL_ACL,
        keys(1, 1, 1),
        pexpiretime,
    )
    .doc(
        "generic",
        "7.0.0",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        "O(1)",
    ),
    CommandSpec::new(
        "persist",
        2,
        "write fast",
        EXPIRE_ACL,
        keys(1, 1, 1),
        persist,
    )
    .doc(
        "generic",
        "2.2.0",
        "Removes the expiration time of a key.",
        "O(1)",
    ),
];

/// The NX XX GT LT options of the EXPIRE family.
#[derive(Default, Debug, PartialEq, Eq)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_conditions(args: &[bytes::Bytes]) -> Result<Conditions, String> {
    let mut c = Conditions::default();
    for a in args {
        if is(a, "nx") {
            c.nx = true;
        } else if is(a, "xx") {
            c.xx = true;
        } else if is(a, "gt") {
            c.gt = true;
        } else if is(a, "lt") {
            c.lt = true;
        } else {
            return Err(format!(
                "ERR Unsupported option {}",
                crate::errors::truncated(a, a.len())
            ));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if c.gt && c.lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    Ok(c)
}

impl Conditions {
    /// Whether the new expiry `when` may replace `current` (NO_EXPIRE when
    /// none): a key without TTL counts as an infinite TTL for GT and LT.
    fn allow(&self, current: i64, when: i64) -> bool {
        let persistent = current == NO_EXPIRE;
        !((self.nx && !persistent)
            || (self.xx && persistent)
            || (self.gt && (persistent || when <= current))
            || (self.lt && !persistent && when >= current))
    }
}

/// The shared body: `base` is added to the time (now for relative forms, 0
/// for absolute ones), `seconds` scales it to milliseconds first.
fn expire_generic(ctx: &mut Ctx, base: i64, seconds: bool) -> CmdResult {
    let cond = parse_conditions(&ctx.args[3..])?;
    let raw = parse_i64(&ctx.args[2])?;
    let invalid = || {
        format!(
            "ERR invalid expire time in '{}' command",
            ctx.srv.commands.entries[ctx.cmd].full_name
        )
    };
    let scaled = if seconds {
        raw.checked_mul(1000)
    } else {
        Some(raw)
    };
    let Some(when) = scaled.and_then(|w| w.checked_add(base)) else {
        return Err(invalid().into());
    };
    let db = ctx.db();
    let now = ctx.now_ms;
    let key = &ctx.args[1][..];
    let ks = &mut ctx.srv.keyspace;
    let Some(e) = ks.lookup_write(db, key, now) else {
        ctx.int(0);
        return Ok(());
    };
    if !cond.allow(e.expire_at, when) {
        ctx.int(0);
        return Ok(());
    }
    let deleted = when <= now && ks.expire_keys;
    if deleted {
        ks.delete(db, key, now);
    } else {
        ks.dbs[db].set_expire(key, when);
    }
    ks.dirty += 1;
    ctx.notify(class::GENERIC, if deleted { "del" } else { "expire" }, key);
    if ctx.replicating() {
        // Redis 7.0: `DEL key` for a time in the past, else the absolute
        // `PEXPIREAT key ms` with the NX/XX/GT/LT options kept.
        let v = if deleted {
            super::argv(&[b"DEL", key])
        } else {
            let mut v = super::argv(&[b"PEXPIREAT", key]);
            v.push(super::num_arg(when));
            v.extend(ctx.args[3..].iter().cloned());
            v
        };
        ctx.propagate_as(v);
    }
    ctx.int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, ctx.now_ms, true)
}

fn pexpire(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, ctx.now_ms, false)
}

fn expireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, true)
}

fn pexpireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, false)
}

/// TTL and friends: -2 for a missing key, -1 without expiry, otherwise the
/// remaining (or absolute) time, never negative; seconds are rounded.
fn ttl_generic(ctx: &mut Ctx, ms: bool, absolute: bool) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let at = match ctx.srv.keyspace.lookup_read(db, &ctx.args[1], now, true) {
        None => {
            ctx.int(-2);
            return Ok(());
        }
        Some(e) => e.expire_at,
    };
    if at == NO_EXPIRE {
        ctx.int(-1);
        return Ok(());
    }
    let t = if absolute { at } else { at.saturating_sub(now) }.max(0);
    // Rounded in 128 bits: Redis's sum wraps to the same result as unsigned.
    let v = if ms {
        t
    } else {
        ((i128::from(t) + 500) / 1000) as i64
    };
    ctx.int(v);
    Ok(())
}

fn ttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, false)
}

fn pttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, false)
}

fn expiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, true)
}

fn pexpiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, true)
}

fn persist(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let key = &ctx.args[1][..];
    let ks = &mut ctx.srv.keyspace;
    let changed = match ks.lookup_write(db, key, now) {
        Some(e) if e.expire_at != NO_EXPIRE => ks.dbs[db].set_expire(key, NO_EXPIRE),
        _ => false,
    };
    if changed {
        ks.dirty += 1;
        ctx.notify(class::GENERIC, "persist", key);
    }
    ctx.int(changed as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<bytes::Bytes> {
        words
            .iter()
            .map(|w| bytes::Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn incompatible_conditions_are_rejected_with_redis_texts() {
        let e = parse_conditions(&args(&["nx", "gt"])).unwrap_err();
        assert_eq!(
            e,
            "ERR NX and XX, GT or LT options at the same time are not compatible"
        );
        let e = parse_conditions(&args(&["XX", "gt", "LT"])).unwrap_err();
        assert_eq!(
            e,
            "ERR GT and LT options at the same time are not compatible"
        );
        let e = parse_conditions(&args(&["nx", "bogus"])).unwrap_err();
        assert_eq!(e, "ERR Unsupported option bogus");
        assert_eq!(
            parse_conditions(&args(&["nx", "NX"])),
            Ok(Conditions {
                nx: true,
                ..Default::default()
            })
        );
    }

    #[test]
    fn gt_and_lt_treat_no_expiry_as_infinite() {
        let gt = Conditions {
            gt: true,
            ..Default::default()
        };
        let lt = Conditions {
            lt: true,
            ..Default::default()
        };
        assert!(!gt.allow(NO_EXPIRE, 100));
        assert!(lt.allow(NO_EXPIRE, 100));
        assert!(gt.allow(50, 100));
        assert!(!gt.allow(100, 100));
        assert!(lt.allow(150, 100));
        assert!(!lt.allow(100, 100));
    }
}
