"""End-to-end switchover test with real, unmodified clients (maint-notifications-spec.md §5).

Starts a server pair on one port and two loopback addresses (redis-py follows a MOVING by host
only, so the nodes must share the port):

    A: --bind 127.0.0.1 --port P                                (primary)
    B: --bind 127.0.0.2 --port P --replicaof 127.0.0.1 P        (replica)

runs node-redis 6.3.1 (node_load.mjs) and redis-py 8.1.0 (py_load.py) with their default settings
against A, and 3 s after they start runs `redis-cli -h 127.0.0.1 -p P FAILOVER TO 127.0.0.2 P
TIMEOUT 5000`. Scenarios:

    main     the §5.4 assertions: zero client errors, `GET ctr` on B equals the acknowledged INCRs
             of both clients, roles swapped, the clients talk to 127.0.0.2, the maint INFO
             counters, no full resync; plus the follow-ups (a) late connect, (c) pub/sub and
             the deterministic form of (b): a stale pooled redis-py connection used after it
    control  the negative control (§5.5 e): the same clients with maintenance notifications
             disabled must see READONLY (or similar) errors, proving the test can fail
    handshake  §5.5 d: RESP2 clients never opt in, default RESP3 ones do, "enabled" connects;
             against a server with `maint-notifications no`, "auto" (the default) connects and
             "enabled" fails (node-redis cannot connect, redis-py raises ResponseError)
    ttl-revert  (not run by default) §5.5 b: A with `maint-moving-ttl 3`; redis-py idles past
             the ttl (its pool goes back to A), drops its connections, 20 threads INCR once:
             each new connection is bounced to B by a handshake MOVING, with no error
    control-server  (not run by default) the same with default clients and
             `maint-notifications no` on both servers: the server's switch must turn it off

Prints one line per check, `<check>: N passed, N failed` (the form .ci/run counts), with the
evidence under any failure, and a `measured:` line per scenario. Exits 1 if any check failed.

    python3 switchover.py --server path/to/handoff-server [--scenario main,control,handshake] [--keep]

The binary may also be redis-server or valkey-server (same command line), which is how the
harness is checked: those pairs have no maintenance notifications, so `main` must fail there.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
A_HOST, B_HOST = "127.0.0.1", "127.0.0.2"
TRIGGER_AFTER_S = 3.0
FAILOVER_TIMEOUT_MS = 5000
LOAD_AFTER_SWITCH_S = 2.0


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------- servers

def free_port_on_both():
    """A port free on 127.0.0.1 and on 127.0.0.2 a moment ago."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((A_HOST, 0))
            port = s.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind((B_HOST, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


class Node:
    def __init__(self, binary, host, port, workdir, extra):
        self.binary, self.host, self.port = binary, host, port
        self._client = None
        self.dir = os.path.join(workdir, host)
        os.makedirs(self.dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, "server.log")
        args = [binary, "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--repl-diskless-sync-delay", "0"] + extra
        with open(self.log_path, "w") as logf:
            self.proc = subprocess.Popen(args, cwd=self.dir, stdout=logf, stderr=subprocess.STDOUT)

    def client(self):
        # RESP2 and no maintenance handshake: the orchestrator's own connection must not be
        # moved or counted. One per node, reused (the role polling is tight).
        if self._client is None:
            self._client = redis.Redis(host=self.host, port=self.port, protocol=2, socket_timeout=5,
                                       decode_responses=True)
        return self._client

    def alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.host}:{self.port} exited with status {self.proc.returncode}")
        return True

    def info(self):
        return self.client().info("all")

    def role(self):
        return self.client().execute_command("ROLE")

    def stop(self):
        if self._client is not None:
            self._client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, n=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def wait_until(secs, what, cond, interval=0.02):
    deadline = time.monotonic() + secs
    last_exc = None
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except (redis.RedisError, OSError) as e:
            last_exc = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {secs} s waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


class Pair:
    def __init__(self, binary, keep=False, extra=()):
        self.binary, self.keep = binary, keep
        self.workdir = tempfile.mkdtemp(prefix="handoff-switchover-")
        self.port = free_port_on_both()
        self.a = Node(binary, A_HOST, self.port, self.workdir, list(extra))
        # The replica announces its own address: it connects out from 127.0.0.1, and
        # `FAILOVER TO 127.0.0.2 P` names it by the address clients reach it at.
        self.b = Node(binary, B_HOST, self.port, self.workdir,
                      ["--replicaof", A_HOST, str(self.port), "--replica-announce-ip", B_HOST] + list(extra))

    def start(self):
        for n in (self.a, self.b):
            try:
                wait_until(10, f"{n.host}:{n.port} to answer PING", lambda n=n: n.alive() and n.client().ping())
            except (TimeoutError, RuntimeError) as e:
                raise RuntimeError(f"{e}; its log ends:\n{n.log_tail(5)}") from None
        wait_until(30, "master_link_status:up on B",
                   lambda: self.b.info().get("master_link_status") == "up")
        wait_until(10, "A to list B as an online replica",
                   lambda: any(isinstance(v, dict) and v.get("state") == "online"
                               for k, v in self.a.info().items() if k.startswith("slave")))

    def stop(self):
        for n in (self.a, self.b):
            n.stop()
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ------------------------------------------------------------------------------------- clients

class Proc:
    """A workload process: READY / MSG / RESULT lines on stdout, commands on stdin."""

    def __init__(self, name, args):
        self.name = name
        self.proc = subprocess.Popen(args, cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.ready = threading.Event()
        self.result = None
        self.msgs = []
        self.other = []
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == "READY":
                self.ready.set()
            elif line.startswith("MSG "):
                self.msgs.append(line[4:])
            elif line.startswith("RESULT "):
                self.result = json.loads(line[7:])
            else:
                self.other.append(line)

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))

    def send(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def finish(self, timeout=20):
        self.send("stop")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.05)  # let the reader threads drain the pipes
        if self.result is None:
            self.result = {"client": self.name, "fatal": "no RESULT line",
                           "stdout": self.other[-10:], "stderr": self.stderr[-10:],
                           "error_count": 1, "errors": []}
        return self.result


def node_load(port, maint="default", late=False):
    args = ["node", "node_load.mjs", "--host", A_HOST, "--port", str(port), "--maint", maint]
    return Proc("node-redis", args + (["--late"] if late else []))


def py_load(port, maint="default", late=False, extra=()):
    args = [sys.executable, "py_load.py", "--host", A_HOST, "--port", str(port), "--maint", maint]
    return Proc("redis-py", args + (["--late"] if late else []) + list(extra))


# ------------------------------------------------------------------------------------- checks

class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, name, cond, evidence):
        assert re.fullmatch(r"[a-z-]+", name), name
        if cond:
            self.passed += 1
            print(f"{name}: 1 passed, 0 failed", flush=True)
        else:
            self.failed += 1
            print(f"{name}: 0 passed, 1 failed", flush=True)
            for line in json.dumps(evidence, indent=1, default=str).splitlines()[:60]:
                print(f"    {line}", flush=True)


def switchover(pair, workloads):
    """Starts `workloads`, triggers FAILOVER TRIGGER_AFTER_S after they started, waits for the
    roles to swap, lets the load run LOAD_AFTER_SWITCH_S more (after a `mark`). Returns timings."""
    t0 = time.monotonic()
    for w in workloads:
        if not w.ready.wait(15):
            raise RuntimeError(f"{w.name} did not get ready: {w.other[-5:]} {w.stderr[-5:]}")
    time.sleep(max(0.0, t0 + TRIGGER_AFTER_S - time.monotonic()))
    before_a = pair.a.info()
    t_fo = time.monotonic()
    cli = subprocess.run(["redis-cli", "-h", A_HOST, "-p", str(pair.port), "FAILOVER", "TO", B_HOST,
                          str(pair.port), "TIMEOUT", str(FAILOVER_TIMEOUT_MS)],
                         capture_output=True, text=True, timeout=30)
    reply = (cli.stdout + cli.stderr).strip()
    log(f"FAILOVER replied {reply!r} after {(time.monotonic() - t_fo) * 1000:.0f} ms")
    switched = None
    try:
        if reply != "OK":
            raise TimeoutError("FAILOVER was refused: not waiting for the roles to swap")
        wait_until(FAILOVER_TIMEOUT_MS / 1000 + 5, "the roles to swap", lambda: roles_swapped(pair),
                   interval=0.005)
        switched = time.monotonic()
        log(f"roles swapped {(switched - t_fo) * 1000:.0f} ms after FAILOVER was sent")
    except TimeoutError as e:
        log(str(e))
    for w in workloads:
        w.send("mark")
    time.sleep(LOAD_AFTER_SWITCH_S)
    return {"failover_reply": reply, "before_a": before_a,
            "switch_ms": None if switched is None else round((switched - t_fo) * 1000)}


def roles_swapped(pair):
    ra, rb = pair.a.role(), pair.b.role()
    return (rb[0] == "master" and ra[0] == "slave" and ra[1] == B_HOST and int(ra[2]) == pair.port
            and ra[3] == "connected")


def int_field(info, name):
    v = info.get(name)
    return int(v) if v is not None else None


def wait_replica_synced(pair):
    """A (now the replica) has everything B has."""
    def same():
        ia, ib = pair.a.info(), pair.b.info()
        return ia.get("master_link_status") == "up" and ia.get("master_repl_offset") == ib.get("master_repl_offset")
    try:
        if roles_swapped(pair):
            wait_until(10, "A to catch up with B", same)
    except TimeoutError:
        pass


def brief(result):
    """A workload result without its long lists, for the evidence of a failing check."""
    return {k: v for k, v in result.items() if k != "errors"} | {"errors": result.get("errors", [])[:8]}


def scenario_main(binary, checks, keep):
    pair = Pair(binary, keep)
    try:
        pair.start()
        log(f"main: pair up on port {pair.port} (workdir {pair.workdir})")
        sub = Proc("subscriber", ["node", "node_sub.mjs", "--host", A_HOST, "--port", str(pair.port)])
        if not sub.ready.wait(15):
            raise RuntimeError(f"subscriber did not get ready: {sub.stderr[-5:]}")
        ac = pair.a.client()
        for i in range(10):
            ac.publish("news", f"before-{i}")
        node, py = node_load(pair.port), py_load(pair.port, extra=["--stale"])
        timing = switchover(pair, [node, py])
        bc = pair.b.client()
        after = [f"after-{i}" for i in range(20)]
        for m in after:
            bc.publish("news", m)
        try:
            wait_until(3, "the subscriber to receive the messages published on B",
                       lambda: all(m in sub.msgs for m in after))
        except TimeoutError:
            pass
        nr, pr = node.finish(), py.finish()
        sr = sub.finish()
        log("main: workloads stopped")
        after_b = pair.b.info()
        wait_replica_synced(pair)
        after_a = pair.a.info()
        ctr_b = int(bc.get("ctr") or 0)
        ctr_a = int(ac.get("ctr") or 0)
        role_a, role_b = pair.a.role(), pair.b.role()

        for name, r in (("node-redis", nr), ("redis-py", pr)):
            mark = r.get("mark") or {}
            checks.check(f"switchover-{name}-zero-errors", r.get("error_count") == 0 and not r.get("fatal")
                         and r.get("ops_ok", 0) > 0, brief(r))
            checks.check(f"switchover-{name}-works-after-switch",
                         timing["switch_ms"] is not None and r.get("ops_ok", 0) > mark.get("ops_ok", 1 << 60),
                         {"switch_ms": timing["switch_ms"], "mark": mark, "ops_ok": r.get("ops_ok")})
        # §5.5 b, deterministic form: a pooled connection that was not connected when MOVING
        # came keeps the old host; used within the MOVING's dedup window it reaches A, whose
        # handshake MOVING must carry a fresh seq (redis-py ignores a seq it has seen, and would
        # retry against A until it gives up).
        st = pr.get("stale") or {}
        checks.check("switchover-redis-py-stale-connection",
                     st.get("host_before") == A_HOST and st.get("incr_ok") == 1 and "error" not in st
                     and st.get("host_after") == B_HOST, st)
        expected = nr.get("incr_ok", 0) + pr.get("incr_ok", 0)
        checks.check("switchover-counter-exact", ctr_b == expected and ctr_a == expected,
                     {"GET ctr on B": ctr_b, "GET ctr on A": ctr_a, "node-redis INCRs": nr.get("incr_ok"),
                      "redis-py INCRs": pr.get("incr_ok")})
        checks.check("switchover-roles",
                     role_b[0] == "master" and role_a[0] == "slave" and role_a[1] == B_HOST
                     and int(role_a[2]) == pair.port and role_a[3] == "connected",
                     {"ROLE A": role_a, "ROLE B": role_b, "FAILOVER reply": timing["failover_reply"]})
        b_addr = f"{B_HOST}:{pair.port}"
        ne = nr.get("end") or {}
        checks.check("switchover-node-redis-moved",
                     ne.get("host") == B_HOST and ne.get("port") == pair.port and ne.get("laddr") == b_addr, ne)
        pe = pr.get("end") or {}
        checks.check("switchover-redis-py-moved",
                     pe.get("pool_host") == B_HOST and pe.get("laddr") == b_addr
                     and all(h == B_HOST for h in pe.get("conn_hosts", [None]))
                     and all(p in (None, B_HOST) for p in pe.get("conn_peers", [])), pe)
        # §5.4.5: every SCH connection on A but the subscriber was sent MOVING; B held the
        # commands of the clients that arrived before it was promoted.
        sch_before = int_field(timing["before_a"], "maint_notifications_clients")
        moving_sent = int_field(after_a, "maint_moving_sent")
        held = int_field(after_b, "maint_incoming_held_cmds")
        counters = {"A maint_notifications_clients before": sch_before, "A maint_moving_sent": moving_sent,
                    "A maint_moved_closed": int_field(after_a, "maint_moved_closed"),
                    "B maint_incoming_held_cmds": held}
        checks.check("switchover-maint-counters",
                     None not in (sch_before, moving_sent, held) and sch_before >= 3
                     and moving_sent >= sch_before - 1 and held > 0, counters)
        checks.check("switchover-no-full-resync",
                     int_field(after_b, "sync_full") == 0 and int_field(after_b, "sync_partial_ok") == 1,
                     {k: after_b.get(k) for k in ("sync_full", "sync_partial_ok", "sync_partial_err")})
        # (c) pub/sub: a subscriber on the demoted node still gets what B publishes.
        before = [f"before-{i}" for i in range(10)]
        checks.check("switchover-pubsub-subscriber-keeps-receiving",
                     sr.get("error_count") == 0 and all(m in sub.msgs for m in before + after)
                     and (sr.get("end") or {}).get("host") == A_HOST,
                     {"missing": [m for m in before + after if m not in sub.msgs], "result": sr})
        # (a) late connect: a fresh client configured with A ends on B after one INCR.
        late = {}
        for name, mk in (("node-redis", node_load), ("redis-py", py_load)):
            r = mk(pair.port, late=True).finish(30)
            late[name] = r
            le = r.get("end") or {}
            checks.check(f"switchover-late-connect-{name}",
                         r.get("error_count") == 0 and r.get("incr_ok") == 1 and le.get("laddr") == b_addr,
                         brief(r))
        log("main: late connects done")
        ctr_late = int(bc.get("ctr") or 0)
        checks.check("switchover-late-connect-counter",
                     ctr_late == ctr_b + sum(r.get("incr_ok", 0) for r in late.values()),
                     {"before": ctr_b, "after": ctr_late, "late INCRs": {k: v.get("incr_ok") for k, v in late.items()}})
        measured = {"switch_ms": timing["switch_ms"], "failover_reply": timing["failover_reply"],
                    "node-redis": {k: nr.get(k) for k in ("ops_ok", "incr_ok", "max_gap_ms", "error_count")},
                    "redis-py": {k: pr.get(k) for k in ("ops_ok", "incr_ok", "max_gap_ms", "error_count")},
                    "ctr": ctr_b} | counters
        print("measured: main " + json.dumps(measured), flush=True)
    finally:
        for n in (pair.a, pair.b):
            if n.proc.poll() is not None:
                log(f"{n.host} exited with {n.proc.returncode}; log tail:\n{n.log_tail()}")
        pair.stop()


def scenario_control(binary, checks, keep, server_off=False):
    """The negative control: maintenance notifications off in the clients, or (`control-server`)
    default clients and `maint-notifications no` on the servers."""
    name = "control-server" if server_off else "control"
    pair = Pair(binary, keep, ["--maint-notifications", "no"] if server_off else [])
    try:
        pair.start()
        log(f"{name}: pair up on port {pair.port}, maintenance notifications off in the "
            + ("servers" if server_off else "clients"))
        maint = "default" if server_off else "disabled"
        node, py = node_load(pair.port, maint), py_load(pair.port, maint)
        timing = switchover(pair, [node, py])
        nr, pr = node.finish(), py.finish()
        ro = ("READONLY", "EXECABORT")
        kind = name
        for name, r in (("node-redis", nr), ("redis-py", pr)):
            classes = r.get("errors_by_class") or {}
            checks.check(f"switchover-{kind}-{name}-sees-errors",
                         timing["switch_ms"] is not None and any(classes.get(k, 0) > 0 for k in ro),
                         {"switch_ms": timing["switch_ms"], "failover_reply": timing["failover_reply"]} | brief(r))
        print(f"measured: {kind} " + json.dumps({
            "switch_ms": timing["switch_ms"],
            "node-redis": {k: nr.get(k) for k in ("ops_ok", "max_gap_ms", "error_count", "errors_by_class")},
            "redis-py": {k: pr.get(k) for k in ("ops_ok", "max_gap_ms", "error_count", "errors_by_class")}}),
            flush=True)
    finally:
        pair.stop()


def scenario_ttl_revert(binary, checks, keep):
    """§5.5 b: with `maint-moving-ttl 3`, redis-py goes back to A 3 s after the MOVING; new
    connections are bounced to B by a handshake MOVING with a fresh seq, with no error."""
    pair = Pair(binary, keep, ["--maint-moving-ttl", "3"])
    try:
        pair.start()
        log(f"ttl-revert: pair up on port {pair.port}, maint-moving-ttl 3")
        py = py_load(pair.port, extra=["--revert-after", "4"])
        timing = switchover(pair, [py])
        moving_before = int_field(pair.a.info(), "maint_moving_sent")
        pr = py.finish(60)
        wait_replica_synced(pair)
        ctr_b = int(pair.b.client().get("ctr") or 0)
        moving_after = int_field(pair.a.info(), "maint_moving_sent")
        rev = pr.get("revert") or {}
        checks.check("switchover-ttl-revert-redis-py-zero-errors",
                     timing["switch_ms"] is not None and pr.get("error_count") == 0 and rev.get("incr_ok") == 20
                     and rev.get("pool_host_after_ttl") == A_HOST
                     and (pr.get("end") or {}).get("laddr") == f"{B_HOST}:{pair.port}", brief(pr))
        checks.check("switchover-ttl-revert-counter-exact", ctr_b == pr.get("incr_ok"),
                     {"GET ctr on B": ctr_b, "redis-py INCRs": pr.get("incr_ok")})
        checks.check("switchover-ttl-revert-handshake-moving-sent",
                     None not in (moving_before, moving_after) and moving_after > moving_before,
                     {"A maint_moving_sent after the switch": moving_before, "after the burst": moving_after})
    finally:
        pair.stop()


def hold_client(kind, host, port, maint="default", resp=None):
    """A client that connects, PINGs and keeps its connection open until `stop`."""
    cmd = ["node", "node_load.mjs"] if kind == "node-redis" else [sys.executable, "py_load.py"]
    extra = ["--resp", str(resp)] if resp else []
    return Proc(kind, cmd + ["--host", host, "--port", str(port), "--hold", "--maint", maint] + extra)


def held(procs):
    for p in procs:
        if not p.ready.wait(15):
            raise RuntimeError(f"{p.name} did not get ready: {p.stderr[-5:]}")
    return procs


def scenario_handshake(binary, checks, keep):
    """§5.5 d: who opts in, and what happens against a server with the feature switched off."""
    workdir = tempfile.mkdtemp(prefix="handoff-handshake-")
    on = Node(binary, A_HOST, free_port_on_both(), workdir, [])
    off = Node(binary, B_HOST, free_port_on_both(), workdir, ["--maint-notifications", "no"])
    try:
        for n in (on, off):
            try:
                wait_until(10, f"{n.host}:{n.port} to answer PING", lambda n=n: n.alive() and n.client().ping())
            except (TimeoutError, RuntimeError) as e:
                raise RuntimeError(f"{e}; its log ends:\n{n.log_tail(5)}") from None
        sch = lambda n: int_field(n.info(), "maint_notifications_clients")  # noqa: E731
        # RESP2 connections never send the handshake; default (RESP3) ones do.
        resp2 = held([hold_client(k, on.host, on.port, resp=2) for k in ("node-redis", "redis-py")])
        after_resp2 = sch(on)
        resp3 = held([hold_client(k, on.host, on.port) for k in ("node-redis", "redis-py")])
        after_resp3 = sch(on)
        results = [p.finish() for p in resp2 + resp3]
        checks.check("switchover-handshake-only-resp-three-opts-in",
                     after_resp2 == 0 and after_resp3 == 2
                     and all(r.get("connected") and r.get("error_count") == 0 for r in results),
                     {"maint_notifications_clients with 2 RESP2 clients": after_resp2,
                      "... and 2 default RESP3 clients": after_resp3, "clients": results})
        enabled = [p.finish() for p in held([hold_client(k, on.host, on.port, "enabled")
                                             for k in ("node-redis", "redis-py")])]
        checks.check("switchover-handshake-enabled-connects",
                     all(r.get("connected") and r.get("error_count") == 0 for r in enabled), enabled)
        # Switched off: "auto" (the default) connects quietly, "enabled" fails.
        auto = held([hold_client(k, off.host, off.port) for k in ("node-redis", "redis-py")])
        off_count = sch(off)
        auto = [p.finish() for p in auto]
        checks.check("switchover-handshake-off-auto-connects",
                     off_count == 0 and all(r.get("connected") and r.get("error_count") == 0 for r in auto),
                     {"maint_notifications_clients": off_count, "clients": auto})
        refused = [p.finish() for p in held([hold_client(k, off.host, off.port, "enabled")
                                             for k in ("node-redis", "redis-py")])]
        checks.check("switchover-handshake-off-enabled-fails",
                     all(not r.get("connected") and r.get("error_count", 0) > 0 for r in refused)
                     and any("ResponseError" in e.get("msg", "") for e in refused[1].get("errors", [])),
                     refused)
    finally:
        for n in (on, off):
            n.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


SCENARIOS = {
    "main": scenario_main,
    "control": scenario_control,
    "handshake": scenario_handshake,
    "ttl-revert": scenario_ttl_revert,
    "control-server": lambda binary, checks, keep: scenario_control(binary, checks, keep, server_off=True),
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", required=True, help="handoff-server (or redis-server/valkey-server) binary")
    p.add_argument("--scenario", default="main,control,handshake", help="comma-separated: " + ",".join(SCENARIOS))
    p.add_argument("--keep", action="store_true", help="keep the servers' work directories (logs)")
    args = p.parse_args()
    binary = shutil.which(args.server) or os.path.abspath(args.server)
    checks = Checks()
    started = time.monotonic()
    for name in args.scenario.split(","):
        try:
            SCENARIOS[name](binary, checks, args.keep)
        except Exception as e:  # noqa: BLE001 - a broken scenario is a failed check, the rest still run
            checks.check(f"switchover-{name}-ran", False, f"{type(e).__name__}: {e}")
    log(f"switchover: {checks.passed} checks passed, {checks.failed} failed in {time.monotonic() - started:.1f} s")
    sys.exit(1 if checks.failed or not checks.passed else 0)


if __name__ == "__main__":
    main()
