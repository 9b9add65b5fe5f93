#!/usr/bin/env python3
"""Serving while a script is busy, measured against running servers.

    python3 interop/busy_latency.py NAME=PORT [NAME=PORT ...] [--rounds N]

For each server (all are asked the same things, one after the other, per
round): the cost of the busy-period serving steps on a script (a 30M-iteration
loop with busy-reply-threshold 5000, never busy, against 1 ms, busy almost all
along; min over rounds), then, with an endless EVAL past a 100 ms threshold,
the round trip of 2000 GETs answered -BUSY, of 100 connect+PING, and the time
from SCRIPT KILL to the caller's error. Standard library only.
"""
import socket
import statistics
import sys
import time


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(60)
    return s


def line(s):
    d = b""
    while not d.endswith(b"\r\n"):
        d += s.recv(1)
    return d


def call(s, *args):
    s.sendall(enc(*args))
    return line(s)


LOOP = "local n=0 for i=1,30000000 do n=n+1 end return n"


def loop_ms(port, threshold):
    c = connect(port)
    call(c, "CONFIG", "SET", "busy-reply-threshold", threshold)
    t = time.perf_counter()
    call(c, "EVAL", LOOP, "0")
    return (time.perf_counter() - t) * 1000


def busy_round(port):
    c = connect(port)
    call(c, "CONFIG", "SET", "busy-reply-threshold", "100")
    a, b = connect(port), connect(port)
    a.sendall(enc("EVAL", "while true do end", "0"))
    while not call(b, "PING").startswith(b"-BUSY"):
        time.sleep(0.01)
    busy = []
    for _ in range(2000):
        t = time.perf_counter()
        assert call(b, "GET", "k").startswith(b"-BUSY")
        busy.append((time.perf_counter() - t) * 1000)
    accept = []
    for _ in range(100):
        t = time.perf_counter()
        n = connect(port)
        assert call(n, "PING").startswith(b"-BUSY")
        accept.append((time.perf_counter() - t) * 1000)
        n.close()
    t = time.perf_counter()
    assert call(b, "SCRIPT", "KILL") == b"+OK\r\n"
    assert line(a).startswith(b"-ERR Script killed")
    kill = (time.perf_counter() - t) * 1000
    return busy, accept, kill


def main():
    args = sys.argv[1:]
    rounds = 3
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i : i + 2]
    servers = [(a.split("=")[0], int(a.split("=")[1])) for a in args]
    res = {name: {"never": [], "busy": [], "rt": [], "acc": [], "kill": []} for name, _ in servers}
    for _ in range(rounds):
        for name, port in servers:
            r = res[name]
            r["never"].append(loop_ms(port, "5000"))
            r["busy"].append(loop_ms(port, "1"))
            rt, acc, kill = busy_round(port)
            r["rt"] += rt
            r["acc"] += acc
            r["kill"].append(kill)
    for name, _ in servers:
        r = res[name]
        rt, acc = sorted(r["rt"]), sorted(r["acc"])
        never, busy = min(r["never"]), min(r["busy"])
        print(
            f"{name:8} loop never busy {never:6.0f} ms, busy {busy:6.0f} ms ({(busy / never - 1) * 100:+5.1f}%)"
            f" | -BUSY round trip median {statistics.median(rt):.3f} p99 {rt[int(len(rt) * 0.99)]:.3f}"
            f" max {rt[-1]:.1f} ms | connect+PING median {statistics.median(acc):.3f} max {acc[-1]:.1f} ms"
            f" | SCRIPT KILL to error median {statistics.median(r['kill']):.3f} ms"
        )


if __name__ == "__main__":
    main()
