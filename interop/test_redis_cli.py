#!/usr/bin/env python3
"""Interop checks with the real `redis-cli` and `redis-benchmark` (Debian redis-tools, Redis 7.0).

Each check runs the tools as a user would (command-line mode, stdin mode, `-3` for RESP3,
`--pipe` mass insertion, `--scan`, `--bigkeys`, `-x`, `-r`) and compares their output.

    python3 interop/test_redis_cli.py --host 127.0.0.1 --port 6379

The server must be one the suite may flush (it uses databases 0, 8 and 9).
"""

import re
import shutil
import subprocess
import sys

from harness import CheckFailed, Runner, eq, ok, target

ARGS = target(__doc__)
RUNNER = Runner("redis-cli", ARGS.only)
DB = "9"  # the database most checks use, flushed at the start of the ones that count keys


def tool(name):
    path = shutil.which(name)
    if path is None:
        raise CheckFailed(f"{name} not found on PATH (install Debian redis-tools)")
    return path


def cli(*args, stdin=None, db=DB, opts=(), check_rc=True, timeout=30):
    """Runs redis-cli against the target; returns stdout without the trailing newline."""
    cmd = [tool("redis-cli"), "-h", ARGS.host, "-p", str(ARGS.port), "-n", db, *opts, *args]
    RUNNER.last_command = " ".join(cmd[5:])[:200]
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout,
                       text=not isinstance(stdin, bytes))
    out = p.stdout if isinstance(p.stdout, str) else p.stdout.decode("utf-8", "backslashreplace")
    err = p.stderr if isinstance(p.stderr, str) else p.stderr.decode("utf-8", "backslashreplace")
    if check_rc and p.returncode != 0:
        raise CheckFailed(f"redis-cli {' '.join(cmd[5:])[:120]} exited {p.returncode}: {err.strip()[:300]}")
    return out.rstrip("\n"), err, p.returncode


def out(*args, **kw):
    return cli(*args, **kw)[0]


def check_ping():
    eq(out("PING"), "PONG", "PING")
    eq(out("PING", "hello world"), "hello world", "PING message")
    eq(out("ECHO", "x y"), "x y", "ECHO")
    eq(out("--no-raw", "PING"), "PONG", "PING --no-raw")


def check_set_get_incr():
    out("FLUSHDB")
    eq(out("SET", "k", "v"), "OK", "SET")
    eq(out("GET", "k"), "v", "GET (raw output)")
    eq(out("--no-raw", "GET", "k"), '"v"', "GET --no-raw")
    eq(out("--no-raw", "GET", "missing"), "(nil)", "GET missing --no-raw")
    eq(out("--no-raw", "INCR", "n"), "(integer) 1", "INCR --no-raw")
    eq(out("INCRBY", "n", "41"), "42", "INCRBY")
    eq(out("INCRBYFLOAT", "n", "0.5"), "42.5", "INCRBYFLOAT")
    eq(out("-r", "3", "INCR", "rep"), "1\n2\n3", "-r 3 INCR")
    eq(out("SET", "bin", "a\tb"), "OK", "SET with a tab")
    eq(out("--no-raw", "GET", "bin"), '"a\\tb"', "GET --no-raw escapes a tab")
    eq(out("-x", "SET", "fromstdin", stdin="line1\nline2\n"), "OK", "-x SET (value from stdin)")
    eq(out("STRLEN", "fromstdin"), "12", "STRLEN of the -x value")
    eq(out("--no-raw", "GET"), "(error) ERR wrong number of arguments for 'get' command", "arity error as printed")
    _, err, rc = cli("-e", "INCR", "k", check_rc=False)
    eq(rc, 1, "-e INCR on a non-integer exits 1")
    ok("ERR value is not an integer or out of range" in err, "-e error text on stderr", err)


def check_expire_ttl():
    out("SET", "e", "v")
    eq(out("EXPIRE", "e", "100"), "1", "EXPIRE")
    ok(out("TTL", "e") in ("99", "100"), "TTL after EXPIRE 100", out("TTL", "e"))
    eq(out("PERSIST", "e"), "1", "PERSIST")
    eq(out("TTL", "e"), "-1", "TTL after PERSIST")
    eq(out("TTL", "nosuchkey"), "-2", "TTL missing")
    eq(out("SET", "e", "v", "PX", "100000", "GET"), "v", "SET PX GET")
    ok(90000 < int(out("PTTL", "e")) <= 100000, "PTTL after SET PX", out("PTTL", "e"))


def check_mset_mget():
    eq(out("MSET", "a", "1", "b", "2", "c", "3"), "OK", "MSET")
    eq(out("MGET", "a", "b", "nosuch", "c"), "1\n2\n\n3", "MGET raw")
    eq(out("--no-raw", "MGET", "a", "nosuch"), '1) "1"\n2) (nil)', "MGET --no-raw")


def check_hello_resp3():
    hello = out("--no-raw", "HELLO", "3", opts=("-3",))
    lines = hello.splitlines()
    ok(len(lines) >= 7, "HELLO 3 prints a map of at least 7 entries", hello)
    tops = [line for line in lines if not line.startswith(" ")]
    eq([line.split("#")[0] for line in tops][:7], [str(i) for i in range(1, 8)],
       "HELLO 3 printed as a RESP3 map (n# key => value)")
    ok('"proto" => (integer) 3' in hello, "HELLO 3 map has proto => (integer) 3", hello)
    ok('"mode" => "standalone"' in hello, "HELLO 3 map has mode => standalone", hello)
    ok('"role" => "master"' in hello, "HELLO 3 map has role => master", hello)
    ok(re.search(r'"id" => \(integer\) \d+', hello), "HELLO 3 map has an integer id", hello)
    raw = out("HELLO", "3", opts=("-3",))
    ok(re.search(r"^proto\n?3$|^proto 3$", raw, re.M) or "\nproto\n3\n" in "\n" + raw + "\n", "HELLO 3 raw output", raw)
    # RESP3 replies of other types through redis-cli -3.
    out("SET", "r3", "v")
    eq(out("--no-raw", "GET", "nosuch", opts=("-3",)), "(nil)", "-3 GET missing (RESP3 null)")
    eq(out("--no-raw", "GET", "r3", opts=("-3",)), '"v"', "-3 GET")
    eq(out("--no-raw", "EXISTS", "r3", opts=("-3",)), "(integer) 1", "-3 EXISTS")
    # HELLO 2 over RESP2 is a flat array.
    h2 = out("--no-raw", "HELLO", "2")
    ok(re.search(r'^ 1\) "server"$', h2, re.M) and re.search(r'^ 6\) \(integer\) 2$', h2, re.M),
       "HELLO 2 printed as a flat array with proto 2", h2)
    _, err, _ = cli("-e", "HELLO", "4", check_rc=False)
    ok("NOPROTO" in err, "HELLO 4 answers NOPROTO", err)


def check_client_commands():
    script = "CLIENT SETNAME cli-test\nCLIENT GETNAME\nCLIENT ID\nCLIENT LIST\nCLIENT INFO\n"
    lines = out(stdin=script).splitlines()
    eq(lines[0], "OK", "CLIENT SETNAME (stdin mode)")
    eq(lines[1], "cli-test", "CLIENT GETNAME")
    ok(lines[2].isdigit(), "CLIENT ID is an integer", lines[2])
    cid = lines[2]
    mine = [line for line in lines[3:] if f"id={cid} " in line and line.startswith("id=")]
    ok(len(mine) == 2, f"CLIENT LIST and CLIENT INFO show id={cid}", lines[3:])
    for line in mine:
        fields = dict(f.split("=", 1) for f in line.split())
        eq(fields.get("name"), "cli-test", "name= in CLIENT LIST/INFO")
        eq(fields.get("db"), DB, "db= in CLIENT LIST/INFO")
        ok(re.fullmatch(r"127\.0\.0\.1:\d+", fields.get("addr", "")), "addr= in CLIENT LIST/INFO", fields)
        ok(fields.get("laddr") == f"{ARGS.host}:{ARGS.port}", "laddr= in CLIENT LIST/INFO", fields.get("laddr"))
        ok(fields.get("cmd") in ("client|list", "client|info"), "cmd= in CLIENT LIST/INFO", fields.get("cmd"))
    eq(out("--no-raw", "CLIENT", "GETNAME"), "(nil)", "CLIENT GETNAME on a fresh connection")
    eq(out("CLIENT", "SETNAME", "bad name", opts=("--no-raw",)),
       "(error) ERR Client names cannot contain spaces, newlines or special characters.", "CLIENT SETNAME bad name")


def check_info():
    info = out("INFO", "server")
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    ok(info.startswith("# Server"), "INFO server starts with # Server", info[:40])
    ok(re.fullmatch(r"\d+\.\d+\.\d+", fields.get("redis_version", "")), "INFO redis_version line", fields.get("redis_version"))
    eq(fields.get("tcp_port"), str(ARGS.port), "INFO tcp_port line")
    ok(fields.get("process_id", "").isdigit(), "INFO process_id line", fields.get("process_id"))
    full = out("INFO")
    for section in ("# Server", "# Clients", "# Memory", "# Stats", "# Replication", "# Keyspace"):
        ok(section in full, f"INFO has {section}", full[:200])
    out("FLUSHDB")
    out("MSET", "a", "1", "b", "2")
    out("EXPIRE", "a", "100")
    ks = out("INFO", "keyspace")
    ok(re.search(rf"^db{DB}:keys=2,expires=1,avg_ttl=\d+(,|\r?$)", ks, re.M), f"INFO keyspace db{DB} line", ks)


def check_server_commands():
    eq(out("DBSIZE", stdin=None), out("DBSIZE"), "DBSIZE")
    out("FLUSHDB")
    eq(out("DBSIZE"), "0", "DBSIZE after FLUSHDB")
    t = out("TIME").splitlines()
    ok(len(t) == 2 and all(x.isdigit() for x in t), "TIME gives seconds and microseconds", t)
    ok(int(out("COMMAND", "COUNT")) > 20, "COMMAND COUNT", out("COMMAND", "COUNT"))
    info_get = out("--no-raw", "COMMAND", "INFO", "get")
    ok('"get"' in info_get and "(integer) 2" in info_get, "COMMAND INFO get shows name and arity 2", info_get)
    eq(out("CONFIG", "GET", "port"), f"port\n{ARGS.port}", "CONFIG GET port")
    eq(out("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"), "OK", "CONFIG SET maxmemory-policy")
    eq(out("CONFIG", "GET", "maxmemory-policy"), "maxmemory-policy\nallkeys-lru", "CONFIG GET after SET")
    out("CONFIG", "SET", "maxmemory-policy", "noeviction")
    ok(out("LASTSAVE").isdigit(), "LASTSAVE", out("LASTSAVE"))


def check_generic_keys():
    out("FLUSHDB")
    out("MSET", "k1", "v", "k2", "v", "other", "v")
    eq(out("EXISTS", "k1", "k2", "nope"), "2", "EXISTS")
    eq(out("TYPE", "k1"), "string", "TYPE")
    eq(sorted(out("KEYS", "k*").splitlines()), ["k1", "k2"], "KEYS k*")
    eq(out("RENAME", "k1", "k3"), "OK", "RENAME")
    eq(out("COPY", "k3", "k4"), "1", "COPY")
    eq(out("DEL", "k3", "k4", "nope"), "2", "DEL")
    eq(out("UNLINK", "k2"), "1", "UNLINK")
    eq(out("RANDOMKEY"), "other", "RANDOMKEY with one key")


def check_scan_and_bigkeys():
    out("FLUSHDB")
    out("MSET", *[x for i in range(150) for x in (f"scan:{i}", "v")])
    out("SET", "big", "x" * 5000)
    keys = out("--scan", "--pattern", "scan:*").splitlines()
    eq(sorted(keys), sorted(f"scan:{i}" for i in range(150)), "--scan --pattern scan:*")
    eq(len(out("--scan").splitlines()), 151, "--scan counts every key")
    big = out("--bigkeys")
    ok(re.search(r"Biggest string found '\"?big\"?' has 5000 bytes", big), "--bigkeys finds the biggest string", big[-600:])
    ok(re.search(r"151 strings with \d+ bytes", big), "--bigkeys counts 151 strings", big[-600:])


def check_bitmaps():
    out("DEL", "bm")
    eq(out("SETBIT", "bm", "7", "1"), "0", "SETBIT")
    eq(out("GETBIT", "bm", "7"), "1", "GETBIT")
    eq(out("BITCOUNT", "bm"), "1", "BITCOUNT")
    eq(out("--no-raw", "GET", "bm"), '"\\x01"', "GET of the bitmap --no-raw")
    out("SET", "fb", "foobar")
    eq(out("BITCOUNT", "fb", "1", "1"), "6", "BITCOUNT 1 1")
    eq(out("BITPOS", "fb", "1"), "1", "BITPOS 1")
    eq(out("BITOP", "NOT", "nfb", "fb"), "6", "BITOP NOT")
    eq(out("BITFIELD", "bf", "SET", "u8", "0", "255", "GET", "u8", "0"), "0\n255", "BITFIELD")


def check_pipe_mass_insert():
    db = "8"
    out("FLUSHDB", db=db)
    n = 10_000
    payload = "".join(f"*3\r\n$3\r\nSET\r\n${len(f'key:{i}')}\r\nkey:{i}\r\n${len(str(i))}\r\n{i}\r\n" for i in range(n))
    res = out("--pipe", stdin=payload.encode(), db=db, timeout=60)
    ok(f"errors: 0, replies: {n}" in res, f"--pipe of {n} SETs: errors 0, replies {n}", res)
    eq(out("DBSIZE", db=db), str(n), "DBSIZE after --pipe")
    eq(out("GET", "key:9999", db=db), "9999", "GET key:9999 after --pipe")
    # Inline commands (no RESP framing) through --pipe reach the server's inline parser.
    inline = b'PING\r\nSET inl "a b"\r\nINCR ctr\r\nINCR ctr\nGET inl\r\n'
    res = out("--pipe", stdin=inline, db=db)
    ok("errors: 0, replies: 5" in res, "--pipe of 5 inline commands: errors 0, replies 5", res)
    eq(out("GET", "inl", db=db), "a b", "inline SET with a quoted argument")
    eq(out("GET", "ctr", db=db), "2", "inline INCR twice (\\r\\n and bare \\n)")
    res = out("--pipe", stdin=b"SET a\r\nNOSUCHCMD\r\n", db=db, check_rc=False)
    ok("errors: 2, replies: 2" in res, "--pipe counts 2 error replies", res)
    out("FLUSHDB", db=db)


def check_stdin_inline_mode():
    # redis-cli reading commands from stdin (what `printf 'PING\r\n' | redis-cli` does).
    eq(out(stdin="PING\r\n"), "PONG", "printf 'PING\\r\\n' | redis-cli")
    eq(out(stdin="SET si 'x y'\nGET si\nECHO \"a\\tb\"\n"), "OK\nx y\na\tb", "quoted arguments in stdin mode")


def check_benchmark():
    cmd = [tool("redis-benchmark"), "-h", ARGS.host, "-p", str(ARGS.port), "-q", "-n", "2000", "-t", "set,get,incr,mset"]
    RUNNER.last_command = " ".join(cmd[5:])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    text = p.stdout.replace("\r", "\n")
    eq(p.returncode, 0, f"redis-benchmark exit code (stderr: {p.stderr.strip()[:300]})")
    final = [line for line in text.splitlines() if "requests per second" in line]
    for test in ("SET", "GET", "INCR", "MSET (10 keys)"):
        ok(any(line.startswith(test + ":") for line in final), f"redis-benchmark reports {test}", final)
    bad = [line for line in (text + p.stderr).splitlines() if re.search(r"error|ERR ", line, re.I)]
    eq(bad, [], "redis-benchmark output has no errors")


def main():
    for fn in (check_ping, check_set_get_incr, check_expire_ttl, check_mset_mget, check_hello_resp3,
               check_client_commands, check_info, check_server_commands, check_generic_keys,
               check_scan_and_bigkeys, check_bitmaps, check_pipe_mass_insert, check_stdin_inline_mode,
               check_benchmark):
        RUNNER.add(fn.__name__.removeprefix("check_"), fn)
    return RUNNER.run()


if __name__ == "__main__":
    sys.exit(main())
