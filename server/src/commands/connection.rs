//! Connection commands: PING ECHO QUIT RESET HELLO AUTH SELECT, and
//! READONLY / READWRITE (reads served on a replica for a redirect-capable
//! client, as Valkey allows in standalone mode).

use super::ctx::{is, CmdResult, Ctx};
use super::spec::{CommandSpec, NO_KEYS};
use crate::client::ReplyMode;
use crate::config::REDIS_VERSION;
use crate::errors;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "readonly",
        1,
        "loading stale fast",
        "@fast @connection",
        NO_KEYS,
        readonly,
    )
    .doc(
        "cluster",
        "3.0.0",
        "Enables read-only queries for a connection to a replica.",
        "O(1)",
    ),
    CommandSpec::new(
        "readwrite",
        1,
        "loading stale fast",
        "@fast @connection",
        NO_KEYS,
        readwrite,
    )
    .doc(
        "cluster",
        "3.0.0",
        "Enables read-write queries for a connection to a replica.",
        "O(1)",
    ),
    CommandSpec::new("ping", -1, "fast", "@fast @connection", NO_KEYS, ping)
        .doc(
            "connection",
            "1.0.0",
            "Returns the server's liveliness response.",
            "O(1)",
        )
        .tips("request_policy:all_shards response_policy:all_succeeded"),
    CommandSpec::new(
        "echo",
        2,
        "loading stale fast",
        "@fast @connection",
        NO_KEYS,
        echo,
    )
    .doc("connection", "1.0.0", "Returns the given string.", "O(1)"),
    CommandSpec::new(
        "quit",
        -1,
        "noscript loading stale fast no_auth allow_busy",
        "@fast @connection",
        NO_KEYS,
        quit,
    )
    .doc("connection", "1.0.0", "Closes the connection.", "O(1)"),
    CommandSpec::new(
        "reset",
        1,
        "noscript loading stale fast no_auth allow_busy",
        "@fast @connection",
        NO_KEYS,
        reset,
    )
    .doc("connection", "6.2.0", "Resets the connection.", "O(1)"),
    CommandSpec::new(
        "hello",
        -1,
        "noscript loading stale fast no_auth allow_busy",
        "@fast @connection",
        NO_KEYS,
        hello,
    )
    .doc(
        "connection",
        "6.0.0",
        "Handshakes with the Redis server.",
        "O(1)",
    ),
    CommandSpec::new(
        "auth",
        -2,
        "noscript loading stale fast no_auth allow_busy",
        "@fast @connection",
        NO_KEYS,
        auth,
    )
    .doc(
        "connection",
        "1.0.0",
        "Authenticates the connection.",
        "O(N) where N is the number of passwords defined for the user",
    ),
    CommandSpec::new(
        "select",
        2,
        "loading stale fast",
        "@fast @connection",
        NO_KEYS,
        select,
    )
    .doc(
        "connection",
        "1.0.0",
        "Changes the selected database.",
        "O(1)",
    ),
];

fn ping(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() <= 2 && !ctx.resp3() && ctx.client.in_pubsub() {
        // Subscribed RESP2 clients get a message-shaped reply.
        let msg = ctx.args.get(1).cloned().unwrap_or_default();
        ctx.array(2);
        ctx.bulk(b"pong");
        ctx.bulk(&msg);
        return Ok(());
    }
    match ctx.args.len() {
        1 => ctx.simple(b"PONG"),
        2 => {
            let msg = ctx.args[1].clone();
            ctx.bulk(&msg);
        }
        _ => return Err(errors::wrong_arity("ping").into()),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx) -> CmdResult {
    let msg = ctx.args[1].clone();
    ctx.bulk(&msg);
    Ok(())
}

fn quit(ctx: &mut Ctx) -> CmdResult {
    ctx.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

fn readonly(ctx: &mut Ctx) -> CmdResult {
    ctx.client.readonly_mode = true;
    ctx.ok();
    Ok(())
}

fn readwrite(ctx: &mut Ctx) -> CmdResult {
    ctx.client.readonly_mode = false;
    ctx.ok();
    Ok(())
}

fn reset(ctx: &mut Ctx) -> CmdResult {
    ctx.client.multi = None;
    ctx.srv.unwatch_all(ctx.client);
    crate::pubsub::forget_client(ctx.srv, ctx.client);
    if ctx.client.kind == crate::client::ClientKind::Pubsub {
        ctx.client.kind = crate::client::ClientKind::Normal;
    }
    let c = &mut *ctx.client;
    c.db = 0;
    c.resp = 2;
    c.reply_mode = ReplyMode::On;
    c.no_evict = false;
    c.no_touch = false;
    // The redirect capability survives RESET; READONLY does not.
    c.readonly_mode = false;
    c.maint = None;
    c.authenticated = ctx.srv.config.requirepass.is_empty();
    ctx.simple(b"RESET");
    Ok(())
}

/// Checks a (user, password) pair against the default user.
fn password_ok(ctx: &Ctx, user: &[u8], pass: &[u8]) -> bool {
    let required = ctx.srv.config.requirepass.as_bytes();
    user == b"default" && (required.is_empty() || pass == required)
}

fn hello(ctx: &mut Ctx) -> CmdResult {
    let mut proto = ctx.client.resp;
    let mut i = 1;
    if ctx.args.len() >= 2 {
        let v = super::ctx::parse_i64(&ctx.args[1]).map_err(|_| {
            super::CmdError::from("ERR Protocol version is not an integer or out of range")
        })?;
        if !(2..=3).contains(&v) {
            return Err(errors::NOPROTO.into());
        }
        proto = v as u8;
        i = 2;
    }
    let mut auth: Option<(usize, usize)> = None;
    let mut setname: Option<usize> = None;
    while i < ctx.args.len() {
        let more = ctx.args.len() - i - 1;
        if is(&ctx.args[i], "auth") && more >= 2 {
            auth = Some((i + 1, i + 2));
            i += 3;
        } else if is(&ctx.args[i], "setname") && more >= 1 {
            setname = Some(i + 1);
            i += 2;
        } else {
            return Err(format!(
                "ERR Syntax error in HELLO option '{}'",
                errors::truncated(&ctx.args[i], 128)
            )
            .into());
        }
    }
    if let Some((u, p)) = auth {
        if !password_ok(ctx, &ctx.args[u], &ctx.args[p]) {
            return Err(errors::WRONGPASS.into());
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into());
    }
    if let Some(n) = setname {
        let name = ctx.args[n].clone();
        super::client_cmd::validate_name(&name)?;
        ctx.client.name = (!name.is_empty()).then_some(name);
    }
    ctx.client.resp = proto;
    if proto < 3 {
        // Pushes need RESP3.
        ctx.client.maint = None;
    }
    ctx.map(7);
    ctx.bulk(b"server");
    ctx.bulk(b"redis");
    ctx.bulk(b"version");
    ctx.bulk(REDIS_VERSION.as_bytes());
    ctx.bulk(b"proto");
    ctx.int(proto as i64);
    ctx.bulk(b"id");
    ctx.int(ctx.client.id as i64);
    ctx.bulk(b"mode");
    ctx.bulk(b"standalone");
    ctx.bulk(b"role");
    ctx.bulk(b"master");
    ctx.bulk(b"modules");
    ctx.array(0);
    Ok(())
}

fn auth(ctx: &mut Ctx) -> CmdResult {
    let (user, pass) = match ctx.args.len() {
        2 => (&b"default"[..], ctx.args[1].clone()),
        3 => (&ctx.args[1][..], ctx.args[2].clone()),
        _ => return Err(errors::SYNTAX.into()),
    };
    if ctx.args.len() == 2 && ctx.srv.config.requirepass.is_empty() {
        return Err(errors::AUTH_NO_PASSWORD.into());
    }
    if !password_ok(ctx, user, &pass) {
        return Err(errors::WRONGPASS.into());
    }
    ctx.client.authenticated = true;
    ctx.ok();
    Ok(())
}

fn select(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.arg_i64(1)?;
    if db < 0 || db as usize >= ctx.srv.keyspace.dbs.len() {
        return Err(errors::DB_INDEX_OUT_OF_RANGE.into());
    }
    ctx.client.db = db as usize;
    ctx.ok();
    Ok(())
}
