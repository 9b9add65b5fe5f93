//! INFO field names compared with a real redis-server (7.0 installed here):
//! after the same commands on both, every section must hold the same field
//! names, except the fields Redis 7.2 added (handoff targets 7.2), listed
//! explicitly below.

mod common;

use std::collections::BTreeSet;

use common::{call, ExternalServer, TestServer};
use handoff::protocol::{Connection, Frame};
use handoff_server::config::EnableMode;

/// Fields Redis 7.2 prints that 7.0 does not.
const ADDED_IN_7_2: &[&str] = &[
    "listener0",
    "pubsub_clients",
    "watching_clients",
    "total_watched_keys",
    "total_blocking_keys",
    "total_blocking_keys_on_nokey",
    "client_query_buffer_limit_disconnections",
    "client_output_buffer_limit_disconnections",
    "eventloop_cycles",
    "eventloop_duration_sum",
    "eventloop_duration_cmd_sum",
    "instantaneous_eventloop_cycles_per_sec",
    "instantaneous_eventloop_duration_usec",
    "acl_access_denied_auth",
    "acl_access_denied_cmd",
    "acl_access_denied_key",
    "acl_access_denied_channel",
];

/// INFO fields that are not Redis 7's: Valkey 8.1's pause fields and
/// handoff's switchover counters.
const NOT_IN_REDIS: &[&str] = &[
    "paused_reason",
    "paused_actions",
    "paused_timeout_milliseconds",
    "failovers",
    "held_commands",
    "redirected_commands",
    "maint_notifications_clients",
    "maint_moving_sent",
    "maint_moved_closed",
    "maint_incoming_held_cmds",
    "maint_seq",
];

const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("INFO reply: {other:?}"),
    }
}

/// The same workload on both servers, so per-command and per-error lines match.
fn workload(c: &mut Connection) {
    call(c, &["PING"]);
    call(c, &["DEBUG", "POPULATE", "10"]);
    assert!(matches!(call(c, &["NOSUCHCOMMAND"]), Frame::Error(_)));
    call(c, &["CONFIG", "GET", "hz"]);
}

fn fields(c: &mut Connection, section: &str) -> (Vec<String>, BTreeSet<String>) {
    let t = text(call(c, &["INFO", section]));
    let headers = t
        .split("\r\n")
        .filter_map(|l| l.strip_prefix("# "))
        .map(String::from)
        .collect();
    let names = t
        .split("\r\n")
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, _)| k.to_string())
        .collect();
    (headers, names)
}

#[test]
fn info_sections_have_the_field_names_of_redis() {
    let Some(redis) = ExternalServer::start("redis-server", &["--enable-debug-command", "yes"])
    else {
        return;
    };
    let server = TestServer::with(|c| c.enable_debug_command = EnableMode::Yes);
    let mut ours = server.connect();
    let mut theirs = redis.connect();
    workload(&mut ours);
    workload(&mut theirs);

    let mut problems = Vec::new();
    for section in SECTIONS {
        let (our_headers, our_fields) = fields(&mut ours, section);
        let (their_headers, their_fields) = fields(&mut theirs, section);
        if our_headers != their_headers {
            problems.push(format!(
                "{section}: headers {our_headers:?} vs redis {their_headers:?}"
            ));
        }
        let missing: Vec<_> = their_fields.difference(&our_fields).collect();
        let extra: Vec<_> = our_fields
            .difference(&their_fields)
            .filter(|f| !ADDED_IN_7_2.contains(&f.as_str()) && !NOT_IN_REDIS.contains(&f.as_str()))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("{section}: missing {missing:?}"));
        }
        if !extra.is_empty() {
            problems.push(format!("{section}: not in redis {extra:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "INFO differs from redis-server:\n{}",
        problems.join("\n")
    );

    let (all_ours, _) = fields(&mut ours, "everything");
    let (all_theirs, _) = fields(&mut theirs, "everything");
    assert_eq!(
        all_ours, all_theirs,
        "INFO everything prints the same sections in the same order"
    );
    let (default_ours, _) = fields(&mut ours, "default");
    let (default_theirs, _) = fields(&mut theirs, "default");
    assert_eq!(default_ours, default_theirs);
}
