#!/usr/bin/env python3
"""Application patterns with the real Python clients (redis-py over RESP3 and RESP2, valkey-py).

Each check is a small realistic program that asserts exact results, not only the absence of an
exception:

  * job_queue     a stream job queue with a consumer group: a producer XADDs 200 jobs while two
                  worker threads XREADGROUP (COUNT 10 BLOCK 200) and XACK; a consumer that "died"
                  holding 10 unacked jobs is taken over with XAUTOCLAIM (min-idle 50 ms); every
                  job is processed exactly once and acked; XPENDING / XINFO GROUPS / XINFO
                  CONSUMERS are what Redis answers.
  * rate_limiter  a Lua rate limiter (INCR + PEXPIRE on the first hit) through the library's
                  Script object (EVALSHA, NOSCRIPT -> SCRIPT LOAD), also hit from 16 threads.
  * lock          SET NX PX locks released by a compare-and-delete script (EVALSHA after SCRIPT
                  LOAD; another client cannot release the lock), and the library's own Lock.
  * leaderboard   ZADD/ZINCRBY for 500 players, top 10, ZREVRANK (WITHSCORE on >= 7.2),
                  ZRANGEBYSCORE LIMIT pagination, ZUNIONSTORE WEIGHTS of two weekly boards.
  * pubsub        fan-out to a PSUBSCRIBE news.* subscriber, a SUBSCRIBE news.sport subscriber and
                  a RESP3 subscriber with both; messages in order; PUBLISH counts receivers.
  * hash_cache    cache-aside with hashes (HGETALL miss, HSET + EXPIRE in MULTI, HINCRBY keeps
                  the TTL, expiry makes it a miss again).
  * session_store sessions with GETEX (sliding expiry, PERSIST, GETDEL on logout).

    python3 interop/test_app_patterns.py --host 127.0.0.1 --port 6379

The server must be one the suite may flush.
"""

import hashlib
import random
import sys
import threading
import time
import uuid

import redis
import valkey

from harness import CheckFailed, Runner, eq, ok, raises, target, traced

ARGS = target(__doc__)
RUNNER = Runner("apps-python", ARGS.only)

LIBS = {"redis-py": redis, "valkey-py": valkey}
# (library, protocol): redis-py 8 defaults to RESP3, valkey-py to RESP2.
VARIANTS = [("redis-py", 3), ("redis-py", 2), ("valkey-py", 2)]


class Ctx:
    def __init__(self, lib, proto, check):
        self.lib = lib
        self.mod = LIBS[lib]
        self.proto = proto
        self.prefix = f"apps:{lib}:{proto}:{check}:"
        self.clients = []

    def client(self, proto=None, decode=True, **kw):
        cls = traced(self.mod.Redis, RUNNER)
        c = cls(host=ARGS.host, port=ARGS.port, protocol=proto or self.proto, decode_responses=decode,
                socket_timeout=10, **kw)
        self.clients.append(c)
        return c

    def k(self, name):
        return self.prefix + name

    def close(self):
        for c in self.clients:
            c.close()

    @property
    def exc(self):
        return self.mod.exceptions


def server_version(r):
    return tuple(int(x) for x in r.info("server")["redis_version"].split(".")[:2])


def run_threads(targets):
    """Runs callables in threads; re-raises the first exception one of them raised."""
    errors = []

    def wrap(fn):
        def inner():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                errors.append(e)
        return inner

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
        if t.is_alive():
            raise CheckFailed("a thread did not finish within 30 s")
    if errors:
        raise errors[0]


def stream_entries(reply, key):
    """XREADGROUP's reply for one stream as [(id, fields)]: RESP2 gives [[key, entries]], RESP3 a map."""
    if not reply:
        return []
    if isinstance(reply, dict):
        eq(list(reply), [key], "XREADGROUP reply stream names")
        (entries,) = reply[key]
        return list(entries)
    eq(len(reply), 1, "XREADGROUP reply stream count")
    eq(reply[0][0], key, "XREADGROUP reply stream name")
    return list(reply[0][1])


def id_key(eid):
    ms, seq = eid.split("-")
    return int(ms), int(seq)


def exactly_once(got, want, what):
    """got (a list) holds every element of want exactly once and nothing else; short failure text."""
    seen, dupes = set(), []
    for x in got:
        (dupes.append(x) if x in seen else seen.add(x))
    missing = [x for x in want if x not in seen]
    extra = sorted(seen - set(want), key=str)
    if dupes or missing or extra:
        raise CheckFailed(f"{what}: {len(got)} processed; duplicates {dupes[:5]}, missing {missing[:5]} "
                          f"({len(missing)}), unexpected {extra[:5]}")


def pairs(reply):
    """WITHSCORES replies as [(member, score)]: RESP2 gives tuples, RESP3 two-element lists."""
    return [tuple(p) for p in reply]


# ---------------------------------------------------------------- 1. job queue on streams


def check_job_queue(c):
    admin = c.client()
    key, group, results = c.k("jobs"), "workers", c.k("results")
    eq(admin.xgroup_create(key, group, id="0", mkstream=True), True, "XGROUP CREATE MKSTREAM")
    producer = c.client()
    ids = []
    for i in range(20):
        ids.append(producer.xadd(key, {"n": i, "payload": f"job-{i}"}))

    # A consumer takes 10 jobs and dies before acking them.
    dead = c.client()
    got = stream_entries(dead.xreadgroup(group, "dead", {key: ">"}, count=10, block=200), key)
    eq([e[0] for e in got], ids[:10], "XREADGROUP by the doomed consumer gets the first 10 jobs")
    eq(got[3][1], {"n": "3", "payload": "job-3"}, "XREADGROUP entry fields")
    groups = admin.xinfo_groups(key)
    eq(groups, [{"name": group, "consumers": 1, "pending": 10, "last-delivered-id": ids[9], "entries-read": 10,
                 "lag": 10}], "XINFO GROUPS after 10 of 20 delivered")
    nxt, claimed, deleted = admin.xautoclaim(key, group, "reaper", min_idle_time=60000, start_id="0-0", count=100)
    eq((nxt, claimed, deleted), ("0-0", [], []), "XAUTOCLAIM min-idle 60000 claims nothing fresh")

    processed = []  # (consumer, id, n)
    lock = threading.Lock()
    producer_done = threading.Event()

    def produce():
        for batch in range(9):
            pipe = producer.pipeline(transaction=False)
            for i in range(20 + batch * 20, 40 + batch * 20):
                pipe.xadd(key, {"n": i, "payload": f"job-{i}"})
            ids.extend(pipe.execute())
            time.sleep(0.02)
        producer_done.set()

    def worker(name):
        r = c.client()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done_before = producer_done.is_set()
            entries = stream_entries(r.xreadgroup(group, name, {key: ">"}, count=10, block=200), key)
            if not entries:
                if done_before:
                    return
                continue
            ok(len(entries) <= 10, "XREADGROUP COUNT 10 returns at most 10 entries", len(entries))
            for eid, fields in entries:
                eq(r.hsetnx(results, fields["n"], name), True, f"HSETNX result of job {fields['n']} (first time)")
                with lock:
                    processed.append((name, eid, int(fields["n"])))
            eq(r.xack(key, group, *[e[0] for e in entries]), len(entries), f"XACK of {len(entries)} ids by {name}")
        raise CheckFailed(f"worker {name} did not finish within 20 s")

    run_threads([produce, lambda: worker("w1"), lambda: worker("w2")])
    eq(len(ids), 200, "XADD count")
    eq(len(set(ids)), 200, "XADD ids are distinct")
    eq(ids, sorted(ids, key=id_key), "XADD ids increase")

    # The reaper takes over the dead consumer's jobs once they are idle for 50 ms.
    time.sleep(0.06)
    reaper = c.client()
    nxt, claimed, deleted = reaper.xautoclaim(key, group, "reaper", min_idle_time=50, start_id="0-0", count=100)
    eq(nxt, "0-0", "XAUTOCLAIM cursor after a full scan")
    eq(deleted, [], "XAUTOCLAIM deleted ids")
    eq([e[0] for e in claimed], ids[:10], "XAUTOCLAIM claims exactly the dead consumer's jobs")
    eq([e[1] for e in claimed], [{"n": str(i), "payload": f"job-{i}"} for i in range(10)], "XAUTOCLAIM entry fields")
    pend = reaper.xpending_range(key, group, min="-", max="+", count=100)
    eq([(p["message_id"], p["consumer"], p["times_delivered"]) for p in pend], [(i, "reaper", 2) for i in ids[:10]],
       "XPENDING - + 100 after XAUTOCLAIM (consumer, delivery count)")
    for eid, fields in claimed:
        eq(reaper.hsetnx(results, fields["n"], "reaper"), True, f"HSETNX result of job {fields['n']}")
        processed.append(("reaper", eid, int(fields["n"])))
    eq(reaper.xack(key, group, *[e[0] for e in claimed]), 10, "XACK of the claimed jobs")
    eq(reaper.xack(key, group, ids[0]), 0, "XACK of an already acked id")

    exactly_once([p[1] for p in processed], ids, "every job id processed exactly once")
    exactly_once([p[2] for p in processed], list(range(200)), "every job number processed exactly once")
    eq(admin.hlen(results), 200, "HLEN of the results hash")
    eq({p[0] for p in processed if p[2] < 10}, {"reaper"}, "jobs 0-9 were processed by the reaper")
    summary = admin.xpending(key, group)
    eq(summary, {"pending": 0, "min": None, "max": None, "consumers": []}, "XPENDING summary at the end")
    groups = admin.xinfo_groups(key)
    eq(groups, [{"name": group, "consumers": 4, "pending": 0, "last-delivered-id": ids[-1], "entries-read": 200,
                 "lag": 0}], "XINFO GROUPS at the end")
    consumers = admin.xinfo_consumers(key, group)
    eq(sorted((x["name"], x["pending"]) for x in consumers), [("dead", 0), ("reaper", 0), ("w1", 0), ("w2", 0)],
       "XINFO CONSUMERS names and pending")
    eq(admin.xlen(key), 200, "XLEN")
    # A late producer: one more job gives lag 1 until someone reads it.
    last = producer.xadd(key, {"n": 200})
    eq(admin.xinfo_groups(key)[0]["lag"], 1, "XINFO GROUPS lag after one more XADD")
    got = stream_entries(reaper.xreadgroup(group, "reaper", {key: ">"}, count=10), key)
    eq(got, [(last, {"n": "200"})], "XREADGROUP of the late job")
    g = admin.xinfo_groups(key)[0]
    eq((g["pending"], g["entries-read"], g["lag"], g["last-delivered-id"]), (1, 201, 0, last),
       "XINFO GROUPS after reading the late job")


# ---------------------------------------------------------------- 2. Lua rate limiter and lock

RATE_LIMIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if count > tonumber(ARGV[1]) then
  return {0, count}
end
return {1, count}
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def sha1(s):
    return hashlib.sha1(s.encode()).hexdigest()


def check_rate_limiter(c):
    r = c.client()
    eq(r.eval("return 1", 0), 1, "EVAL return 1 0")
    limiter = r.register_script(RATE_LIMIT)
    eq(limiter.sha, sha1(RATE_LIMIT), "Script.sha is the SHA1 of the script")
    eq(r.script_flush(), True, "SCRIPT FLUSH")
    eq(r.script_exists(limiter.sha), [False], "SCRIPT EXISTS before the first call")
    k = c.k("rl:user1")
    got = [limiter(keys=[k], args=[5, 10000]) for _ in range(7)]
    eq(got, [[1, 1], [1, 2], [1, 3], [1, 4], [1, 5], [0, 6], [0, 7]], "7 hits with limit 5 (EVALSHA, NOSCRIPT -> LOAD)")
    eq(r.script_exists(limiter.sha), [True], "SCRIPT EXISTS after the library loaded the script")
    pttl = r.pttl(k)
    ok(9000 < pttl <= 10000, "PTTL set by the first hit only", pttl)
    eq(r.get(k), "7", "counter value")

    # The window resets when the key expires.
    k2 = c.k("rl:user2")
    eq([limiter(keys=[k2], args=[2, 100]) for _ in range(3)], [[1, 1], [1, 2], [0, 3]], "3 hits with limit 2")
    time.sleep(0.15)
    eq(limiter(keys=[k2], args=[2, 100]), [1, 1], "first hit of a new window")

    # The script is atomic: 16 concurrent clients, limit 10 -> exactly 10 allowed.
    k3 = c.k("rl:burst")
    replies = []
    rlock = threading.Lock()

    def hit():
        rc = c.client()
        res = rc.register_script(RATE_LIMIT)(keys=[k3], args=[10, 10000])
        with rlock:
            replies.append(res)

    run_threads([hit] * 16)
    eq(sorted(x[1] for x in replies), list(range(1, 17)), "16 concurrent hits see counts 1..16")
    eq(sorted(x[0] for x in replies), [0] * 6 + [1] * 10, "exactly 10 of 16 concurrent hits allowed")
    eq({x[0] for x in replies if x[1] <= 10}, {1}, "the first 10 counts are the allowed ones")

    # After SCRIPT FLUSH the library reloads the script on NOSCRIPT.
    eq(r.script_flush(), True, "SCRIPT FLUSH")
    eq(limiter(keys=[c.k("rl:user3")], args=[1, 1000]), [1, 1], "limiter after SCRIPT FLUSH (NOSCRIPT handled)")
    eq(r.eval(RATE_LIMIT, 1, c.k("rl:user3"), 1, 1000), [0, 2], "the same script by EVAL")


def check_lock(c):
    a, b = c.client(), c.client()
    k = c.k("lock:order:42")
    tok_a, tok_b = str(uuid.uuid4()), str(uuid.uuid4())
    eq(a.set(k, tok_a, nx=True, px=5000), True, "SET NX PX acquires a free lock")
    eq(b.set(k, tok_b, nx=True, px=5000), None, "SET NX PX on a held lock")
    sha = a.script_load(RELEASE)
    eq(sha, sha1(RELEASE), "SCRIPT LOAD returns the SHA1")
    eq(b.script_exists(sha, "0" * 40), [True, False], "SCRIPT EXISTS from another connection")
    eq(b.evalsha(sha, 1, k, tok_b), 0, "EVALSHA release with someone else's token")
    eq(b.get(k), tok_a, "the lock still holds the owner's token")
    eq(b.eval(RELEASE, 1, k, tok_b), 0, "EVAL release with someone else's token")
    eq(a.evalsha(sha, 1, k, tok_a), 1, "EVALSHA release by the owner")
    eq(a.exists(k), 0, "lock gone after release")
    eq(a.evalsha(sha, 1, k, tok_a), 0, "releasing twice")
    eq(b.set(k, tok_b, nx=True, px=100), True, "another client acquires the released lock")
    time.sleep(0.15)
    eq(a.set(k, tok_a, nx=True, px=5000), True, "acquire after the holder's PX ran out")
    eq(b.evalsha(sha, 1, k, tok_b), 0, "an expired holder cannot release the new owner's lock")
    eq(a.get(k), tok_a, "new owner's token kept")
    e = raises(c.exc.NoScriptError, lambda: a.evalsha("f" * 40, 1, k, tok_a), "EVALSHA of an unknown sha")
    eq(str(e), "No matching script. Please use EVAL.", "NOSCRIPT error text")
    ok(isinstance(a.script_flush(), bool), "SCRIPT FLUSH")
    raises(c.exc.NoScriptError, lambda: a.evalsha(sha, 1, k, tok_a), "EVALSHA after SCRIPT FLUSH")
    eq(a.delete(k), 1, "DEL")

    # The library's Lock (Lua scripts through the Script object).
    name = c.k("lock:lib")
    la = a.lock(name, timeout=5, blocking=False)
    lb = b.lock(name, timeout=5, blocking=False)
    eq(la.acquire(), True, "Lock.acquire")
    eq(lb.acquire(), False, "Lock.acquire of a held lock")
    eq((la.owned(), lb.owned()), (True, False), "Lock.owned")
    eq(la.extend(10), True, "Lock.extend")
    ok(14000 < a.pttl(name) <= 15000, "PTTL after Lock.extend(10) of a 5 s lock", a.pttl(name))
    eq(la.reacquire(), True, "Lock.reacquire")
    ok(4000 < a.pttl(name) <= 5000, "PTTL after Lock.reacquire", a.pttl(name))
    la.release()
    eq(a.exists(name), 0, "Lock.release deletes the key")
    short = a.lock(name, timeout=0.1, blocking=False)
    eq(short.acquire(), True, "Lock.acquire with a 100 ms timeout")
    time.sleep(0.15)
    eq(lb.acquire(), True, "another Lock acquires after the timeout")
    raises(c.exc.LockNotOwnedError, short.release, "Lock.release of a lock someone else now holds")
    eq(b.get(name) is not None and lb.owned(), True, "the new owner still holds the lock")
    lb.release()


# ---------------------------------------------------------------- 3. leaderboard on sorted sets


def expected_desc(scores):
    """ZREVRANGE order: score descending, ties by member descending."""
    return sorted(scores.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def check_leaderboard(c):
    r = c.client()
    rng = random.Random(20240601)
    board = c.k("board:alltime")
    players = [f"player:{i:03d}" for i in range(500)]
    scores = {p: float(rng.randrange(0, 2000)) for p in players}  # many ties
    eq(r.zadd(board, scores), 500, "ZADD 500 players")
    eq(r.zcard(board), 500, "ZCARD")
    eq(r.zadd(board, {players[0]: scores[players[0]]}), 0, "ZADD of an existing player with its score")
    # 1000 score updates in one pipeline; each ZINCRBY returns the new score.
    pipe = r.pipeline(transaction=False)
    want = []
    for _ in range(1000):
        p = rng.choice(players)
        inc = rng.randrange(-20, 100) / 2
        scores[p] += inc
        want.append(scores[p])
        pipe.zincrby(board, inc, p)
    eq(pipe.execute(), want, "1000 ZINCRBY replies")
    desc = expected_desc(scores)
    eq(pairs(r.zrevrange(board, 0, 9, withscores=True)), desc[:10], "ZREVRANGE 0 9 WITHSCORES (top 10)")
    eq(r.zrevrange(board, 0, 2), [m for m, _ in desc[:3]], "ZREVRANGE 0 2")
    for p in (players[0], players[250], players[499], desc[0][0], desc[-1][0]):
        rank = [m for m, _ in desc].index(p)
        eq(r.zrevrank(board, p), rank, f"ZREVRANK {p}")
        eq(r.zrank(board, p), 499 - rank, f"ZRANK {p}")
        eq(r.zscore(board, p), scores[p], f"ZSCORE {p}")
    eq(r.zrevrank(board, "nobody"), None, "ZREVRANK of a missing member")
    if server_version(r) >= (7, 2):
        p = players[123]
        rank = [m for m, _ in desc].index(p)
        got = r.zrevrank(board, p, withscore=True)
        eq([int(got[0]), float(got[1])], [rank, scores[p]], "ZREVRANK WITHSCORE")
    # Pagination by score band, 25 per page.
    lo, hi = 500, 1200
    band = sorted(((m, s) for m, s in scores.items() if lo <= s <= hi), key=lambda kv: (kv[1], kv[0]))
    eq(r.zcount(board, lo, hi), len(band), f"ZCOUNT {lo} {hi}")
    pages, offset = [], 0
    while True:
        page = pairs(r.zrangebyscore(board, lo, hi, start=offset, num=25, withscores=True))
        if not page:
            break
        ok(len(page) <= 25, "ZRANGEBYSCORE LIMIT page size", len(page))
        pages.extend(page)
        offset += 25
    eq(pages, band, "ZRANGEBYSCORE LIMIT pages concatenated")
    eq(r.zrangebyscore(board, f"({lo}", f"({lo + 1}"), [], "ZRANGEBYSCORE with exclusive bounds and nothing inside")
    eq(pairs(r.zrevrangebyscore(board, "+inf", "-inf", start=0, num=5, withscores=True)), desc[:5],
       "ZREVRANGEBYSCORE +inf -inf LIMIT 0 5")

    # Weekly boards combined with weights: this week counts double.
    w1, w2, combined = c.k("board:w1"), c.k("board:w2"), c.k("board:combined")
    week1 = {p: float(rng.randrange(0, 300)) for p in players[:300]}
    week2 = {p: float(rng.randrange(0, 300)) for p in players[200:]}
    r.zadd(w1, week1)
    r.zadd(w2, week2)
    total = {p: week1.get(p, 0.0) * 1 + week2.get(p, 0.0) * 2 for p in set(week1) | set(week2)}
    eq(r.zunionstore(combined, {w1: 1, w2: 2}), 500, "ZUNIONSTORE WEIGHTS 1 2")
    eq(pairs(r.zrange(combined, 0, -1, withscores=True)), sorted(total.items(), key=lambda kv: (kv[1], kv[0])),
       "ZRANGE 0 -1 WITHSCORES of the union")
    eq(pairs(r.zrevrange(combined, 0, 9, withscores=True)), expected_desc(total)[:10], "top 10 of the union")
    best = {p: max(week1.get(p, float("-inf")), week2.get(p, float("-inf"))) for p in total}
    eq(r.zunionstore(combined, [w1, w2], aggregate="MAX"), 500, "ZUNIONSTORE AGGREGATE MAX")
    eq(pairs(r.zrevrange(combined, 0, 9, withscores=True)), expected_desc(best)[:10], "top 10 of the MAX union")
    both = {p: week1[p] + week2[p] for p in set(week1) & set(week2)}
    eq(r.zinterstore(combined, [w1, w2]), 100, "ZINTERSTORE of players in both weeks")
    eq(pairs(r.zrevrange(combined, 0, -1, withscores=True)), expected_desc(both), "ZINTERSTORE result")


# ---------------------------------------------------------------- 4. pub/sub fan-out


def check_pubsub(c):
    sport, weather, alerts = c.k("news.sport"), c.k("news.weather"), c.k("alerts")
    pattern = c.k("news.*")
    sub_a = c.client().pubsub()
    sub_b = c.client().pubsub()
    sub_c = c.client(proto=3).pubsub()  # RESP3: messages arrive as push frames
    sub_a.psubscribe(pattern)
    sub_b.subscribe(sport)
    sub_c.subscribe(sport, alerts)
    sub_c.psubscribe(pattern)

    def drain(ps, n, what):
        out = []
        deadline = time.monotonic() + 5
        while len(out) < n and time.monotonic() < deadline:
            m = ps.get_message(timeout=0.5)
            if m is not None:
                out.append(m)
        eq(len(out), n, f"{what}: number of messages received")
        return out

    conf = [(m["type"], m["channel"], m["data"]) for m in drain(sub_a, 1, "subscriber A confirmations")]
    eq(conf, [("psubscribe", pattern, 1)], "PSUBSCRIBE confirmation")
    conf = [(m["type"], m["channel"], m["data"]) for m in drain(sub_b, 1, "subscriber B confirmations")]
    eq(conf, [("subscribe", sport, 1)], "SUBSCRIBE confirmation")
    conf = [(m["type"], m["channel"], m["data"]) for m in drain(sub_c, 3, "subscriber C confirmations")]
    eq(sorted(conf), sorted([("subscribe", sport, 1), ("subscribe", alerts, 2), ("psubscribe", pattern, 3)]),
       "RESP3 SUBSCRIBE/PSUBSCRIBE confirmations")

    pub = c.client()
    eq(pub.pubsub_numsub(sport, weather, alerts), [(sport, 2), (weather, 0), (alerts, 1)], "PUBSUB NUMSUB")
    eq(pub.pubsub_numpat(), 1, "PUBSUB NUMPAT (distinct patterns)")
    eq(sorted(pub.pubsub_channels(c.k("*"))), sorted([sport, alerts]), "PUBSUB CHANNELS")

    receivers = {sport: 4, weather: 2, alerts: 1}  # sport: A (pattern), B, C (channel and pattern)
    want_a, want_b, want_c, counts, want_counts = [], [], [], [], []
    for i in range(100):
        ch = (sport, weather, alerts)[i % 3]
        data = f"msg {i} on {ch.rsplit(':', 1)[1]}"
        counts.append(pub.publish(ch, data))
        want_counts.append(receivers[ch])
        if ch != alerts:
            want_a.append(("pmessage", pattern, ch, data))
        if ch == sport:
            want_b.append(("message", None, ch, data))
        if ch != weather:
            want_c.append(("message", None, ch, data))  # channel subscribers first, then patterns
        if ch != alerts:
            want_c.append(("pmessage", pattern, ch, data))
    eq(counts, want_counts, "PUBLISH replies (receiver counts)")

    def got(ps, n, what):
        return [(m["type"], m["pattern"], m["channel"], m["data"]) for m in drain(ps, n, what)]

    eq(got(sub_a, len(want_a), "subscriber A"), want_a, "PSUBSCRIBE news.* subscriber's messages in order")
    eq(got(sub_b, len(want_b), "subscriber B"), want_b, "SUBSCRIBE news.sport subscriber's messages in order")
    eq(got(sub_c, len(want_c), "subscriber C"), want_c, "RESP3 subscriber's messages in order")
    eq(sub_a.get_message(timeout=0.05), None, "no extra message for A")

    sub_c.punsubscribe(pattern)
    conf = [(m["type"], m["channel"], m["data"]) for m in drain(sub_c, 1, "PUNSUBSCRIBE confirmation")]
    eq(conf, [("punsubscribe", pattern, 2)], "PUNSUBSCRIBE confirmation")
    eq(pub.publish(sport, "after"), 3, "PUBLISH after C's PUNSUBSCRIBE")
    sub_b.unsubscribe()
    conf = [(m["type"], m["channel"], m["data"]) for m in drain(sub_b, 2, "B's UNSUBSCRIBE and the message")]
    eq(conf, [("message", sport, "after"), ("unsubscribe", sport, 0)], "message then UNSUBSCRIBE confirmation")
    eq(pub.publish(sport, "last"), 2, "PUBLISH after B's UNSUBSCRIBE")
    for ps in (sub_a, sub_b, sub_c):
        ps.close()


# ---------------------------------------------------------------- cache and sessions

USERS = {
    7: {"name": "Ada Lovelace", "email": "ada@example.org", "plan": "pro", "views": "0"},
    8: {"name": "Grace Hopper", "email": "grace@example.org", "plan": "free", "views": "0"},
}


def check_hash_cache(c):
    r = c.client()
    loads = []

    def get_user(uid, ttl=60):
        key = c.k(f"user:{uid}")
        cached = r.hgetall(key)
        if cached:
            return cached, "hit"
        loads.append(uid)
        row = USERS[uid]
        pipe = r.pipeline(transaction=True)
        pipe.hset(key, mapping=row).expire(key, ttl)
        eq(pipe.execute(), [len(row), True], "MULTI HSET EXPIRE EXEC")
        return dict(row), "miss"

    eq(get_user(7), (USERS[7], "miss"), "first read is a miss")
    eq(get_user(7), (USERS[7], "hit"), "second read is a hit")
    key = c.k("user:7")
    eq([r.hincrby(key, "views", 1) for _ in range(5)], [1, 2, 3, 4, 5], "HINCRBY views")
    eq(r.hincrbyfloat(key, "balance", 2.5), 2.5, "HINCRBYFLOAT on a new field")
    eq(r.hset(key, "plan", "team"), 0, "HSET of an existing field")
    ttl = r.ttl(key)
    ok(55 <= ttl <= 60, "HINCRBY/HSET keep the cache TTL", ttl)
    eq(r.hgetall(key), {**USERS[7], "views": "5", "plan": "team", "balance": "2.5"}, "HGETALL after updates")
    eq(r.hmget(key, "name", "nope", "views"), ["Ada Lovelace", None, "5"], "HMGET")
    eq(r.hdel(key, "balance", "nope"), 1, "HDEL")
    eq(r.hlen(key), 4, "HLEN")
    # Invalidation and expiry make it a miss again.
    eq(r.delete(key), 1, "DEL invalidates")
    eq(get_user(7), (USERS[7], "miss"), "read after invalidation is a miss")
    eq(get_user(8, ttl=1), (USERS[8], "miss"), "user 8 cached for 1 s")
    eq(r.pexpire(c.k("user:8"), 100), True, "PEXPIRE 100")
    time.sleep(0.15)
    eq(r.hgetall(c.k("user:8")), {}, "HGETALL of an expired hash")
    eq(get_user(8), (USERS[8], "miss"), "read after expiry is a miss")
    eq(loads, [7, 7, 8, 8], "loads from the backing store")


def check_session_store(c):
    r = c.client()
    sid = uuid.uuid4().hex
    key = c.k(f"session:{sid}")
    data = '{"user":7,"csrf":"tok","cart":[1,2,3]}'
    eq(r.set(key, data, ex=1800), True, "SET session EX 1800")
    eq(r.getex(key, ex=1800), data, "GETEX EX 1800 (sliding refresh)")
    ok(1799 <= r.ttl(key) <= 1800, "TTL after GETEX", r.ttl(key))
    eq(r.getex(c.k("session:missing"), ex=1800), None, "GETEX of a missing session")
    # Sliding expiry for real: 400 ms sessions kept alive by reads past their first deadline.
    short = c.k("session:short")
    eq(r.set(short, "s", px=400), True, "SET PX 400")
    for _ in range(3):
        time.sleep(0.15)
        eq(r.getex(short, px=400), "s", "GETEX PX 400 within the window")
    time.sleep(0.5)
    eq(r.getex(short, px=400), None, "GETEX after the window passed")
    eq(r.exists(short), 0, "expired session gone")
    # "Remember me" makes it persistent; logout deletes it.
    eq(r.getex(key, persist=True), data, "GETEX PERSIST")
    eq(r.ttl(key), -1, "TTL after GETEX PERSIST")
    eq(r.getex(key, exat=int(time.time()) + 3600), data, "GETEX EXAT")
    ok(3590 <= r.ttl(key) <= 3600, "TTL after GETEX EXAT", r.ttl(key))
    e = raises(c.exc.ResponseError, lambda: r.execute_command("GETEX", key, "EX", 0), "GETEX EX 0")
    eq(str(e), "invalid expire time in 'getex' command", "GETEX EX 0 error")
    eq(r.execute_command("GETEX", c.k("session:missing"), "EX", 0), None, "GETEX EX 0 of a missing key (Redis: nil)")
    eq(r.getdel(key), data, "GETDEL on logout")
    eq(r.getex(key), None, "GETEX after logout")


CHECKS = [check_job_queue, check_rate_limiter, check_lock, check_leaderboard, check_pubsub, check_hash_cache,
          check_session_store]


def run_check(fn, lib, proto):
    c = Ctx(lib, proto, fn.__name__.removeprefix("check_"))
    try:
        fn(c)
    finally:
        c.close()


def main():
    try:
        redis.Redis(host=ARGS.host, port=ARGS.port, protocol=2).flushall()
    except redis.exceptions.ResponseError as e:
        print(f"warning: setup FLUSHALL failed: {e}")
    for lib, proto in VARIANTS:
        for fn in CHECKS:
            RUNNER.add(f"{lib}/resp{proto}/{fn.__name__.removeprefix('check_')}", run_check, fn, lib, proto)
    return RUNNER.run()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as e:
        print(f"FAIL: {e}")
        sys.exit(1)
