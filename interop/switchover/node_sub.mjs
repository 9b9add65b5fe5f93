// A RESP3 node-redis subscriber with default settings (maint-notifications-spec.md §5.5 c): it
// subscribes to `news` on the node it is given and prints `MSG <payload>` for every message, so
// the orchestrator can check that a subscriber on the demoted node keeps receiving what is
// published on the new primary (a subscribed connection must not be sent MOVING: node-redis
// would move it and silently drop its subscription).
//
//   node node_sub.mjs --host 127.0.0.1 --port P
//
// Prints `READY` once subscribed; on `stop` (or EOF) on stdin prints `RESULT {json}`.

import { createClient } from 'redis';
import { createInterface } from 'node:readline';

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const errors = [];
const fail = (kind, e) => errors.push({ kind, msg: `${e?.constructor?.name ?? 'Error'}: ${e?.message ?? String(e)}`.slice(0, 300) });
process.on('unhandledRejection', (e) => fail('unhandledRejection', e));
process.on('uncaughtException', (e) => fail('uncaughtException', e));

const c = createClient({ socket: { host: arg('--host', '127.0.0.1'), port: Number(arg('--port', '6379')) } });
c.on('error', (e) => fail('error-event', e));
let received = 0;
try {
  await c.connect();
  await c.subscribe('news', (message) => {
    received++;
    console.log(`MSG ${message}`);
  });
  console.log('READY');
} catch (e) {
  fail('subscribe', e);
  console.log('READY');
}
const rl = createInterface({ input: process.stdin });
await new Promise((resolve) => {
  rl.on('line', (line) => line.trim() === 'stop' && resolve());
  rl.on('close', resolve);
});
const end = { host: c.options?.socket?.host ?? null, port: c.options?.socket?.port ?? null };
c.destroy();
rl.close();
console.log(`RESULT ${JSON.stringify({ client: 'node-redis-subscriber', received, error_count: errors.length, errors, end })}`);
process.exit(0);
