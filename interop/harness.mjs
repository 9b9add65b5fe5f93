// Shared harness of the node interop suites: target selection, assertions, recording the command
// in flight for failure reports, and the runner that prints one line per check and a closing
// `<suite>: N passed, N failed` line.

import { isDeepStrictEqual } from 'node:util';

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
export const HOST = arg('--host', process.env.INTEROP_HOST ?? '127.0.0.1');
export const PORT = Number(arg('--port', process.env.INTEROP_PORT ?? '6379'));
export const ONLY = arg('-k', null);

export class CheckFailed extends Error {}
export const show = (v) => {
  try {
    const s = JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Map ? Object.fromEntries(x) : x));
    return s !== undefined && s.length > 600 ? `${s.slice(0, 600)}...` : s;
  } catch {
    return String(v);
  }
};
export function eq(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new CheckFailed(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}
export function ok(cond, what, got) {
  if (!cond) throw new CheckFailed(got === undefined ? what : `${what} (got ${show(got)})`);
}
export async function rejects(promise, what, startsWith) {
  let reply;
  try {
    reply = await promise;
  } catch (e) {
    if (startsWith !== undefined && !String(e.message).startsWith(startsWith)) {
      throw new CheckFailed(`${what}: expected an error starting ${show(startsWith)}, got ${show(e.message)}`);
    }
    return e;
  }
  throw new CheckFailed(`${what}: expected an error, got reply ${show(reply)}`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export function parseInfo(text) {
  const out = {};
  for (const line of String(text).split('\r\n')) {
    const i = line.indexOf(':');
    if (line && !line.startsWith('#') && i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

// The suite being run: its name, its file (for `file:line` in reports) and the helper frames of
// that file to skip when locating the failing line.
let current = { name: 'suite', file: '', skip: /$^/ };
let lastCommand = null;
let lastWhere = null;

function where(err) {
  const line = String(err.stack ?? '')
    .split('\n')
    .find((l) => l.includes(current.file) && !current.skip.test(l));
  const m = line && line.match(new RegExp(`${current.file.replace('.', '\\.')}:(\\d+)`));
  return m ? `${current.file}:${m[1]}` : null;
}

// Remembers the command being sent and the suite line that sent it, for failure reports.
export function record(command) {
  lastCommand = command.slice(0, 200);
  lastWhere = where(new Error()) ?? lastWhere;
}

// Runs `checks` ([name, makeCtx, fn] triples) one by one with a timeout each; `setup` runs first.
// Exits the process: 0 when all ran and passed, 1 otherwise.
export async function runSuite({ name, file, skip, checks, timeoutMs, setup }) {
  current = { name, file, skip: skip ?? /$^/ };
  let passed = 0;
  const failures = [];
  const started = Date.now();
  if (setup) await setup();
  for (const [check, mk, fn] of checks) {
    if (ONLY && !check.includes(ONLY)) continue;
    const ctx = mk();
    lastCommand = null;
    lastWhere = null;
    const t0 = Date.now();
    try {
      await Promise.race([
        fn(ctx),
        sleep(timeoutMs).then(() => {
          throw new CheckFailed(`timed out after ${timeoutMs / 1000} s`);
        }),
      ]);
      passed++;
      console.log(`ok   ${name}/${check} (${Date.now() - t0} ms)`);
    } catch (e) {
      const label = e instanceof CheckFailed ? 'after' : 'last command';
      const msg = `${e.constructor?.name ?? 'Error'}: ${e.message}${lastCommand ? ` [${label}: ${lastCommand}]` : ''} (${where(e) ?? lastWhere ?? '?'})`;
      failures.push(`${name}/${check}: ${msg}`);
      console.log(`FAIL ${name}/${check} (details below)`);
    } finally {
      await ctx.close().catch(() => {});
    }
  }
  if (failures.length) {
    console.log(`--- ${name}: failures`);
    for (const f of failures) console.log(`  ${f}`);
  }
  console.log(`(${name} took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`${name}: ${passed} passed, ${failures.length} failed`);
  return passed === 0 || failures.length > 0 ? 1 : 0;
}

// Runs the suite and exits with its status.
export function main(options) {
  runSuite(options).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
