//! Integration tests for Lua scripting: EVAL family, SCRIPT, FUNCTION and
//! FCALL through real sockets, including the sandbox's refusals.

mod common;

use common::{bulk, call, err, simple, TestServer};
use handoff::protocol::Frame;

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn error_text(f: &Frame) -> String {
    match f {
        Frame::Error(e) => String::from_utf8_lossy(e).into_owned(),
        other => panic!("expected an error, got {other:?}"),
    }
}

const RATE_LIMIT: &str = "local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then return 0 end
return 1";

#[test]
fn a_rate_limiter_script_counts_requests_and_sets_the_window_once() {
    let s = TestServer::start();
    let mut c = s.connect();
    for _ in 0..3 {
        assert_eq!(
            call(&mut c, &["EVAL", RATE_LIMIT, "1", "rl:user", "60", "3"]),
            int(1)
        );
    }
    assert_eq!(
        call(&mut c, &["EVAL", RATE_LIMIT, "1", "rl:user", "60", "3"]),
        int(0)
    );
    assert_eq!(call(&mut c, &["GET", "rl:user"]), bulk("4"));
    let Frame::Integer(ttl) = call(&mut c, &["TTL", "rl:user"]) else {
        panic!("TTL is an integer");
    };
    assert!((1..=60).contains(&ttl), "ttl {ttl}");
    // EVALSHA runs the cached script.
    let sha = match call(&mut c, &["SCRIPT", "LOAD", RATE_LIMIT]) {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        call(&mut c, &["EVALSHA", &sha, "1", "rl:other", "60", "1"]),
        int(1)
    );
    assert_eq!(
        call(
            &mut c,
            &["EVALSHA", &sha.to_uppercase(), "1", "rl:other", "60", "1"]
        ),
        int(0)
    );
}

const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

#[test]
fn a_lock_is_acquired_with_set_nx_px_and_released_only_by_its_owner() {
    let s = TestServer::start();
    let mut c = s.connect();
    let acquire = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])";
    assert_eq!(
        call(&mut c, &["EVAL", acquire, "1", "lock", "owner-a", "10000"]),
        simple("OK")
    );
    // Second acquire fails: SET NX replies a null bulk, which Lua sees as false.
    assert_eq!(
        call(&mut c, &["EVAL", acquire, "1", "lock", "owner-b", "10000"]),
        Frame::NullBulk
    );
    assert_eq!(
        call(&mut c, &["EVAL", RELEASE, "1", "lock", "owner-b"]),
        int(0)
    );
    assert_eq!(call(&mut c, &["GET", "lock"]), bulk("owner-a"));
    assert_eq!(
        call(&mut c, &["EVAL", RELEASE, "1", "lock", "owner-a"]),
        int(1)
    );
    assert_eq!(call(&mut c, &["EXISTS", "lock"]), int(0));
}

#[test]
fn numkeys_and_unknown_scripts_are_refused_with_redis_errors() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["EVAL", "return 1", "2", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return 1", "-1"]),
        err("ERR Number of keys can't be negative")
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return 1", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(
            &mut c,
            &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]
        ),
        err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return 'x' +", "0"]),
        err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
    );
}

#[test]
fn script_errors_name_the_script_and_line() {
    let s = TestServer::start();
    let mut c = s.connect();
    let sha = "03c387736bb5cc009ff35151572cee04677aa374";
    assert_eq!(
        call(&mut c, &["EVAL", "return x", "0"]),
        err(&format!("ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: {sha}, on @user_script:1."))
    );
    let e = error_text(&call(
        &mut c,
        &["EVAL", "local a = 1\nreturn redis.call('nosuch')", "0"],
    ));
    assert!(
        e.starts_with("ERR Unknown Redis command called from script script: "),
        "{e}"
    );
    assert!(e.ends_with(", on @user_script:2."), "{e}");
    assert_eq!(
        call(&mut c, &["EVAL", "return redis.pcall('nosuch')", "0"]),
        err("ERR Unknown Redis command called from script")
    );
    let e = error_text(&call(&mut c, &["EVAL", "return redis.call('multi')", "0"]));
    assert!(
        e.starts_with("ERR This Redis command is not allowed from script script:"),
        "{e}"
    );
    assert_eq!(
        call(
            &mut c,
            &["EVAL", "return redis.error_reply('MY oops')", "0"]
        ),
        err("MY oops")
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return redis.status_reply('FINE')", "0"]),
        simple("FINE")
    );
    let e = error_text(&call(&mut c, &["EVAL", "x = 1", "0"]));
    assert!(
        e.starts_with("ERR user_script:1: Attempt to modify a readonly table script:"),
        "{e}"
    );
}

#[test]
fn read_only_scripts_refuse_writes() {
    let s = TestServer::start();
    let mut c = s.connect();
    let e = error_text(&call(
        &mut c,
        &["EVAL_RO", "return redis.call('SET','a','b')", "0"],
    ));
    assert!(
        e.starts_with("ERR Write commands are not allowed from read-only scripts. script:"),
        "{e}"
    );
    let e = error_text(&call(
        &mut c,
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('SET','a','b')",
            "0",
        ],
    ));
    assert!(e.ends_with("on @user_script:2."), "{e}");
    assert_eq!(
        call(&mut c, &["EVAL_RO", "#!lua\nreturn 1", "0"]),
        err("ERR Can not execute a script with write flag using *_ro command.")
    );
    assert_eq!(
        call(&mut c, &["EVAL_RO", "return redis.call('GET','a')", "0"]),
        Frame::NullBulk
    );
    assert_eq!(
        call(&mut c, &["EVAL", "#!lua flags=bogus\nreturn 1", "0"]),
        err("ERR Unexpected flag in script shebang: bogus")
    );
}

#[test]
fn the_sandbox_refuses_escapes() {
    let s = TestServer::start();
    let mut c = s.connect();
    for (code, global) in [
        ("return os.execute('id')", "os"),
        ("return io.open('/etc/passwd')", "io"),
        ("return require('os')", "require"),
        ("return dofile('/etc/passwd')", "dofile"),
        ("return loadfile('/etc/passwd')", "loadfile"),
        ("return debug.getinfo(1)", "debug"),
        ("return package.loaded", "package"),
        ("return getfenv(1)", "getfenv"),
    ] {
        let e = error_text(&call(&mut c, &["EVAL", code, "0"]));
        assert!(
            e.contains(&format!(
                "Script attempted to access nonexistent global variable '{global}'"
            )),
            "{code}: {e}"
        );
    }
    // Bytecode is refused by loadstring (it returns nothing) and by EVAL.
    assert_eq!(
        call(
            &mut c,
            &[
                "EVAL",
                "return loadstring(string.dump(function() return 1 end))",
                "0"
            ]
        ),
        Frame::NullBulk
    );
    assert!(matches!(
        call(&mut c, &["EVAL", "\x1bLua\x51\x00", "0"]),
        Frame::Error(_)
    ));
    // loadstring'd code runs in the sandbox too.
    let e = error_text(&call(
        &mut c,
        &["EVAL", "return loadstring('return os')()", "0"],
    ));
    assert!(e.contains("nonexistent global variable 'os'"), "{e}");
    // Library tables cannot be changed, not even through raw access or the
    // string metatable.
    for code in [
        "string.rep = nil",
        "redis.call = nil",
        "rawset(_G, 'x', 1)",
        "setmetatable(_G, {})",
        "getmetatable('').__index.upper = nil",
    ] {
        let e = error_text(&call(&mut c, &["EVAL", code, "0"]));
        assert!(
            e.contains("Attempt to modify a readonly table"),
            "{code}: {e}"
        );
    }
    assert_eq!(
        call(&mut c, &["EVAL", "return string.upper('ok')", "0"]),
        bulk("OK")
    );
}

#[test]
fn replies_convert_between_lua_and_resp() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["EVAL", "return 3.99", "0"]), int(3));
    assert_eq!(
        call(&mut c, &["EVAL", "return {1,2,nil,4}", "0"]),
        Frame::Array(vec![int(1), int(2)])
    );
    assert_eq!(call(&mut c, &["EVAL", "return true", "0"]), int(1));
    assert_eq!(
        call(&mut c, &["EVAL", "return false", "0"]),
        Frame::NullBulk
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return {double=3.5}", "0"]),
        bulk("3.5")
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return KEYS[1]..ARGV[1]", "1", "k", "v"]),
        bulk("kv")
    );
    assert_eq!(
        call(
            &mut c,
            &[
                "EVAL",
                "return cjson.encode(cjson.decode('[1,{\"a\":2}]'))",
                "0"
            ]
        ),
        bulk("[1,{\"a\":2}]")
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return bit.band(12, 10)", "0"]),
        int(8)
    );
    call(&mut c, &["HELLO", "3"]);
    assert_eq!(call(&mut c, &["EVAL", "return false", "0"]), Frame::Null);
    assert_eq!(
        call(&mut c, &["EVAL", "redis.setresp(3) return false", "0"]),
        Frame::Boolean(false)
    );
    assert_eq!(
        call(&mut c, &["EVAL", "return {map={a=1}}", "0"]),
        Frame::Map(vec![(bulk("a"), int(1))])
    );
    assert_eq!(
        call(
            &mut c,
            &[
                "EVAL",
                "redis.setresp(3) return redis.call('GET','nokey') == nil",
                "0"
            ]
        ),
        Frame::Boolean(true)
    );
}

#[test]
fn a_select_inside_a_script_does_not_change_the_callers_db() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(
            &mut c,
            &[
                "EVAL",
                "redis.call('SELECT', 1) return redis.call('SET', 'in1', 'x')",
                "0"
            ]
        ),
        simple("OK")
    );
    assert_eq!(call(&mut c, &["EXISTS", "in1"]), int(0));
    call(&mut c, &["SELECT", "1"]);
    assert_eq!(call(&mut c, &["GET", "in1"]), bulk("x"));
}

#[test]
fn script_management_commands_behave_as_redis() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(
        call(&mut c, &["SCRIPT", "LOAD", "return 1"]),
        bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    );
    assert_eq!(
        call(
            &mut c,
            &[
                "SCRIPT",
                "EXISTS",
                "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
                "ffff"
            ]
        ),
        Frame::Array(vec![int(1), int(0)])
    );
    assert_eq!(
        call(&mut c, &["SCRIPT", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );
    assert_eq!(
        call(&mut c, &["SCRIPT", "FLUSH", "bogus"]),
        err("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    );
    assert_eq!(call(&mut c, &["SCRIPT", "FLUSH", "ASYNC"]), simple("OK"));
    assert_eq!(
        call(
            &mut c,
            &[
                "SCRIPT",
                "EXISTS",
                "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
            ]
        ),
        Frame::Array(vec![int(0)])
    );
    let Frame::Array(help) = call(&mut c, &["SCRIPT", "HELP"]) else {
        panic!("help is an array");
    };
    assert_eq!(help.len(), 17);
}

#[test]
fn scripts_run_inside_multi_exec() {
    let s = TestServer::start();
    let mut c = s.connect();
    call(&mut c, &["MULTI"]);
    assert_eq!(
        call(
            &mut c,
            &["EVAL", "return redis.call('INCR', KEYS[1])", "1", "cnt"]
        ),
        simple("QUEUED")
    );
    assert_eq!(call(&mut c, &["EXEC"]), Frame::Array(vec![int(1)]));
}

const LIB: &str = "#!lua name=mylib
local function get(keys) return redis.call('GET', keys[1]) end
redis.register_function('myget', function(keys, args) return get(keys) end)
redis.register_function{function_name='myset', callback=function(keys, args) return redis.call('SET', keys[1], args[1]) end, description='sets'}
redis.register_function{function_name='ro_set', callback=function(keys, args) return redis.call('SET', keys[1], args[1]) end, flags={'no-writes'}}";

#[test]
fn function_libraries_load_list_call_and_delete() {
    let s = TestServer::start();
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["FUNCTION", "LOAD", LIB]), bulk("mylib"));
    assert_eq!(
        call(&mut c, &["FUNCTION", "LOAD", LIB]),
        err("ERR Library 'mylib' already exists")
    );
    assert_eq!(
        call(&mut c, &["FUNCTION", "LOAD", "REPLACE", LIB]),
        bulk("mylib")
    );
    assert_eq!(
        call(&mut c, &["FCALL", "myset", "1", "fk", "fv"]),
        simple("OK")
    );
    assert_eq!(call(&mut c, &["FCALL", "myget", "1", "fk"]), bulk("fv"));
    assert_eq!(
        call(&mut c, &["FCALL_RO", "myget", "1", "fk"]),
        err("ERR Can not execute a script with write flag using *_ro command.")
    );
    let e = error_text(&call(&mut c, &["FCALL", "ro_set", "1", "fk", "x"]));
    assert_eq!(e, "ERR Write commands are not allowed from read-only scripts. script: ro_set, on @user_function:5.");
    assert_eq!(
        call(&mut c, &["FCALL", "nosuch", "0"]),
        err("ERR Function not found")
    );
    let Frame::Array(libs) = call(&mut c, &["FUNCTION", "LIST", "WITHCODE"]) else {
        panic!("list is an array");
    };
    assert_eq!(libs.len(), 1);
    let Frame::Array(lib) = &libs[0] else {
        panic!()
    };
    assert_eq!(lib[0], bulk("library_name"));
    assert_eq!(lib[1], bulk("mylib"));
    assert_eq!(lib[7], bulk(LIB));
    assert_eq!(
        call(&mut c, &["FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"]),
        Frame::Array(vec![])
    );
    // DUMP / FLUSH / RESTORE round trip.
    let dump = call(&mut c, &["FUNCTION", "DUMP"]);
    let Frame::Bulk(payload) = dump else { panic!() };
    assert_eq!(call(&mut c, &["FUNCTION", "FLUSH"]), simple("OK"));
    assert_eq!(
        call(&mut c, &["FCALL", "myget", "1", "fk"]),
        err("ERR Function not found")
    );
    let restore = |c: &mut handoff::protocol::Connection, policy: &[u8]| {
        let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &payload];
        if !policy.is_empty() {
            args.push(policy);
        }
        c.call(&args).expect("round trip")
    };
    assert_eq!(restore(&mut c, b""), simple("OK"));
    assert_eq!(
        restore(&mut c, b""),
        err("ERR Library mylib already exists")
    );
    assert_eq!(restore(&mut c, b"REPLACE"), simple("OK"));
    assert_eq!(call(&mut c, &["FCALL", "myget", "1", "fk"]), bulk("fv"));
    assert_eq!(
        call(&mut c, &["FUNCTION", "RESTORE", "garbage"]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(call(&mut c, &["FUNCTION", "DELETE", "mylib"]), simple("OK"));
    assert_eq!(
        call(&mut c, &["FUNCTION", "DELETE", "mylib"]),
        err("ERR Library not found")
    );
    assert_eq!(
        call(&mut c, &["FUNCTION", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn function_load_errors_match_redis() {
    let s = TestServer::start();
    let mut c = s.connect();
    for (code, want) in [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua\nreturn 1", "ERR Library name was not given"),
        ("#!lua name=empty\nreturn 1", "ERR No functions registered"),
        ("#!lua name=x foo=bar\nreturn 1", "ERR Invalid metadata value given: foo=bar"),
        ("#!lua name=x\nredis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("#!lua name=x\nredis.register_function('z')", "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        ("#!lua name=x\nredis.register_function{function_name='z', callback=function() end, flags={'bogus'}}", "ERR Error registering functions: ERR unknown flag given"),
        ("#!lua name=x\nfoo = 1", "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("#!lua name=x\nreturn 'x' +", "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
    ] {
        assert_eq!(call(&mut c, &["FUNCTION", "LOAD", code]), err(want), "{code}");
    }
}

#[test]
fn a_long_script_past_the_busy_threshold_still_completes_with_its_result() {
    // busy-reply-threshold is checked by the instruction hook; with a tiny
    // threshold a long script is logged as slow, serves other clients from
    // its hook (tests/busy_scripts.rs) and still completes.
    let s = TestServer::with(|cfg| cfg.busy_reply_threshold = 1);
    let mut c = s.connect();
    assert_eq!(
        call(
            &mut c,
            &[
                "EVAL",
                "local n = 0 for i = 1, 3000000 do n = n + 1 end return n",
                "0"
            ]
        ),
        int(3_000_000)
    );
}
