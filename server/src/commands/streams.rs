//! Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD XGROUP
//! XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO XSETID.
//!
//! Argument parsing, the order in which errors are detected, error texts and
//! reply shapes (RESP2 arrays, RESP3 maps) follow Redis 7.2. The stream
//! representation and the read/consume logic live in `types/stream*.rs`;
//! this module parses, looks keys up and formats replies.
//!
//! BLOCK uses the blocking framework (`Ctx::block`): when nothing can be
//! served the client waits on the stream keys and the command is re-run when
//! one changes; XREAD's `$` is pinned to the stream's last ID at that moment.
//!
//! Effects for replication (noted per handler as "Effect:") are not
//! propagated yet; XREADGROUP/XCLAIM/XAUTOCLAIM would propagate as XCLAIM
//! ... FORCE JUSTID / XGROUP SETID, as Redis does.

use bytes::{Bytes, BytesMut};
use handoff_protocol::encode;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec, NO_KEYS};
use crate::errors;
use crate::keyspace::Value;
use crate::pubsub::class;
use crate::types::stream::{NodeLimits, Served, Stream, StreamId, Trim};
use crate::types::stream_group::{ClaimOpts, Nack};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xadd", -5, "write denyoom fast", "@write @stream @fast", keys(1, 1, 1), xadd_notified)
        .doc("stream", "5.0.0", "Appends a new message to a stream. Creates the key if it doesn't exist.", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.")
        .tips("nondeterministic_output"),
    CommandSpec::new("xlen", 2, "readonly fast", "@read @stream @fast", keys(1, 1, 1), xlen)
        .doc("stream", "5.0.0", "Return the number of messages in a stream.", "O(1)"),
    CommandSpec::new("xrange", -4, "readonly", "@read @stream @slow", keys(1, 1, 1), xrange)
        .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs.", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    CommandSpec::new("xrevrange", -4, "readonly", "@read @stream @slow", keys(1, 1, 1), xrevrange)
        .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs in reverse order.", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    CommandSpec::new("xdel", -3, "write fast", "@write @stream @fast", keys(1, 1, 1), xdel_notified)
        .doc("stream", "5.0.0", "Returns the number of messages after removing them from a stream.", "O(1) for each single item to delete in the stream, regardless of the stream size."),
    CommandSpec::new("xtrim", -4, "write", "@write @stream @slow", keys(1, 1, 1), xtrim_notified)
        .doc("stream", "5.0.0", "Deletes messages from the beginning of a stream.", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.")
        .tips("nondeterministic_output"),
    CommandSpec::new("xread", -4, "readonly blocking movablekeys", "@read @stream @slow @blocking", keys(0, 0, 0), xread)
        .doc("stream", "5.0.0", "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data."),
    CommandSpec::new("xgroup", -2, "", "@slow", NO_KEYS, xgroup_help)
        .doc("stream", "5.0.0", "A container for consumer groups commands.", "Depends on subcommand.")
        .subs(&[
            CommandSpec::new("create", -5, "write denyoom", "@write @stream @slow", keys(2, 2, 1), xgroup_notified)
                .doc("stream", "5.0.0", "Creates a consumer group.", "O(1)"),
            CommandSpec::new("createconsumer", 5, "write denyoom", "@write @stream @slow", keys(2, 2, 1), xgroup_notified)
                .doc("stream", "6.2.0", "Creates a consumer in a consumer group.", "O(1)"),
            CommandSpec::new("delconsumer", 5, "write", "@write @stream @slow", keys(2, 2, 1), xgroup_notified)
                .doc("stream", "5.0.0", "Deletes a consumer from a consumer group.", "O(1)"),
            CommandSpec::new("destroy", 4, "write", "@write @stream @slow", keys(2, 2, 1), xgroup_notified)
                .doc("stream", "5.0.0", "Destroys a consumer group.", "O(N) where N is the number of entries in the group's pending entries list (PEL)."),
            CommandSpec::new("setid", -5, "write", "@write @stream @slow", keys(2, 2, 1), xgroup_notified)
                .doc("stream", "5.0.0", "Sets the last-delivered ID of a consumer group.", "O(1)"),
            CommandSpec::new("help", 2, "loading stale", "@stream @slow", NO_KEYS, xgroup_help)
                .doc("stream", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
        ]),
    CommandSpec::new("xreadgroup", -7, "write blocking movablekeys", "@write @stream @slow @blocking", keys(0, 0, 0), xreadgroup)
        .doc("stream", "5.0.0", "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data."),
    CommandSpec::new("xack", -4, "write fast", "@write @stream @fast", keys(1, 1, 1), xack)
        .doc("stream", "5.0.0", "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", "O(1) for each message ID processed."),
    CommandSpec::new("xpending", -3, "readonly", "@read @stream @slow", keys(1, 1, 1), xpending)
        .doc("stream", "5.0.0", "Returns the information and entries from a stream consumer group's pending entries list.", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.")
        .tips("nondeterministic_output"),
    CommandSpec::new("xclaim", -6, "write fast", "@write @stream @fast", keys(1, 1, 1), xclaim)
        .doc("stream", "5.0.0", "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", "O(log N) with N being the number of messages in the PEL of the consumer group.")
        .tips("nondeterministic_output"),
    CommandSpec::new("xautoclaim", -6, "write fast", "@write @stream @fast", keys(1, 1, 1), xautoclaim)
        .doc("stream", "6.2.0", "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", "O(1) if COUNT is small.")
        .tips("nondeterministic_output"),
    CommandSpec::new("xinfo", -2, "", "@slow", NO_KEYS, xinfo_help)
        .doc("stream", "5.0.0", "A container for stream introspection commands.", "Depends on subcommand.")
        .subs(&[
            CommandSpec::new("consumers", 4, "readonly", "@read @stream @slow", keys(2, 2, 1), xinfo)
                .doc("stream", "5.0.0", "Returns a list of the consumers in a consumer group.", "O(1)")
                .tips("nondeterministic_output"),
            CommandSpec::new("groups", 3, "readonly", "@read @stream @slow", keys(2, 2, 1), xinfo)
                .doc("stream", "5.0.0", "Returns a list of the consumer groups of a stream.", "O(1)"),
            CommandSpec::new("stream", -3, "readonly", "@read @stream @slow", keys(2, 2, 1), xinfo)
                .doc("stream", "5.0.0", "Returns information about a stream.", "O(1)"),
            CommandSpec::new("help", 2, "loading stale", "@stream @slow", NO_KEYS, xinfo_help)
                .doc("stream", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
        ]),
    CommandSpec::new("xsetid", -3, "write denyoom fast", "@write @stream @fast", keys(1, 1, 1), xsetid_notified)
        .doc("stream", "5.0.0", "An internal command for replicating stream values.", "O(1)"),
];

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const ID_TOO_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
const INVALID_START: &str = "ERR invalid start ID for the interval";
const INVALID_END: &str = "ERR invalid end ID for the interval";
const NEEDS_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

// ---------------------------------------------------------------------------
// Helpers.

/// Reply writer over the client's output buffer, usable while the keyspace
/// is borrowed.
struct W<'a> {
    out: &'a mut BytesMut,
    resp3: bool,
}

impl W<'_> {
    fn array(&mut self, n: usize) {
        encode::array_header(self.out, n);
    }
    fn map(&mut self, n: usize) {
        if self.resp3 {
            encode::map_header(self.out, n);
        } else {
            encode::array_header(self.out, n * 2);
        }
    }
    fn bulk(&mut self, b: &[u8]) {
        encode::bulk(self.out, b);
    }
    fn int(&mut self, n: i64) {
        encode::integer(self.out, n);
    }
    fn null(&mut self) {
        encode::null_bulk(self.out, self.resp3);
    }
    fn null_array(&mut self) {
        encode::null_array(self.out, self.resp3);
    }
    fn id(&mut self, id: StreamId) {
        let mut buf = [0u8; 48];
        let n = {
            use std::io::Write;
            let mut cur = std::io::Cursor::new(&mut buf[..]);
            let _ = write!(cur, "{}-{}", id.ms, id.seq);
            cur.position() as usize
        };
        encode::bulk(self.out, &buf[..n]);
    }
    fn entry(&mut self, id: StreamId, fields: &[(&[u8], &[u8])]) {
        self.array(2);
        self.id(id);
        self.array(fields.len() * 2);
        for (f, v) in fields {
            self.bulk(f);
            self.bulk(v);
        }
    }
    fn owned_entry(&mut self, e: &crate::types::stream::Entry) {
        self.array(2);
        self.id(e.id);
        self.array(e.fields.len() * 2);
        for (f, v) in &e.fields {
            self.bulk(f);
            self.bulk(v);
        }
    }
    fn str(&mut self, s: &str) {
        encode::bulk(self.out, s.as_bytes());
    }
}

fn writer<'a>(out: &'a mut BytesMut, resp3: bool) -> W<'a> {
    W { out, resp3 }
}

fn stream_mut(v: &mut Value) -> Result<&mut Stream, CmdError> {
    match v {
        Value::Stream(s) => Ok(s),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

fn parse_id_strict(b: &[u8]) -> Result<StreamId, CmdError> {
    StreamId::parse_strict(b).ok_or(CmdError::from(INVALID_ID))
}

/// Redis's streamParseIntervalIDOrReply: `(id` is exclusive (strict form).
fn parse_interval(b: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if b.len() > 1 && b[0] == b'(' {
        let (id, _) = StreamId::parse(&b[1..], missing_seq, false, false)
            .ok_or(CmdError::from(INVALID_ID))?;
        Ok((id, true))
    } else {
        let (id, _) =
            StreamId::parse(b, missing_seq, true, false).ok_or(CmdError::from(INVALID_ID))?;
        Ok((id, false))
    }
}

fn node_limits(ctx: &Ctx) -> NodeLimits {
    let get = |name: &str, default: usize| {
        ctx.srv
            .config
            .other
            .get(name)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    NodeLimits {
        max_bytes: get("stream-node-max-bytes", 4096),
        max_entries: get("stream-node-max-entries", 100),
    }
}

fn subcommand_syntax(ctx: &Ctx) -> CmdError {
    let container = String::from_utf8_lossy(&ctx.args[0]).to_ascii_uppercase();
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        errors::truncated(&ctx.args[1], 128),
        container
    )
    .into()
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    )
    .into()
}

/// NOGROUP unless `key` holds a stream with consumer group `group`
/// (XCLAIM, XAUTOCLAIM); WRONGTYPE for another type.
fn require_group(ctx: &mut Ctx, key: &[u8], group: &[u8]) -> CmdResult {
    let (db, now, no_touch) = (ctx.db(), ctx.now_ms, ctx.client.no_touch);
    let has = match ctx.srv.keyspace.lookup_read(db, key, now, no_touch) {
        Some(e) => stream_mut(&mut e.value)?.groups.contains_key(group),
        None => false,
    };
    if has {
        Ok(())
    } else {
        Err(nogroup(key, group))
    }
}

fn nogroup_for_key(key: &[u8], group: &[u8]) -> CmdError {
    format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    )
    .into()
}

// ---------------------------------------------------------------------------
// XADD / XTRIM.

/// Parsed XADD/XTRIM options.
struct AddTrim {
    how: Option<Trim>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    /// XADD: the requested ID (None for `*`), and whether seq was given.
    id: Option<(StreamId, bool)>,
    /// Index of the ID argument (XADD) or argc (XTRIM).
    pos: usize,
    /// Index of the MAXLEN/MINID threshold argument (0: none).
    trim_idx: usize,
}

/// Redis's streamParseAddOrTrimArgsOrReply.
fn parse_add_trim(ctx: &Ctx, xadd: bool) -> Result<AddTrim, CmdError> {
    let args = ctx.args;
    let mut a = AddTrim {
        how: None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
        pos: args.len(),
        trim_idx: 0,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            a.pos = i;
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if a.how.is_some() {
                return Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible".into());
            }
            a.approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            a.trim_idx = i + 1;
            if is(opt, "maxlen") {
                let n = parse_i64(&args[i + 1])?;
                if n < 0 {
                    return Err("ERR The MAXLEN argument must be >= 0.".into());
                }
                a.how = Some(Trim::MaxLen(n as u64));
            } else {
                a.how = Some(Trim::MinId(parse_id_strict(&args[i + 1])?));
            }
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            let n = parse_i64(&args[i + 1])?;
            if n < 0 {
                return Err("ERR The LIMIT argument must be >= 0.".into());
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let id = StreamId::parse(opt, 0, false, true).ok_or(CmdError::from(INVALID_ID))?;
            a.id = Some(id);
            a.pos = i;
            break;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    if a.limit > 0 && a.how.is_none() {
        return Err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy".into(),
        );
    }
    if !xadd && a.how.is_none() {
        return Err("ERR syntax error, XTRIM must be called with a trimming strategy".into());
    }
    if limit_given {
        if !a.approx {
            return Err(
                "ERR syntax error, LIMIT cannot be used without the special ~ option".into(),
            );
        }
    } else if a.approx {
        let per_node = node_limits(ctx).max_entries as u64;
        let l = per_node.saturating_mul(100);
        a.limit = if l == 0 || l > 1_000_000 {
            1_000_000
        } else {
            l
        };
    } else {
        a.limit = 0;
    }
    Ok(a)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
/// Effect: appends one entry (with the ID it got), then trims; creates the key.
fn xadd(ctx: &mut Ctx) -> CmdResult {
    let a = parse_add_trim(ctx, true)?;
    let field_pos = a.pos + 1;
    let nf = ctx.args.len() as i64 - field_pos as i64;
    if nf < 2 || nf % 2 == 1 {
        return Err(errors::wrong_arity("xadd").into());
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(ID_ZERO.into());
        }
    }
    let limits = node_limits(ctx);
    let fields: Vec<(&[u8], &[u8])> = ctx.args[field_pos..]
        .chunks(2)
        .map(|c| (&c[0][..], &c[1][..]))
        .collect();
    let db = ctx.db();
    let now = ctx.now_ms.max(0) as u64;
    let key = &ctx.args[1];
    let resp3 = ctx.resp3();
    let add = |s: &mut Stream| -> Result<(StreamId, u64), CmdError> {
        if s.last_id == StreamId::MAX {
            return Err(EXHAUSTED.into());
        }
        let id = s.next_id(a.id, now).ok_or(CmdError::from(ID_TOO_SMALL))?;
        s.append(id, &fields, limits);
        let trimmed = match a.how {
            Some(how) => s.trim(how, a.approx, a.limit),
            None => 0,
        };
        Ok((id, trimmed))
    };
    let (id, trimmed) = match ctx.srv.keyspace.lookup_write(db, key, ctx.now_ms) {
        Some(e) => add(stream_mut(&mut e.value)?)?,
        None => {
            if a.nomkstream {
                writer(&mut ctx.client.out, resp3).null();
                return Ok(());
            }
            let mut s = Stream::new();
            let r = add(&mut s)?;
            ctx.srv.keyspace.set(db, key, Value::Stream(Box::new(s)));
            r
        }
    };
    ctx.srv.keyspace.dirty += 1 + trimmed;
    if ctx.replicating() {
        // The ID the entry got (for `*` and `ms-*`), and approximate
        // trimming made exact, as Redis 7.0 rewrites XADD.
        let mut v = ctx.args.to_vec();
        if !matches!(a.id, Some((_, true))) {
            v[a.pos] = Bytes::from(id.to_string());
        }
        if a.approx {
            exact_trim_args(ctx, &mut v, &a);
        }
        ctx.propagate_as(v);
    }
    writer(&mut ctx.client.out, resp3).id(id);
    Ok(())
}

/// Rewrites `MAXLEN|MINID ~ threshold` as `= <what the stream now holds>`:
/// its length for MAXLEN, its first ID for MINID (the largest ID when it is
/// empty, as Redis's streamGetEdgeID), so a replica trims exactly as much.
fn exact_trim_args(ctx: &Ctx, v: &mut [Bytes], a: &AddTrim) {
    if a.trim_idx < 1 || a.trim_idx >= v.len() {
        return;
    }
    let Some(e) = ctx.srv.keyspace.dbs[ctx.db()].get_raw(&ctx.args[1]) else {
        return;
    };
    let Value::Stream(st) = &e.value else {
        return;
    };
    let threshold = match a.how {
        Some(Trim::MaxLen(_)) => st.len().to_string(),
        _ if st.is_empty() => StreamId::MAX.to_string(),
        _ => st.first_id.to_string(),
    };
    v[a.trim_idx - 1] = Bytes::from_static(b"=");
    v[a.trim_idx] = Bytes::from(threshold);
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
/// Effect: removes entries from the head of the stream.
fn xtrim(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let exists = match ctx.srv.keyspace.lookup_write(db, &ctx.args[1], ctx.now_ms) {
        Some(e) => {
            stream_mut(&mut e.value)?;
            true
        }
        None => false,
    };
    if !exists {
        ctx.int(0);
        return Ok(());
    }
    let a = parse_add_trim(ctx, false)?;
    let mut n = 0;
    if let Some(e) = ctx.srv.keyspace.lookup_write(db, &ctx.args[1], ctx.now_ms) {
        let s = stream_mut(&mut e.value)?;
        if let Some(how) = a.how {
            n = s.trim(how, a.approx, a.limit);
        }
    }
    ctx.srv.keyspace.dirty += n;
    if n > 0 && a.approx && ctx.replicating() {
        let mut v = ctx.args.to_vec();
        exact_trim_args(ctx, &mut v, &a);
        ctx.propagate_as(v);
    }
    ctx.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads.

/// XLEN key
fn xlen(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let n = match ctx
        .srv
        .keyspace
        .lookup_read(db, &ctx.args[1], ctx.now_ms, ctx.client.no_touch)
    {
        Some(e) => stream_mut(&mut e.value)?.len(),
        None => 0,
    };
    ctx.int(n as i64);
    Ok(())
}

fn xrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, false)
}

fn xrevrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, true)
}

/// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n]
fn range_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let (sa, ea) = if rev { (3, 2) } else { (2, 3) };
    let (mut start, sx) = parse_interval(&ctx.args[sa], 0)?;
    if sx {
        start = start.incr().ok_or(CmdError::from(INVALID_START))?;
    }
    let (mut end, ex) = parse_interval(&ctx.args[ea], u64::MAX)?;
    if ex {
        end = end.decr().ok_or(CmdError::from(INVALID_END))?;
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < ctx.args.len() {
        if is(&ctx.args[j], "count") && j + 1 < ctx.args.len() {
            count = parse_i64(&ctx.args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let db = ctx.db();
    let resp3 = ctx.resp3();
    let Some(e) = ctx
        .srv
        .keyspace
        .lookup_read(db, &ctx.args[1], ctx.now_ms, ctx.client.no_touch)
    else {
        ctx.array(0);
        return Ok(());
    };
    let s = stream_mut(&mut e.value)?;
    let mut w = writer(&mut ctx.client.out, resp3);
    if count == 0 {
        w.null_array();
        return Ok(());
    }
    let count = if count < 0 { 0 } else { count as usize };
    let entries = s.range(start, end, rev, count);
    w.array(entries.len());
    for e in &entries {
        w.entry(e.id, &e.fields);
    }
    Ok(())
}

/// Parsed XREAD/XREADGROUP arguments.
struct ReadArgs {
    count: usize,
    noack: bool,
    group: Option<(usize, usize)>,
    streams: usize,
    nkeys: usize,
    /// BLOCK milliseconds: None = not blocking, Some(None) = forever.
    block: Option<Option<std::time::Duration>>,
}

fn parse_read(ctx: &Ctx, group_cmd: bool) -> Result<ReadArgs, CmdError> {
    let args = ctx.args;
    let mut r = ReadArgs {
        count: 0,
        noack: false,
        group: None,
        streams: 0,
        nkeys: 0,
        block: None,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i][..];
        if is(o, "count") && more > 0 {
            i += 1;
            r.count = parse_i64(&args[i])?.max(0) as usize;
        } else if is(o, "streams") && more > 0 {
            r.streams = i + 1;
            let n = args.len() - r.streams;
            if !n.is_multiple_of(2) {
                let (name, sym) = if group_cmd {
                    ("XREADGROUP", '>')
                } else {
                    ("XREAD", '$')
                };
                return Err(format!("ERR Unbalanced {name} list of streams: for each stream key an ID or '{sym}' must be specified.").into());
            }
            r.nkeys = n / 2;
            break;
        } else if is(o, "group") && more >= 2 {
            if !group_cmd {
                return Err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.".into());
            }
            r.group = Some((i + 1, i + 2));
            i += 2;
        } else if is(o, "block") && more > 0 {
            i += 1;
            let ms = parse_i64(&args[i])
                .map_err(|_| CmdError::from("ERR timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(errors::TIMEOUT_NEGATIVE.into());
            }
            r.block = Some((ms > 0).then(|| std::time::Duration::from_millis(ms as u64)));
        } else if is(o, "noack") {
            if !group_cmd {
                return Err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.".into());
            }
            r.noack = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    if r.streams == 0 {
        return Err(errors::SYNTAX.into());
    }
    if group_cmd && r.group.is_none() {
        return Err("ERR Missing GROUP option for XREADGROUP".into());
    }
    Ok(r)
}

/// XREAD [COUNT n] STREAMS key [key ...] id [id ...]
/// (BLOCK is not supported yet: see the module docs.)
fn xread(ctx: &mut Ctx) -> CmdResult {
    let r = parse_read(ctx, false)?;
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let mut ids = Vec::with_capacity(r.nkeys);
    let mut pinned = Vec::new();
    for k in 0..r.nkeys {
        let key = &ctx.args[r.streams + k];
        let arg = &ctx.args[r.streams + r.nkeys + k];
        let last = match ctx.srv.keyspace.lookup_read(db, key, now, no_touch) {
            Some(e) => Some(stream_mut(&mut e.value)?.last_id),
            None => None,
        };
        if &arg[..] == b"$" {
            let id = last.unwrap_or(StreamId::ZERO);
            pinned.push((r.streams + r.nkeys + k, id));
            ids.push(id);
        } else if &arg[..] == b">" {
            return Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.".into());
        } else {
            ids.push(parse_id_strict(arg)?);
        }
    }
    let resp3 = ctx.resp3();
    let mut body = BytesMut::new();
    let mut served = 0;
    for (k, after) in ids.into_iter().enumerate() {
        let key = &ctx.args[r.streams + k];
        let Some(e) = ctx.srv.keyspace.lookup_read(db, key, now, no_touch) else {
            continue;
        };
        let s = stream_mut(&mut e.value)?;
        if let Some(entries) = s.read_new(after, r.count) {
            served += 1;
            let mut w = writer(&mut body, resp3);
            if !resp3 {
                w.array(2);
            }
            w.bulk(key);
            w.array(entries.len());
            for e in &entries {
                w.entry(e.id, &e.fields);
            }
        }
    }
    if let (0, Some(timeout)) = (served, r.block) {
        // Re-run later with `$` replaced by the ID it stood for now.
        let mut args = ctx.args.to_vec();
        for (i, id) in pinned {
            args[i] = bytes::Bytes::from(format!("{}-{}", id.ms, id.seq));
        }
        let keys = &ctx.args[r.streams..r.streams + r.nkeys];
        ctx.block_with_args(
            keys,
            timeout,
            crate::blocking::TimeoutReply::NullArray,
            args,
        );
        return Ok(());
    }
    writer(&mut ctx.client.out, resp3).streams_reply(served, &body);
    Ok(())
}

impl W<'_> {
    /// The reply of XREAD / XREADGROUP: null when no stream had entries,
    /// else the `served` streams already encoded in `body`.
    fn streams_reply(&mut self, served: usize, body: &[u8]) {
        if served == 0 {
            self.null_array();
        } else {
            self.map_or_array(served);
            self.out.extend_from_slice(body);
        }
    }

    /// The XREAD top level: a map in RESP3, an array of pairs in RESP2.
    fn map_or_array(&mut self, n: usize) {
        if self.resp3 {
            encode::map_header(self.out, n);
        } else {
            encode::array_header(self.out, n);
        }
    }
}

/// XREADGROUP GROUP group consumer [COUNT n] [NOACK] STREAMS key [key ...] id [id ...]
/// Effect: moves group last IDs, creates consumers and PEL entries (Redis
/// propagates this as XCLAIM ... / XGROUP SETID).
fn xreadgroup(ctx: &mut Ctx) -> CmdResult {
    let r = parse_read(ctx, true)?;
    let Some((gi, ci)) = r.group else {
        return Err(errors::SYNTAX.into());
    };
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let group = ctx.args[gi].clone();
    let consumer = ctx.args[ci].clone();
    let mut froms = Vec::with_capacity(r.nkeys);
    for k in 0..r.nkeys {
        let key = &ctx.args[r.streams + k];
        let arg = &ctx.args[r.streams + r.nkeys + k];
        let has_group = match ctx.srv.keyspace.lookup_read(db, key, now, no_touch) {
            Some(e) => stream_mut(&mut e.value)?.groups.contains_key(&group[..]),
            None => false,
        };
        if !has_group {
            return Err(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(&group)
            )
            .into());
        }
        if &arg[..] == b"$" {
            return Err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.".into());
        } else if &arg[..] == b">" {
            froms.push(crate::types::stream::ReadFrom::New);
        } else {
            froms.push(crate::types::stream::ReadFrom::History(parse_id_strict(
                arg,
            )?));
        }
    }
    let resp3 = ctx.resp3();
    let mut body = BytesMut::new();
    let mut served = 0;
    // Replicated by its effects, never as XREADGROUP (see group_read_effects).
    ctx.prevent_propagation();
    let replicating = ctx.replicating();
    let mut effects = Vec::new();
    for (k, from) in froms.into_iter().enumerate() {
        let key = &ctx.args[r.streams + k];
        let Some(e) = ctx.srv.keyspace.lookup_write(db, key, now) else {
            continue;
        };
        let s = stream_mut(&mut e.value)?;
        let had_consumer = s
            .groups
            .get(&group[..])
            .is_some_and(|g| g.consumers.contains_key(&consumer[..]));
        let new_entries = matches!(from, crate::types::stream::ReadFrom::New);
        let res = s
            .read_group(&group, &consumer, from, r.count, r.noack, now)
            .map_err(|_| nogroup(key, &group))?;
        if replicating {
            let read = GroupRead {
                key,
                group: &group,
                consumer: &consumer,
                created: !had_consumer,
                noack: r.noack,
            };
            let served: &[Served] = match (&res, new_entries) {
                (Some(items), true) => items,
                _ => &[],
            };
            group_read_effects(s, &read, served, &mut effects);
        }
        if !had_consumer {
            ctx.srv.keyspace.dirty += 1;
        }
        if let Some(items) = res {
            served += 1;
            ctx.srv.keyspace.dirty += 1;
            let mut w = writer(&mut body, resp3);
            if !resp3 {
                w.array(2);
            }
            w.bulk(key);
            w.array(items.len());
            for it in &items {
                match it {
                    Served::Entry(e) => w.owned_entry(e),
                    Served::Deleted(id) => {
                        w.array(2);
                        w.id(*id);
                        w.null_array();
                    }
                }
            }
        }
    }
    for v in effects {
        ctx.also_propagate(v);
    }
    if let (0, Some(timeout)) = (served, r.block) {
        let args = ctx.args;
        ctx.block(
            &args[r.streams..r.streams + r.nkeys],
            timeout,
            crate::blocking::TimeoutReply::NullArray,
        );
        return Ok(());
    }
    writer(&mut ctx.client.out, resp3).streams_reply(served, &body);
    Ok(())
}

/// One stream of an XREADGROUP, for its replication effects.
struct GroupRead<'a> {
    key: &'a [u8],
    group: &'a [u8],
    consumer: &'a [u8],
    /// The consumer did not exist before this read.
    created: bool,
    noack: bool,
}

/// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID
/// last`: the idempotent form Redis 7.0 replicates a PEL change as
/// (streamPropagateXCLAIM): on the replica it gives `id` to `consumer` with
/// these delivery data, or drops it from the PEL when the entry is gone.
fn xclaim_effect(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: Bytes,
    time: i64,
    count: u64,
    last_id: StreamId,
) -> Vec<Bytes> {
    let mut v = super::argv(&[b"XCLAIM", key, group, consumer, b"0"]);
    v.push(id);
    v.push(Bytes::from_static(b"TIME"));
    v.push(super::num_arg(time));
    v.push(Bytes::from_static(b"RETRYCOUNT"));
    v.push(Bytes::from(count.to_string()));
    v.extend(super::argv(&[b"FORCE", b"JUSTID", b"LASTID"]));
    v.push(Bytes::from(last_id.to_string()));
    v
}

/// The effects of reading new entries (`>`) of one stream as Redis emits
/// them: one XCLAIM per delivered entry, then `XGROUP SETID ... ENTRIESREAD`
/// (Redis 7.0 sends no SETID here, which leaves its replicas' entries-read
/// unset: we add it so replicas converge); with NOACK (nothing enters the PEL)
/// `XGROUP CREATECONSUMER` for a new consumer and `XGROUP SETID ... ENTRIESREAD`.
/// A read that only created the consumer (nothing new, or a history read)
/// propagates `XGROUP CREATECONSUMER` (Redis 7.0 leaves that consumer out
/// of its replicas; they then differ in XINFO CONSUMERS).
fn group_read_effects(s: &Stream, r: &GroupRead, served: &[Served], out: &mut Vec<Vec<Bytes>>) {
    let Some(g) = s.groups.get(r.group) else {
        return;
    };
    let create = || super::argv(&[b"XGROUP", b"CREATECONSUMER", r.key, r.group, r.consumer]);
    if served.is_empty() {
        if r.created {
            out.push(create());
        }
        return;
    }
    if r.noack {
        if r.created {
            out.push(create());
        }
        let mut v = super::argv(&[b"XGROUP", b"SETID", r.key, r.group]);
        v.push(Bytes::from(g.last_id.to_string()));
        v.push(Bytes::from_static(b"ENTRIESREAD"));
        v.push(super::num_arg(g.entries_read));
        out.push(v);
        return;
    }
    let before = out.len();
    for it in served {
        let Served::Entry(e) = it else { continue };
        let Some(n) = g.pel.get(&e.id) else { continue };
        // The group's last ID as it was right after this entry was read.
        out.push(xclaim_effect(
            r.key,
            r.group,
            &n.consumer,
            Bytes::from(e.id.to_string()),
            n.delivery_time,
            n.delivery_count,
            e.id,
        ));
    }
    if out.len() > before {
        // XCLAIM does not carry the group's read counter, SETID does
        // (Redis 7.0 omits it and its replicas' entries-read stay unset).
        let mut v = super::argv(&[b"XGROUP", b"SETID", r.key, r.group]);
        v.push(Bytes::from(g.last_id.to_string()));
        v.push(Bytes::from_static(b"ENTRIESREAD"));
        v.push(super::num_arg(g.entries_read));
        out.push(v);
    }
}

// ---------------------------------------------------------------------------
// Deletes, acks, pending, claims.

/// XDEL key id [id ...]
/// Effect: deletes the listed entries.
fn xdel(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let Some(e) = ctx.srv.keyspace.lookup_write(db, &ctx.args[1], ctx.now_ms) else {
        ctx.int(0);
        return Ok(());
    };
    let s = stream_mut(&mut e.value)?;
    let ids = ctx.args[2..]
        .iter()
        .map(|a| parse_id_strict(a))
        .collect::<Result<Vec<_>, _>>()?;
    let n = s.delete_ids(&ids);
    ctx.srv.keyspace.dirty += n;
    ctx.int(n as i64);
    Ok(())
}

/// XACK key group id [id ...]
/// Effect: removes the IDs from the group's PEL.
fn xack(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let Some(e) = ctx
        .srv
        .keyspace
        .lookup_read(db, &ctx.args[1], ctx.now_ms, no_touch)
    else {
        ctx.int(0);
        return Ok(());
    };
    let s = stream_mut(&mut e.value)?;
    let Some(g) = s.groups.get_mut(&ctx.args[2][..]) else {
        ctx.int(0);
        return Ok(());
    };
    let ids = ctx.args[3..]
        .iter()
        .map(|a| parse_id_strict(a))
        .collect::<Result<Vec<_>, _>>()?;
    let n = g.ack(&ids);
    ctx.srv.keyspace.dirty += n;
    ctx.int(n as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
fn xpending(ctx: &mut Ctx) -> CmdResult {
    let argc = ctx.args.len();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(errors::SYNTAX.into());
    }
    let mut min_idle = 0i64;
    let mut start = StreamId::ZERO;
    let mut end = StreamId::MAX;
    let mut count = 0i64;
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut si = 3;
        if is(&ctx.args[3], "idle") {
            min_idle = parse_i64(&ctx.args[4])?;
            if argc < 8 {
                return Err(errors::SYNTAX.into());
            }
            si += 2;
        }
        count = parse_i64(&ctx.args[si + 2])?.max(0);
        let (s, sx) = parse_interval(&ctx.args[si], 0)?;
        start = if sx {
            s.incr().ok_or(CmdError::from(INVALID_START))?
        } else {
            s
        };
        let (e, ex) = parse_interval(&ctx.args[si + 1], u64::MAX)?;
        end = if ex {
            e.decr().ok_or(CmdError::from(INVALID_END))?
        } else {
            e
        };
        if si + 3 < argc {
            consumer = Some(&ctx.args[si + 3][..]);
        }
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let resp3 = ctx.resp3();
    let no_touch = ctx.client.no_touch;
    let key = &ctx.args[1];
    let gname = &ctx.args[2];
    let e = ctx.srv.keyspace.lookup_read(db, key, now, no_touch);
    let s = match e {
        Some(e) => Some(stream_mut(&mut e.value)?),
        None => None,
    };
    let Some(g) = s.and_then(|s| s.groups.get(&gname[..])) else {
        return Err(nogroup(key, gname));
    };
    let mut w = writer(&mut ctx.client.out, resp3);
    if justinfo {
        w.array(4);
        w.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(&first), Some(&last)) => {
                w.id(first);
                w.id(last);
                let owners: Vec<(&[u8], usize)> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .map(|(n, c)| (&n[..], c.pel.len()))
                    .collect();
                w.array(owners.len());
                for (n, c) in owners {
                    w.array(2);
                    w.bulk(n);
                    encode::bulk_integer(w.out, c as i64);
                }
            }
            _ => {
                w.null();
                w.null();
                w.null_array();
            }
        }
        return Ok(());
    }
    let ids: Vec<StreamId> = match consumer {
        Some(c) => match g.consumers.get(c) {
            Some(c) => c
                .pel
                .range(start..=end.max(start))
                .copied()
                .filter(|id| *id <= end)
                .collect(),
            None => {
                w.array(0);
                return Ok(());
            }
        },
        None => {
            if start > end {
                Vec::new()
            } else {
                g.pel.range(start..=end).map(|(id, _)| *id).collect()
            }
        }
    };
    let mut rows = Vec::new();
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(n) = g.pel.get(&id) else { continue };
        let idle = now - n.delivery_time;
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        count -= 1;
        rows.push((id, n));
    }
    w.array(rows.len());
    for (id, n) in rows {
        w.array(4);
        w.id(id);
        w.bulk(&n.consumer);
        w.int((now - n.delivery_time).max(0));
        w.int(n.delivery_count as i64);
    }
    Ok(())
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms]
///   [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
/// Effect: changes owners/delivery data of PEL entries (propagated as XCLAIM ... TIME).
fn xclaim(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let key = &ctx.args[1];
    let gname = &ctx.args[2];
    require_group(ctx, key, gname)?;
    let min_idle = parse_i64(&ctx.args[4])
        .map_err(|_| CmdError::from("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < ctx.args.len() {
        match StreamId::parse_strict(&ctx.args[j]) {
            Some(id) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let mut delivery: i64 = -1;
    let mut retry: i64 = -1;
    let mut opts = ClaimOpts::default();
    while j < ctx.args.len() {
        let more = ctx.args.len() - 1 - j;
        let opt = &ctx.args[j][..];
        if is(opt, "force") {
            opts.force = true;
        } else if is(opt, "justid") {
            opts.justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            let v = parse_i64(&ctx.args[j])
                .map_err(|_| CmdError::from("ERR Invalid IDLE option argument for XCLAIM"))?;
            delivery = now.wrapping_sub(v);
        } else if is(opt, "time") && more > 0 {
            j += 1;
            delivery = parse_i64(&ctx.args[j])
                .map_err(|_| CmdError::from("ERR Invalid TIME option argument for XCLAIM"))?;
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            retry = parse_i64(&ctx.args[j])
                .map_err(|_| CmdError::from("ERR Invalid RETRYCOUNT option argument for XCLAIM"))?;
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            opts.last_id = parse_id_strict(&ctx.args[j])?;
        } else {
            return Err(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )
            .into());
        }
        j += 1;
    }
    opts.delivery_time = if delivery < 0 || delivery > now {
        now
    } else {
        delivery
    };
    opts.retry_count = (retry >= 0).then_some(retry as u64);
    opts.min_idle = min_idle;
    let resp3 = ctx.resp3();
    let consumer = &ctx.args[3];
    let Some(e) = ctx.srv.keyspace.lookup_write(db, key, now) else {
        return Err(nogroup(key, gname));
    };
    let s = stream_mut(&mut e.value)?;
    let before = s.groups.get(&gname[..]).map(|g| (g.pel.len(), g.last_id));
    // PEL entries of IDs no longer in the stream: XCLAIM drops them, and
    // Redis replicates each drop as an XCLAIM in the old owner's name.
    let replicating = ctx.srv.repl.recording();
    let mut gone: Vec<(usize, Nack)> = Vec::new();
    if replicating {
        if let Some(g) = s.groups.get(&gname[..]) {
            for (i, id) in ids.iter().enumerate() {
                if let (false, Some(n)) = (s.contains(*id), g.pel.get(id)) {
                    gone.push((i, n.clone()));
                }
            }
        }
    }
    let claimed = s
        .claim(gname, consumer, &ids, &opts, now)
        .ok_or_else(|| nogroup(key, gname))?;
    let after = s.groups.get(&gname[..]).map(|g| (g.pel.len(), g.last_id));
    let mut effects = Vec::new();
    if replicating {
        if let Some(g) = s.groups.get(&gname[..]) {
            effects = xclaim_effects(
                key,
                gname,
                &ctx.args[5..5 + ids.len()],
                &ids,
                &claimed,
                &gone,
                g,
            );
            if effects.is_empty() && before.is_some_and(|b| b.1 != g.last_id) {
                // Only LASTID moved the group: XGROUP SETID, as Redis.
                let mut v = super::argv(&[b"XGROUP", b"SETID", key, gname]);
                v.push(Bytes::from(g.last_id.to_string()));
                v.push(Bytes::from_static(b"ENTRIESREAD"));
                v.push(super::num_arg(g.entries_read));
                effects.push(v);
            }
        }
    }
    let mut w = writer(&mut ctx.client.out, resp3);
    w.array(claimed.len());
    for id in &claimed {
        if opts.justid {
            w.id(*id);
        } else if let Some(e) = s.get(*id) {
            w.entry(e.id, &e.fields);
        } else {
            w.null_array();
        }
    }
    let mut dirty = claimed.len() as u64;
    if let (Some(b), Some(a)) = (before, after) {
        dirty += (b.0.saturating_sub(a.0)) as u64 + u64::from(b.1 != a.1);
    }
    ctx.srv.keyspace.dirty += dirty;
    ctx.prevent_propagation();
    for v in effects {
        ctx.also_propagate(v);
    }
    Ok(())
}

/// XCLAIM's effects in argument order: an XCLAIM (Redis's idempotent form)
/// for each claimed ID with its new delivery data, and for each dropped one
/// (entry deleted from the stream) with its former owner's.
fn xclaim_effects(
    key: &[u8],
    gname: &[u8],
    id_args: &[Bytes],
    ids: &[StreamId],
    claimed: &[StreamId],
    gone: &[(usize, Nack)],
    g: &crate::types::stream_group::Group,
) -> Vec<Vec<Bytes>> {
    let mut out = Vec::new();
    let mut gone = gone.iter().peekable();
    let claimed: std::collections::HashSet<StreamId> = claimed.iter().copied().collect();
    for (i, id) in ids.iter().enumerate() {
        // A deleted entry is claimed in its old owner's name (it leaves the
        // replica's PEL); a claimed one in its new owner's.
        let nack = match gone.next_if(|(j, _)| *j == i) {
            Some((_, n)) => Some(n),
            None if claimed.contains(id) => g.pel.get(id),
            None => None,
        };
        if let Some(n) = nack {
            out.push(xclaim_effect(
                key,
                gname,
                &n.consumer,
                id_args[i].clone(),
                n.delivery_time,
                n.delivery_count,
                g.last_id,
            ));
        }
    }
    out
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
/// Effect: as XCLAIM for each claimed ID; deleted entries leave the PEL.
fn xautoclaim(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.db();
    let now = ctx.now_ms;
    let key = &ctx.args[1];
    let gname = &ctx.args[2];
    require_group(ctx, key, gname)?;
    let min_idle = parse_i64(&ctx.args[4])
        .map_err(|_| CmdError::from("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let (mut start, sx) = parse_interval(&ctx.args[5], 0)?;
    if sx {
        start = start.incr().ok_or(CmdError::from(INVALID_START))?;
    }
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < ctx.args.len() {
        let more = ctx.args.len() - 1 - j;
        let opt = &ctx.args[j][..];
        if is(opt, "count") && more > 0 {
            let max = i64::MAX / 16;
            let v =
                parse_i64(&ctx.args[j + 1]).map_err(|_| CmdError::from("ERR COUNT must be > 0"))?;
            if v < 1 || v > max {
                return Err("ERR COUNT must be > 0".into());
            }
            count = v as u64;
            j += 1;
        } else if is(opt, "justid") {
            justid = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let resp3 = ctx.resp3();
    let consumer = &ctx.args[3];
    let Some(e) = ctx.srv.keyspace.lookup_write(db, key, now) else {
        return Err(nogroup(key, gname));
    };
    let s = stream_mut(&mut e.value)?;
    // The PEL entries XAUTOCLAIM may look at (count * 10 at most), for the
    // effects of the dropped ones (deleted from the stream).
    let replicating = ctx.srv.repl.recording();
    let mut seen: Vec<(StreamId, Nack)> = Vec::new();
    if replicating {
        if let Some(g) = s.groups.get(&gname[..]) {
            let span = count.saturating_mul(10).min(g.pel.len() as u64) as usize;
            seen = g
                .pel
                .range(start..)
                .take(span)
                .map(|(id, n)| (*id, n.clone()))
                .collect();
        }
    }
    let r = s
        .autoclaim(gname, consumer, min_idle, start, count, justid, now)
        .ok_or_else(|| nogroup(key, gname))?;
    let mut effects = Vec::new();
    if replicating {
        if let Some(g) = s.groups.get(&gname[..]) {
            let deleted: std::collections::HashSet<&StreamId> = r.deleted.iter().collect();
            let claimed: std::collections::HashSet<&StreamId> = r.claimed.iter().collect();
            // Redis emits them in PEL order as it scans: claimed and dropped mixed.
            for (id, old) in &seen {
                let n = if deleted.contains(id) {
                    old
                } else if claimed.contains(id) {
                    match g.pel.get(id) {
                        Some(n) => n,
                        None => continue,
                    }
                } else {
                    continue;
                };
                let idarg = Bytes::from(id.to_string());
                effects.push(xclaim_effect(
                    key,
                    gname,
                    &n.consumer,
                    idarg,
                    n.delivery_time,
                    n.delivery_count,
                    g.last_id,
                ));
            }
        }
    }
    let mut w = writer(&mut ctx.client.out, resp3);
    w.array(3);
    w.id(r.next);
    w.array(r.claimed.len());
    for id in &r.claimed {
        if justid {
            w.id(*id);
        } else if let Some(e) = s.get(*id) {
            w.entry(e.id, &e.fields);
        } else {
            w.null_array();
        }
    }
    w.array(r.deleted.len());
    for id in &r.deleted {
        w.id(*id);
    }
    ctx.srv.keyspace.dirty += (r.claimed.len() + r.deleted.len()) as u64;
    ctx.prevent_propagation();
    for v in effects {
        ctx.also_propagate(v);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// XGROUP / XINFO / XSETID.

fn xgroup_help(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() != 2 || !is(&ctx.args[1], "help") {
        return Err(subcommand_syntax(ctx));
    }
    super::server_cmds::help_reply(ctx, XGROUP_HELP)
}

fn xinfo_help(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() != 2 || !is(&ctx.args[1], "help") {
        return Err(subcommand_syntax(ctx));
    }
    super::server_cmds::help_reply(ctx, XINFO_HELP)
}

/// Parses `ENTRIESREAD n` (-1 or >= 0).
fn entries_read_arg(b: &[u8]) -> Result<i64, CmdError> {
    let n = parse_i64(b)?;
    if n < 0 && n != -1 {
        return Err("ERR value for ENTRIESREAD must be positive or -1".into());
    }
    Ok(n)
}

/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER key group ...
/// Effect: creates/destroys groups or consumers, or moves a group's last ID.
fn xgroup(ctx: &mut Ctx) -> CmdResult {
    let argc = ctx.args.len();
    let sub = String::from_utf8_lossy(&ctx.args[1]).to_ascii_lowercase();
    let mut mkstream = false;
    let mut entries_read = -1i64;
    if sub == "create" && argc >= 5 {
        let mut i = 5;
        while i < argc {
            if is(&ctx.args[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if is(&ctx.args[i], "entriesread") && i + 1 < argc {
                entries_read = entries_read_arg(&ctx.args[i + 1])?;
                i += 2;
            } else {
                return Err(subcommand_syntax(ctx));
            }
        }
    } else if sub == "setid" && argc >= 5 {
        let mut i = 5;
        while i < argc {
            if is(&ctx.args[i], "entriesread") && i + 1 < argc {
                entries_read = entries_read_arg(&ctx.args[i + 1])?;
                i += 2;
            } else {
                return Err(subcommand_syntax(ctx));
            }
        }
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let key = ctx.args[2].clone();
    let gname = ctx.args[3].clone();
    let exists = match ctx.srv.keyspace.lookup_write(db, &key, now) {
        Some(e) => {
            let s = stream_mut(&mut e.value)?;
            Some(s.groups.contains_key(&gname[..]))
        }
        None => None,
    };
    if !mkstream {
        match exists {
            None => return Err(NEEDS_KEY.into()),
            Some(false) if matches!(sub.as_str(), "setid" | "createconsumer" | "delconsumer") => {
                return Err(nogroup_for_key(&key, &gname));
            }
            _ => {}
        }
    }
    match sub.as_str() {
        "create" if (5..=8).contains(&argc) => {
            let id_arg = &ctx.args[4];
            let id = if &id_arg[..] == b"$" {
                None
            } else {
                Some(parse_id_strict(id_arg)?)
            };
            if exists.is_none() {
                ctx.srv
                    .keyspace
                    .set(db, &key, Value::Stream(Box::default()));
            }
            let Some(e) = ctx.srv.keyspace.lookup_write(db, &key, now) else {
                return Err(NEEDS_KEY.into());
            };
            let s = stream_mut(&mut e.value)?;
            let id = id.unwrap_or(s.last_id);
            if s.create_group(&gname, id, entries_read) {
                ctx.srv.keyspace.dirty += 1;
                ctx.ok();
                Ok(())
            } else {
                Err("BUSYGROUP Consumer Group name already exists".into())
            }
        }
        "setid" if argc == 5 || argc == 7 => {
            let id_arg = ctx.args[4].clone();
            let Some(e) = ctx.srv.keyspace.lookup_write(db, &key, now) else {
                return Err(NEEDS_KEY.into());
            };
            let s = stream_mut(&mut e.value)?;
            let id = if &id_arg[..] == b"$" {
                s.last_id
            } else {
                StreamId::parse(&id_arg, 0, true, false)
                    .ok_or(CmdError::from(INVALID_ID))?
                    .0
            };
            if let Some(g) = s.groups.get_mut(&gname[..]) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
            ctx.srv.keyspace.dirty += 1;
            ctx.ok();
            Ok(())
        }
        "destroy" if argc == 4 => {
            let removed = match ctx.srv.keyspace.lookup_write(db, &key, now) {
                Some(e) => stream_mut(&mut e.value)?
                    .groups
                    .remove(&gname[..])
                    .is_some(),
                None => false,
            };
            if removed {
                ctx.srv.keyspace.dirty += 1;
            }
            ctx.int(removed as i64);
            Ok(())
        }
        "createconsumer" if argc == 5 => {
            let cname = ctx.args[4].clone();
            let mut created = false;
            if let Some(e) = ctx.srv.keyspace.lookup_write(db, &key, now) {
                if let Some(g) = stream_mut(&mut e.value)?.groups.get_mut(&gname[..]) {
                    created = g.consumer_or_create(&cname, now).1;
                }
            }
            if created {
                ctx.srv.keyspace.dirty += 1;
            }
            ctx.int(created as i64);
            Ok(())
        }
        "delconsumer" if argc == 5 => {
            let cname = ctx.args[4].clone();
            let mut pending = None;
            if let Some(e) = ctx.srv.keyspace.lookup_write(db, &key, now) {
                if let Some(g) = stream_mut(&mut e.value)?.groups.get_mut(&gname[..]) {
                    pending = g.delete_consumer(&cname);
                }
            }
            if pending.is_some() {
                ctx.srv.keyspace.dirty += 1;
            }
            ctx.int(pending.unwrap_or(0) as i64);
            Ok(())
        }
        _ => Err(subcommand_syntax(ctx)),
    }
}

/// XINFO STREAM key [FULL [COUNT n]] | GROUPS key | CONSUMERS key group
fn xinfo(ctx: &mut Ctx) -> CmdResult {
    let argc = ctx.args.len();
    let sub = String::from_utf8_lossy(&ctx.args[1]).to_ascii_lowercase();
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let resp3 = ctx.resp3();
    // Parsed before the lookup only to keep the borrow simple; Redis checks
    // the key first, so a missing key still wins over bad STREAM options.
    let stream_opts: Result<(bool, usize), CmdError> = if sub == "stream" {
        if argc == 3 {
            Ok((false, 0))
        } else if (argc == 4 || argc == 6) && is(&ctx.args[3], "full") {
            if argc == 6 {
                if !is(&ctx.args[4], "count") {
                    Err(subcommand_syntax(ctx))
                } else {
                    parse_i64(&ctx.args[5]).map(|c| (true, if c < 0 { 10 } else { c as usize }))
                }
            } else {
                Ok((true, 10))
            }
        } else {
            Err(subcommand_syntax(ctx))
        }
    } else {
        Ok((false, 0))
    };
    let sub_err = subcommand_syntax(ctx);
    let key = &ctx.args[2];
    let Some(e) = ctx.srv.keyspace.lookup_read(db, key, now, no_touch) else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    let s = stream_mut(&mut e.value)?;
    let mut w = writer(&mut ctx.client.out, resp3);
    match sub.as_str() {
        "consumers" if argc == 4 => {
            let gname = &ctx.args[3];
            let Some(g) = s.groups.get(&gname[..]) else {
                return Err(nogroup_for_key(key, gname));
            };
            w.array(g.consumers.len());
            for (name, c) in &g.consumers {
                w.map(4);
                w.str("name");
                w.bulk(name);
                w.str("pending");
                w.int(c.pel.len() as i64);
                w.str("idle");
                w.int((now - c.seen_time).max(0));
                w.str("inactive");
                w.int(if c.active_time == -1 {
                    -1
                } else {
                    now - c.active_time
                });
            }
            Ok(())
        }
        "groups" if argc == 3 => {
            w.array(s.groups.len());
            for (name, g) in &s.groups {
                w.map(6);
                w.str("name");
                w.bulk(name);
                w.str("consumers");
                w.int(g.consumers.len() as i64);
                w.str("pending");
                w.int(g.pel.len() as i64);
                w.str("last-delivered-id");
                w.id(g.last_id);
                w.str("entries-read");
                if g.entries_read >= 0 {
                    w.int(g.entries_read);
                } else {
                    w.null();
                }
                w.str("lag");
                match s.group_lag(g) {
                    Some(l) => w.int(l),
                    None => w.null(),
                }
            }
            Ok(())
        }
        "stream" => {
            let (full, count) = stream_opts?;
            w.map(if full { 9 } else { 10 });
            w.str("length");
            w.int(s.len() as i64);
            w.str("radix-tree-keys");
            w.int(s.node_count() as i64);
            w.str("radix-tree-nodes");
            // Redis reports its radix tree's internal node count; we have
            // no radix tree, so this is an estimate of the same magnitude.
            w.int(s.node_count() as i64 + 1);
            w.str("last-generated-id");
            w.id(s.last_id);
            w.str("max-deleted-entry-id");
            w.id(s.max_deleted_entry_id);
            w.str("entries-added");
            w.int(s.entries_added as i64);
            w.str("recorded-first-entry-id");
            w.id(s.first_id);
            if !full {
                w.str("groups");
                w.int(s.groups.len() as i64);
                w.str("first-entry");
                match s.range(StreamId::ZERO, StreamId::MAX, false, 1).first() {
                    Some(e) => w.entry(e.id, &e.fields),
                    None => w.null(),
                }
                w.str("last-entry");
                match s.range(StreamId::ZERO, StreamId::MAX, true, 1).first() {
                    Some(e) => w.entry(e.id, &e.fields),
                    None => w.null(),
                }
                return Ok(());
            }
            w.str("entries");
            let entries = s.range(StreamId::ZERO, StreamId::MAX, false, count);
            w.array(entries.len());
            for e in &entries {
                w.entry(e.id, &e.fields);
            }
            w.str("groups");
            w.array(s.groups.len());
            let take = if count == 0 { usize::MAX } else { count };
            for (name, g) in &s.groups {
                w.map(7);
                w.str("name");
                w.bulk(name);
                w.str("last-delivered-id");
                w.id(g.last_id);
                w.str("entries-read");
                if g.entries_read >= 0 {
                    w.int(g.entries_read);
                } else {
                    w.null();
                }
                w.str("lag");
                match s.group_lag(g) {
                    Some(l) => w.int(l),
                    None => w.null(),
                }
                w.str("pel-count");
                w.int(g.pel.len() as i64);
                w.str("pending");
                let pel: Vec<_> = g.pel.iter().take(take).collect();
                w.array(pel.len());
                for (id, n) in pel {
                    w.array(4);
                    w.id(*id);
                    w.bulk(&n.consumer);
                    w.int(n.delivery_time);
                    w.int(n.delivery_count as i64);
                }
                w.str("consumers");
                w.array(g.consumers.len());
                for (cname, c) in &g.consumers {
                    w.map(5);
                    w.str("name");
                    w.bulk(cname);
                    w.str("seen-time");
                    w.int(c.seen_time);
                    w.str("active-time");
                    w.int(c.active_time);
                    w.str("pel-count");
                    w.int(c.pel.len() as i64);
                    w.str("pending");
                    let ids: Vec<_> = c.pel.iter().take(take).collect();
                    w.array(ids.len());
                    for id in ids {
                        let (t, n) = g
                            .pel
                            .get(id)
                            .map_or((0, 0), |n| (n.delivery_time, n.delivery_count));
                        w.array(3);
                        w.id(*id);
                        w.int(t);
                        w.int(n as i64);
                    }
                }
            }
            Ok(())
        }
        _ => Err(sub_err),
    }
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]
/// Effect: sets the stream's last ID and counters.
fn xsetid(ctx: &mut Ctx) -> CmdResult {
    let id = parse_id_strict(&ctx.args[2])?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::ZERO;
    let mut i = 3;
    while i < ctx.args.len() {
        let more = ctx.args.len() - 1 - i;
        let opt = &ctx.args[i][..];
        if is(opt, "entriesadded") && more > 0 {
            entries_added = parse_i64(&ctx.args[i + 1])?;
            if entries_added < 0 {
                return Err("ERR entries_added must be positive".into());
            }
            i += 2;
        } else if is(opt, "maxdeletedid") && more > 0 {
            max_xdel = parse_id_strict(&ctx.args[i + 1])?;
            if id < max_xdel {
                return Err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id".into());
            }
            i += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let db = ctx.db();
    let Some(e) = ctx.srv.keyspace.lookup_write(db, &ctx.args[1], ctx.now_ms) else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    let s = stream_mut(&mut e.value)?;
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return Err(
                "ERR The ID specified in XSETID is smaller than the target stream top item".into(),
            );
        }
        if entries_added != -1 && s.len() > entries_added as u64 {
            return Err("ERR The entries_added specified in XSETID is smaller than the target stream length".into());
        }
    }
    // Redis 7.2 refuses to move the last ID below the last tombstone (the
    // 7.0 oracle does not check; it comes after the top-item check so both
    // agree whenever the stream has entries after its last deletion).
    if id < s.max_deleted_entry_id {
        return Err(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id".into(),
        );
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_entry_id = max_xdel;
    }
    ctx.srv.keyspace.dirty += 1;
    ctx.ok();
    Ok(())
}

// ---------------------------------------------------------------------------
// Keyspace notifications: each write raises its event when it changed
// something (and `del` when the key is gone).

fn xadd_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(xadd, class::STREAM, "xadd", false)
}

fn xdel_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(xdel, class::STREAM, "xdel", false)
}

fn xtrim_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(xtrim, class::STREAM, "xtrim", false)
}

fn xsetid_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(xsetid, class::STREAM, "xsetid", false)
}

/// XGROUP subcommands raise `xgroup-<subcommand>` on the stream key.
fn xgroup_notified(ctx: &mut Ctx) -> CmdResult {
    let before = ctx.srv.keyspace.dirty;
    xgroup(ctx)?;
    if ctx.srv.keyspace.dirty != before {
        let args = ctx.args;
        let event = format!(
            "xgroup-{}",
            String::from_utf8_lossy(&args[1]).to_ascii_lowercase()
        );
        ctx.notify(class::STREAM, &event, &args[2]);
    }
    Ok(())
}
