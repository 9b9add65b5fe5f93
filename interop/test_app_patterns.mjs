// Application patterns with the real node clients: node-redis (npm `redis`, RESP2 and RESP3) and ioredis.
//
// The same programs as interop/test_app_patterns.py, each asserting exact results:
//   job_queue      stream job queue: producer XADDs 200 jobs while two async workers (own
//                  connections) XREADGROUP COUNT 10 BLOCK 200 and XACK; a consumer that died with
//                  10 unacked jobs is taken over by XAUTOCLAIM (min-idle 50 ms); every job is
//                  processed exactly once; XPENDING / XINFO GROUPS / XINFO CONSUMERS as Redis.
//   rate_limiter   Lua rate limiter (INCR + PEXPIRE on the first hit) as a library-defined script
//                  (EVALSHA with the library's NOSCRIPT -> EVAL fallback), 16 concurrent hits.
//   lock           SET NX PX lock released by a compare-and-delete script (SCRIPT LOAD + EVALSHA;
//                  another client cannot release it; NOSCRIPT after SCRIPT FLUSH).
//   leaderboard    ZADD/ZINCRBY 500 players, top 10, ZREVRANK (WITHSCORE on >= 7.2), ZRANGEBYSCORE
//                  LIMIT pages, ZUNIONSTORE WEIGHTS of two weekly boards.
//   pubsub         PSUBSCRIBE news.* / SUBSCRIBE news.sport / a RESP3 subscriber with both; 100
//                  messages on 3 channels arrive in order; PUBLISH counts receivers.
//   hash_cache     cache-aside on hashes with EXPIRE; session_store: sessions with GETEX.
//
//   node interop/test_app_patterns.mjs --host 127.0.0.1 --port 6379
//
// The target also comes from INTEROP_HOST / INTEROP_PORT. The server must be one the suite may
// flush. Prints one line per check and `apps-node: N passed, N failed`; exits 1 when a check
// failed or none ran.

import { createHash, randomUUID } from 'node:crypto';
import { createClient, defineScript } from 'redis';
import { Redis as IORedis } from 'ioredis';
import { CheckFailed, HOST, PORT, eq, main, ok, parseInfo, record, rejects, show, sleep } from './harness.mjs';

const sha1 = (s) => createHash('sha1').update(s).digest('hex');
const idKey = (id) => id.split('-').map(Number);
const cmpId = (a, b) => {
  const [am, as] = idKey(a);
  const [bm, bs] = idKey(b);
  return am - bm || as - bs;
};
function exactlyOnce(got, want, what) {
  const seen = new Set();
  const dupes = [];
  for (const x of got) (seen.has(x) ? dupes.push(x) : seen.add(x));
  const wantSet = new Set(want);
  const missing = want.filter((x) => !seen.has(x));
  const extra = [...seen].filter((x) => !wantSet.has(x));
  if (dupes.length || missing.length || extra.length) {
    throw new CheckFailed(`${what}: ${got.length} processed; duplicates ${show(dupes.slice(0, 5))}, missing ${show(missing.slice(0, 5))} (${missing.length}), unexpected ${show(extra.slice(0, 5))}`);
  }
}
// A seeded PRNG (mulberry32) so the expected values are the same on every run.
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (lo, hi) => lo + Math.floor(next() * (hi - lo)), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}
// ZREVRANGE order: score descending, ties by member descending (byte order; members here are ASCII).
const desc = (scores) => Object.entries(scores).sort(([am, as], [bm, bs]) => bs - as || (bm < am ? -1 : bm > am ? 1 : 0));
const asc = (scores) => desc(scores).reverse();



const RATE_LIMIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if count > tonumber(ARGV[1]) then
  return {0, count}
end
return {1, count}
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';

// ------------------------------------------------------------------ node-redis

const scripts = {
  rateLimit: defineScript({
    SCRIPT: RATE_LIMIT,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser, key, limit, windowMs) {
      parser.pushKey(key);
      parser.push(String(limit), String(windowMs));
    },
    transformReply: (reply) => reply,
  }),
  releaseLock: defineScript({
    SCRIPT: RELEASE,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser, key, token) {
      parser.pushKey(key);
      parser.push(token);
    },
    transformReply: (reply) => reply,
  }),
};

class NodeRedisCtx {
  constructor(resp, check) {
    this.resp = resp;
    this.prefix = `apps:node-redis:${resp}:${check}:`;
    this.clients = [];
    this.sent = []; // command names sent, for checking the EVALSHA -> EVAL fallback
  }
  k(name) {
    return this.prefix + name;
  }
  async client(opts = {}) {
    const c = createClient({ socket: { host: HOST, port: PORT, reconnectStrategy: false }, RESP: this.resp, scripts, ...opts });
    c.on('error', () => {});
    const self = c._self ?? c;
    const send = self.sendCommand.bind(self);
    self.sendCommand = (args, options) => {
      record(args.map(String).join(' '));
      this.sent.push(String(args[0]).toUpperCase());
      return send(args, options);
    };
    await c.connect();
    this.clients.push(c);
    return c;
  }
  async close() {
    for (const c of this.clients) c.destroy();
  }
}

async function versionOf(r) {
  const [maj, min] = parseInfo(await r.info('server')).redis_version.split('.').map(Number);
  return maj * 100 + min;
}

const nodeRedisChecks = {
  async job_queue(c) {
    const admin = await c.client();
    const key = c.k('jobs');
    const group = 'workers';
    const results = c.k('results');
    eq(await admin.xGroupCreate(key, group, '0', { MKSTREAM: true }), 'OK', 'XGROUP CREATE MKSTREAM');
    const producer = await c.client();
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await producer.xAdd(key, '*', { n: String(i), payload: `job-${i}` }));

    const dead = await c.client();
    let reply = await dead.xReadGroup(group, 'dead', { key, id: '>' }, { COUNT: 10, BLOCK: 200 });
    eq(reply.length, 1, 'XREADGROUP stream count');
    eq(reply[0].name, key, 'XREADGROUP stream name');
    eq(reply[0].messages.map((m) => m.id), ids.slice(0, 10), 'the doomed consumer gets the first 10 jobs');
    eq({ ...reply[0].messages[3].message }, { n: '3', payload: 'job-3' }, 'XREADGROUP entry fields');
    eq((await admin.xInfoGroups(key)).map((g) => ({ ...g })), [{ name: group, consumers: 1, pending: 10, 'last-delivered-id': ids[9], 'entries-read': 10, lag: 10 }], 'XINFO GROUPS after 10 of 20 delivered');
    const none = await admin.xAutoClaim(key, group, 'reaper', 60000, '0-0', { COUNT: 100 });
    eq([none.nextId, none.messages, none.deletedMessages], ['0-0', [], []], 'XAUTOCLAIM min-idle 60000 claims nothing fresh');

    const processed = []; // [consumer, id, n]
    let producerDone = false;
    const produce = async () => {
      for (let batch = 0; batch < 9; batch++) {
        const m = producer.multi();
        for (let i = 20 + batch * 20; i < 40 + batch * 20; i++) m.xAdd(key, '*', { n: String(i), payload: `job-${i}` });
        ids.push(...(await m.execAsPipeline()));
        await sleep(20);
      }
      producerDone = true;
    };
    const worker = async (name) => {
      const r = await c.client();
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline) {
        const doneBefore = producerDone;
        const got = await r.xReadGroup(group, name, { key, id: '>' }, { COUNT: 10, BLOCK: 200 });
        const msgs = got ? got[0].messages : [];
        if (msgs.length === 0) {
          if (doneBefore) return;
          continue;
        }
        ok(msgs.length <= 10, 'XREADGROUP COUNT 10 returns at most 10 entries', msgs.length);
        for (const m of msgs) {
          eq(await r.hSetNX(results, m.message.n, name), 1, `HSETNX result of job ${m.message.n} (first time)`);
          processed.push([name, m.id, Number(m.message.n)]);
        }
        eq(await r.xAck(key, group, msgs.map((m) => m.id)), msgs.length, `XACK of ${msgs.length} ids by ${name}`);
      }
      throw new CheckFailed(`worker ${name} did not finish within 20 s`);
    };
    await Promise.all([produce(), worker('w1'), worker('w2')]);
    eq(ids.length, 200, 'XADD count');
    eq(new Set(ids).size, 200, 'XADD ids are distinct');
    eq([...ids].sort(cmpId), ids, 'XADD ids increase');

    await sleep(60);
    const reaper = await c.client();
    const claim = await reaper.xAutoClaim(key, group, 'reaper', 50, '0-0', { COUNT: 100 });
    eq(claim.nextId, '0-0', 'XAUTOCLAIM cursor after a full scan');
    eq(claim.deletedMessages, [], 'XAUTOCLAIM deleted ids');
    eq(claim.messages.map((m) => m.id), ids.slice(0, 10), "XAUTOCLAIM claims exactly the dead consumer's jobs");
    eq(claim.messages.map((m) => ({ ...m.message })), Array.from({ length: 10 }, (_, i) => ({ n: String(i), payload: `job-${i}` })), 'XAUTOCLAIM entry fields');
    const pend = await reaper.xPendingRange(key, group, '-', '+', 100);
    eq(pend.map((p) => [p.id, p.consumer, p.deliveriesCounter]), ids.slice(0, 10).map((id) => [id, 'reaper', 2]), 'XPENDING - + 100 after XAUTOCLAIM');
    for (const m of claim.messages) {
      eq(await reaper.hSetNX(results, m.message.n, 'reaper'), 1, `HSETNX result of job ${m.message.n}`);
      processed.push(['reaper', m.id, Number(m.message.n)]);
    }
    eq(await reaper.xAck(key, group, claim.messages.map((m) => m.id)), 10, 'XACK of the claimed jobs');
    eq(await reaper.xAck(key, group, ids[0]), 0, 'XACK of an already acked id');

    exactlyOnce(processed.map((p) => p[1]), ids, 'every job id processed exactly once');
    exactlyOnce(processed.map((p) => p[2]), Array.from({ length: 200 }, (_, i) => i), 'every job number processed exactly once');
    eq(await admin.hLen(results), 200, 'HLEN of the results hash');
    eq([...new Set(processed.filter((p) => p[2] < 10).map((p) => p[0]))], ['reaper'], 'jobs 0-9 were processed by the reaper');
    eq({ ...(await admin.xPending(key, group)) }, { pending: 0, firstId: null, lastId: null, consumers: null }, 'XPENDING summary at the end');
    eq((await admin.xInfoGroups(key)).map((g) => ({ ...g })), [{ name: group, consumers: 4, pending: 0, 'last-delivered-id': ids[199], 'entries-read': 200, lag: 0 }], 'XINFO GROUPS at the end');
    const consumers = (await admin.xInfoConsumers(key, group)).map((x) => [x.name, x.pending]).sort();
    eq(consumers, [['dead', 0], ['reaper', 0], ['w1', 0], ['w2', 0]], 'XINFO CONSUMERS names and pending');
    eq(await admin.xLen(key), 200, 'XLEN');
    const last = await producer.xAdd(key, '*', { n: '200' });
    eq((await admin.xInfoGroups(key))[0].lag, 1, 'XINFO GROUPS lag after one more XADD');
    reply = await reaper.xReadGroup(group, 'reaper', { key, id: '>' }, { COUNT: 10 });
    eq(reply[0].messages.map((m) => [m.id, { ...m.message }]), [[last, { n: '200' }]], 'XREADGROUP of the late job');
    const g = (await admin.xInfoGroups(key))[0];
    eq([g.pending, g['entries-read'], g.lag, g['last-delivered-id']], [1, 201, 0, last], 'XINFO GROUPS after reading the late job');
  },

  async rate_limiter(c) {
    const r = await c.client();
    eq(await r.eval('return 1', { keys: [], arguments: [] }), 1, 'EVAL return 1 0');
    eq(scripts.rateLimit.SHA1, sha1(RATE_LIMIT), 'defineScript SHA1');
    eq(await r.scriptFlush(), 'OK', 'SCRIPT FLUSH');
    eq(await r.scriptExists([scripts.rateLimit.SHA1]), [0], 'SCRIPT EXISTS before the first call');
    const k = c.k('rl:user1');
    c.sent.length = 0;
    eq(await r.rateLimit(k, 5, 10000), [1, 1], 'first hit (EVALSHA -> NOSCRIPT -> EVAL)');
    eq(c.sent, ['EVALSHA', 'EVAL'], 'the library fell back from EVALSHA to EVAL on NOSCRIPT');
    eq(await r.scriptExists([scripts.rateLimit.SHA1]), [1], 'SCRIPT EXISTS after EVAL cached the script');
    c.sent.length = 0;
    const got = [];
    for (let i = 0; i < 6; i++) got.push(await r.rateLimit(k, 5, 10000));
    eq(got, [[1, 2], [1, 3], [1, 4], [1, 5], [0, 6], [0, 7]], '6 more hits with limit 5');
    eq(c.sent, Array(6).fill('EVALSHA'), 'later hits use EVALSHA only');
    const pttl = await r.pTTL(k);
    ok(pttl > 9000 && pttl <= 10000, 'PTTL set by the first hit only', pttl);
    eq(await r.get(k), '7', 'counter value');

    const k2 = c.k('rl:user2');
    eq([await r.rateLimit(k2, 2, 100), await r.rateLimit(k2, 2, 100), await r.rateLimit(k2, 2, 100)], [[1, 1], [1, 2], [0, 3]], '3 hits with limit 2');
    await sleep(150);
    eq(await r.rateLimit(k2, 2, 100), [1, 1], 'first hit of a new window');

    // 16 hits from 16 connections at once, limit 10: exactly 10 allowed.
    const k3 = c.k('rl:burst');
    const conns = await Promise.all(Array.from({ length: 16 }, () => c.client()));
    const replies = await Promise.all(conns.map((x) => x.rateLimit(k3, 10, 10000)));
    eq(replies.map((x) => x[1]).sort((a, b) => a - b), Array.from({ length: 16 }, (_, i) => i + 1), '16 concurrent hits see counts 1..16');
    eq(replies.filter((x) => x[0] === 1).length, 10, 'exactly 10 of 16 concurrent hits allowed');
    eq(replies.every((x) => (x[1] <= 10) === (x[0] === 1)), true, 'the first 10 counts are the allowed ones');

    eq(await r.scriptFlush('SYNC'), 'OK', 'SCRIPT FLUSH SYNC');
    eq(await r.rateLimit(c.k('rl:user3'), 1, 1000), [1, 1], 'limiter after SCRIPT FLUSH (NOSCRIPT handled)');
    eq(await r.eval(RATE_LIMIT, { keys: [c.k('rl:user3')], arguments: ['1', '1000'] }), [0, 2], 'the same script by EVAL');
  },

  async lock(c) {
    const a = await c.client();
    const b = await c.client();
    const k = c.k('lock:order:42');
    const tokA = randomUUID();
    const tokB = randomUUID();
    eq(await a.set(k, tokA, { NX: true, PX: 5000 }), 'OK', 'SET NX PX acquires a free lock');
    eq(await b.set(k, tokB, { NX: true, PX: 5000 }), null, 'SET NX PX on a held lock');
    const sha = await a.scriptLoad(RELEASE);
    eq(sha, sha1(RELEASE), 'SCRIPT LOAD returns the SHA1');
    eq(await b.scriptExists([sha, '0'.repeat(40)]), [1, 0], 'SCRIPT EXISTS from another connection');
    eq(await b.evalSha(sha, { keys: [k], arguments: [tokB] }), 0, "EVALSHA release with someone else's token");
    eq(await b.get(k), tokA, "the lock still holds the owner's token");
    eq(await b.releaseLock(k, tokB), 0, "library script release with someone else's token");
    eq(await a.releaseLock(k, tokA), 1, 'library script release by the owner');
    eq(await a.exists(k), 0, 'lock gone after release');
    eq(await a.evalSha(sha, { keys: [k], arguments: [tokA] }), 0, 'releasing twice');
    eq(await b.set(k, tokB, { NX: true, PX: 100 }), 'OK', 'another client acquires the released lock');
    await sleep(150);
    eq(await a.set(k, tokA, { NX: true, PX: 5000 }), 'OK', "acquire after the holder's PX ran out");
    eq(await b.evalSha(sha, { keys: [k], arguments: [tokB] }), 0, "an expired holder cannot release the new owner's lock");
    eq(await a.get(k), tokA, "new owner's token kept");
    let e = await rejects(a.evalSha('f'.repeat(40), { keys: [k], arguments: [tokA] }), 'EVALSHA of an unknown sha');
    eq(e.message, NOSCRIPT, 'NOSCRIPT error text');
    eq(await a.scriptFlush(), 'OK', 'SCRIPT FLUSH');
    e = await rejects(a.evalSha(sha, { keys: [k], arguments: [tokA] }), 'EVALSHA after SCRIPT FLUSH');
    eq(e.message, NOSCRIPT, 'NOSCRIPT after SCRIPT FLUSH');
    c.sent.length = 0;
    eq(await a.releaseLock(k, tokA), 1, 'library script release after SCRIPT FLUSH');
    eq(c.sent, ['EVALSHA', 'EVAL'], 'the library fell back to EVAL');
  },

  async leaderboard(c) {
    const r = await c.client();
    const rand = rng(20240601);
    const board = c.k('board:alltime');
    const players = Array.from({ length: 500 }, (_, i) => `player:${String(i).padStart(3, '0')}`);
    const scores = Object.fromEntries(players.map((p) => [p, rand.int(0, 2000)]));
    eq(await r.zAdd(board, players.map((p) => ({ value: p, score: scores[p] }))), 500, 'ZADD 500 players');
    eq(await r.zCard(board), 500, 'ZCARD');
    const m = r.multi();
    const want = [];
    for (let i = 0; i < 1000; i++) {
      const p = rand.pick(players);
      const inc = rand.int(-20, 100) / 2;
      scores[p] += inc;
      want.push(scores[p]);
      m.zIncrBy(board, inc, p);
    }
    eq((await m.execAsPipeline()).map(Number), want, '1000 ZINCRBY replies');
    const d = desc(scores);
    eq((await r.zRangeWithScores(board, 0, 9, { REV: true })).map((x) => [x.value, x.score]), d.slice(0, 10), 'ZRANGE 0 9 REV WITHSCORES (top 10)');
    eq(await r.sendCommand(['ZREVRANGE', board, '0', '2']), d.slice(0, 3).map(([p]) => p), 'ZREVRANGE 0 2');
    const order = d.map(([p]) => p);
    for (const p of [players[0], players[250], players[499], order[0], order[499]]) {
      eq(await r.zRevRank(board, p), order.indexOf(p), `ZREVRANK ${p}`);
      eq(await r.zRank(board, p), 499 - order.indexOf(p), `ZRANK ${p}`);
      eq(await r.zScore(board, p), scores[p], `ZSCORE ${p}`);
    }
    eq(await r.zRevRank(board, 'nobody'), null, 'ZREVRANK of a missing member');
    if ((await versionOf(r)) >= 702) {
      const p = players[123];
      const got = await r.sendCommand(['ZREVRANK', board, p, 'WITHSCORE']);
      eq([Number(got[0]), Number(got[1])], [order.indexOf(p), scores[p]], 'ZREVRANK WITHSCORE');
    }
    const [lo, hi] = [500, 1200];
    const band = asc(Object.fromEntries(Object.entries(scores).filter(([, s]) => s >= lo && s <= hi)));
    eq(await r.zCount(board, lo, hi), band.length, `ZCOUNT ${lo} ${hi}`);
    const pages = [];
    for (let offset = 0; ; offset += 25) {
      const page = await r.zRangeByScoreWithScores(board, lo, hi, { LIMIT: { offset, count: 25 } });
      if (page.length === 0) break;
      ok(page.length <= 25, 'ZRANGEBYSCORE LIMIT page size', page.length);
      pages.push(...page.map((x) => [x.value, x.score]));
    }
    eq(pages, band, 'ZRANGEBYSCORE LIMIT pages concatenated');
    const top5 = await r.sendCommand(['ZREVRANGEBYSCORE', board, '+inf', '-inf', 'WITHSCORES', 'LIMIT', '0', '5']);
    const flat = Array.isArray(top5[0]) ? top5.flat() : top5;
    eq(flat.map(String), d.slice(0, 5).flat().map(String), 'ZREVRANGEBYSCORE +inf -inf WITHSCORES LIMIT 0 5');

    const [w1, w2, combined] = [c.k('board:w1'), c.k('board:w2'), c.k('board:combined')];
    const week1 = Object.fromEntries(players.slice(0, 300).map((p) => [p, rand.int(0, 300)]));
    const week2 = Object.fromEntries(players.slice(200).map((p) => [p, rand.int(0, 300)]));
    await r.zAdd(w1, Object.entries(week1).map(([value, score]) => ({ value, score })));
    await r.zAdd(w2, Object.entries(week2).map(([value, score]) => ({ value, score })));
    const total = Object.fromEntries(players.map((p) => [p, (week1[p] ?? 0) + 2 * (week2[p] ?? 0)]));
    eq(await r.zUnionStore(combined, [{ key: w1, weight: 1 }, { key: w2, weight: 2 }]), 500, 'ZUNIONSTORE WEIGHTS 1 2');
    eq((await r.zRangeWithScores(combined, 0, -1)).map((x) => [x.value, x.score]), asc(total), 'ZRANGE 0 -1 WITHSCORES of the union');
    const best = Object.fromEntries(players.map((p) => [p, Math.max(week1[p] ?? -Infinity, week2[p] ?? -Infinity)]));
    eq(await r.zUnionStore(combined, [w1, w2], { AGGREGATE: 'MAX' }), 500, 'ZUNIONSTORE AGGREGATE MAX');
    eq((await r.zRangeWithScores(combined, 0, 9, { REV: true })).map((x) => [x.value, x.score]), desc(best).slice(0, 10), 'top 10 of the MAX union');
    const both = Object.fromEntries(players.slice(200, 300).map((p) => [p, week1[p] + week2[p]]));
    eq(await r.zInterStore(combined, [w1, w2]), 100, 'ZINTERSTORE of players in both weeks');
    eq((await r.zRangeWithScores(combined, 0, -1, { REV: true })).map((x) => [x.value, x.score]), desc(both), 'ZINTERSTORE result');
  },

  async pubsub(c) {
    const [sport, weather, alerts, pattern] = [c.k('news.sport'), c.k('news.weather'), c.k('alerts'), c.k('news.*')];
    const gotA = [];
    const gotB = [];
    const gotC = [];
    const subA = await c.client();
    const subB = await c.client();
    const subC = await c.client({ RESP: 3 }); // RESP3: push frames, same connection could run commands
    await subA.pSubscribe(pattern, (msg, ch) => gotA.push(['pmessage', ch, msg]));
    await subB.subscribe(sport, (msg, ch) => gotB.push(['message', ch, msg]));
    await subC.subscribe([sport, alerts], (msg, ch) => gotC.push(['message', ch, msg]));
    await subC.pSubscribe(pattern, (msg, ch) => gotC.push(['pmessage', ch, msg]));
    eq(await subC.ping(), 'PONG', 'PING on a subscribed RESP3 connection');
    const pub = await c.client();
    eq({ ...(await pub.pubSubNumSub([sport, weather, alerts])) }, { [sport]: 2, [weather]: 0, [alerts]: 1 }, 'PUBSUB NUMSUB');
    eq(await pub.pubSubNumPat(), 1, 'PUBSUB NUMPAT (distinct patterns)');
    eq((await pub.pubSubChannels(c.k('*'))).sort(), [sport, alerts].sort(), 'PUBSUB CHANNELS');

    const receivers = { [sport]: 4, [weather]: 2, [alerts]: 1 };
    const wantA = [];
    const wantB = [];
    const wantC = [];
    const counts = [];
    const wantCounts = [];
    for (let i = 0; i < 100; i++) {
      const ch = [sport, weather, alerts][i % 3];
      const data = `msg ${i} on ${ch.slice(ch.lastIndexOf(':') + 1)}`;
      counts.push(await pub.publish(ch, data));
      wantCounts.push(receivers[ch]);
      if (ch !== alerts) wantA.push(['pmessage', ch, data]);
      if (ch === sport) wantB.push(['message', ch, data]);
      if (ch !== weather) wantC.push(['message', ch, data]); // channel subscribers first, then patterns
      if (ch !== alerts) wantC.push(['pmessage', ch, data]);
    }
    eq(counts, wantCounts, 'PUBLISH replies (receiver counts)');
    const deadline = Date.now() + 5000;
    while ((gotA.length < wantA.length || gotB.length < wantB.length || gotC.length < wantC.length) && Date.now() < deadline) await sleep(10);
    await sleep(50);
    eq(gotA, wantA, 'PSUBSCRIBE news.* subscriber: messages in order');
    eq(gotB, wantB, 'SUBSCRIBE news.sport subscriber: messages in order');
    eq(gotC, wantC, 'RESP3 subscriber: messages in order');
    await subC.pUnsubscribe(pattern);
    eq(await pub.publish(sport, 'after'), 3, "PUBLISH after C's PUNSUBSCRIBE");
    await subB.unsubscribe();
    eq(await pub.publish(sport, 'last'), 2, "PUBLISH after B's UNSUBSCRIBE");
    await sleep(50);
    eq(gotB.slice(-1), [['message', sport, 'after']], 'B got the message sent before it unsubscribed');
    eq(gotC.slice(-2), [['message', sport, 'after'], ['message', sport, 'last']], 'C gets channel messages only after PUNSUBSCRIBE');
  },

  async hash_cache(c) {
    const r = await c.client();
    const USERS = {
      7: { name: 'Ada Lovelace', email: 'ada@example.org', plan: 'pro', views: '0' },
      8: { name: 'Grace Hopper', email: 'grace@example.org', plan: 'free', views: '0' },
    };
    const loads = [];
    const getUser = async (uid, ttl = 60) => {
      const key = c.k(`user:${uid}`);
      const cached = { ...(await r.hGetAll(key)) };
      if (Object.keys(cached).length) return [cached, 'hit'];
      loads.push(uid);
      eq(await r.multi().hSet(key, USERS[uid]).expire(key, ttl).exec(), [4, 1], 'MULTI HSET EXPIRE EXEC');
      return [{ ...USERS[uid] }, 'miss'];
    };
    eq(await getUser(7), [USERS[7], 'miss'], 'first read is a miss');
    eq(await getUser(7), [USERS[7], 'hit'], 'second read is a hit');
    const key = c.k('user:7');
    const views = [];
    for (let i = 0; i < 5; i++) views.push(await r.hIncrBy(key, 'views', 1));
    eq(views, [1, 2, 3, 4, 5], 'HINCRBY views');
    eq(String(await r.hIncrByFloat(key, 'balance', 2.5)), '2.5', 'HINCRBYFLOAT on a new field');
    eq(await r.hSet(key, 'plan', 'team'), 0, 'HSET of an existing field');
    const ttl = await r.ttl(key);
    ok(ttl >= 55 && ttl <= 60, 'HINCRBY/HSET keep the cache TTL', ttl);
    eq({ ...(await r.hGetAll(key)) }, { ...USERS[7], views: '5', plan: 'team', balance: '2.5' }, 'HGETALL after updates');
    eq(await r.hmGet(key, ['name', 'nope', 'views']), ['Ada Lovelace', null, '5'], 'HMGET');
    eq(await r.hDel(key, ['balance', 'nope']), 1, 'HDEL');
    eq(await r.hLen(key), 4, 'HLEN');
    eq(await r.del(key), 1, 'DEL invalidates');
    eq(await getUser(7), [USERS[7], 'miss'], 'read after invalidation is a miss');
    eq(await getUser(8, 1), [USERS[8], 'miss'], 'user 8 cached for 1 s');
    eq(await r.pExpire(c.k('user:8'), 100), 1, 'PEXPIRE 100');
    await sleep(150);
    eq({ ...(await r.hGetAll(c.k('user:8'))) }, {}, 'HGETALL of an expired hash');
    eq(await getUser(8), [USERS[8], 'miss'], 'read after expiry is a miss');
    eq(loads, [7, 7, 8, 8], 'loads from the backing store');
  },

  async session_store(c) {
    const r = await c.client();
    const key = c.k(`session:${randomUUID()}`);
    const data = '{"user":7,"csrf":"tok","cart":[1,2,3]}';
    eq(await r.set(key, data, { EX: 1800 }), 'OK', 'SET session EX 1800');
    eq(await r.getEx(key, { type: 'EX', value: 1800 }), data, 'GETEX EX 1800 (sliding refresh)');
    const t = await r.ttl(key);
    ok(t >= 1799 && t <= 1800, 'TTL after GETEX', t);
    eq(await r.getEx(c.k('session:missing'), { type: 'EX', value: 1800 }), null, 'GETEX of a missing session');
    const short = c.k('session:short');
    eq(await r.set(short, 's', { PX: 400 }), 'OK', 'SET PX 400');
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      eq(await r.getEx(short, { type: 'PX', value: 400 }), 's', 'GETEX PX 400 within the window');
    }
    await sleep(500);
    eq(await r.getEx(short, { type: 'PX', value: 400 }), null, 'GETEX after the window passed');
    eq(await r.exists(short), 0, 'expired session gone');
    eq(await r.getEx(key, { type: 'PERSIST' }), data, 'GETEX PERSIST');
    eq(await r.ttl(key), -1, 'TTL after GETEX PERSIST');
    const at = Math.floor(Date.now() / 1000) + 3600;
    eq(await r.getEx(key, { type: 'EXAT', value: at }), data, 'GETEX EXAT');
    eq(await r.expireTime(key), at, 'EXPIRETIME after GETEX EXAT');
    const e = await rejects(r.sendCommand(['GETEX', key, 'EX', '0']), 'GETEX EX 0');
    eq(e.message, "ERR invalid expire time in 'getex' command", 'GETEX EX 0 error');
    eq(await r.getDel(key), data, 'GETDEL on logout');
    eq(await r.getEx(key, { type: 'PERSIST' }), null, 'GETEX after logout');
  },
};

// ------------------------------------------------------------------ ioredis

class IORedisCtx {
  constructor(check) {
    this.prefix = `apps:ioredis:${check}:`;
    this.clients = [];
    this.sent = [];
  }
  k(name) {
    return this.prefix + name;
  }
  async client(opts = {}) {
    const r = new IORedis({ host: HOST, port: PORT, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...opts });
    r.on('error', () => {});
    const send = r.sendCommand.bind(r);
    r.sendCommand = (command, stream) => {
      record([command.name, ...command.args.map(String)].join(' '));
      this.sent.push(String(command.name).toUpperCase());
      return send(command, stream);
    };
    r.defineCommand('rateLimit', { numberOfKeys: 1, lua: RATE_LIMIT });
    r.defineCommand('releaseLock', { numberOfKeys: 1, lua: RELEASE });
    await r.connect();
    this.clients.push(r);
    return r;
  }
  async close() {
    for (const r of this.clients) r.disconnect();
  }
}

const ioredisChecks = {
  async job_queue(c) {
    const admin = await c.client();
    const key = c.k('jobs');
    eq(await admin.xgroup('CREATE', key, 'g', '0', 'MKSTREAM'), 'OK', 'XGROUP CREATE MKSTREAM');
    const p = admin.pipeline();
    for (let i = 0; i < 50; i++) p.xadd(key, '*', 'n', String(i));
    const ids = (await p.exec()).map(([err, id]) => (err ? String(err) : id));
    const dead = await c.client();
    const first = await dead.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 10, 'BLOCK', 200, 'STREAMS', key, '>');
    eq(first[0][1].map(([id]) => id), ids.slice(0, 10), 'XREADGROUP by the doomed consumer');
    const processed = [];
    const worker = async (name) => {
      const r = await c.client();
      for (;;) {
        const got = await r.xreadgroup('GROUP', 'g', name, 'COUNT', 10, 'BLOCK', 200, 'STREAMS', key, '>');
        if (!got) return;
        const msgs = got[0][1];
        for (const [id, fields] of msgs) processed.push([id, fields[1]]);
        eq(await r.xack(key, 'g', ...msgs.map(([id]) => id)), msgs.length, `XACK by ${name}`);
      }
    };
    await Promise.all([worker('w1'), worker('w2')]);
    await sleep(60);
    const [next, claimed, deleted] = await admin.xautoclaim(key, 'g', 'reaper', 50, '0-0', 'COUNT', 100);
    eq([next, claimed.map(([id, f]) => [id, f]), deleted], ['0-0', ids.slice(0, 10).map((id, i) => [id, ['n', String(i)]]), []], 'XAUTOCLAIM min-idle 50');
    for (const [id, f] of claimed) processed.push([id, f[1]]);
    eq(await admin.xack(key, 'g', ...claimed.map(([id]) => id)), 10, 'XACK of the claimed jobs');
    exactlyOnce(processed.map(([id]) => id), ids, 'every job id processed exactly once');
    eq(await admin.xpending(key, 'g'), [0, null, null, null], 'XPENDING summary at the end');
    const groups = await admin.xinfo('GROUPS', key);
    eq(groups, [['name', 'g', 'consumers', 4, 'pending', 0, 'last-delivered-id', ids[49], 'entries-read', 50, 'lag', 0]], 'XINFO GROUPS at the end');
  },

  async rate_limiter_lock(c) {
    const r = await c.client();
    const b = await c.client();
    eq(await r.script('FLUSH'), 'OK', 'SCRIPT FLUSH');
    c.sent.length = 0;
    const k = c.k('rl');
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await r.rateLimit(k, 2, 10000));
    eq(got, [[1, 1], [1, 2], [0, 3], [0, 4]], 'defineCommand rate limiter, limit 2');
    // ioredis sends EVAL the first time on a socket, then EVALSHA; after SCRIPT FLUSH the EVALSHA
    // fails with NOSCRIPT and ioredis resends the command (as EVAL).
    eq(await r.script('FLUSH'), 'OK', 'SCRIPT FLUSH');
    c.sent.length = 0;
    eq(await r.rateLimit(k, 2, 10000), [0, 5], 'rate limiter after SCRIPT FLUSH (NOSCRIPT handled)');
    eq(c.sent.length, 2, 'ioredis resent the script command after NOSCRIPT', c.sent);
    eq(await r.script('EXISTS', sha1(RATE_LIMIT)), [1], 'SCRIPT EXISTS after the resend');
    const lock = c.k('lock');
    eq(await r.set(lock, 'A', 'PX', 5000, 'NX'), 'OK', 'SET PX NX');
    eq(await b.set(lock, 'B', 'PX', 5000, 'NX'), null, 'SET PX NX on a held lock');
    eq(await b.releaseLock(lock, 'B'), 0, "release with someone else's token");
    eq(await r.releaseLock(lock, 'A'), 1, 'release by the owner');
    eq(await b.set(lock, 'B', 'PX', 5000, 'NX'), 'OK', 'another client acquires after release');
    const e = await rejects(r.evalsha('f'.repeat(40), 1, lock, 'A'), 'EVALSHA of an unknown sha');
    eq(e.message, NOSCRIPT, 'NOSCRIPT error text');
  },

  async leaderboard(c) {
    const r = await c.client();
    const board = c.k('board');
    const scores = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${String(i).padStart(2, '0')}`, (i * 37) % 50]));
    eq(await r.zadd(board, ...Object.entries(scores).flatMap(([m, s]) => [s, m])), 100, 'ZADD 100');
    eq(await r.zincrby(board, 7.5, 'p10'), String(scores.p10 + 7.5), 'ZINCRBY');
    scores.p10 += 7.5;
    eq(await r.zrevrange(board, 0, 4, 'WITHSCORES'), desc(scores).slice(0, 5).flat().map(String), 'ZREVRANGE 0 4 WITHSCORES');
    eq(await r.zrevrank(board, 'p42'), desc(scores).map(([m]) => m).indexOf('p42'), 'ZREVRANK');
    eq(await r.zrangebyscore(board, 10, 20, 'LIMIT', 5, 5), asc(scores).filter(([, s]) => s >= 10 && s <= 20).slice(5, 10).map(([m]) => m), 'ZRANGEBYSCORE LIMIT 5 5');
  },

  async pubsub(c) {
    const [sport, weather, pattern] = [c.k('news.sport'), c.k('news.weather'), c.k('news.*')];
    const subA = await c.client();
    const subB = await c.client();
    const gotA = [];
    const gotB = [];
    subA.on('pmessage', (pat, ch, msg) => gotA.push([pat, ch, msg]));
    subB.on('message', (ch, msg) => gotB.push([ch, msg]));
    eq(await subA.psubscribe(pattern), 1, 'PSUBSCRIBE count');
    eq(await subB.subscribe(sport), 1, 'SUBSCRIBE count');
    const pub = await c.client();
    const counts = [];
    const wantA = [];
    const wantB = [];
    for (let i = 0; i < 30; i++) {
      const ch = i % 2 ? sport : weather;
      counts.push(await pub.publish(ch, `m${i}`));
      wantA.push([pattern, ch, `m${i}`]);
      if (ch === sport) wantB.push([ch, `m${i}`]);
    }
    eq(counts, Array.from({ length: 30 }, (_, i) => (i % 2 ? 2 : 1)), 'PUBLISH receiver counts');
    const deadline = Date.now() + 5000;
    while ((gotA.length < 30 || gotB.length < 15) && Date.now() < deadline) await sleep(10);
    eq(gotA, wantA, 'pattern subscriber messages in order');
    eq(gotB, wantB, 'channel subscriber messages in order');
  },

  async cache_session(c) {
    const r = await c.client();
    const key = c.k('user:1');
    eq(await r.multi().hset(key, { name: 'Ada', views: '0' }).expire(key, 60).exec(), [[null, 2], [null, 1]], 'MULTI HSET EXPIRE EXEC');
    eq(await r.hincrby(key, 'views', 3), 3, 'HINCRBY');
    eq(await r.hgetall(key), { name: 'Ada', views: '3' }, 'HGETALL');
    ok((await r.ttl(key)) > 55, 'TTL kept after HINCRBY', await r.ttl(key));
    const s = c.k('session');
    eq(await r.set(s, 'data', 'EX', 100), 'OK', 'SET EX');
    eq(await r.getex(s, 'EX', 1800), 'data', 'GETEX EX 1800');
    ok((await r.ttl(s)) > 1790, 'TTL after GETEX', await r.ttl(s));
    eq(await r.getex(s, 'PERSIST'), 'data', 'GETEX PERSIST');
    eq(await r.ttl(s), -1, 'TTL after PERSIST');
  },
};

// ------------------------------------------------------------------ runner

const checks = [];
for (const resp of [2, 3]) {
  for (const [name, fn] of Object.entries(nodeRedisChecks)) {
    checks.push([`node-redis/resp${resp}/${name}`, () => new NodeRedisCtx(resp, name), fn]);
  }
}
for (const [name, fn] of Object.entries(ioredisChecks)) checks.push([`ioredis/${name}`, () => new IORedisCtx(name), fn]);


main({
  name: 'apps-node',
  file: 'test_app_patterns.mjs',
  skip: /at (exactlyOnce|self\.sendCommand|r\.sendCommand) /,
  checks,
  timeoutMs: 20000,
  setup: async () => {
    const admin = await new NodeRedisCtx(2, 'setup').client();
    await admin.flushAll().catch((e) => console.log(`warning: setup FLUSHALL failed: ${e.message}`));
    admin.destroy();
  },
});
