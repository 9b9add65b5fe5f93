//! Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH
//! SSUBSCRIBE SUNSUBSCRIBE SPUBLISH and PUBSUB (CHANNELS NUMSUB NUMPAT
//! SHARDCHANNELS SHARDNUMSUB HELP). The registry and delivery live in
//! `crate::pubsub`.

use bytes::Bytes;

use super::client_cmd::help_reply;
use super::ctx::{CmdResult, Ctx};
use super::spec::{keys, CommandSpec, NO_KEYS};
use crate::client::ClientKind;
use crate::config::glob::glob_match;
use crate::pubsub::{self, write_frame, Kind, Part};

const PS: &str = "@pubsub @slow";
const SUB: &str = "pubsub noscript loading stale";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB, PS, NO_KEYS, subscribe)
        .doc("pubsub", "2.0.0", "Listens for messages published to channels.", "O(N) where N is the number of channels to subscribe to."),
    CommandSpec::new("unsubscribe", -1, SUB, PS, NO_KEYS, unsubscribe)
        .doc("pubsub", "2.0.0", "Stops listening to messages posted to channels.", "O(N) where N is the number of channels to unsubscribe."),
    CommandSpec::new("psubscribe", -2, SUB, PS, NO_KEYS, psubscribe)
        .doc("pubsub", "2.0.0", "Listens for messages published to channels that match one or more patterns.", "O(N) where N is the number of patterns to subscribe to."),
    CommandSpec::new("punsubscribe", -1, SUB, PS, NO_KEYS, punsubscribe)
        .doc("pubsub", "2.0.0", "Stops listening to messages published to channels that match one or more patterns.", "O(N) where N is the number of patterns to unsubscribe."),
    CommandSpec::new("publish", 3, "pubsub loading stale fast", "@pubsub @fast", NO_KEYS, publish)
        .doc("pubsub", "2.0.0", "Posts a message to a channel.", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client)."),
    CommandSpec::new("ssubscribe", -2, SUB, PS, keys(1, -1, 1), ssubscribe)
        .doc("pubsub", "7.0.0", "Listens for messages published to shard channels.", "O(N) where N is the number of shard channels to subscribe to."),
    CommandSpec::new("sunsubscribe", -1, SUB, PS, keys(1, -1, 1), sunsubscribe)
        .doc("pubsub", "7.0.0", "Stops listening to messages posted to shard channels.", "O(N) where N is the number of shard channels to unsubscribe."),
    CommandSpec::new("spublish", 3, "pubsub loading stale fast", "@pubsub @fast", keys(1, 1, 1), spublish)
        .doc("pubsub", "7.0.0", "Post a message to a shard channel", "O(N) where N is the number of clients subscribed to the receiving shard channel."),
    CommandSpec::new("pubsub", -2, "", "@slow", NO_KEYS, help)
        .doc("pubsub", "2.8.0", "A container for Pub/Sub commands.", "Depends on subcommand.")
        .subs(&[
            CommandSpec::new("channels", -2, "pubsub loading stale", PS, NO_KEYS, channels)
                .doc("pubsub", "2.8.0", "Returns the active channels.", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)"),
            CommandSpec::new("numsub", -2, "pubsub loading stale", PS, NO_KEYS, numsub)
                .doc("pubsub", "2.8.0", "Returns a count of subscribers to channels.", "O(N) for the NUMSUB subcommand, where N is the number of requested channels"),
            CommandSpec::new("numpat", 2, "pubsub loading stale", PS, NO_KEYS, numpat)
                .doc("pubsub", "2.8.0", "Returns a count of unique pattern subscriptions.", "O(1)"),
            CommandSpec::new("shardchannels", -2, "pubsub loading stale", PS, NO_KEYS, shardchannels)
                .doc("pubsub", "7.0.0", "Returns the active shard channels.", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels)."),
            CommandSpec::new("shardnumsub", -2, "pubsub loading stale", PS, NO_KEYS, shardnumsub)
                .doc("pubsub", "7.0.0", "Returns the count of subscribers of shard channels.", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"),
            CommandSpec::new("help", 2, "loading stale", "@slow", NO_KEYS, help)
                .doc("pubsub", "6.2.0", "Returns helpful text about the different subcommands.", "O(1)"),
        ]),
];

const HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(ctx, HELP);
    Ok(())
}

/// The reply word and the count a (un)subscription reply carries.
fn names(kind: Kind, subscribe: bool) -> &'static [u8] {
    match (kind, subscribe) {
        (Kind::Channel, true) => b"subscribe",
        (Kind::Channel, false) => b"unsubscribe",
        (Kind::Pattern, true) => b"psubscribe",
        (Kind::Pattern, false) => b"punsubscribe",
        (Kind::Shard, true) => b"ssubscribe",
        (Kind::Shard, false) => b"sunsubscribe",
    }
}

fn count(ctx: &Ctx, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => ctx.client.ssubs.len() as i64,
        _ => ctx.client.sub_count(),
    }
}

fn set_of<'a>(ctx: &'a mut Ctx, kind: Kind) -> &'a mut ahash::AHashSet<Bytes> {
    match kind {
        Kind::Channel => &mut ctx.client.subs,
        Kind::Pattern => &mut ctx.client.psubs,
        Kind::Shard => &mut ctx.client.ssubs,
    }
}

/// Subscribed clients use the pubsub output-buffer class and CLIENT LIST type.
fn update_kind(ctx: &mut Ctx) {
    let c = &mut *ctx.client;
    match (c.kind, c.in_pubsub()) {
        (ClientKind::Normal, true) => c.kind = ClientKind::Pubsub,
        (ClientKind::Pubsub, false) => c.kind = ClientKind::Normal,
        _ => {}
    }
}

fn do_subscribe(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let slot = ctx.client.slot;
    for name in &ctx.args[1..] {
        if set_of(ctx, kind).insert(name.clone()) {
            ctx.srv.pubsub.add(kind, name, slot);
        }
        let n = count(ctx, kind);
        let resp3 = ctx.resp3();
        write_frame(
            &mut ctx.client.out,
            resp3,
            &[
                Part::Bulk(names(kind, true)),
                Part::Bulk(name),
                Part::Int(n),
            ],
        );
    }
    update_kind(ctx);
    Ok(())
}

fn do_unsubscribe(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let slot = ctx.client.slot;
    let resp3 = ctx.resp3();
    let targets: Vec<Bytes> = if ctx.args.len() > 1 {
        ctx.args[1..].to_vec()
    } else {
        set_of(ctx, kind).iter().cloned().collect()
    };
    if targets.is_empty() {
        let n = count(ctx, kind);
        write_frame(
            &mut ctx.client.out,
            resp3,
            &[Part::Bulk(names(kind, false)), Part::Null, Part::Int(n)],
        );
    }
    for name in targets {
        if set_of(ctx, kind).remove(&name) {
            ctx.srv.pubsub.remove(kind, &name, slot);
        }
        let n = count(ctx, kind);
        write_frame(
            &mut ctx.client.out,
            resp3,
            &[
                Part::Bulk(names(kind, false)),
                Part::Bulk(&name),
                Part::Int(n),
            ],
        );
    }
    update_kind(ctx);
    Ok(())
}

fn subscribe(ctx: &mut Ctx) -> CmdResult {
    do_subscribe(ctx, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx) -> CmdResult {
    do_subscribe(ctx, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx) -> CmdResult {
    do_subscribe(ctx, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx) -> CmdResult {
    do_unsubscribe(ctx, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx) -> CmdResult {
    do_unsubscribe(ctx, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx) -> CmdResult {
    do_unsubscribe(ctx, Kind::Shard)
}

fn publish(ctx: &mut Ctx) -> CmdResult {
    let n = pubsub::publish(ctx.srv, Some(ctx.client), &ctx.args[1], &ctx.args[2]);
    // Replicas deliver it to their own subscribers (Redis 7.0 propagates it).
    ctx.force_propagation();
    ctx.int(n);
    Ok(())
}

fn spublish(ctx: &mut Ctx) -> CmdResult {
    let n = pubsub::spublish(ctx.srv, Some(ctx.client), &ctx.args[1], &ctx.args[2]);
    // Replicas deliver it to their own subscribers (Redis 7.0 propagates it).
    ctx.force_propagation();
    ctx.int(n);
    Ok(())
}

fn list_matching(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let pattern = ctx.args.get(2).cloned();
    let map = match kind {
        Kind::Shard => &ctx.srv.pubsub.shard_channels,
        _ => &ctx.srv.pubsub.channels,
    };
    let found: Vec<Bytes> = map
        .keys()
        .filter(|ch| pattern.as_ref().is_none_or(|p| glob_match(p, ch, false)))
        .cloned()
        .collect();
    ctx.array(found.len());
    for ch in found {
        ctx.bulk(&ch);
    }
    Ok(())
}

fn channels(ctx: &mut Ctx) -> CmdResult {
    list_matching(ctx, Kind::Channel)
}

fn shardchannels(ctx: &mut Ctx) -> CmdResult {
    list_matching(ctx, Kind::Shard)
}

fn count_subscribers(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let args = ctx.args;
    ctx.array((args.len() - 2) * 2);
    for ch in &args[2..] {
        let map = match kind {
            Kind::Shard => &ctx.srv.pubsub.shard_channels,
            _ => &ctx.srv.pubsub.channels,
        };
        let n = map.get(&ch[..]).map_or(0, |v| v.len());
        ctx.bulk(ch);
        ctx.int(n as i64);
    }
    Ok(())
}

fn numsub(ctx: &mut Ctx) -> CmdResult {
    count_subscribers(ctx, Kind::Channel)
}

fn shardnumsub(ctx: &mut Ctx) -> CmdResult {
    count_subscribers(ctx, Kind::Shard)
}

fn numpat(ctx: &mut Ctx) -> CmdResult {
    ctx.int(ctx.srv.pubsub.patterns.len() as i64);
    Ok(())
}
