#!/usr/bin/env python3
"""Interop checks with the real Python clients redis-py and valkey-py, each over RESP2 and RESP3.

Covers the connection, server, generic-key, string and bitmap commands. Every check looks at
replies, not only at the absence of an exception. Run against any Redis-compatible server:

    python3 interop/test_python_clients.py --host 127.0.0.1 --port 6379

The server must be one the suite may flush (it uses databases 0-3).
"""

import re
import sys
import time
import warnings

import redis
import valkey

from harness import CheckFailed, Runner, eq, ok, raises, target, traced

warnings.filterwarnings("ignore", category=DeprecationWarning)  # SETEX/PSETEX are deprecated in redis-py

ARGS = target(__doc__)
RUNNER = Runner("python", ARGS.only)

LIBS = {
    # name: (module, expected CLIENT SETINFO lib-name sent on connect)
    "redis-py": (redis, "redis-py"),
    "valkey-py": (valkey, "valkey-py"),
}


class Ctx:
    """What a check gets: the client factory for one (library, protocol) and a key prefix."""

    def __init__(self, lib, proto, check):
        self.lib = lib
        self.mod, self.lib_name = LIBS[lib]
        self.proto = proto
        self.prefix = f"{lib}:{proto}:{check}:"
        self.clients = []

    def client(self, db=0, decode=True, **kw):
        cls = traced(self.mod.Redis, RUNNER)
        c = cls(host=ARGS.host, port=ARGS.port, db=db, protocol=self.proto, decode_responses=decode,
                socket_timeout=10, **kw)
        self.clients.append(c)
        return c

    def k(self, name):
        return self.prefix + name

    def close(self):
        for c in self.clients:
            c.close()

    @property
    def ResponseError(self):  # noqa: N802 - the library's own class
        return self.mod.exceptions.ResponseError


def server_version(r):
    return tuple(int(x) for x in r.info("server")["redis_version"].split(".")[:2])


def hello_dict(reply):
    """HELLO's reply as a dict: RESP3 gives a map, RESP2 a flat array."""
    if isinstance(reply, dict):
        return {(k.decode() if isinstance(k, bytes) else k): v for k, v in reply.items()}
    return {reply[i]: reply[i + 1] for i in range(0, len(reply), 2)}


# ---------------------------------------------------------------- connection


def check_ping_echo(c):
    r = c.client()
    eq(r.ping(), True, "PING")
    eq(r.echo("héllo wörld"), "héllo wörld", "ECHO")
    rb = c.client(decode=False)
    eq(rb.echo(b"\x00\xff\r\n"), b"\x00\xff\r\n", "ECHO binary")


def check_hello(c):
    r = c.client()
    h = hello_dict(r.execute_command("HELLO"))
    for field in ("server", "version", "proto", "id", "mode", "role", "modules"):
        ok(field in h, f"HELLO reply has {field!r}", h)
    eq(h["proto"], c.proto, "HELLO proto")
    eq(h["id"], r.client_id(), "HELLO id == CLIENT ID")
    eq(h["mode"], "standalone", "HELLO mode")
    eq(h["role"], "master", "HELLO role")
    ok(re.fullmatch(r"\d+\.\d+\.\d+", h["version"]), "HELLO version looks like x.y.z", h["version"])
    e = raises(c.ResponseError, lambda: r.execute_command("HELLO", 4), "HELLO 4")
    ok(str(e).startswith("NOPROTO"), "HELLO 4 gives NOPROTO", str(e))


def check_client_name_id_list_info(c):
    r = c.client()
    eq(r.client_getname(), None, "CLIENT GETNAME before SETNAME")
    eq(r.client_setname(c.k("conn")), True, "CLIENT SETNAME")
    eq(r.client_getname(), c.k("conn"), "CLIENT GETNAME")
    cid = r.client_id()
    ok(isinstance(cid, int) and cid > 0, "CLIENT ID is a positive integer", cid)
    mine = [e for e in r.client_list() if int(e["id"]) == cid]
    eq(len(mine), 1, f"CLIENT LIST has one entry with id={cid}")
    eq(mine[0]["name"], c.k("conn"), "CLIENT LIST name=")
    eq(str(mine[0]["db"]), "0", "CLIENT LIST db=")
    eq(mine[0]["cmd"], "client|list", "CLIENT LIST cmd=")
    if "resp" in mine[0]:
        eq(str(mine[0]["resp"]), str(c.proto), "CLIENT LIST resp=")
    info = r.client_info()
    eq(int(info["id"]), cid, "CLIENT INFO id=")
    eq(info["name"], c.k("conn"), "CLIENT INFO name=")
    ok(re.fullmatch(r"127\.0\.0\.1:\d+", info["addr"]), "CLIENT INFO addr=", info["addr"])
    other = c.client()
    other.client_setname(c.k("other"))
    names = {e["name"] for e in r.client_list()}
    ok(c.k("other") in names, "CLIENT LIST shows another connection's name", names)
    e = raises(c.ResponseError, lambda: r.client_setname("has space"), "CLIENT SETNAME 'has space'")
    eq(str(e), "Client names cannot contain spaces, newlines or special characters.", "CLIENT SETNAME error")


def check_client_setinfo(c):
    r = c.client()
    if server_version(r) < (7, 2):
        # Redis 7.0 has no SETINFO: the client ignores the error on connect; check the error here.
        e = raises(c.ResponseError, lambda: r.client_setinfo("LIB-VER", "1.2.3"), "CLIENT SETINFO on < 7.2")
        ok("unknown subcommand" in str(e).lower(), "CLIENT SETINFO unknown on < 7.2", str(e))
        return
    info = r.client_info()
    eq(info.get("lib-name"), c.lib_name, "lib-name the client set with CLIENT SETINFO on connect")
    ok(info.get("lib-ver"), "lib-ver set on connect", info)
    eq(r.client_setinfo("LIB-VER", "1.2.3"), True, "CLIENT SETINFO LIB-VER 1.2.3")
    eq(r.client_info().get("lib-ver"), "1.2.3", "CLIENT INFO lib-ver after SETINFO")
    raises(c.ResponseError, lambda: r.client_setinfo("LIB-NAME", "bad name"), "CLIENT SETINFO LIB-NAME 'bad name'")
    raises(c.ResponseError, lambda: r.execute_command("CLIENT", "SETINFO", "NOPE", "x"), "CLIENT SETINFO NOPE x")


def check_select_db(c):
    r0, r3 = c.client(db=0), c.client(db=3)
    key = c.k("indb3")
    r0.delete(key)
    eq(r3.set(key, "three"), True, "SET in db 3")
    eq(r3.get(key), "three", "GET in db 3")
    eq(r0.exists(key), 0, "EXISTS in db 0 of a key set in db 3")
    mine = [e for e in r3.client_list() if int(e["id"]) == r3.client_id()]
    eq(str(mine[0]["db"]), "3", "CLIENT LIST db= after select")
    e = raises(c.ResponseError, lambda: r0.execute_command("SELECT", 16), "SELECT 16")
    eq(str(e), "DB index is out of range", "SELECT 16 error")
    e = raises(c.ResponseError, lambda: r0.execute_command("SELECT", "x"), "SELECT x")
    eq(str(e), "value is not an integer or out of range", "SELECT x error")
    r3.delete(key)


# ---------------------------------------------------------------- server


def check_info(c):
    r = c.client()
    r.flushdb()
    info = r.info()
    ok(re.fullmatch(r"\d+\.\d+\.\d+", str(info.get("redis_version"))), "INFO redis_version", info.get("redis_version"))
    ok(isinstance(info.get("connected_clients"), int) and info["connected_clients"] >= 1, "INFO connected_clients",
       info.get("connected_clients"))
    eq(info.get("tcp_port"), ARGS.port, "INFO tcp_port")
    ok(isinstance(info.get("uptime_in_seconds"), int), "INFO uptime_in_seconds is an integer", info.get("uptime_in_seconds"))
    ok(isinstance(info.get("process_id"), int), "INFO process_id is an integer", info.get("process_id"))
    ok(isinstance(info.get("used_memory"), int), "INFO used_memory is an integer", info.get("used_memory"))
    eq(info.get("role"), "master", "INFO role")
    server = r.info("server")
    ok("redis_version" in server and "used_memory" not in server, "INFO server has only the server section", sorted(server))
    r.mset({c.k(f"k{i}"): i for i in range(5)})
    r.expire(c.k("k0"), 100)
    ks = r.info("keyspace")
    ok("db0" in ks, "INFO keyspace has db0", ks)
    eq(ks["db0"]["keys"], 5, "INFO keyspace db0 keys")
    eq(ks["db0"]["expires"], 1, "INFO keyspace db0 expires")
    stats = r.info("stats")
    ok(stats.get("total_commands_processed", 0) > 0, "INFO stats total_commands_processed", stats.get("total_commands_processed"))
    before = r.info("stats")["keyspace_hits"]
    r.get(c.k("k1"))
    eq(r.info("stats")["keyspace_hits"], before + 1, "INFO keyspace_hits after one GET hit")
    everything = r.info("everything")
    ok("redis_version" in everything and "db0" in everything, "INFO everything has server and keyspace fields", sorted(everything)[:10])
    r.flushdb()


def check_dbsize_flushdb_flushall(c):
    r0, r1 = c.client(db=0), c.client(db=1)
    r0.flushall()
    eq(r0.dbsize(), 0, "DBSIZE after FLUSHALL")
    r0.mset({c.k(f"a{i}"): "x" for i in range(10)})
    r1.mset({c.k(f"b{i}"): "y" for i in range(3)})
    eq(r0.dbsize(), 10, "DBSIZE db0")
    eq(r1.dbsize(), 3, "DBSIZE db1")
    eq(r0.flushdb(), True, "FLUSHDB")
    eq(r0.dbsize(), 0, "DBSIZE db0 after FLUSHDB")
    eq(r1.dbsize(), 3, "DBSIZE db1 after FLUSHDB of db0")
    eq(r0.flushdb(asynchronous=True), True, "FLUSHDB ASYNC")
    eq(r0.flushall(), True, "FLUSHALL")
    eq(r1.dbsize(), 0, "DBSIZE db1 after FLUSHALL")


# ---------------------------------------------------------------- strings


def check_strings_set_get(c):
    r = c.client()
    k, missing = c.k("s"), c.k("missing")
    eq(r.set(k, "v1"), True, "SET")
    eq(r.get(k), "v1", "GET")
    eq(r.get(missing), None, "GET missing")
    eq(r.set(k, "v2", nx=True), None, "SET NX on existing key")
    eq(r.get(k), "v1", "GET after SET NX refused")
    eq(r.set(missing, "v", xx=True), None, "SET XX on missing key")
    eq(r.exists(missing), 0, "EXISTS after SET XX refused")
    eq(r.set(k, "v3", xx=True), True, "SET XX on existing key")
    eq(r.set(k, "v4", get=True), "v3", "SET GET returns the old value")
    eq(r.get(k), "v4", "GET after SET GET")
    eq(r.setnx(k, "no"), False, "SETNX existing")
    eq(r.setnx(c.k("new"), "yes"), True, "SETNX new")
    eq(r.getset(k, "v5"), "v4", "GETSET")
    eq(r.append(k, "-tail"), len("v5-tail"), "APPEND returns the new length")
    eq(r.strlen(k), 7, "STRLEN")
    eq(r.strlen(missing), 0, "STRLEN missing")
    eq(r.append(c.k("app"), "abc"), 3, "APPEND creates a key")
    big = "x" * 100_000
    eq(r.set(c.k("big"), big), True, "SET 100 kB")
    eq(r.get(c.k("big")), big, "GET 100 kB")
    rb = c.client(decode=False)
    eq(rb.set(c.k("bin"), b"\x00\r\n\xff"), True, "SET binary")
    eq(rb.get(c.k("bin")), b"\x00\r\n\xff", "GET binary")


def check_strings_mset_mget(c):
    r = c.client()
    keys = [c.k(f"m{i}") for i in range(20)]
    eq(r.mset({k: f"val{i}" for i, k in enumerate(keys)}), True, "MSET 20 keys")
    eq(r.mget(keys + [c.k("none")]), [f"val{i}" for i in range(20)] + [None], "MGET 20 keys and a missing one")
    eq(r.msetnx({c.k("m0"): "x", c.k("fresh"): "y"}), False, "MSETNX with one existing key")
    eq(r.exists(c.k("fresh")), 0, "MSETNX sets nothing when one key exists")
    eq(r.msetnx({c.k("fresh"): "y", c.k("fresh2"): "z"}), True, "MSETNX all new")
    eq(r.mget(c.k("fresh"), c.k("fresh2")), ["y", "z"], "MGET after MSETNX")


def check_strings_incr(c):
    r = c.client()
    k = c.k("n")
    eq(r.incr(k), 1, "INCR missing")
    eq(r.incr(k), 2, "INCR")
    eq(r.incrby(k, 40), 42, "INCRBY 40")
    eq(r.decr(k), 41, "DECR")
    eq(r.decrby(k, 51), -10, "DECRBY 51")
    eq(r.get(k), "-10", "GET after INCR family")
    r.set(k, "10.5")
    eq(r.incrbyfloat(k, 0.1), 10.6, "INCRBYFLOAT 0.1")
    eq(r.get(k), "10.6", "GET after INCRBYFLOAT")
    eq(r.incrbyfloat(k, -5), 5.6, "INCRBYFLOAT -5")
    r.set(k, "abc")
    e = raises(c.ResponseError, lambda: r.incr(k), "INCR on a non-integer")
    eq(str(e), "value is not an integer or out of range", "INCR non-integer error")
    r.set(k, str(2**63 - 1))
    e = raises(c.ResponseError, lambda: r.incr(k), "INCR at i64 max")
    eq(str(e), "increment or decrement would overflow", "INCR overflow error")
    r.set(k, "1")
    e = raises(c.ResponseError, lambda: r.incrbyfloat(k, "nan"), "INCRBYFLOAT nan")
    eq(str(e), "value is not a valid float", "INCRBYFLOAT nan error")


def check_strings_getex_getdel(c):
    r = c.client()
    k = c.k("g")
    r.set(k, "val")
    eq(r.getex(k, ex=50), "val", "GETEX EX 50")
    ttl = r.ttl(k)
    ok(49 <= ttl <= 50, "TTL after GETEX EX 50", ttl)
    eq(r.getex(k, persist=True), "val", "GETEX PERSIST")
    eq(r.ttl(k), -1, "TTL after GETEX PERSIST")
    eq(r.getex(k, px=20000), "val", "GETEX PX 20000")
    ok(19000 <= r.pttl(k) <= 20000, "PTTL after GETEX PX", r.pttl(k))
    eq(r.getex(c.k("none")), None, "GETEX missing")
    eq(r.getdel(k), "val", "GETDEL")
    eq(r.exists(k), 0, "EXISTS after GETDEL")
    eq(r.getdel(k), None, "GETDEL missing")


def check_strings_setrange_getrange(c):
    r = c.client()
    k = c.k("r")
    r.set(k, "Hello World")
    eq(r.setrange(k, 6, "Redis"), 11, "SETRANGE 6 Redis")
    eq(r.get(k), "Hello Redis", "GET after SETRANGE")
    eq(r.getrange(k, 0, 4), "Hello", "GETRANGE 0 4")
    eq(r.getrange(k, -5, -1), "Redis", "GETRANGE -5 -1")
    eq(r.getrange(k, 100, 200), "", "GETRANGE out of range")
    eq(r.execute_command("SUBSTR", k, 0, 0), "H", "SUBSTR 0 0")
    k2 = c.k("pad")
    eq(r.setrange(k2, 5, "x"), 6, "SETRANGE on a missing key pads with zero bytes")
    eq(r.get(k2), "\x00" * 5 + "x", "GET padded value")
    e = raises(c.ResponseError, lambda: r.setrange(k2, -1, "x"), "SETRANGE negative offset")
    eq(str(e), "offset is out of range", "SETRANGE negative offset error")


def check_strings_setex_psetex_lcs(c):
    r = c.client()
    eq(r.setex(c.k("se"), 100, "v"), True, "SETEX")
    ok(99 <= r.ttl(c.k("se")) <= 100, "TTL after SETEX", r.ttl(c.k("se")))
    eq(r.psetex(c.k("pse"), 100000, "v"), True, "PSETEX")
    ok(99000 <= r.pttl(c.k("pse")) <= 100000, "PTTL after PSETEX", r.pttl(c.k("pse")))
    e = raises(c.ResponseError, lambda: r.setex(c.k("se"), 0, "v"), "SETEX 0")
    eq(str(e), "invalid expire time in 'setex' command", "SETEX 0 error")
    r.mset({c.k("l1"): "ohmytext", c.k("l2"): "mynewtext"})
    eq(r.lcs(c.k("l1"), c.k("l2")), "mytext", "LCS")
    eq(r.lcs(c.k("l1"), c.k("l2"), len=True), 6, "LCS LEN")


# ---------------------------------------------------------------- expiry and generic keys


def check_expiry(c):
    r = c.client()
    k = c.k("e")
    eq(r.set(k, "v", ex=100), True, "SET EX 100")
    ok(99 <= r.ttl(k) <= 100, "TTL after SET EX 100", r.ttl(k))
    ok(98000 < r.pttl(k) <= 100000, "PTTL after SET EX 100", r.pttl(k))
    eq(r.pexpire(k, 5000), True, "PEXPIRE 5000")
    ok(4000 < r.pttl(k) <= 5000, "PTTL after PEXPIRE 5000", r.pttl(k))
    eq(r.persist(k), True, "PERSIST")
    eq(r.ttl(k), -1, "TTL after PERSIST")
    eq(r.persist(k), False, "PERSIST without TTL")
    eq(r.ttl(c.k("none")), -2, "TTL missing key")
    eq(r.pttl(c.k("none")), -2, "PTTL missing key")
    eq(r.expire(c.k("none"), 10), False, "EXPIRE missing key")
    eq(r.expire(k, 100, xx=True), False, "EXPIRE XX without TTL")
    eq(r.expire(k, 100, nx=True), True, "EXPIRE NX without TTL")
    eq(r.expire(k, 50, gt=True), False, "EXPIRE GT with a smaller TTL")
    eq(r.expire(k, 200, gt=True), True, "EXPIRE GT with a larger TTL")
    eq(r.expire(k, 300, lt=True), False, "EXPIRE LT with a larger TTL")
    at = int(time.time()) + 1000
    eq(r.expireat(k, at), True, "EXPIREAT")
    eq(r.expiretime(k), at, "EXPIRETIME after EXPIREAT")
    eq(r.pexpireat(k, at * 1000 + 123), True, "PEXPIREAT")
    eq(r.pexpiretime(k), at * 1000 + 123, "PEXPIRETIME after PEXPIREAT")
    eq(r.expiretime(c.k("none")), -2, "EXPIRETIME missing")
    r.set(c.k("nottl"), "v")
    eq(r.expiretime(c.k("nottl")), -1, "EXPIRETIME without TTL")
    e = raises(c.ResponseError, lambda: r.set(k, "v", ex=0), "SET EX 0")
    eq(str(e), "invalid expire time in 'set' command", "SET EX 0 error")
    e = raises(c.ResponseError, lambda: r.execute_command("EXPIRE", k, 10, "NX", "XX"), "EXPIRE NX XX")
    eq(str(e), "NX and XX, GT or LT options at the same time are not compatible", "EXPIRE NX XX error")
    # Keys really go away.
    eq(r.set(c.k("short"), "v", px=100), True, "SET PX 100")
    eq(r.set(c.k("short2"), "v"), True, "SET")
    eq(r.pexpire(c.k("short2"), 100), True, "PEXPIRE 100")
    eq(r.set(c.k("past"), "v"), True, "SET")
    eq(r.expireat(c.k("past"), int(time.time()) - 10), True, "EXPIREAT in the past")
    eq(r.exists(c.k("past")), 0, "EXISTS after EXPIREAT in the past")
    time.sleep(0.25)
    eq(r.get(c.k("short")), None, "GET after PX 100 elapsed")
    eq(r.exists(c.k("short2")), 0, "EXISTS after PEXPIRE 100 elapsed")
    eq(r.ttl(c.k("short2")), -2, "TTL after expiry")
    r.set(k, "v", ex=100)
    r.set(k, "w")
    eq(r.ttl(k), -1, "a plain SET clears the TTL")
    r.set(k, "v", ex=100)
    r.set(k, "w", keepttl=True)
    ok(r.ttl(k) > 0, "SET KEEPTTL keeps the TTL", r.ttl(k))
    r.set(k, "v", exat=at)
    eq(r.expiretime(k), at, "SET EXAT")
    r.set(k, "v", pxat=at * 1000 + 5)
    eq(r.pexpiretime(k), at * 1000 + 5, "SET PXAT")


def check_generic_keys(c):
    r = c.client()
    a, b, n = c.k("a"), c.k("b"), c.k("none")
    r.mset({a: "1", b: "2"})
    eq(r.exists(a, b, n, a), 3, "EXISTS counts repeats")
    eq(r.type(a), "string", "TYPE string")
    eq(r.type(n), "none", "TYPE missing")
    eq(r.touch(a, b, n), 2, "TOUCH")
    eq(r.rename(a, c.k("a2")), True, "RENAME")
    eq(r.get(c.k("a2")), "1", "GET after RENAME")
    eq(r.exists(a), 0, "old name gone after RENAME")
    e = raises(c.ResponseError, lambda: r.rename(n, c.k("x")), "RENAME missing key")
    eq(str(e), "no such key", "RENAME missing error")
    eq(r.renamenx(c.k("a2"), b), False, "RENAMENX onto an existing key")
    eq(r.renamenx(c.k("a2"), a), True, "RENAMENX")
    r.expire(a, 100)
    r.rename(a, c.k("a3"))
    ok(r.ttl(c.k("a3")) > 0, "RENAME keeps the TTL", r.ttl(c.k("a3")))
    eq(r.copy(c.k("a3"), c.k("c")), True, "COPY")
    eq(r.get(c.k("c")), "1", "GET COPY destination")
    ok(r.ttl(c.k("c")) > 0, "COPY keeps the TTL", r.ttl(c.k("c")))
    eq(r.copy(c.k("a3"), b), False, "COPY onto an existing key")
    eq(r.copy(c.k("a3"), b, replace=True), True, "COPY REPLACE")
    eq(r.get(b), "1", "GET after COPY REPLACE")
    eq(r.copy(b, c.k("indb2"), destination_db=2), True, "COPY DB 2")
    r2 = c.client(db=2)
    eq(r2.get(c.k("indb2")), "1", "GET in db 2 after COPY DB 2")
    eq(r.move(c.k("c"), 2), True, "MOVE to db 2")
    eq(r.exists(c.k("c")), 0, "MOVE removes the source")
    eq(r2.get(c.k("c")), "1", "GET in db 2 after MOVE")
    eq(r.delete(b, c.k("a3"), n), 2, "DEL counts deleted keys")
    eq(r.unlink(c.k("a3")), 0, "UNLINK missing")
    r2.delete(c.k("c"), c.k("indb2"))
    r.set(c.k("obj"), "12345")
    eq(r.object("encoding", c.k("obj")), "int", "OBJECT ENCODING of an integer")
    r.set(c.k("obj"), "hello")
    eq(r.object("encoding", c.k("obj")), "embstr", "OBJECT ENCODING of a short string")
    r.append(c.k("obj"), "!")
    eq(r.object("encoding", c.k("obj")), "raw", "OBJECT ENCODING after APPEND")


def check_scan_keys_randomkey(c):
    r = c.client(db=1)
    r.flushdb()
    expected = {f"p:{i}" for i in range(300)}
    r.mset({k: "v" for k in expected})
    r.mset({f"q:{i}": "v" for i in range(20)})
    got = set(r.scan_iter(match="p:*", count=37))
    eq(got, expected, "SCAN MATCH p:* COUNT 37 (scan_iter) returns every p: key")
    eq(len(set(r.scan_iter())), 320, "SCAN without MATCH visits every key")
    eq(set(r.scan_iter(match="q:*", _type="string")), {f"q:{i}" for i in range(20)}, "SCAN MATCH TYPE string")
    eq(set(r.scan_iter(_type="list")), set(), "SCAN TYPE list")
    cursor, page = r.scan(0, match="q:1?", count=1000)
    eq((cursor, sorted(page)), (0, sorted(f"q:{i}" for i in range(10, 20))), "SCAN 0 MATCH q:1? COUNT 1000")
    eq(sorted(r.keys("q:1*")), sorted(["q:1"] + [f"q:{i}" for i in range(10, 20)]), "KEYS q:1*")
    eq(r.keys("nomatch*"), [], "KEYS nomatch*")
    eq(sorted(r.keys("q:[12]")), ["q:1", "q:2"], "KEYS with a character class")
    r.flushdb()
    eq(r.randomkey(), None, "RANDOMKEY on an empty db")
    r.set("only", "v")
    eq(r.randomkey(), "only", "RANDOMKEY with one key")
    r.flushdb()


# ---------------------------------------------------------------- bitmaps


def check_bitmaps(c):
    r = c.client()
    rb = c.client(decode=False)
    k = c.k("bm")
    eq(r.setbit(k, 7, 1), 0, "SETBIT 7 1")
    eq(r.setbit(k, 7, 1), 1, "SETBIT 7 1 again returns the old bit")
    eq(r.getbit(k, 7), 1, "GETBIT 7")
    eq(r.getbit(k, 6), 0, "GETBIT 6")
    eq(r.getbit(k, 10_000), 0, "GETBIT past the end")
    eq(rb.get(k), b"\x01", "GET of the bitmap")
    eq(r.setbit(k, 100, 1), 0, "SETBIT 100 grows the string")
    eq(r.strlen(k), 13, "STRLEN after SETBIT 100")
    e = raises(c.ResponseError, lambda: r.execute_command("SETBIT", k, 1, 2), "SETBIT 1 2")
    eq(str(e), "bit is not an integer or out of range", "SETBIT bad value error")
    e = raises(c.ResponseError, lambda: r.setbit(k, -1, 1), "SETBIT -1")
    eq(str(e), "bit offset is not an integer or out of range", "SETBIT bad offset error")
    f = c.k("foobar")
    r.set(f, "foobar")
    eq(r.bitcount(f), 26, "BITCOUNT foobar")
    eq(r.bitcount(f, 0, 0), 4, "BITCOUNT 0 0")
    eq(r.bitcount(f, 1, 1), 6, "BITCOUNT 1 1")
    eq(r.bitcount(f, 1, 1, mode="BYTE"), 6, "BITCOUNT 1 1 BYTE")
    eq(r.bitcount(f, 5, 30, mode="BIT"), 17, "BITCOUNT 5 30 BIT")
    eq(r.bitcount(c.k("none")), 0, "BITCOUNT missing")
    rb.set(c.k("bp"), b"\xff\xf0\x00")
    eq(r.bitpos(c.k("bp"), 0), 12, "BITPOS 0")
    eq(r.bitpos(c.k("bp"), 1, 1), 8, "BITPOS 1 1")
    eq(r.bitpos(c.k("bp"), 1, 2, -1), -1, "BITPOS 1 2 -1")
    eq(r.bitpos(c.k("bp"), 0, 7, 15, mode="BIT"), 12, "BITPOS 0 7 15 BIT")
    rb.mset({c.k("x"): b"\x0f\xff", c.k("y"): b"\xf0"})
    eq(r.bitop("AND", c.k("and"), c.k("x"), c.k("y")), 2, "BITOP AND")
    eq(rb.get(c.k("and")), b"\x00\x00", "BITOP AND result")
    eq(r.bitop("OR", c.k("or"), c.k("x"), c.k("y")), 2, "BITOP OR")
    eq(rb.get(c.k("or")), b"\xff\xff", "BITOP OR result")
    eq(r.bitop("XOR", c.k("xor"), c.k("x"), c.k("y")), 2, "BITOP XOR")
    eq(rb.get(c.k("xor")), b"\xff\xff", "BITOP XOR result")
    eq(r.bitop("NOT", c.k("not"), c.k("y")), 1, "BITOP NOT")
    eq(rb.get(c.k("not")), b"\x0f", "BITOP NOT result")
    eq(r.bitfield(c.k("bf")).set("u8", 0, 200).get("u8", 0).incrby("u8", 0, 100).execute(), [0, 200, 44],
       "BITFIELD SET u8 0 200 GET u8 0 INCRBY u8 0 100 (wraps)")
    eq(r.bitfield(c.k("bf")).overflow("SAT").incrby("u8", 0, 250).overflow("FAIL").incrby("u8", 0, 1).execute(),
       [255, None], "BITFIELD OVERFLOW SAT/FAIL")
    eq(r.bitfield_ro(c.k("bf"), "u8", 0, items=[("u4", 4)]), [255, 15], "BITFIELD_RO")


# ---------------------------------------------------------------- pipelines and errors


def check_pipeline(c):
    r = c.client()
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(c.k(f"p{i}"), i)
    pipe.incr(c.k("p0")).get(c.k("p0")).mget(c.k("p1"), c.k("p199")).dbsize().ping()
    res = pipe.execute()
    eq(len(res), 205, "pipeline reply count")
    eq(res[:200], [True] * 200, "pipeline SET replies")
    eq(res[200:204], [1, "1", ["1", "199"], res[203]], "pipeline INCR/GET/MGET replies")
    ok(isinstance(res[203], int) and res[203] >= 200, "pipeline DBSIZE", res[203])
    eq(res[204], True, "pipeline PING")
    pipe = r.pipeline(transaction=False)
    pipe.set(c.k("pe"), "notanumber").incr(c.k("pe")).get(c.k("pe"))
    res = pipe.execute(raise_on_error=False)
    eq(res[0], True, "pipeline SET before a failing command")
    ok(isinstance(res[1], c.ResponseError) and "not an integer" in str(res[1]), "pipeline keeps INCR's error in place", res[1])
    eq(res[2], "notanumber", "pipeline GET after a failing command")


def check_errors(c):
    r = c.client()
    k = c.k("s")
    r.set(k, "v")
    e = raises(c.ResponseError, lambda: r.execute_command("GET"), "GET with no key")
    eq(str(e), "wrong number of arguments for 'get' command", "arity error text")
    e = raises(c.ResponseError, lambda: r.execute_command("SET", k), "SET with one arg")
    eq(str(e), "wrong number of arguments for 'set' command", "arity error text")
    e = raises(c.ResponseError, lambda: r.execute_command("SET", k, "v", "EX"), "SET k v EX")
    eq(str(e), "syntax error", "syntax error text")
    e = raises(c.ResponseError, lambda: r.execute_command("SET", k, "v", "NX", "XX"), "SET k v NX XX")
    eq(str(e), "syntax error", "SET NX XX error")
    e = raises(c.ResponseError, lambda: r.execute_command("NOSUCHCMD", "a", "b"), "NOSUCHCMD a b")
    eq(str(e), "unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ", "unknown command text")
    e = raises(c.ResponseError, lambda: r.execute_command("CLIENT", "NOSUCH"), "CLIENT NOSUCH")
    ok(str(e).startswith("unknown subcommand 'NOSUCH'"), "unknown subcommand text", str(e))
    # WRONGTYPE needs a non-string value. Servers without lists answer LPUSH with an unknown-command
    # error instead: check that text, and WRONGTYPE when lists exist.
    lk = c.k("list")
    try:
        r.execute_command("LPUSH", lk, "a")
    except c.ResponseError as e:
        eq(str(e), f"unknown command 'LPUSH', with args beginning with: '{lk}' 'a' ", "LPUSH unknown command text")
        return
    for cmd in (("GET", lk), ("INCR", lk), ("APPEND", lk, "x"), ("SETRANGE", lk, 0, "x"), ("STRLEN", lk),
                ("SETBIT", lk, 0, 1), ("BITCOUNT", lk), ("GETDEL", lk)):
        e = raises(c.ResponseError, lambda: r.execute_command(*cmd), " ".join(map(str, cmd)) + " on a list")
        eq(str(e), "WRONGTYPE Operation against a key holding the wrong kind of value", f"{cmd[0]} WRONGTYPE text")
    eq(r.type(lk), "list", "TYPE list")


CHECKS = [
    check_ping_echo, check_hello, check_client_name_id_list_info, check_client_setinfo, check_select_db,
    check_info, check_dbsize_flushdb_flushall, check_strings_set_get, check_strings_mset_mget, check_strings_incr,
    check_strings_getex_getdel, check_strings_setrange_getrange, check_strings_setex_psetex_lcs, check_expiry,
    check_generic_keys, check_scan_keys_randomkey, check_bitmaps, check_pipeline, check_errors,
]


def run_check(fn, lib, proto):
    c = Ctx(lib, proto, fn.__name__.removeprefix("check_"))
    try:
        fn(c)
    finally:
        c.close()


def main():
    # Start from empty databases so that reruns against the same server behave the same.
    try:
        redis.Redis(host=ARGS.host, port=ARGS.port, protocol=2).flushall()
    except redis.exceptions.ResponseError as e:
        print(f"warning: setup FLUSHALL failed: {e}")
    for lib in LIBS:
        for proto in (2, 3):
            for fn in CHECKS:
                RUNNER.add(f"{lib}/resp{proto}/{fn.__name__.removeprefix('check_')}", run_check, fn, lib, proto)
    # The libraries' own default protocol (redis-py 8 defaults to RESP3, valkey-py 6 to RESP2).
    for lib, (mod, _) in LIBS.items():
        RUNNER.add(f"{lib}/default-protocol", check_default_protocol, mod)
    return RUNNER.run()


def check_default_protocol(mod):
    r = traced(mod.Redis, RUNNER)(host=ARGS.host, port=ARGS.port, decode_responses=True)
    try:
        expected = 3 if mod is redis else 2
        h = hello_dict(r.execute_command("HELLO"))
        eq(h["proto"], expected, f"{mod.__name__} default protocol (HELLO proto)")
        eq(r.set("default-proto", "v", ex=10), True, "SET EX")
        eq(r.get("default-proto"), "v", "GET")
    finally:
        r.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as e:
        print(f"FAIL: {e}")
        sys.exit(1)
