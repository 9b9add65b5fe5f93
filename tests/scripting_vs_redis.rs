//! Differential test for scripting: the same EVAL/FUNCTION calls against
//! handoff and a real redis-server, in RESP2 and RESP3; every reply must be
//! identical (errors included: they embed the script's SHA1 and line).
//!
//! Left out on purpose: commands this server does not have yet (hashes,
//! blocking list pops), INCRBYFLOAT from a script (Redis computes in long
//! double), FUNCTION LIST with several functions (Redis lists them in hash
//! table order), and behaviours where the oracle (Redis 7.0) and Redis 7.2
//! differ.

mod common;

use common::{ExternalServer, TestServer};
use handoff::protocol::Connection;

/// (script, numkeys and arguments)
const SCRIPTS: &[(&str, &[&str])] = &[
    ("return 1", &["0"]),
    ("return 3.99", &["0"]),
    ("return -3.99", &["0"]),
    ("return 1e100", &["0"]),
    ("return 'hello'", &["0"]),
    ("return true", &["0"]),
    ("return false", &["0"]),
    ("return nil", &["0"]),
    ("return {1,2,3,'ciao',{1,2}}", &["0"]),
    ("return {1,nil,3}", &["0"]),
    ("return {1,false,3}", &["0"]),
    ("return {double=3.5}", &["0"]),
    ("return {map={a=1}}", &["0"]),
    ("return {set={a=true}}", &["0"]),
    ("return {big_number='123'}", &["0"]),
    (
        "return {verbatim_string={format='txt',string='hi'}}",
        &["0"],
    ),
    ("return {ok='fine'}", &["0"]),
    ("return {err='bad thing'}", &["0"]),
    ("return {err='x\\r\\ny'}", &["0"]),
    ("return redis.error_reply('FOO bar')", &["0"]),
    ("return redis.error_reply('bar')", &["0"]),
    ("return redis.error_reply()", &["0"]),
    ("return redis.status_reply('FINE')", &["0"]),
    ("redis.setresp(3) return true", &["0"]),
    ("redis.setresp(3) return false", &["0"]),
    ("redis.setresp(3) return {1, false, true}", &["0"]),
    (
        "return KEYS[1]..ARGV[1]..#KEYS..#ARGV",
        &["1", "k", "v", "w"],
    ),
    (
        "return redis.call('SET', KEYS[1], ARGV[1])",
        &["1", "{p}s", "val"],
    ),
    ("return redis.call('GET', KEYS[1])", &["1", "{p}s"]),
    ("return redis.call('GET', 'nokey')", &["0"]),
    ("return type(redis.call('GET', 'nokey'))", &["0"]),
    (
        "redis.setresp(3) return type(redis.call('GET', 'nokey'))",
        &["0"],
    ),
    ("redis.setresp(3) return redis.call('GET', 'nokey')", &["0"]),
    ("return redis.call('INCR', KEYS[1])", &["1", "{p}n"]),
    ("return redis.call('INCRBY', KEYS[1], 10.0)", &["1", "{p}n"]),
    ("return redis.call('INCR', KEYS[1])", &["1", "{p}s"]),
    ("return redis.pcall('INCR', KEYS[1])", &["1", "{p}s"]),
    (
        "local e = redis.pcall('INCR', KEYS[1]) return e.err",
        &["1", "{p}s"],
    ),
    ("return redis.call('PING')", &["0"]),
    ("return redis.call('nosuch')", &["0"]),
    ("return redis.pcall('nosuch')", &["0"]),
    ("return redis.call('GET')", &["0"]),
    ("return redis.call()", &["0"]),
    ("return redis.call({})", &["0"]),
    ("return redis.call('MULTI')", &["0"]),
    ("return redis.call('EVAL', 'return 1', '0')", &["0"]),
    (
        "local a = 1\nlocal b = 2\nreturn redis.call('nosuch')",
        &["0"],
    ),
    ("return error('boom')", &["0"]),
    ("return error({err='MY custom'})", &["0"]),
    ("return x", &["0"]),
    ("x = 1", &["0"]),
    ("string.rep = nil", &["0"]),
    ("rawset(_G, 'x', 1)", &["0"]),
    ("return os.execute('id')", &["0"]),
    ("return io.open('/etc/passwd')", &["0"]),
    ("return require('os')", &["0"]),
    (
        "return loadstring(string.dump(function() return 1 end))",
        &["0"],
    ),
    ("return 'x' +", &["0"]),
    ("return redis.sha1hex('')", &["0"]),
    ("return redis.sha1hex()", &["0"]),
    ("return redis.setresp(4)", &["0"]),
    (
        "return redis.log(redis.LOG_WARNING, 'from a script')",
        &["0"],
    ),
    ("return redis.log(99, 'x')", &["0"]),
    (
        "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
        &["0"],
    ),
    ("return cjson.encode({1,2,{a=1}})", &["0"]),
    ("return cjson.encode({[1]=1,[15]=2})", &["0"]),
    ("return cjson.decode('[1,2')", &["0"]),
    ("return cjson.decode('{\"a\":[1,2,3]}').a[2]", &["0"]),
    ("return bit.tohex(bit.bxor(0xff, 0x0f))", &["0"]),
    ("return string.format('%d %s %5.2f', 3, 'x', 1.5)", &["0"]),
    ("return tostring(12345678901234567)", &["0"]),
    (
        "return redis.call('SET', KEYS[1], 12345678901234567)",
        &["1", "{p}big"],
    ),
    ("return redis.call('GET', KEYS[1])", &["1", "{p}big"]),
    ("return redis.call('SET', KEYS[1], 0.1)", &["1", "{p}f"]),
    ("return redis.call('GET', KEYS[1])", &["1", "{p}f"]),
    (
        "#!lua flags=no-writes\nreturn redis.call('SET','a','b')",
        &["0"],
    ),
    ("#!lua flags=bogus\nreturn 1", &["0"]),
    ("#!lua name=x\nreturn 1", &["0"]),
    ("#!python\nreturn 1", &["0"]),
    ("#!lua\nreturn 1", &["0"]),
    ("return 1", &["2", "a"]),
    ("return 1", &["-1"]),
    ("return 1", &["x"]),
];

const CALLS: &[&[&str]] = &[
    &["EVAL_RO", "return redis.call('SET','a','b')", "0"],
    &["EVAL_RO", "#!lua\nreturn 1", "0"],
    &["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('GET', 'a')", "0"],
    &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    &["SCRIPT", "LOAD", "return 'loaded'"],
    &["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
    &["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "ffff"],
    &["SCRIPT", "KILL"],
    &["SCRIPT", "FLUSH", "bogus"],
    &["SCRIPT", "HELP"],
    &["FUNCTION", "FLUSH"],
    &["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function{function_name='f1', callback=function(keys, args) return {keys[1], args[1]} end, flags={'no-writes'}, description='d'}"],
    &["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)"],
    &["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f1', function() return 1 end)"],
    &["FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('w', function(keys) return redis.call('SET', keys[1], 'v') end)"],
    &["FCALL", "f1", "1", "k", "a"],
    &["FCALL_RO", "f1", "1", "k", "a"],
    &["FCALL_RO", "w", "1", "{p}w"],
    &["FCALL", "w", "1", "{p}w"],
    &["FCALL", "nosuch", "0"],
    &["FCALL", "f1", "3", "a"],
    &["FUNCTION", "LIST", "LIBRARYNAME", "lib3"],
    &["FUNCTION", "LIST", "LIBRARYNAME", "lib1", "WITHCODE"],
    &["FUNCTION", "LIST", "bogus"],
    &["FUNCTION", "STATS"],
    &["FUNCTION", "KILL"],
    &["FUNCTION", "DELETE", "nosuch"],
    &["FUNCTION", "DELETE", "lib3"],
    &["FUNCTION", "FLUSH", "bogus"],
    &["FUNCTION", "HELP"],
    &["FUNCTION", "LOAD", "return 1"],
    &["FUNCTION", "LOAD", "#!lua\nreturn 1"],
    &["FUNCTION", "LOAD", "#!lua name=e\nreturn 1"],
    &["FUNCTION", "LOAD", "#!lua name=x\nredis.call('ping')"],
    &["FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('ok', function() end, 'x')"],
    &["FUNCTION", "LOAD", "#!lua name=x\nfoo = 1"],
    &["FUNCTION", "FLUSH"],
];

fn run_all(ours: &mut Connection, theirs: &mut Connection, prefix: &str) {
    for (script, rest) in SCRIPTS {
        let mut args: Vec<String> = vec!["EVAL".into(), script.to_string()];
        args.extend(rest.iter().map(|a| a.replace("{p}", prefix)));
        compare(ours, theirs, &args);
    }
    for call in CALLS {
        let args: Vec<String> = call.iter().map(|a| a.replace("{p}", prefix)).collect();
        compare(ours, theirs, &args);
    }
}

fn compare(ours: &mut Connection, theirs: &mut Connection, args: &[String]) {
    let a = ours.call(args).expect("handoff replies");
    let b = theirs.call(args).expect("redis replies");
    assert_eq!(a, b, "reply to {args:?}");
}

#[test]
fn script_replies_match_redis_in_resp2_and_resp3() {
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let server = TestServer::start();
    let mut ours = server.connect();
    let mut theirs = redis.connect();
    run_all(&mut ours, &mut theirs, "r2:");
    for c in [&mut ours, &mut theirs] {
        c.call(&["HELLO", "3"]).expect("hello");
    }
    run_all(&mut ours, &mut theirs, "r3:");
}
