//! Introspection and server commands over real sockets: INFO, CONFIG,
//! COMMAND, SLOWLOG, DEBUG, TIME, LASTSAVE, SHUTDOWN, MEMORY — in RESP2 and,
//! where replies differ, RESP3.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::{Connection, Frame};
use handoff_server::config::EnableMode;

fn debug_server() -> TestServer {
    TestServer::with(|c| c.enable_debug_command = EnableMode::Yes)
}

fn info_text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        Frame::Verbatim { format, text } => {
            assert_eq!(&format[..], b"txt");
            String::from_utf8(text.to_vec()).unwrap()
        }
        other => panic!("INFO reply is not text: {other:?}"),
    }
}

/// Section name -> (field -> value), in the order sections appear.
fn parse_info(text: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for line in text.split("\r\n") {
        if let Some(name) = line.strip_prefix("# ") {
            out.push((name.to_string(), BTreeMap::new()));
        } else if let Some((k, v)) = line.split_once(':') {
            out.last_mut()
                .expect("a field belongs to a section")
                .1
                .insert(k.into(), v.into());
        } else {
            assert!(line.is_empty(), "unexpected INFO line {line:?}");
        }
    }
    out
}

fn info(c: &mut Connection, args: &[&str]) -> Vec<(String, BTreeMap<String, String>)> {
    let mut cmd = vec!["INFO"];
    cmd.extend_from_slice(args);
    parse_info(&info_text(call(c, &cmd)))
}

fn section_names(s: &[(String, BTreeMap<String, String>)]) -> Vec<&str> {
    s.iter().map(|(n, _)| n.as_str()).collect()
}

fn field<'a>(s: &'a [(String, BTreeMap<String, String>)], section: &str, name: &str) -> &'a str {
    let (_, fields) = s
        .iter()
        .find(|(n, _)| n == section)
        .unwrap_or_else(|| panic!("no section {section}"));
    fields
        .get(name)
        .unwrap_or_else(|| panic!("no field {name} in {section}"))
}

fn array(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

fn strings(frames: Vec<Frame>) -> BTreeSet<String> {
    frames
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("expected a bulk string, got {other:?}"),
        })
        .collect()
}

fn set_of(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn hello3(c: &mut Connection) {
    assert!(matches!(call(c, &["HELLO", "3"]), Frame::Map(_)));
}

// ---------------------------------------------------------------- INFO

#[test]
fn info_without_arguments_prints_the_default_sections_in_redis_order() {
    let server = TestServer::start();
    let mut c = server.connect();
    let s = info(&mut c, &[]);
    assert_eq!(
        section_names(&s),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert_eq!(
        section_names(&info(&mut c, &["default"])),
        section_names(&s)
    );
}

#[test]
fn info_all_and_everything_add_commandstats_and_latencystats() {
    let server = TestServer::start();
    let mut c = server.connect();
    let expected = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Commandstats",
        "Errorstats",
        "Latencystats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(section_names(&info(&mut c, &["all"])), expected);
    assert_eq!(section_names(&info(&mut c, &["EVERYTHING"])), expected);
}

#[test]
fn info_with_several_sections_prints_them_in_fixed_order_and_ignores_unknown_ones() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        section_names(&info(&mut c, &["keyspace", "CPU", "nosuch"])),
        ["CPU", "Keyspace"]
    );
    assert_eq!(call(&mut c, &["INFO", "nosuch"]), bulk(""));
    let text = info_text(call(&mut c, &["INFO", "cpu", "modules"]));
    assert!(text.starts_with("# CPU\r\nused_cpu_sys:"), "{text:?}");
    assert!(text.ends_with("\r\n\r\n# Modules\r\n"), "{text:?}");
}

#[test]
fn info_is_verbatim_text_in_resp3() {
    let server = TestServer::start();
    let mut c = server.connect();
    hello3(&mut c);
    match call(&mut c, &["INFO", "server"]) {
        Frame::Verbatim { format, text } => {
            assert_eq!(&format[..], b"txt");
            assert!(text.starts_with(b"# Server\r\nredis_version:"));
        }
        other => panic!("expected verbatim text, got {other:?}"),
    }
}

#[test]
fn info_server_reports_the_process_and_listener() {
    let server = TestServer::start();
    let mut c = server.connect();
    let s = info(&mut c, &["server"]);
    assert_eq!(
        field(&s, "Server", "redis_version"),
        handoff_server::config::REDIS_VERSION
    );
    assert_eq!(field(&s, "Server", "redis_mode"), "standalone");
    assert_eq!(field(&s, "Server", "multiplexing_api"), "epoll");
    assert_eq!(field(&s, "Server", "arch_bits"), "64");
    assert_eq!(
        field(&s, "Server", "process_id"),
        std::process::id().to_string()
    );
    assert_eq!(
        field(&s, "Server", "tcp_port"),
        server.addr().port().to_string()
    );
    assert_eq!(field(&s, "Server", "hz"), "10");
    assert_eq!(field(&s, "Server", "run_id").len(), 40);
    assert!(field(&s, "Server", "os").starts_with("Linux"));
    assert_eq!(field(&s, "Server", "config_file"), "");
    assert_eq!(
        field(&s, "Server", "listener0"),
        format!("name=tcp,bind=127.0.0.1,port={}", server.addr().port())
    );
}

#[test]
fn info_counts_clients_keys_hits_and_misses() {
    let server = debug_server();
    let mut c = server.connect();
    let mut other = server.connect();
    call(&mut other, &["PING"]);
    assert_eq!(call(&mut c, &["DEBUG", "POPULATE", "3"]), simple("OK"));
    call(&mut c, &["SELECT", "2"]);
    assert_eq!(call(&mut c, &["DEBUG", "POPULATE", "1"]), simple("OK"));
    let s = info(&mut c, &[]);
    assert_eq!(field(&s, "Clients", "connected_clients"), "2");
    assert_eq!(field(&s, "Clients", "maxclients"), "10000");
    assert_eq!(field(&s, "Keyspace", "db0"), "keys=3,expires=0,avg_ttl=0");
    assert_eq!(field(&s, "Keyspace", "db2"), "keys=1,expires=0,avg_ttl=0");
    assert_eq!(field(&s, "Replication", "role"), "master");
    assert_eq!(field(&s, "Replication", "master_replid").len(), 40);
    let before: u64 = field(&s, "Stats", "keyspace_misses").parse().unwrap();
    call(&mut c, &["DEBUG", "OBJECT", "nosuchkey"]);
    call(&mut c, &["DEBUG", "OBJECT", "key:0"]);
    let s = info(&mut c, &["stats"]);
    assert_eq!(
        field(&s, "Stats", "keyspace_misses")
            .parse::<u64>()
            .unwrap(),
        before + 1
    );
    assert_eq!(field(&s, "Stats", "keyspace_hits"), "1");
}

#[test]
fn info_memory_reports_a_growing_estimate_and_the_real_rss() {
    let server = debug_server();
    let mut c = server.connect();
    let s = info(&mut c, &["memory"]);
    let used0: u64 = field(&s, "Memory", "used_memory").parse().unwrap();
    let rss: u64 = field(&s, "Memory", "used_memory_rss").parse().unwrap();
    assert!(rss > 1_000_000, "rss {rss}");
    call(&mut c, &["DEBUG", "POPULATE", "1000", "k", "100"]);
    let s = info(&mut c, &["memory"]);
    let used1: u64 = field(&s, "Memory", "used_memory").parse().unwrap();
    assert!(used1 >= used0 + 100_000, "{used0} -> {used1}");
    let peak: u64 = field(&s, "Memory", "used_memory_peak").parse().unwrap();
    assert!(peak >= used1);
    assert!(
        field(&s, "Memory", "used_memory_human").ends_with('K')
            || field(&s, "Memory", "used_memory_human").ends_with('M')
    );
    assert_eq!(field(&s, "Memory", "maxmemory_policy"), "noeviction");
}

#[test]
fn info_commandstats_and_errorstats_count_calls_and_errors() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["PING"]);
    call(&mut c, &["PING"]);
    assert!(matches!(call(&mut c, &["NOSUCHCOMMAND"]), Frame::Error(_)));
    assert!(matches!(call(&mut c, &["CONFIG", "GET"]), Frame::Error(_)));
    assert!(matches!(
        call(&mut c, &["CONFIG", "SET", "hz", "abc"]),
        Frame::Error(_)
    ));
    let s = info(&mut c, &["commandstats", "errorstats"]);
    let ping = field(&s, "Commandstats", "cmdstat_ping");
    assert!(ping.starts_with("calls=2,usec="), "{ping}");
    assert!(ping.ends_with(",rejected_calls=0,failed_calls=0"), "{ping}");
    assert!(field(&s, "Commandstats", "cmdstat_config|get")
        .ends_with("rejected_calls=1,failed_calls=0"));
    let set = field(&s, "Commandstats", "cmdstat_config|set");
    assert!(
        set.starts_with("calls=1,") && set.ends_with("rejected_calls=0,failed_calls=1"),
        "{set}"
    );
    assert_eq!(field(&s, "Errorstats", "errorstat_ERR"), "count=3");
}

#[test]
fn info_debug_reports_the_longest_event_loop_cycle_until_config_resetstat() {
    let server = debug_server();
    let mut c = server.connect();
    assert!(
        !section_names(&info(&mut c, &["all"])).contains(&"Debug"),
        "INFO all leaves the debug section out, as Redis 7.2"
    );
    call(&mut c, &["CONFIG", "RESETSTAT"]);
    // DEBUG SLEEP blocks the loop: that cycle is the longest, and a command.
    assert_eq!(call(&mut c, &["DEBUG", "SLEEP", "0.05"]), simple("OK"));
    let s = info(&mut c, &["debug", "stats"]);
    assert_eq!(section_names(&s), ["Stats", "Debug"]);
    let num = |section: &str, name: &str| -> u64 { field(&s, section, name).parse().unwrap() };
    let max = num("Debug", "eventloop_duration_max");
    assert!((50_000..5_000_000).contains(&max), "{max}");
    assert!(num("Debug", "eventloop_cmd_per_cycle_max") >= 1);
    assert!(num("Stats", "eventloop_cycles") >= 1);
    assert!(num("Stats", "eventloop_duration_sum") >= max);
    assert!(num("Stats", "eventloop_duration_cmd_sum") >= 50_000);
    assert_eq!(num("Debug", "eventloop_duration_aof_sum"), 0);

    call(&mut c, &["CONFIG", "RESETSTAT"]);
    let s = info(&mut c, &["debug"]);
    let max: u64 = field(&s, "Debug", "eventloop_duration_max")
        .parse()
        .unwrap();
    assert!(max < 50_000, "reset by CONFIG RESETSTAT: {max}");
}

// ---------------------------------------------------------------- CONFIG

#[test]
fn config_get_takes_several_patterns_and_replies_with_a_flat_array_in_resp2() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "maxmemory", "hz"]),
        Frame::Array(vec![bulk("hz"), bulk("10"), bulk("maxmemory"), bulk("0")])
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "nosuch"]),
        Frame::Array(vec![])
    );
    let all = array(call(&mut c, &["CONFIG", "GET", "*"]));
    assert!(all.len() > 40 && all.len() & 1 == 0);
}

#[test]
fn config_get_is_a_map_in_resp3() {
    let server = TestServer::start();
    let mut c = server.connect();
    hello3(&mut c);
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "hz"]),
        Frame::Map(vec![(bulk("hz"), bulk("10"))])
    );
}

#[test]
fn config_set_changes_several_settings_at_once_or_none() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hz", "20", "maxclients", "100"]),
        simple("OK")
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "hz", "maxclients"]),
        Frame::Array(vec![
            bulk("hz"),
            bulk("20"),
            bulk("maxclients"),
            bulk("100")
        ])
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hz", "30", "maxclients", "abc"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer")
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "hz"]),
        Frame::Array(vec![bulk("hz"), bulk("20")])
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hz", "20", "maxclients"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "databases", "3"]),
        err("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config")
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "nosuch", "3"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hz", "10", "hz", "11"]),
        err("ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter")
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hz"]),
        err("ERR wrong number of arguments for 'config|set' command")
    );
}

#[test]
fn config_set_maxclients_applies_to_the_next_connection() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "maxclients", "1"]),
        simple("OK")
    );
    let mut other = server.connect();
    assert_eq!(
        other.read_frame().unwrap(),
        err("ERR max number of clients reached")
    );
}

#[test]
fn config_resetstat_clears_counters() {
    let server = debug_server();
    let mut c = server.connect();
    call(&mut c, &["DEBUG", "OBJECT", "nosuch"]);
    call(&mut c, &["PING"]);
    assert_eq!(call(&mut c, &["CONFIG", "RESETSTAT"]), simple("OK"));
    let s = info(&mut c, &["stats", "commandstats", "errorstats"]);
    assert_eq!(field(&s, "Stats", "keyspace_misses"), "0");
    assert_eq!(field(&s, "Stats", "total_error_replies"), "0");
    // CONFIG RESETSTAT itself was counted after the reset.
    assert_eq!(field(&s, "Stats", "total_commands_processed"), "1");
    let (_, cmds) = s.iter().find(|(n, _)| n == "Commandstats").unwrap();
    assert_eq!(
        cmds.keys().collect::<Vec<_>>(),
        ["cmdstat_config|resetstat"]
    );
    assert!(cmds["cmdstat_config|resetstat"].ends_with("failed_calls=0"));
    let (_, errs) = s.iter().find(|(n, _)| n == "Errorstats").unwrap();
    assert!(errs.is_empty());
}

#[test]
fn config_rewrite_without_a_config_file_is_an_error() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
}

#[test]
fn config_rewrite_writes_changed_settings_to_the_file() {
    let dir = std::env::temp_dir().join(format!(
        "handoff-rewrite-{}-{}",
        std::process::id(),
        common::free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("redis.conf");
    std::fs::write(&path, "# my settings\nhz 15\n").unwrap();
    let p = path.clone();
    let server = TestServer::with(move |c| {
        c.config_file = Some(p);
        c.hz = 15;
    });
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hz", "25", "maxclients", "321"]),
        simple("OK")
    );
    assert_eq!(call(&mut c, &["CONFIG", "REWRITE"]), simple("OK"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# my settings"), "{text}");
    assert!(text.contains("hz 25"), "{text}");
    assert!(text.contains("maxclients 321"), "{text}");
    let s = info(&mut c, &["server"]);
    assert_eq!(
        field(&s, "Server", "config_file"),
        path.display().to_string()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_help_lists_the_subcommands() {
    let server = TestServer::start();
    let mut c = server.connect();
    let lines = array(call(&mut c, &["CONFIG", "HELP"]));
    assert_eq!(lines.len(), 11);
    assert_eq!(
        lines[0],
        simple("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert_eq!(
        call(&mut c, &["CONFIG"]),
        err("ERR wrong number of arguments for 'config' command")
    );
}

// ---------------------------------------------------------------- COMMAND

fn info_entry(c: &mut Connection, name: &str) -> Vec<Frame> {
    let mut v = array(call(c, &["COMMAND", "INFO", name]));
    array(v.remove(0))
}

#[test]
fn command_info_has_the_redis_7_layout() {
    let server = TestServer::start();
    let mut c = server.connect();
    let e = info_entry(&mut c, "memory|usage");
    assert_eq!(e.len(), 10);
    assert_eq!(e[0], bulk("memory|usage"));
    assert_eq!(e[1], Frame::Integer(-3));
    assert_eq!(e[2], Frame::Array(vec![simple("readonly")]));
    assert_eq!(
        e[3..6],
        [Frame::Integer(2), Frame::Integer(2), Frame::Integer(1)]
    );
    assert_eq!(e[6], Frame::Array(vec![simple("@read"), simple("@slow")]));
    assert_eq!(e[7], Frame::Array(vec![]));
    let specs = array(e[8].clone());
    assert_eq!(specs.len(), 1);
    let spec = array(specs[0].clone());
    assert_eq!(spec[0], bulk("flags"));
    assert_eq!(spec[1], Frame::Array(vec![simple("RO")]));
    assert_eq!(spec[2], bulk("begin_search"));
    assert_eq!(
        spec[3],
        Frame::Array(vec![
            bulk("type"),
            bulk("index"),
            bulk("spec"),
            Frame::Array(vec![bulk("index"), Frame::Integer(2)])
        ])
    );
    assert_eq!(e[9], Frame::Array(vec![]));

    let time = info_entry(&mut c, "time");
    assert_eq!(time[7], Frame::Array(vec![bulk("nondeterministic_output")]));
    assert_eq!(time[8], Frame::Array(vec![]));

    let slowlog = info_entry(&mut c, "slowlog");
    let subs = array(slowlog[9].clone());
    let names = strings(subs.into_iter().map(|s| array(s).remove(0)).collect());
    assert_eq!(
        names,
        set_of(&[
            "slowlog|get",
            "slowlog|help",
            "slowlog|len",
            "slowlog|reset"
        ])
    );
}

#[test]
fn command_info_uses_sets_in_resp3_and_null_for_unknown_commands() {
    let server = TestServer::start();
    let mut c = server.connect();
    let reply = array(call(&mut c, &["COMMAND", "INFO", "nosuch", "ping"]));
    assert_eq!(reply[0], Frame::NullBulk);
    hello3(&mut c);
    let reply = array(call(&mut c, &["COMMAND", "INFO", "nosuch", "ping"]));
    assert_eq!(reply[0], Frame::Null);
    let ping = array(reply[1].clone());
    assert_eq!(ping[2], Frame::Set(vec![simple("fast")]));
    assert_eq!(
        ping[6],
        Frame::Set(vec![simple("@fast"), simple("@connection")])
    );
    assert!(matches!(ping[7], Frame::Set(_)));
    assert_eq!(ping[8], Frame::Set(vec![]));
    assert_eq!(ping[9], Frame::Set(vec![]));
}

#[test]
fn command_alone_and_command_info_without_names_describe_every_command() {
    let server = TestServer::start();
    let mut c = server.connect();
    let count = match call(&mut c, &["COMMAND", "COUNT"]) {
        Frame::Integer(n) => n as usize,
        other => panic!("{other:?}"),
    };
    assert_eq!(array(call(&mut c, &["COMMAND"])).len(), count);
    assert_eq!(array(call(&mut c, &["COMMAND", "INFO"])).len(), count);
}

#[test]
fn command_list_includes_subcommands_and_filters() {
    let server = TestServer::start();
    let mut c = server.connect();
    let all = array(call(&mut c, &["COMMAND", "LIST"]));
    assert!(all.contains(&bulk("config|get")) && all.contains(&bulk("info")));
    let conf = strings(array(call(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONF*"],
    )));
    assert_eq!(
        conf,
        set_of(&[
            "config",
            "config|get",
            "config|help",
            "config|resetstat",
            "config|rewrite",
            "config|set"
        ])
    );
    let dangerous = array(call(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "dangerous"],
    ));
    assert!(dangerous.contains(&bulk("debug")) && !dangerous.contains(&bulk("ping")));
    assert_eq!(
        call(&mut c, &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        Frame::Array(vec![])
    );
    assert_eq!(
        call(&mut c, &["COMMAND", "LIST", "FILTERBY", "x", "y"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["COMMAND", "LIST", "x"]),
        err("ERR syntax error")
    );
}

#[test]
fn command_docs_describe_commands_and_their_subcommands() {
    let server = TestServer::start();
    let mut c = server.connect();
    let docs = array(call(
        &mut c,
        &["COMMAND", "DOCS", "lastsave", "nosuch", "slowlog"],
    ));
    assert_eq!(docs.len(), 4);
    assert_eq!(docs[0], bulk("lastsave"));
    let ls = array(docs[1].clone());
    assert_eq!(ls[0], bulk("summary"));
    assert_eq!(
        ls[2..8],
        [
            bulk("since"),
            bulk("1.0.0"),
            bulk("group"),
            bulk("server"),
            bulk("complexity"),
            bulk("O(1)")
        ]
    );
    let sl = array(docs[3].clone());
    assert_eq!(sl[8], bulk("subcommands"));
    assert_eq!(array(sl[9].clone()).len(), 8);
    hello3(&mut c);
    match call(&mut c, &["COMMAND", "DOCS", "time"]) {
        Frame::Map(m) => {
            assert_eq!(m[0].0, bulk("time"));
            assert!(matches!(m[0].1, Frame::Map(_)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_getkeys_extracts_keys_with_redis_errors() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["COMMAND", "GETKEYS", "memory", "usage", "k"]),
        Frame::Array(vec![bulk("k")])
    );
    assert_eq!(
        call(&mut c, &["COMMAND", "GETKEYS", "nosuch", "a"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        call(&mut c, &["COMMAND", "GETKEYS", "time", "a"]),
        err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        call(&mut c, &["COMMAND", "GETKEYS", "config", "get", "x"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        call(&mut c, &["COMMAND", "GETKEYS", "echo"]),
        err("ERR wrong number of arguments for 'command|getkeys' command")
    );
    assert_eq!(
        call(
            &mut c,
            &["COMMAND", "GETKEYSANDFLAGS", "memory", "usage", "k"]
        ),
        Frame::Array(vec![Frame::Array(vec![
            bulk("k"),
            Frame::Array(vec![simple("RO")])
        ])])
    );
}

#[test]
fn command_help_is_an_array_of_status_lines() {
    let server = TestServer::start();
    let mut c = server.connect();
    let lines = array(call(&mut c, &["COMMAND", "HELP"]));
    assert_eq!(lines.len(), 21);
    assert_eq!(
        lines[0],
        simple("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
}

// ---------------------------------------------------------------- SLOWLOG

#[test]
fn slowlog_records_commands_over_the_threshold_with_client_details() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        simple("OK")
    );
    call(&mut c, &["CLIENT", "SETNAME", "nm"]);
    call(&mut c, &["ECHO", "hello"]);
    let entries = array(call(&mut c, &["SLOWLOG", "GET", "2"]));
    assert_eq!(entries.len(), 2);
    let newest = array(entries[0].clone());
    assert_eq!(newest.len(), 6);
    assert!(matches!(newest[0], Frame::Integer(_)));
    let Frame::Integer(ts) = newest[1] else {
        panic!()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((ts - now).abs() < 5);
    assert!(matches!(newest[2], Frame::Integer(d) if d >= 0));
    assert_eq!(newest[3], Frame::Array(vec![bulk("ECHO"), bulk("hello")]));
    assert_eq!(newest[4], bulk(&c.local_addr().unwrap().to_string()));
    assert_eq!(newest[5], bulk("nm"));
    let older = array(entries[1].clone());
    assert_eq!(
        older[3],
        Frame::Array(vec![bulk("CLIENT"), bulk("SETNAME"), bulk("nm")])
    );
    // Recorded after running: the name it just set.
    assert_eq!(older[5], bulk("nm"));
}

#[test]
fn slowlog_get_count_len_and_reset() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    for _ in 0..12 {
        call(&mut c, &["PING"]);
    }
    assert_eq!(array(call(&mut c, &["SLOWLOG", "GET"])).len(), 10);
    let all = array(call(&mut c, &["SLOWLOG", "GET", "-1"])).len();
    assert!(all >= 13, "{all}");
    assert_eq!(
        call(&mut c, &["SLOWLOG", "GET", "-2"]),
        err("ERR count should be greater than or equal to -1")
    );
    assert_eq!(
        call(&mut c, &["SLOWLOG", "GET", "abc"]),
        err("ERR count should be greater than or equal to -1")
    );
    assert_eq!(
        call(&mut c, &["SLOWLOG", "GET", "1", "2"]),
        err("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
    );
    assert!(matches!(call(&mut c, &["SLOWLOG", "LEN"]), Frame::Integer(n) if n as usize >= all));
    assert_eq!(call(&mut c, &["SLOWLOG", "RESET"]), simple("OK"));
    // SLOWLOG RESET itself is logged after the reset.
    assert_eq!(call(&mut c, &["SLOWLOG", "LEN"]), Frame::Integer(1));
    assert_eq!(array(call(&mut c, &["SLOWLOG", "HELP"])).len(), 12);
}

#[test]
fn slowlog_ignores_commands_under_the_threshold() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(
        &mut c,
        &["CONFIG", "SET", "slowlog-log-slower-than", "100000000"],
    );
    call(&mut c, &["SLOWLOG", "RESET"]);
    call(&mut c, &["PING"]);
    assert_eq!(call(&mut c, &["SLOWLOG", "LEN"]), Frame::Integer(0));
}

// ---------------------------------------------------------------- DEBUG

#[test]
fn debug_is_refused_unless_enabled() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["DEBUG", "HELP"]),
        err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
    );
    let local = TestServer::with(|c| c.enable_debug_command = EnableMode::Local);
    let mut c = local.connect();
    assert_eq!(
        call(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]),
        simple("OK")
    );
}

#[test]
fn debug_object_describes_a_key_like_redis() {
    let server = debug_server();
    let mut c = server.connect();
    call(&mut c, &["DEBUG", "POPULATE", "1"]);
    let Frame::Simple(line) = call(&mut c, &["DEBUG", "OBJECT", "key:0"]) else {
        panic!()
    };
    let line = String::from_utf8(line.to_vec()).unwrap();
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words[0], "Value");
    assert!(words[1].starts_with("at:0x"), "{line}");
    assert_eq!(words[2], "refcount:1");
    assert_eq!(words[3], "encoding:embstr");
    assert_eq!(words[4], "serializedlength:8");
    assert!(words[5].starts_with("lru:"));
    assert!(words[6].starts_with("lru_seconds_idle:"));
    assert_eq!(
        call(&mut c, &["DEBUG", "OBJECT", "nokey"]),
        err("ERR no such key")
    );
}

#[test]
fn debug_populate_creates_keys_with_prefix_and_size_and_keeps_existing_ones() {
    let server = debug_server();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["DEBUG", "POPULATE", "5", "p", "20"]),
        simple("OK")
    );
    let s = info(&mut c, &["keyspace"]);
    assert_eq!(field(&s, "Keyspace", "db0"), "keys=5,expires=0,avg_ttl=0");
    assert_eq!(
        call(&mut c, &["MEMORY", "USAGE", "p:4"]),
        call(&mut c, &["MEMORY", "USAGE", "p:3"])
    );
    let d1 = call(&mut c, &["DEBUG", "DIGEST"]);
    assert_eq!(
        call(&mut c, &["DEBUG", "POPULATE", "5", "p", "30"]),
        simple("OK")
    );
    assert_eq!(
        call(&mut c, &["DEBUG", "DIGEST"]),
        d1,
        "existing keys are not overwritten"
    );
    assert_eq!(
        call(&mut c, &["DEBUG", "POPULATE", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        call(&mut c, &["DEBUG", "POPULATE", "x"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        call(&mut c, &["DEBUG", "POPULATE", "1", "p", "-1"]),
        err("ERR value is out of range, must be positive")
    );
}

#[test]
fn debug_digest_is_zero_when_empty_and_independent_of_insertion_order() {
    let a = debug_server();
    let b = debug_server();
    let mut ca = a.connect();
    let mut cb = b.connect();
    assert_eq!(
        call(&mut ca, &["DEBUG", "DIGEST"]),
        simple("0000000000000000000000000000000000000000")
    );
    call(&mut ca, &["DEBUG", "POPULATE", "50", "x"]);
    call(&mut ca, &["DEBUG", "POPULATE", "50", "y"]);
    call(&mut cb, &["DEBUG", "POPULATE", "50", "y"]);
    call(&mut cb, &["DEBUG", "POPULATE", "50", "x"]);
    let da = call(&mut ca, &["DEBUG", "DIGEST"]);
    assert_eq!(da, call(&mut cb, &["DEBUG", "DIGEST"]));
    assert_ne!(da, simple("0000000000000000000000000000000000000000"));
    call(&mut cb, &["DEBUG", "POPULATE", "1", "z"]);
    assert_ne!(da, call(&mut cb, &["DEBUG", "DIGEST"]));

    let values = array(call(
        &mut ca,
        &["DEBUG", "DIGEST-VALUE", "x:1", "nokey", "x:2"],
    ));
    assert_eq!(
        values[1],
        simple("0000000000000000000000000000000000000000")
    );
    assert_ne!(values[0], values[2], "different values, different digests");
    assert_eq!(
        values[0],
        array(call(&mut cb, &["DEBUG", "DIGEST-VALUE", "x:1"]))[0]
    );
}

#[test]
fn debug_sleep_blocks_the_server_for_the_given_seconds() {
    let server = debug_server();
    let mut c = server.connect();
    let t = Instant::now();
    assert_eq!(call(&mut c, &["DEBUG", "SLEEP", "0.2"]), simple("OK"));
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert_eq!(call(&mut c, &["DEBUG", "SLEEP", "abc"]), simple("OK"));
    assert_eq!(call(&mut c, &["DEBUG", "SLEEP", "0"]), simple("OK"));
}

#[test]
fn debug_error_help_and_unknown_subcommands() {
    let server = debug_server();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["DEBUG", "ERROR", "MYERR custom"]),
        err("MYERR custom")
    );
    assert_eq!(
        call(&mut c, &["DEBUG", "nosuch"]),
        err("ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP.")
    );
    let help = array(call(&mut c, &["DEBUG", "HELP"]));
    assert!(help.contains(&simple("SET-ACTIVE-EXPIRE <0|1>")));
    assert_eq!(
        call(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        simple("OK")
    );
}

// ---------------------------------------------------------------- server commands

#[test]
fn time_returns_seconds_and_microseconds_as_bulk_strings() {
    let server = TestServer::start();
    let mut c = server.connect();
    let v = array(call(&mut c, &["TIME"]));
    assert_eq!(v.len(), 2);
    let num = |f: &Frame| match f {
        Frame::Bulk(b) => std::str::from_utf8(b).unwrap().parse::<i64>().unwrap(),
        other => panic!("{other:?}"),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((num(&v[0]) - now).abs() < 5);
    assert!((0..1_000_000).contains(&num(&v[1])));
    assert_eq!(
        call(&mut c, &["TIME", "x"]),
        err("ERR wrong number of arguments for 'time' command")
    );
}

#[test]
fn lastsave_is_the_start_time_before_any_save() {
    let server = TestServer::start();
    let mut c = server.connect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(matches!(call(&mut c, &["LASTSAVE"]), Frame::Integer(t) if (t - now).abs() < 5));
}

#[test]
fn shutdown_options_are_validated() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    assert_eq!(
        call(&mut c, &["SHUTDOWN", "ABORT", "NOW"]),
        err("ERR syntax error")
    );
    assert_eq!(
        call(&mut c, &["SHUTDOWN", "SAVE", "NOSAVE"]),
        err("ERR syntax error")
    );
    assert_eq!(call(&mut c, &["SHUTDOWN", "xx"]), err("ERR syntax error"));
    assert_eq!(
        call(&mut c, &["SHUTDOWN", "SAVE"]),
        err("ERR Errors trying to SHUTDOWN. Check logs.")
    );
    assert_eq!(call(&mut c, &["PING"]), simple("PONG"));
}

#[test]
fn shutdown_nosave_stops_the_server_and_closes_connections() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    c.flush().unwrap();
    assert!(
        c.read_frame().is_err(),
        "the connection is closed without a reply"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while Connection::connect(server.addr()).is_ok() {
        assert!(
            Instant::now() < deadline,
            "server still accepts connections"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn shutdown_save_force_exits_even_though_saving_is_unavailable() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.send(&["SHUTDOWN", "SAVE", "FORCE"]).unwrap();
    c.flush().unwrap();
    assert!(c.read_frame().is_err());
}

#[test]
fn memory_usage_estimates_key_size_and_validates_options() {
    let server = debug_server();
    let mut c = server.connect();
    call(&mut c, &["DEBUG", "POPULATE", "1", "small"]);
    call(&mut c, &["DEBUG", "POPULATE", "1", "big", "10000"]);
    let Frame::Integer(small) = call(&mut c, &["MEMORY", "USAGE", "small:0"]) else {
        panic!()
    };
    let Frame::Integer(big) = call(&mut c, &["MEMORY", "USAGE", "big:0", "SAMPLES", "0"]) else {
        panic!()
    };
    assert!(small > 7 && small < 200, "{small}");
    assert!((10_000..11_000).contains(&big), "{big}");
    assert_eq!(call(&mut c, &["MEMORY", "USAGE", "nokey"]), Frame::NullBulk);
    assert_eq!(
        call(&mut c, &["MEMORY", "USAGE", "big:0", "SAMPLES", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, &["MEMORY", "USAGE", "big:0", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(array(call(&mut c, &["MEMORY", "HELP"])).len(), 14);
    assert_eq!(call(&mut c, &["MEMORY", "PURGE"]), simple("OK"));
    match call(&mut c, &["MEMORY", "DOCTOR"]) {
        Frame::Bulk(b) => assert!(b.starts_with(b"Hi Sam")),
        other => panic!("{other:?}"),
    }
    let stats = array(call(&mut c, &["MEMORY", "STATS"]));
    assert_eq!(stats[0], bulk("peak.allocated"));
    assert!(stats.contains(&bulk("keys.count")) && stats.contains(&bulk("db.0")));
}
