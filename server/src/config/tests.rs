//! Tests of the public API against texts taken from redis-server 7.0.15.

use super::*;

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn fatal(v: &[&str]) -> String {
    load(&args(v)).unwrap_err().fatal_block()
}

fn block(line: usize, text: &str, msg: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
         Reading the configuration file, at line {line}\n>>> '{text}'\n{msg}\n"
    )
}

fn set(c: &mut Config, kv: &[&str]) -> Result<Vec<&'static str>, String> {
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = kv
        .chunks(2)
        .map(|p| (p[0].as_bytes().to_vec(), p[1].as_bytes().to_vec()))
        .collect();
    c.set_many(&pairs)
}

fn get(c: &Config, pat: &str) -> Vec<(String, String)> {
    c.get_matching(&[pat.as_bytes()])
}

#[test]
fn bad_command_line_values_produce_redis_fatal_blocks() {
    assert_eq!(
        fatal(&["--port", "abc"]),
        block(
            2,
            "port \"abc\"",
            "argument couldn't be parsed into an integer"
        )
    );
    assert_eq!(
        fatal(&["--maxmemory", "12x"]),
        block(2, "maxmemory \"12x\"", "argument must be a memory value")
    );
    assert_eq!(
        fatal(&["--foo", "bar"]),
        block(
            2,
            "foo \"bar\"",
            "Bad directive or wrong number of arguments"
        )
    );
    assert_eq!(
        fatal(&["--port", "0", "--loglevel", "x", "--daemonize", "maybe"]),
        block(
            3,
            "loglevel \"x\"",
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        )
    );
    assert_eq!(
        fatal(&["--port"]),
        block(2, "port", "wrong number of arguments")
    );
    assert_eq!(
        fatal(&["--slaveof", "a", "b"]),
        block(2, "slaveof \"a\" \"b\"", "Invalid master port")
    );
    assert_eq!(
        fatal(&["--client-output-buffer-limit", "foo", "1", "2", "3"]),
        block(
            2,
            "client-output-buffer-limit \"foo\" \"1\" \"2\" \"3\"",
            "Invalid client class specified in buffer limit configuration."
        )
    );
}

#[test]
fn bad_file_lines_report_the_file_line_number() {
    let e = parse_str("port 7001\n# c\n\nmaxmemory 12x\n").unwrap_err();
    assert_eq!(
        e.fatal_block(),
        block(4, "maxmemory 12x", "argument must be a memory value")
    );
    let e = parse_str("port 7001 7002").unwrap_err();
    assert_eq!(
        e.fatal_block(),
        block(1, "port 7001 7002", "wrong number of arguments")
    );
    let e = parse_str("  bind \"a  \n").unwrap_err();
    assert_eq!(
        e.fatal_block(),
        block(1, "bind \"a", "Unbalanced quotes in configuration line")
    );
}

#[test]
fn a_missing_config_file_is_reported_like_redis() {
    let e = load(&args(&["/nonexistent/handoff.conf"])).unwrap_err();
    assert_eq!(
        e.fatal_block(),
        "Fatal error, can't open config file '/nonexistent/handoff.conf': No such file or directory\n"
    );
}

#[test]
fn file_then_options_with_later_lines_winning() {
    let dir = std::env::temp_dir().join(format!("handoff-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inc = dir.join("inc.conf");
    std::fs::write(&inc, "maxmemory 2mb\nhz 1000\n").unwrap();
    let main = dir.join("main.conf");
    std::fs::write(
        &main,
        format!(
            "PORT 7000\ninclude {}\nsave 100 10\nsave 200 20\nport 7001\n",
            inc.display()
        ),
    )
    .unwrap();
    let (c, w) = load(&args(&[
        main.to_str().unwrap(),
        "--bind",
        "127.0.0.1",
        "-::1",
        "--maxmemory",
        "1kb",
    ]))
    .unwrap();
    assert_eq!(c.port, 7001);
    assert_eq!(c.maxmemory, 1024);
    assert_eq!(c.hz, 500);
    assert_eq!(c.save, vec![(100, 10), (200, 20)]);
    assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
    assert_eq!(c.config_file.as_deref(), Some(main.as_path()));
    assert!(w.is_empty());
    std::fs::write(&inc, "port abc\n").unwrap();
    let e = load(&args(&[main.to_str().unwrap()])).unwrap_err();
    assert_eq!(
        e.fatal_block(),
        block(1, "port abc", "argument couldn't be parsed into an integer")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn save_lines_reset_defaults_once_and_empty_save_clears() {
    assert_eq!(load(&args(&["--save"])).unwrap().0.save, vec![]);
    assert_eq!(load(&args(&["--save", ""])).unwrap().0.save, vec![]);
    assert_eq!(
        load(&args(&["--save", "10", "1", "--save", "20", "2"]))
            .unwrap()
            .0
            .save,
        vec![(10, 1), (20, 2)]
    );
    assert_eq!(parse_str("save\n").unwrap().0.save, vec![]);
    assert_eq!(
        parse_str("").unwrap().0.save,
        vec![(3600, 1), (300, 100), (60, 10000)]
    );
    assert_eq!(
        parse_str("save 1 1\nsave \"\"\nsave 2 2").unwrap().0.save,
        vec![(2, 2)]
    );
}

#[test]
fn a_save_value_of_several_words_in_one_argument_is_split_as_redis_does() {
    assert_eq!(
        load(&args(&["--save", "3600 1"])).unwrap().0.save,
        vec![(3600, 1)]
    );
    assert_eq!(
        parse_str("save \"3600 1 300 100\"\n").unwrap().0.save,
        vec![(3600, 1), (300, 100)]
    );
    assert!(load(&args(&["--save", "3600 1 5"])).is_err());
}

#[test]
fn output_buffer_limits_update_only_the_named_classes() {
    let (c, _) = parse_str("client-output-buffer-limit pubsub 1mb 2mb 3\n").unwrap();
    let p = c.client_output_buffer_limit[ClientClass::Pubsub as usize];
    assert_eq!((p.hard, p.soft, p.soft_seconds), (1 << 20, 2 << 20, 3));
    assert_eq!(
        c.client_output_buffer_limit[ClientClass::Replica as usize].hard,
        256 << 20
    );
}

#[test]
fn accepted_only_directives_warn_only_when_changed() {
    let (_, w) =
        parse_str("io-threads 4\nappendfsync everysec\nactivedefrag yes\nport 1\n").unwrap();
    assert_eq!(
        w,
        [
            "Directive 'activedefrag' is accepted for compatibility but has no effect in handoff",
            "Directive 'io-threads' is accepted for compatibility but has no effect in handoff",
        ]
    );
}

#[test]
fn file_only_directives_are_recorded() {
    let (c, w) = parse_str(
        "rename-command FLUSHALL \"\"\nuser alice on >pw ~* +@all\nlua-replicate-commands yes\n",
    )
    .unwrap();
    assert_eq!(c.rename_commands, [("FLUSHALL".to_string(), String::new())]);
    assert_eq!(c.users, [args(&["alice", "on", ">pw", "~*", "+@all"])]);
    assert!(w.is_empty());
    assert!(parse_str("rename-command a").is_err());
    assert!(parse_str("user").is_err());
}

#[test]
fn config_set_errors_match_redis() {
    let mut c = Config::default();
    assert_eq!(
        set(&mut c, &["foo", "bar"]).unwrap_err(),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        set(&mut c, &["daemonize", "yes"]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
    assert_eq!(
        set(&mut c, &["maxmemory", "12x"]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        set(&mut c, &["maxmemory", "1mb", "MAXMEMORY", "2mb"]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"
    );
    assert_eq!(
        set(&mut c, &["dir", "/tmp"]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
    );
    assert_eq!(
        set(&mut c, &["maxmemory-policy", "bad"]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
}

#[test]
fn config_set_is_all_or_nothing() {
    let mut c = Config::default();
    let before = c.clone();
    assert!(set(&mut c, &["maxmemory", "1mb", "port", "abc"]).is_err());
    assert_eq!(c, before);
    assert_eq!(
        set(&mut c, &["maxmemory", "1mb", "slave-read-only", "no"]).unwrap(),
        ["maxmemory", "replica-read-only"]
    );
    assert_eq!(c.maxmemory, 1 << 20);
    assert!(!c.replica_read_only);
}

#[test]
fn config_set_splits_multi_arg_values() {
    let mut c = Config::default();
    set(&mut c, &["save", "10 1 20 2", "bind", "127.0.0.1 -::1"]).unwrap();
    assert_eq!(c.save, vec![(10, 1), (20, 2)]);
    assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
    set(&mut c, &["save", ""]).unwrap();
    assert!(c.save.is_empty());
    set(
        &mut c,
        &["client-output-buffer-limit", "normal 1 2 3 replica 4 5 6"],
    )
    .unwrap();
    assert_eq!(
        get(&c, "client-output-buffer-limit")[0].1,
        "normal 1 2 3 slave 4 5 6 pubsub 33554432 8388608 60"
    );
    set(&mut c, &["hz", "0"]).unwrap();
    assert_eq!(c.hz, 1);
    set(&mut c, &["notify-keyspace-events", "KEA"]).unwrap();
    assert_eq!(c.notify_keyspace_events, "AKE");
}

#[test]
fn protected_configs_follow_enable_protected_configs() {
    let mut c = Config {
        enable_protected_configs: EnableMode::Local,
        ..Config::default()
    };
    let pairs = [(b"dbfilename".to_vec(), b"x.rdb".to_vec())];
    assert!(c.set_many_from(&pairs, false).is_err());
    assert_eq!(c.set_many_from(&pairs, true).unwrap(), ["dbfilename"]);
}

#[test]
fn config_get_lists_aliases_and_echoes_exact_names() {
    let c = Config::default();
    let all = get(&c, "*");
    assert!(all.iter().any(|(n, _)| n == "slave-read-only"));
    assert!(all
        .iter()
        .any(|(n, v)| n == "save" && v == "3600 1 300 100 60 10000"));
    assert!(!all.iter().any(|(n, _)| n == "rdb-key-save-delay"));
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(
        get(&c, "SLAVE-read-only"),
        [("SLAVE-read-only".to_string(), "yes".to_string())]
    );
    assert_eq!(get(&c, "rdb-key-save-delay").len(), 1);
    assert_eq!(get(&c, "h?"), [("hz".to_string(), "10".to_string())]);
    assert!(get(&c, "nosuch").is_empty());
    let two = c.get_matching(&[b"port", b"po*"]);
    assert_eq!(two, [("port".to_string(), "6379".to_string())]);
}

#[test]
fn defaults_match_redis_7() {
    let c = Config::default();
    let v = |n: &str| get(&c, n)[0].1.clone();
    assert_eq!(v("bind"), "* -::*");
    assert_eq!(
        v("client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(v("proto-max-bulk-len"), "536870912");
    assert_eq!(v("enable-debug-command"), "no");
    assert_eq!(v("lua-time-limit"), "5000");
}

#[test]
fn hostile_input_never_panics() {
    for text in [
        "\"",
        "'",
        "\\",
        "save 1",
        "client-output-buffer-limit",
        "\u{0}\u{ff}",
        "include",
        "bind a b c d e f g h i j k l m n o p q r",
    ] {
        let _ = parse_str(text);
    }
    let mut c = Config::default();
    for d in table::DIRECTIVES {
        for v in [
            "",
            "-1",
            "99999999999999999999999",
            "\u{0}",
            "yes",
            "1 2 3 4",
        ] {
            let _ = set(&mut c, &[d.name, v]);
        }
    }
}

#[test]
fn shutdown_on_signal_directives_take_several_words_as_redis_flags() {
    let mut c = Config::default();
    let sig = |c: &Config| get(c, "shutdown-on-sigterm")[0].1.clone();
    assert_eq!(sig(&c), "default");
    set(&mut c, &["shutdown-on-sigterm", "now nosave"]).unwrap();
    assert_eq!(sig(&c), "nosave now");
    assert_eq!(
        c.shutdown_on_sigterm.0,
        ShutdownFlags::NOSAVE | ShutdownFlags::NOW
    );
    set(&mut c, &["shutdown-on-sigterm", "FORCE now"]).unwrap();
    assert_eq!(sig(&c), "now force");
    set(&mut c, &["shutdown-on-sigterm", "default now"]).unwrap();
    assert_eq!(sig(&c), "now");
    const NAMES: &str =
        "argument(s) must be one of the following: default, save, nosave, now, force";
    for (bad, why) in [
        (
            "save nosave",
            "shutdown options SAVE and NOSAVE can't be used simultaneously",
        ),
        ("bogus", NAMES),
        ("", NAMES),
        ("now  force", NAMES),
    ] {
        assert_eq!(
            set(&mut c, &["shutdown-on-sigterm", bad]),
            Err(format!(
                "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - {why}"
            )),
            "{bad:?}"
        );
    }
    assert_eq!(sig(&c), "now", "a refused value changes nothing");
    let (c, _) = load(&args(&[
        "--shutdown-on-sigint",
        "nosave",
        "now",
        "--shutdown-timeout",
        "3",
    ]))
    .unwrap();
    assert_eq!(get(&c, "shutdown-on-sigint")[0].1, "nosave now");
    assert_eq!(c.shutdown_timeout, 3);
    let mut c = c;
    assert_eq!(
        set(&mut c, &["shutdown-timeout", "-1"]),
        Err("ERR CONFIG SET failed (possibly related to argument 'shutdown-timeout') - argument must be between 0 and 2147483647 inclusive".into())
    );
}
