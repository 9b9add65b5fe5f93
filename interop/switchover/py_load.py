"""The redis-py side of the switchover test (maint-notifications-spec.md §5.2): an unmodified
redis-py 8.1.0 client with its default settings (RESP3, maintenance notifications "auto", the
default retry) doing read-your-writes work in 4 threads while the server pair fails over.

    python3 py_load.py --host 127.0.0.1 --port P [--maint auto|disabled] [--threads 4] [--idle 3]
    python3 py_load.py --host 127.0.0.1 --port P --late     (one fresh client: INCR, where am I)
    python3 py_load.py --host H --port P --hold [--maint enabled] [--resp 2]   (handshake check)

Load mode first checks out and releases one pooled connection per thread plus `--idle` more,
so some sit idle in the pool across the switchover; prints `READY`; works until stdin says `stop` (or closes); a
`mark` line records the counters at that moment. It ends with one line `RESULT {json}`:
successes, every error (exceptions out of redis-py, exceptions in threads, errors redis-py
logged and swallowed, such as a push it could not handle, stale reads), and where the pool and
each pooled connection point at the end. Every error counts.
"""

import argparse
import json
import logging
import os
import sys
import threading
import time

import redis
from redis.maint_notifications import MaintNotificationsConfig

started = time.monotonic()
lock = threading.Lock()
errors = []
by_class = {}


def now_ms():
    return round((time.monotonic() - started) * 1000)


def classify(msg):
    for k in ("READONLY", "ReadOnly", "EXECABORT", "ExecAbort", "REDIRECT", "LOADING", "MASTERDOWN",
              "Timeout", "Connection", "stale"):
        if k in msg:
            return k.upper() if k in ("ReadOnly", "ExecAbort") else k
    return "other"


def fail(kind, msg):
    with lock:
        cls = classify(msg)
        by_class[cls] = by_class.get(cls, 0) + 1
        if len(errors) < 25:
            errors.append({"t_ms": now_ms(), "kind": kind, "msg": msg[:300]})


class LoggedErrors(logging.Handler):
    """redis-py logs and swallows some failures (e.g. "Error handling MOVING message"): those
    are errors of the switchover too."""

    def emit(self, record):
        fail("logged", f"{record.name}: {record.getMessage()}")


def thread_excepthook(args):
    fail("thread", f"{args.exc_type.__name__}: {args.exc_value}")


def make_client(args):
    kw = {"host": args.host, "port": args.port, "socket_timeout": 2}
    if args.maint == "disabled":
        kw["maint_notifications_config"] = MaintNotificationsConfig(enabled=False)
    elif args.maint == "enabled":
        kw["maint_notifications_config"] = MaintNotificationsConfig(enabled=True)
    if args.resp is not None:
        kw["protocol"] = args.resp
    return redis.Redis(**kw)


def where(r):
    pool = r.connection_pool
    conns = list(pool._get_free_connections()) + list(pool._get_in_use_connections())
    peers = []
    for c in conns:
        sock = getattr(c, "_sock", None)
        try:
            peers.append(sock.getpeername()[0] if sock is not None else None)
        except OSError:
            peers.append(None)
    return {
        "pool_host": pool.connection_kwargs.get("host"),
        "conn_hosts": [c.host for c in conns],
        "conn_peers": peers,
    }


def laddr(r):
    info = r.execute_command("CLIENT", "INFO")
    info = info.decode() if isinstance(info, bytes) else str(info)
    for field in info.split():
        if field.startswith("laddr="):
            return field[len("laddr="):]
    return None


def late(args):
    r = make_client(args)
    incr_ok = 0
    end = None
    try:
        r.incr("ctr")
        incr_ok = 1
        end = where(r)
        end["laddr"] = laddr(r)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        fail("late", f"{type(e).__name__}: {e}")
    r.close()
    return {"client": "redis-py", "incr_ok": incr_ok, "end": end}


def hold(args):
    """Handshake check (§5.5 d): one connection and a PING, kept open until `stop`."""
    r = make_client(args)
    connected = False
    try:
        r.ping()
        connected = True
    except Exception as e:  # noqa: BLE001 - every failure is reported
        fail("connect", f"{type(e).__name__}: {e}")
    print("READY", flush=True)
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    r.close()
    return {"client": "redis-py", "maint": args.maint, "resp": args.resp, "connected": connected}


def load(args):
    r = make_client(args)
    r.ping()
    # One pooled connection per thread plus `--idle` more, all connected and released: the
    # pool hands out the most recently released first, so the extra ones sit idle across the
    # switchover (they get no reply to read the MOVING from; the pool re-targets them).
    conns = [r.connection_pool.get_connection() for _ in range(args.threads + args.idle)]
    for c in conns:
        c.send_command("PING")
        c.read_response()
    for c in conns:
        r.connection_pool.release(c)
    stale = None
    if args.stale:
        # §5.5 b, deterministic form: a connection object made before the switchover and not
        # connected when MOVING arrives (the pool re-targets connections by peer address, so it
        # keeps the old host), used after it while the MOVING is still in redis-py's dedup
        # window. The pool hands out its free list from the end: keep it at the front until then.
        pool = r.connection_pool
        stale = conns[-1]
        stale.disconnect()
        with pool._lock:
            pool._available_connections.remove(stale)
            pool._available_connections.insert(0, stale)

    stop = threading.Event()
    state = {"ops_ok": 0, "incr_ok": 0, "last_ok": time.monotonic(), "max_gap": 0.0, "mark": None}

    def ok(incr=False):
        with lock:
            t = time.monotonic()
            state["max_gap"] = max(state["max_gap"], t - state["last_ok"])
            state["last_ok"] = t
            state["ops_ok"] += 1
            if incr:
                state["incr_ok"] += 1

    def worker(w):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r.incr("ctr")
                ok(incr=True)
                r.set(f"pk{w}", i)
                ok()
                got = r.get(f"pk{w}")
                if got != str(i).encode():
                    fail("stale", f"stale read: GET pk{w} gave {got!r}, wrote {i}")
                else:
                    ok()
                p = r.pipeline(transaction=True)
                p.incr("ctr")
                p.set(f"pt{w}", i)
                p.execute()
                ok(incr=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                fail("exception", f"{type(e).__name__}: {e}")
            time.sleep(0.002)

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(args.threads)]
    for t in threads:
        t.start()
    print("READY", flush=True)
    for line in sys.stdin:
        if line.strip() == "mark":
            with lock:
                state["mark"] = {"t_ms": now_ms(), "ops_ok": state["ops_ok"], "incr_ok": state["incr_ok"],
                                 "errors": sum(by_class.values())}
        elif line.strip() == "stop":
            break
    stop.set()
    for t in threads:
        t.join(10)
    # Time since the last success counts too: a client stuck on errors until the end has a gap.
    state["max_gap"] = max(state["max_gap"], time.monotonic() - state["last_ok"])
    stale_result = None
    if stale is not None:
        stale_result = use_stale(r, stale)
        state["incr_ok"] += stale_result.get("incr_ok", 0)
    revert = None
    if args.revert_after is not None:
        revert = ttl_revert(r, args)
        state["incr_ok"] += revert["incr_ok"]
    end = None
    try:
        end = where(r)
        end["laddr"] = laddr(r)
    except Exception as e:  # noqa: BLE001
        fail("final", f"{type(e).__name__}: {e}")
    r.close()
    return {
        "client": "redis-py",
        "maint": args.maint,
        "ops_ok": state["ops_ok"],
        "incr_ok": state["incr_ok"],
        "max_gap_ms": round(state["max_gap"] * 1000),
        "mark": state["mark"],
        "revert": revert,
        "stale": stale_result,
        "end": end,
    }


def use_stale(r, stale):
    """One INCR through the pool on the stale connection (see `--stale`). Its errors are its own
    (not the workload's): it must succeed, on the new node."""
    pool = r.connection_pool
    with pool._lock:
        free = pool._available_connections
        if stale not in free:
            return {"error": "the stale connection was not free in the pool", "host_before": stale.host}
        free.remove(stale)
        free.append(stale)
    out = {"host_before": stale.host, "incr_ok": 0}
    t0 = time.monotonic()
    try:
        r.incr("ctr")
        out["incr_ok"] = 1
    except Exception as e:  # noqa: BLE001 - reported in the result
        out["error"] = f"{type(e).__name__}: {e}"
    out["ms"] = round((time.monotonic() - t0) * 1000)
    out["host_after"] = stale.host
    return out


def ttl_revert(r, args):
    """§5.5 b: idle past the MOVING ttl (the pool goes back to the configured host), drop every
    pooled connection, then 20 threads INCR once each on new connections: each reaches the old
    node first, gets a handshake MOVING (with a fresh seq) and is bounced to the new one."""
    time.sleep(args.revert_after)
    kw_before = r.connection_pool.connection_kwargs.get("host")
    r.connection_pool.disconnect()
    ok = [0]

    def one():
        try:
            r.incr("ctr")
            with lock:
                ok[0] += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported
            fail("revert", f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return {"pool_host_after_ttl": kw_before, "incr_ok": ok[0]}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6379)
    p.add_argument("--maint", default="default", choices=["default", "disabled", "enabled"])
    p.add_argument("--resp", type=int, choices=[2, 3], default=None)
    p.add_argument("--hold", action="store_true")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--idle", type=int, default=3)
    p.add_argument("--late", action="store_true")
    p.add_argument("--stale", action="store_true",
                   help="keep one unconnected pooled connection aimed at the old node; use it after `stop`")
    p.add_argument("--revert-after", type=float, default=None,
                   help="after `stop`: idle this many seconds, then the §5.5 b burst")
    args = p.parse_args()
    handler = LoggedErrors(level=logging.ERROR)
    logging.getLogger("redis").addHandler(handler)
    threading.excepthook = thread_excepthook
    try:
        result = late(args) if args.late else hold(args) if args.hold else load(args)
    except Exception as e:  # noqa: BLE001
        fail("fatal", f"{type(e).__name__}: {e}")
        result = {"client": "redis-py", "fatal": True}
    with lock:
        result["error_count"] = sum(by_class.values())
        result["errors_by_class"] = dict(by_class)
        result["errors"] = list(errors)
    print("RESULT " + json.dumps(result), flush=True)
    # redis-py arms a non-daemon threading.Timer for each MOVING (the ttl revert, 15 s): do not
    # wait for it.
    os._exit(0)


if __name__ == "__main__":
    main()
