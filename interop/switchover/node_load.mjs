// The node-redis side of the switchover test (maint-notifications-spec.md §5.2): an unmodified
// node-redis 6.3.1 client with its default settings (RESP3, maintenance notifications "auto")
// doing read-your-writes work in 4 async loops while the server pair fails over.
//
//   node node_load.mjs --host 127.0.0.1 --port P [--maint auto|disabled] [--loops 4]
//   node node_load.mjs --host 127.0.0.1 --port P --late      (one fresh client: INCR, where am I)
//   node node_load.mjs --host H --port P --hold [--maint enabled] [--resp 2]   (handshake check)
//
// Load mode prints `READY` once connected, then works until stdin says `stop` (or closes); a
// `mark` line on stdin records the counters at that moment (the orchestrator sends it when the
// switchover has completed, so "ops after the switch" can be checked). It ends with one line
// `RESULT {json}`: successes, every error (rejected promises, 'error' events, unhandled
// rejections, uncaught exceptions, stale reads), and where the client points at the end.
// Every error counts: a seamless switchover produces none.

import { createClient } from 'redis';
import { createInterface } from 'node:readline';

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const HOST = arg('--host', '127.0.0.1');
const PORT = Number(arg('--port', '6379'));
const MAINT = arg('--maint', 'default');
const LOOPS = Number(arg('--loops', '4'));
const LATE = argv.includes('--late');
const HOLD = argv.includes('--hold');
const RESP = arg('--resp', null);

const started = performance.now();
const now = () => Math.round(performance.now() - started);
const errors = [];
const byKind = {};
function fail(kind, err) {
  const msg = `${err?.constructor?.name ?? 'Error'}: ${err?.message ?? String(err)}`;
  const cls = classify(msg);
  byKind[cls] = (byKind[cls] ?? 0) + 1;
  if (errors.length < 25) errors.push({ t_ms: now(), kind, msg: msg.slice(0, 300) });
}
function classify(msg) {
  for (const k of ['READONLY', 'EXECABORT', 'REDIRECT', 'LOADING', 'MASTERDOWN', 'Timeout', 'SocketClosed', 'ECONNREFUSED', 'ECONNRESET', 'stale']) {
    if (msg.includes(k)) return k;
  }
  return 'other';
}
process.on('unhandledRejection', (e) => fail('unhandledRejection', e));
process.on('uncaughtException', (e) => fail('uncaughtException', e));

// Default settings except where the test asks otherwise: the negative control disables
// maintenance notifications on the client side.
function makeClient() {
  const opts = { socket: { host: HOST, port: PORT } };
  if (MAINT !== 'default') opts.maintNotifications = MAINT;
  if (RESP !== null) opts.RESP = Number(RESP);
  // A handshake check wants the one connection attempt's outcome, not retries.
  if (HOLD) opts.socket.reconnectStrategy = false;
  const c = createClient(opts);
  c.on('error', (e) => fail('error-event', e));
  return c;
}

async function whereAmI(c) {
  // The server's view of this connection: laddr is the address the client really talks to.
  const info = String(await c.sendCommand(['CLIENT', 'INFO']));
  const laddr = (info.match(/laddr=(\S+)/) ?? [])[1] ?? null;
  return { host: c.options?.socket?.host ?? null, port: c.options?.socket?.port ?? null, laddr };
}

async function late() {
  const c = makeClient();
  let incr = null;
  let where = null;
  try {
    await c.connect();
    incr = await c.incr('ctr');
    where = await whereAmI(c);
  } catch (e) {
    fail('late', e);
  }
  await c.close().catch(() => c.destroy());
  console.log(`RESULT ${JSON.stringify({ client: 'node-redis', incr_ok: incr === null ? 0 : 1, error_count: Object.values(byKind).reduce((a, b) => a + b, 0), errors_by_class: byKind, errors, end: where })}`);
}

// Handshake check (§5.5 d): connect and PING, then keep the connection open (so the server's
// maint_notifications_clients can be read) until `stop`.
async function hold() {
  const c = makeClient();
  let connected = false;
  try {
    await c.connect();
    await c.ping();
    connected = true;
  } catch (e) {
    fail('connect', e);
  }
  console.log('READY');
  await new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => line.trim() === 'stop' && resolve());
    rl.on('close', resolve);
  });
  c.destroy();
  console.log(`RESULT ${JSON.stringify({ client: 'node-redis', maint: MAINT, resp: RESP, connected, error_count: Object.values(byKind).reduce((a, b) => a + b, 0), errors_by_class: byKind, errors })}`);
}

async function load() {
  const c = makeClient();
  await c.connect();
  let stop = false;
  let incrOk = 0;
  let opsOk = 0;
  let mark = null;
  let lastOk = performance.now();
  let maxGap = 0;
  const ok = () => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - lastOk);
    lastOk = t;
    opsOk++;
  };
  const rl = createInterface({ input: process.stdin });
  const stopped = new Promise((resolve) => {
    rl.on('line', (line) => {
      if (line.trim() === 'mark') mark = { t_ms: now(), ops_ok: opsOk, incr_ok: incrOk, errors: errors.length };
      if (line.trim() === 'stop') resolve();
    });
    rl.on('close', resolve);
  }).then(() => {
    stop = true;
  });

  async function loop(w) {
    for (let i = 1; !stop; i++) {
      try {
        await c.incr('ctr');
        incrOk++;
        ok();
        await c.set(`nk${w}`, String(i));
        ok();
        const got = await c.get(`nk${w}`);
        if (got !== String(i)) fail('stale', new Error(`stale read: GET nk${w} gave ${got}, wrote ${i}`));
        else ok();
        await c.multi().incr('ctr').set(`nt${w}`, String(i)).exec();
        incrOk++;
        ok();
      } catch (e) {
        fail('rejected', e);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  console.log('READY');
  const loops = Array.from({ length: LOOPS }, (_, w) => loop(w));
  await stopped;
  await Promise.all(loops);
  // Time since the last success counts too: a client stuck on errors until the end has a gap.
  maxGap = Math.max(maxGap, performance.now() - lastOk);
  let end = null;
  try {
    end = await whereAmI(c);
  } catch (e) {
    fail('final', e);
  }
  await c.close().catch(() => c.destroy());
  rl.close();
  const result = {
    client: 'node-redis',
    maint: MAINT,
    ops_ok: opsOk,
    incr_ok: incrOk,
    max_gap_ms: Math.round(maxGap),
    mark,
    error_count: Object.values(byKind).reduce((a, b) => a + b, 0),
    errors_by_class: byKind,
    errors,
    end,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

(LATE ? late() : HOLD ? hold() : load()).then(
  () => process.exit(0),
  (e) => {
    fail('fatal', e);
    console.log(`RESULT ${JSON.stringify({ client: 'node-redis', fatal: String(e?.stack ?? e), error_count: errors.length, errors, errors_by_class: byKind })}`);
    process.exit(0);
  },
);
