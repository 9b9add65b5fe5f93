//! CLIENT and its subcommands: ID SETNAME GETNAME LIST INFO KILL SETINFO
//! REPLY NO-EVICT NO-TOUCH CAPA HELP.

use std::time::Instant;

use bytes::Bytes;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::spec::{CommandSpec, NO_KEYS};
use crate::client::{Client, ClientKind, ReplyMode};
use crate::errors;
use crate::server::{Server, UnblockReply};

const CONN: &str = "@slow @connection";
const ADMIN_CONN: &str = "@admin @slow @dangerous @connection";

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("client", -2, "", "@slow", NO_KEYS, help)
    .doc(
        "connection",
        "2.4.0",
        "A container for client connection commands.",
        "Depends on subcommand.",
    )
    .subs(&[
        CommandSpec::new("id", 2, "noscript loading stale", CONN, NO_KEYS, id).doc(
            "connection",
            "5.0.0",
            "Returns the unique client ID of the connection.",
            "O(1)",
        ),
        CommandSpec::new(
            "setname",
            3,
            "noscript loading stale",
            CONN,
            NO_KEYS,
            setname,
        )
        .doc("connection", "2.6.9", "Sets the connection name.", "O(1)"),
        CommandSpec::new(
            "getname",
            2,
            "noscript loading stale",
            CONN,
            NO_KEYS,
            getname,
        )
        .doc(
            "connection",
            "2.6.9",
            "Returns the name of the connection.",
            "O(1)",
        ),
        CommandSpec::new(
            "list",
            -2,
            "admin noscript loading stale",
            ADMIN_CONN,
            NO_KEYS,
            list,
        )
        .doc(
            "connection",
            "2.4.0",
            "Lists open connections.",
            "O(N) where N is the number of client connections",
        )
        .tips("nondeterministic_output"),
        CommandSpec::new("info", 2, "noscript loading stale", CONN, NO_KEYS, info)
            .doc(
                "connection",
                "6.2.0",
                "Returns information about the connection.",
                "O(1)",
            )
            .tips("nondeterministic_output"),
        CommandSpec::new(
            "kill",
            -3,
            "admin noscript loading stale",
            ADMIN_CONN,
            NO_KEYS,
            kill,
        )
        .doc(
            "connection",
            "2.4.0",
            "Terminates open connections.",
            "O(N) where N is the number of client connections",
        ),
        CommandSpec::new(
            "setinfo",
            4,
            "noscript loading stale",
            CONN,
            NO_KEYS,
            setinfo,
        )
        .doc(
            "connection",
            "7.2.0",
            "Sets information specific to the client or connection.",
            "O(1)",
        )
        .tips("request_policy:all_nodes response_policy:all_succeeded"),
        CommandSpec::new("reply", 3, "noscript loading stale", CONN, NO_KEYS, reply).doc(
            "connection",
            "3.2.0",
            "Instructs the server whether to reply to commands.",
            "O(1)",
        ),
        CommandSpec::new(
            "no-evict",
            3,
            "admin noscript loading stale",
            ADMIN_CONN,
            NO_KEYS,
            no_evict,
        )
        .doc(
            "connection",
            "7.0.0",
            "Sets the client eviction mode of the connection.",
            "O(1)",
        ),
        CommandSpec::new(
            "no-touch",
            3,
            "noscript loading stale",
            CONN,
            NO_KEYS,
            no_touch,
        )
        .doc(
            "connection",
            "7.2.0",
            "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
            "O(1)",
        ),
        CommandSpec::new("capa", -3, "noscript loading stale", CONN, NO_KEYS, capa).doc(
            "connection",
            "8.0.0",
            "Declares the client's capabilities (e.g. redirect).",
            "O(1)",
        ),
        CommandSpec::new(
            "unblock",
            -3,
            "admin noscript loading stale",
            ADMIN_CONN,
            NO_KEYS,
            unblock,
        )
        .doc(
            "connection",
            "5.0.0",
            "Unblocks a client blocked by a blocking command from a different connection.",
            "O(log N) where N is the number of client connections",
        ),
        CommandSpec::new(
            "maint_notifications",
            -3,
            "noscript loading stale",
            CONN,
            NO_KEYS,
            maint_notifications,
        )
        .doc(
            "connection",
            "8.0.2",
            "Turns maintenance notifications (MOVING, FAILING_OVER, FAILED_OVER pushes) on or off.",
            "O(1)",
        ),
        CommandSpec::new(
            "pause",
            -3,
            "admin noscript loading stale",
            ADMIN_CONN,
            NO_KEYS,
            pause,
        )
        .doc(
            "connection",
            "3.0.0",
            "Suspends commands processing.",
            "O(1)",
        ),
        CommandSpec::new(
            "unpause",
            2,
            "admin noscript loading stale",
            ADMIN_CONN,
            NO_KEYS,
            unpause,
        )
        .doc(
            "connection",
            "6.2.0",
            "Resumes processing of clients that were paused.",
            "O(N) Where N is the number of paused clients",
        ),
        CommandSpec::new("help", 2, "loading stale", CONN, NO_KEYS, help).doc(
            "connection",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    ])];

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAPA <option> [options...]",
    "    The client claims its some capability options. Options are:",
    "    * REDIRECT",
    "      The client can handle redirection during primary and replica failover in standalone mode.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "MAINT_NOTIFICATIONS (ON [moving-endpoint-type <type>]|OFF)",
    "    Receive MOVING / FAILING_OVER / FAILED_OVER pushes around a switchover (RESP3).",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "HELP",
    "    Print this help.",
];

/// Writes a HELP reply: an array of status lines.
pub fn help_reply(ctx: &mut Ctx, lines: &[&str]) {
    ctx.array(lines.len());
    for l in lines {
        ctx.simple(l.as_bytes());
    }
}

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, HELP);
    Ok(())
}

fn id(ctx: &mut Ctx) -> CmdResult {
    ctx.int(ctx.client.id as i64);
    Ok(())
}

/// Client names are printable ASCII without spaces (they appear in CLIENT LIST).
pub fn validate_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(
            "ERR Client names cannot contain spaces, newlines or special characters.".into(),
        );
    }
    Ok(())
}

fn setname(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[2].clone();
    validate_name(&name)?;
    ctx.client.name = (!name.is_empty()).then_some(name);
    ctx.ok();
    Ok(())
}

fn getname(ctx: &mut Ctx) -> CmdResult {
    match ctx.client.name.clone() {
        Some(n) => ctx.bulk(&n),
        None => ctx.null(),
    }
    Ok(())
}

/// handoff's own field: the maintenance-notification endpoint type, and
/// whether the connection was told to move.
fn maint_field(c: &Client) -> String {
    match &c.maint {
        None => String::new(),
        Some(m) if m.moved_at.is_some() => format!(" maint={} moved=1", m.endpoint.name()),
        Some(m) => format!(" maint={}", m.endpoint.name()),
    }
}

/// One CLIENT LIST / CLIENT INFO line (without the trailing newline), with
/// Redis 7.2's fields.
pub fn describe(srv: &Server, c: &Client, now: Instant) -> String {
    let cmd = c
        .last_cmd
        .map(|id| srv.commands.entries[id].full_name.as_str())
        .unwrap_or("NULL");
    let events = if c.want_writable { "rw" } else { "r" };
    let s = |b: &Option<Bytes>| {
        b.as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
            .into_owned()
    };
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={}{} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} events={} cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}{}",
        c.id,
        c.addr,
        c.laddr,
        c.stream.raw_fd(),
        s(&c.name),
        now.saturating_duration_since(c.created).as_secs(),
        now.saturating_duration_since(c.last_interaction).as_secs(),
        c.flag_letters(),
        // Valkey 8.1 shows the redirect capability here.
        if c.capa_redirect { " capa=r" } else { "" },
        c.db,
        c.read_buf.len(),
        c.read_buf.capacity().saturating_sub(c.read_buf.len()),
        c.args.iter().map(|a| a.len()).sum::<usize>(),
        c.read_buf.capacity(),
        c.qbuf_peak,
        c.out.len(),
        c.out.capacity(),
        c.read_buf.capacity() + c.out.capacity() + std::mem::size_of::<Client>(),
        events,
        cmd,
        c.resp,
        s(&c.lib_name),
        s(&c.lib_ver),
        maint_field(c),
    )
}

fn kind_matches(kind: ClientKind, word: &[u8]) -> Option<bool> {
    let want = if is(word, "normal") {
        ClientKind::Normal
    } else if is(word, "master") {
        ClientKind::PrimaryLink
    } else if is(word, "replica") || is(word, "slave") {
        ClientKind::Replica
    } else if is(word, "pubsub") {
        ClientKind::Pubsub
    } else {
        return None;
    };
    Some(kind == want)
}

fn list(ctx: &mut Ctx) -> CmdResult {
    let mut type_filter: Option<Bytes> = None;
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < ctx.args.len() {
        if is(&ctx.args[i], "type") && i + 1 < ctx.args.len() {
            let t = ctx.args[i + 1].clone();
            if kind_matches(ClientKind::Normal, &t).is_none() {
                return Err(
                    format!("ERR Unknown client type '{}'", errors::truncated(&t, 128)).into(),
                );
            }
            type_filter = Some(t);
            i += 2;
        } else if is(&ctx.args[i], "id") && i + 1 < ctx.args.len() {
            let mut v = Vec::new();
            for a in &ctx.args[i + 1..] {
                match parse_i64(a) {
                    Ok(n) if n > 0 => v.push(n as u64),
                    _ => return Err("ERR Invalid client ID".into()),
                }
            }
            ids = Some(v);
            i = ctx.args.len();
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let now = Instant::now();
    let keep = |c: &Client| {
        type_filter
            .as_ref()
            .is_none_or(|t| kind_matches(c.kind, t) == Some(true))
            && ids.as_ref().is_none_or(|v| v.contains(&c.id))
    };
    let mut lines: Vec<(u64, String)> = ctx
        .srv
        .clients
        .iter()
        .filter(|c| keep(c))
        .map(|c| (c.id, describe(ctx.srv, c, now)))
        .collect();
    if keep(ctx.client) {
        lines.push((ctx.client.id, describe(ctx.srv, ctx.client, now)));
    }
    lines.sort_by_key(|(id, _)| *id);
    let mut text = String::new();
    for (_, l) in lines {
        text.push_str(&l);
        text.push('\n');
    }
    ctx.verbatim(text.as_bytes());
    Ok(())
}

fn info(ctx: &mut Ctx) -> CmdResult {
    let mut line = describe(ctx.srv, ctx.client, Instant::now());
    line.push('\n');
    ctx.verbatim(line.as_bytes());
    Ok(())
}

/// The filters of CLIENT KILL's new form.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    kind: Option<Bytes>,
    user: Option<Bytes>,
    maxage: Option<u64>,
    skipme: bool,
}

impl KillFilter {
    fn matches(&self, c: &Client, now: Instant) -> bool {
        self.id.is_none_or(|id| c.id == id)
            && self
                .addr
                .as_ref()
                .is_none_or(|a| a[..] == *c.addr.as_bytes())
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| a[..] == *c.laddr.as_bytes())
            && self
                .kind
                .as_ref()
                .is_none_or(|t| kind_matches(c.kind, t) == Some(true))
            && self.user.as_ref().is_none_or(|u| &u[..] == b"default")
            && self
                .maxage
                .is_none_or(|m| now.saturating_duration_since(c.created).as_secs() >= m)
    }
}

fn parse_kill_filter(args: &[Bytes]) -> Result<KillFilter, CmdError> {
    let mut f = KillFilter {
        skipme: true,
        ..Default::default()
    };
    let mut i = 2;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(errors::SYNTAX.into());
        }
        let (opt, val) = (&args[i], &args[i + 1]);
        if is(opt, "id") {
            match parse_i64(val) {
                Ok(n) if n > 0 => f.id = Some(n as u64),
                _ => return Err("ERR client-id should be greater than 0".into()),
            }
        } else if is(opt, "type") {
            if kind_matches(ClientKind::Normal, val).is_none() {
                return Err(
                    format!("ERR Unknown client type '{}'", errors::truncated(val, 128)).into(),
                );
            }
            f.kind = Some(val.clone());
        } else if is(opt, "addr") {
            f.addr = Some(val.clone());
        } else if is(opt, "laddr") {
            f.laddr = Some(val.clone());
        } else if is(opt, "user") {
            if &val[..] != b"default" {
                return Err(format!("ERR No such user '{}'", errors::truncated(val, 128)).into());
            }
            f.user = Some(val.clone());
        } else if is(opt, "skipme") {
            f.skipme = if is(val, "yes") {
                true
            } else if is(val, "no") {
                false
            } else {
                return Err(errors::SYNTAX.into());
            };
        } else if is(opt, "maxage") {
            f.maxage = Some(
                parse_i64(val)
                    .map_err(|_| CmdError::from(errors::SYNTAX))?
                    .max(0) as u64,
            );
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 2;
    }
    Ok(f)
}

fn kill(ctx: &mut Ctx) -> CmdResult {
    let now = Instant::now();
    if ctx.args.len() == 3 {
        // Old form: CLIENT KILL addr:port, error if nobody matches.
        let addr = ctx.args[2].clone();
        if ctx.client.addr.as_bytes() == &addr[..] {
            ctx.ok();
            ctx.client.close_after_reply = true;
            return Ok(());
        }
        let found = ctx
            .srv
            .clients
            .iter_mut()
            .find(|c| c.addr.as_bytes() == &addr[..]);
        match found {
            Some(c) => {
                c.close_asap = true;
                let slot = c.slot;
                ctx.srv.clients_to_close.push(slot);
                ctx.ok();
                return Ok(());
            }
            None => return Err(errors::CLIENT_NO_SUCH.into()),
        }
    }
    let f = parse_kill_filter(ctx.args)?;
    let mut killed = 0;
    for c in ctx.srv.clients.iter_mut() {
        if f.matches(c, now) {
            c.close_asap = true;
            ctx.srv.clients_to_close.push(c.slot);
            killed += 1;
        }
    }
    if !f.skipme && f.matches(ctx.client, now) {
        ctx.client.close_after_reply = true;
        killed += 1;
    }
    ctx.int(killed);
    Ok(())
}

fn setinfo(ctx: &mut Ctx) -> CmdResult {
    let (attr, val) = (ctx.args[2].clone(), ctx.args[3].clone());
    let lib_name = is(&attr, "lib-name");
    if !lib_name && !is(&attr, "lib-ver") {
        return Err(format!(
            "ERR Unrecognized option '{}'",
            errors::truncated(&attr, 128)
        )
        .into());
    }
    if val.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        let which = if lib_name { "lib-name" } else { "lib-ver" };
        return Err(
            format!("ERR {which} cannot contain spaces, newlines or special characters.").into(),
        );
    }
    let v = (!val.is_empty()).then_some(val);
    if lib_name {
        ctx.client.lib_name = v;
    } else {
        ctx.client.lib_ver = v;
    }
    ctx.ok();
    Ok(())
}

fn reply(ctx: &mut Ctx) -> CmdResult {
    let mode = ctx.args[2].clone();
    if is(&mode, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.ok();
    } else if is(&mode, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if is(&mode, "skip") {
        if ctx.client.reply_mode == ReplyMode::On {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(errors::SYNTAX.into());
    }
    Ok(())
}

fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "on") {
        Ok(true)
    } else if is(arg, "off") {
        Ok(false)
    } else {
        Err(errors::SYNTAX.into())
    }
}

fn no_evict(ctx: &mut Ctx) -> CmdResult {
    ctx.client.no_evict = on_off(&ctx.args[2])?;
    ctx.ok();
    Ok(())
}

fn no_touch(ctx: &mut Ctx) -> CmdResult {
    ctx.client.no_touch = on_off(&ctx.args[2])?;
    ctx.ok();
    Ok(())
}

/// CLIENT CAPA: unknown capabilities are accepted and ignored, as Valkey does.
fn capa(ctx: &mut Ctx) -> CmdResult {
    for a in &ctx.args[2..] {
        if is(a, "redirect") {
            ctx.client.capa_redirect = true;
        }
    }
    ctx.ok();
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: releases a client blocked on keys.
/// CLIENT MAINT_NOTIFICATIONS ON [moving-endpoint-type <type>] | OFF.
/// RESP3 only (the notifications are pushes). On a node FAILOVER demoted,
/// the client is told at once where the primary went.
fn maint_notifications(ctx: &mut Ctx) -> CmdResult {
    use crate::maint::{EndpointType, MaintClient};
    if !ctx.srv.config.maint_notifications {
        return Err(errors::unknown_subcommand(&ctx.args[1], "client").into());
    }
    let on = match ctx.args.get(2) {
        Some(a) if is(a, "on") => true,
        Some(a) if is(a, "off") => false,
        _ => return Err(errors::SYNTAX.into()),
    };
    if !on {
        if ctx.args.len() != 3 {
            return Err(errors::SYNTAX.into());
        }
        ctx.client.maint = None;
        ctx.ok();
        return Ok(());
    }
    let endpoint = match &ctx.args[3..] {
        [] => EndpointType::InternalIp,
        [k, v] if is(k, "moving-endpoint-type") => EndpointType::parse(v).ok_or_else(|| {
            super::CmdError::from(format!(
                "ERR Invalid moving-endpoint-type '{}'",
                String::from_utf8_lossy(v)
            ))
        })?,
        _ => return Err(errors::SYNTAX.into()),
    };
    if ctx.client.resp < 3 {
        return Err("ERR CLIENT MAINT_NOTIFICATIONS requires RESP3 (HELLO 3)".into());
    }
    ctx.client.maint = Some(MaintClient {
        endpoint,
        moved_at: None,
        failing_over: false,
    });
    ctx.ok();
    crate::maint::moving_on_handshake(ctx.srv, ctx.client);
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]: held commands wait, never fail. Inside
/// MULTI or a script the pause starts after it (only dispatch holds).
fn pause(ctx: &mut Ctx) -> CmdResult {
    use crate::pause::{Actions, Purpose};
    if ctx.args.len() > 4 {
        let text = format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&ctx.args[1])
        );
        return Err(text.into());
    }
    let actions = match ctx.args.get(3) {
        None => Actions::All,
        Some(a) if is(a, "write") => Actions::Write,
        Some(a) if is(a, "all") => Actions::All,
        Some(_) => return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()),
    };
    let ms = parse_i64(&ctx.args[2])
        .map_err(|_| super::CmdError::from("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(errors::TIMEOUT_NEGATIVE.into());
    }
    // Redis 7 accepts any length; a century is as good as forever.
    const CENTURY: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);
    let now = std::time::Instant::now();
    let end = now + std::time::Duration::from_millis(ms as u64).min(CENTURY);
    ctx.srv.pause(Purpose::ClientPause, actions, Some(end));
    ctx.ok();
    Ok(())
}

/// CLIENT UNPAUSE: ends CLIENT PAUSE (not a FAILOVER's pause).
fn unpause(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.unpause(crate::pause::Purpose::ClientPause);
    ctx.ok();
    Ok(())
}

fn unblock(ctx: &mut Ctx) -> CmdResult {
    let id = parse_i64(&ctx.args[2])?;
    let reply = match ctx.args.get(3) {
        None => UnblockReply::Timeout,
        Some(a) if is(a, "timeout") => UnblockReply::Timeout,
        Some(a) if is(a, "error") => {
            UnblockReply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        }
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    if ctx.args.len() > 4 {
        return Err(errors::SYNTAX.into());
    }
    let slot = ctx
        .srv
        .clients
        .iter()
        .find(|c| {
            c.id as i64 == id
                && c.blocked
                    .as_ref()
                    .is_some_and(|b| b.on_timeout != crate::blocking::TimeoutReply::Shutdown)
        })
        .map(|c| c.slot);
    let Some(slot) = slot else {
        ctx.int(0);
        return Ok(());
    };
    if let Some(mut c) = ctx.srv.clients.take(slot) {
        ctx.srv.unblock(&mut c, Some(reply));
        ctx.srv.clients.put_back(c);
        ctx.srv.schedule_write(slot);
    }
    ctx.int(1);
    Ok(())
}
