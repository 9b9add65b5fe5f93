// Interop checks with the real node clients: node-redis (npm `redis`, RESP2 and RESP3) and ioredis.
//
// Covers connection, server, generic-key, string and bitmap commands, checking replies.
//
//   node interop/test_node_clients.mjs --host 127.0.0.1 --port 6379
//
// The target also comes from INTEROP_HOST / INTEROP_PORT. The server must be one the suite may
// flush (it uses databases 0, 1 and 4). Prints one line per check and a closing
// `node: N passed, N failed` line; exits 1 when a check failed or none ran.

import { createClient } from 'redis';
import { Redis as IORedis } from 'ioredis';
import { CheckFailed, HOST, PORT, eq, main, ok, parseInfo, record, rejects, show, sleep } from './harness.mjs';

const toObj = (m) => (m instanceof Map ? Object.fromEntries([...m].map(([k, v]) => [String(k), v])) : Array.isArray(m) ? Object.fromEntries(Array.from({ length: m.length / 2 }, (_, i) => [String(m[2 * i]), m[2 * i + 1]])) : m);

const parseClientLine = (line) => Object.fromEntries(line.trim().split(' ').map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));


// ------------------------------------------------------------------ node-redis

class NodeRedisCtx {
  constructor(resp, check) {
    this.resp = resp;
    this.prefix = `node-redis:${resp}:${check}:`;
    this.clients = [];
  }
  k(name) {
    return this.prefix + name;
  }
  async client(opts = {}) {
    const c = createClient({ socket: { host: HOST, port: PORT, reconnectStrategy: false }, RESP: this.resp, ...opts });
    c.on('error', () => {});
    const self = c._self ?? c;
    const send = self.sendCommand.bind(self);
    self.sendCommand = (args, options) => {
      record(args.map(String).join(' '));
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

const nodeRedisChecks = {
  async ping_echo(c) {
    const r = await c.client();
    eq(await r.ping(), 'PONG', 'PING');
    eq(await r.ping('hi'), 'hi', 'PING hi');
    eq(await r.echo('héllo'), 'héllo', 'ECHO');
  },

  async hello(c) {
    const r = await c.client();
    const h = toObj(await r.hello());
    for (const f of ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules']) ok(f in h, `HELLO has ${f}`, h);
    eq(Number(h.proto), c.resp, 'HELLO proto');
    eq(Number(h.id), Number(await r.clientId()), 'HELLO id == CLIENT ID');
    eq(String(h.mode), 'standalone', 'HELLO mode');
    const e = await rejects(r.sendCommand(['HELLO', '4']), 'HELLO 4');
    ok(e.message.startsWith('NOPROTO'), 'HELLO 4 answers NOPROTO', e.message);
  },

  async client_setname_list_info(c) {
    const r = await c.client();
    eq(await r.clientSetName(c.k('me')), 'OK', 'CLIENT SETNAME');
    eq(await r.clientGetName(), c.k('me'), 'CLIENT GETNAME');
    const id = Number(await r.clientId());
    ok(id > 0, 'CLIENT ID', id);
    const info = await r.clientInfo();
    eq(info.id, id, 'CLIENT INFO id');
    eq(info.name, c.k('me'), 'CLIENT INFO name');
    eq(info.db, 0, 'CLIENT INFO db');
    if (info.resp !== undefined) eq(info.resp, c.resp, 'CLIENT INFO resp');
    const list = await r.clientList();
    const mine = list.filter((e) => e.id === id);
    eq(mine.length, 1, 'CLIENT LIST has my id');
    eq(mine[0].name, c.k('me'), 'CLIENT LIST name');
    const named = await c.client({ name: c.k('named') });
    eq(await named.clientGetName(), c.k('named'), 'name set on connect (HELLO SETNAME / CLIENT SETNAME)');
    const version = parseInfo(await r.info('server')).redis_version.split('.').map(Number);
    if (version[0] > 7 || (version[0] === 7 && version[1] >= 2)) {
      eq(info.libName, 'node-redis', 'lib-name sent by CLIENT SETINFO on connect');
      ok(info.libVer, 'lib-ver sent on connect', info);
    }
  },

  async select_db(c) {
    const r = await c.client({ database: 4 });
    const r0 = await c.client();
    await r.set(c.k('db4'), 'four');
    eq(await r.get(c.k('db4')), 'four', 'GET in db 4');
    eq(await r0.exists(c.k('db4')), 0, 'EXISTS in db 0');
    eq((await r.clientInfo()).db, 4, 'CLIENT INFO db after SELECT 4');
    await r.select(0);
    eq(await r.get(c.k('db4')), null, 'GET after SELECT 0');
    const e = await rejects(r.select(99), 'SELECT 99');
    eq(e.message, 'ERR DB index is out of range', 'SELECT 99 error');
  },

  async info(c) {
    const r = await c.client({ database: 1 });
    await r.flushDb();
    const all = parseInfo(await r.info());
    ok(/^\d+\.\d+\.\d+$/.test(all.redis_version), 'INFO redis_version', all.redis_version);
    ok(Number(all.connected_clients) >= 1, 'INFO connected_clients', all.connected_clients);
    eq(all.tcp_port, String(PORT), 'INFO tcp_port');
    await r.mSet({ [c.k('a')]: '1', [c.k('b')]: '2', [c.k('c')]: '3' });
    await r.expire(c.k('a'), 100);
    const ks = parseInfo(await r.info('keyspace'));
    ok(/^keys=3,expires=1,avg_ttl=\d+/.test(ks.db1 ?? ''), 'INFO keyspace db1', ks);
    await r.flushDb();
  },

  async strings(c) {
    const r = await c.client();
    const k = c.k('s');
    eq(await r.set(k, 'v', { EX: 100 }), 'OK', 'SET EX 100');
    eq(await r.get(k), 'v', 'GET');
    const ttl = await r.ttl(k);
    ok(ttl >= 99 && ttl <= 100, 'TTL after SET EX 100', ttl);
    eq(await r.set(k, 'w', { NX: true }), null, 'SET NX existing');
    eq(await r.set(k, 'w', { expiration: { type: 'PX', value: 50000 }, GET: true }), 'v', 'SET PX GET');
    ok((await r.pTTL(k)) > 40000, 'PTTL after SET PX', await r.pTTL(k));
    eq(await r.get(c.k('none')), null, 'GET missing');
    eq(await r.append(k, 'xyz'), 4, 'APPEND');
    eq(await r.strLen(k), 4, 'STRLEN');
    eq(await r.getRange(k, 1, 2), 'xy', 'GETRANGE');
    eq(await r.setRange(k, 1, 'AB'), 4, 'SETRANGE');
    eq(await r.get(k), 'wABz', 'GET after SETRANGE');
    eq(await r.getEx(k, { type: 'EX', value: 30 }), 'wABz', 'GETEX EX 30');
    const t = await r.ttl(k);
    ok(t >= 29 && t <= 30, 'TTL after GETEX', t);
    eq(await r.persist(k), 1, 'PERSIST');
    eq(await r.ttl(k), -1, 'TTL after PERSIST');
    eq(await r.getDel(k), 'wABz', 'GETDEL');
    eq(await r.exists(k), 0, 'EXISTS after GETDEL');
    eq(await r.set(c.k('short'), 'v', { PX: 100 }), 'OK', 'SET PX 100');
    await sleep(200);
    eq(await r.get(c.k('short')), null, 'GET after expiry');
  },

  async incr_mget(c) {
    const r = await c.client();
    const n = c.k('n');
    eq(await r.incr(n), 1, 'INCR');
    eq(await r.incrBy(n, 10), 11, 'INCRBY');
    eq(await r.decrBy(n, 20), -9, 'DECRBY');
    eq(Number(await r.incrByFloat(n, 1.5)), -7.5, 'INCRBYFLOAT');
    await r.mSet([[c.k('m1'), 'a'], [c.k('m2'), 'b']]);
    eq(await r.mGet([c.k('m1'), c.k('none'), c.k('m2')]), ['a', null, 'b'], 'MGET');
    eq(await r.mSetNX({ [c.k('m1')]: 'x', [c.k('m3')]: 'y' }), 0, 'MSETNX with an existing key');
    eq(await r.exists([c.k('m1'), c.k('m2'), c.k('m3')]), 2, 'EXISTS several');
  },

  async generic_keys(c) {
    const r = await c.client();
    await r.set(c.k('a'), '1');
    eq(await r.type(c.k('a')), 'string', 'TYPE');
    eq(await r.rename(c.k('a'), c.k('b')), 'OK', 'RENAME');
    eq(await r.renameNX(c.k('b'), c.k('c')), 1, 'RENAMENX');
    eq(await r.copy(c.k('c'), c.k('d')), 1, 'COPY');
    eq(await r.expire(c.k('d'), 100), 1, 'EXPIRE');
    eq(await r.pExpire(c.k('d'), 5000), 1, 'PEXPIRE');
    const pt = await r.pTTL(c.k('d'));
    ok(pt > 4000 && pt <= 5000, 'PTTL', pt);
    eq(await r.del([c.k('c'), c.k('d'), c.k('none')]), 2, 'DEL');
    eq(await r.unlink(c.k('none')), 0, 'UNLINK missing');
    const e = await rejects(r.rename(c.k('none'), c.k('x')), 'RENAME missing');
    eq(e.message, 'ERR no such key', 'RENAME missing error');
  },

  async scan_iterator_keys_dbsize(c) {
    const r = await c.client({ database: 1 });
    await r.flushDb();
    const want = Array.from({ length: 120 }, (_, i) => `it:${i}`).sort();
    await r.mSet(want.map((k) => [k, 'v']));
    await r.set('other', 'v');
    const seen = new Set();
    for await (const keys of r.scanIterator({ MATCH: 'it:*', COUNT: 25 })) for (const k of keys) seen.add(k);
    eq([...seen].sort(), want, 'SCAN MATCH it:* COUNT 25 (scanIterator)');
    eq((await r.keys('it:1?')).sort(), Array.from({ length: 10 }, (_, i) => `it:1${i}`).sort(), 'KEYS it:1?');
    eq(await r.dbSize(), 121, 'DBSIZE');
    eq(await r.flushDb(), 'OK', 'FLUSHDB');
    eq(await r.dbSize(), 0, 'DBSIZE after FLUSHDB');
  },

  async bitmaps(c) {
    const r = await c.client();
    const k = c.k('bm');
    eq(await r.setBit(k, 3, 1), 0, 'SETBIT');
    eq(await r.getBit(k, 3), 1, 'GETBIT');
    eq(await r.bitCount(k), 1, 'BITCOUNT');
    await r.set(c.k('fb'), 'foobar');
    eq(await r.bitCount(c.k('fb'), { start: 1, end: 1 }), 6, 'BITCOUNT 1 1');
    eq(await r.bitPos(c.k('fb'), 1), 1, 'BITPOS 1');
    eq(await r.bitOp('AND', c.k('and'), [c.k('fb'), k]), 6, 'BITOP AND');
    eq(await r.bitField(c.k('bf'), [{ operation: 'INCRBY', encoding: 'i8', offset: 0, increment: 100 }, { operation: 'GET', encoding: 'i8', offset: 0 }]), [100, 100], 'BITFIELD INCRBY/GET');
  },

  async batch_without_multi(c) {
    const r = await c.client();
    const batch = r.multi();
    for (let i = 0; i < 100; i++) batch.set(c.k(`p${i}`), String(i));
    batch.incr(c.k('p1')).get(c.k('p1')).mGet([c.k('p0'), c.k('p99')]);
    const res = await batch.execAsPipeline();
    eq(res.length, 103, 'pipeline reply count');
    eq(res.slice(0, 100), Array(100).fill('OK'), 'pipeline SET replies');
    eq(res.slice(100), [2, '2', ['0', '99']], 'pipeline INCR/GET/MGET');
    // Plain concurrent commands are pipelined by node-redis on one connection.
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => r.incr(c.k('conc'))));
    eq(many.sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1), '200 concurrent INCRs');
  },

  async errors(c) {
    const r = await c.client();
    await r.set(c.k('s'), 'abc');
    let e = await rejects(r.incr(c.k('s')), 'INCR on a non-integer');
    eq(e.message, 'ERR value is not an integer or out of range', 'INCR error text');
    e = await rejects(r.sendCommand(['GET']), 'GET with no key');
    eq(e.message, "ERR wrong number of arguments for 'get' command", 'arity error text');
    e = await rejects(r.sendCommand(['SET', c.k('s'), 'v', 'EX', '0']), 'SET EX 0');
    eq(e.message, "ERR invalid expire time in 'set' command", 'SET EX 0 error');
    e = await rejects(r.sendCommand(['NOSUCHCMD']), 'NOSUCHCMD');
    eq(e.message, "ERR unknown command 'NOSUCHCMD', with args beginning with: ", 'unknown command text');
    try {
      await r.sendCommand(['LPUSH', c.k('list'), 'a']);
    } catch (err) {
      eq(err.message, `ERR unknown command 'LPUSH', with args beginning with: '${c.k('list')}' 'a' `, 'LPUSH unknown');
      return;
    }
    e = await rejects(r.get(c.k('list')), 'GET on a list');
    eq(e.message, 'WRONGTYPE Operation against a key holding the wrong kind of value', 'WRONGTYPE text');
  },
};

// ------------------------------------------------------------------ ioredis

class IORedisCtx {
  constructor(check) {
    this.prefix = `ioredis:${check}:`;
    this.clients = [];
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
      return send(command, stream);
    };
    await r.connect();
    this.clients.push(r);
    return r;
  }
  async close() {
    for (const r of this.clients) r.disconnect();
  }
}

const ioredisChecks = {
  async connect_ping_echo(c) {
    const r = await c.client();
    eq(r.status, 'ready', 'ioredis status after connect (INFO ready check passed)');
    eq(await r.ping(), 'PONG', 'PING');
    eq(await r.echo('x y'), 'x y', 'ECHO');
    eq(await r.call('HELLO', '2').then((h) => toObj(h).proto), 2, 'HELLO 2 proto');
  },

  async strings_expiry(c) {
    const r = await c.client();
    const k = c.k('s');
    eq(await r.set(k, 'v', 'EX', 100), 'OK', 'SET EX 100');
    eq(await r.get(k), 'v', 'GET');
    const t = await r.ttl(k);
    ok(t >= 99 && t <= 100, 'TTL', t);
    eq(await r.set(k, 'v2', 'NX'), null, 'SET NX existing');
    eq(await r.set(k, 'v2', 'XX', 'GET'), 'v', 'SET XX GET');
    eq(await r.pexpire(k, 3000), 1, 'PEXPIRE');
    const pt = await r.pttl(k);
    ok(pt > 2000 && pt <= 3000, 'PTTL', pt);
    eq(await r.persist(k), 1, 'PERSIST');
    eq(await r.ttl(k), -1, 'TTL after PERSIST');
    eq(await r.getex(k, 'PX', 9000), 'v2', 'GETEX PX');
    eq(await r.getdel(k), 'v2', 'GETDEL');
    eq(await r.get(k), null, 'GET after GETDEL');
    eq(await r.setex(c.k('se'), 10, 'x'), 'OK', 'SETEX');
    eq(await r.setrange(c.k('se'), 3, 'yz'), 5, 'SETRANGE pads');
    eq(await r.getBuffer(c.k('se')), Buffer.from('x\0\0yz', 'binary'), 'GET padded value');
    eq(await r.getrange(c.k('se'), -2, -1), 'yz', 'GETRANGE');
    eq(await r.strlen(c.k('se')), 5, 'STRLEN');
  },

  async incr_mset_mget(c) {
    const r = await c.client();
    eq(await r.incr(c.k('n')), 1, 'INCR');
    eq(await r.incrby(c.k('n'), 5), 6, 'INCRBY');
    eq(await r.decr(c.k('n')), 5, 'DECR');
    eq(await r.incrbyfloat(c.k('n'), '0.25'), '5.25', 'INCRBYFLOAT');
    eq(await r.mset(c.k('a'), '1', c.k('b'), '2'), 'OK', 'MSET');
    eq(await r.mget(c.k('a'), c.k('none'), c.k('b')), ['1', null, '2'], 'MGET');
    eq(await r.msetnx(c.k('a'), 'x', c.k('z'), 'y'), 0, 'MSETNX existing');
  },

  async pipeline(c) {
    const r = await c.client();
    const p = r.pipeline();
    for (let i = 0; i < 100; i++) p.set(c.k(`p${i}`), i);
    p.incr(c.k('p5')).mget(c.k('p0'), c.k('p99')).set(c.k('str'), 'x').incr(c.k('str')).get(c.k('p5'));
    const res = await p.exec();
    eq(res.length, 105, 'pipeline reply count');
    eq(res.slice(0, 100).map(([e, v]) => [e, v]), Array(100).fill([null, 'OK']), 'pipeline SET replies');
    eq(res[100], [null, 6], 'pipeline INCR');
    eq(res[101], [null, ['0', '99']], 'pipeline MGET');
    ok(res[103][0] instanceof Error && res[103][0].message === 'ERR value is not an integer or out of range', 'pipeline keeps the INCR error in place', res[103]);
    eq(res[104], [null, '6'], 'pipeline GET after an error');
  },

  async info_client_setname(c) {
    const r = await c.client({ connectionName: c.k('conn') });
    eq(await r.client('GETNAME'), c.k('conn'), 'connectionName sent with CLIENT SETNAME on connect');
    eq(await r.client('SETNAME', c.k('renamed')), 'OK', 'CLIENT SETNAME');
    const id = await r.client('ID');
    const mine = String(await r.client('LIST')).split('\n').filter((l) => l.startsWith(`id=${id} `)).map(parseClientLine);
    eq(mine.length, 1, 'CLIENT LIST has my id');
    eq(mine[0].name, c.k('renamed'), 'CLIENT LIST name');
    const info = parseInfo(await r.info());
    ok(/^\d+\.\d+\.\d+$/.test(info.redis_version), 'INFO redis_version', info.redis_version);
    ok(Number(info.connected_clients) >= 1, 'INFO connected_clients', info.connected_clients);
    eq(info.role, 'master', 'INFO role');
    eq(r.serverInfo?.redis_version ?? info.redis_version, info.redis_version, 'ioredis ready-check INFO parsed');
  },

  async scan_stream_keys(c) {
    const r = await c.client({ db: 1 });
    await r.flushdb();
    const want = Array.from({ length: 90 }, (_, i) => `ss:${i}`).sort();
    await r.mset(...want.flatMap((k) => [k, 'v']));
    await r.set('zz', 'v');
    const seen = [];
    await new Promise((resolve, reject) => {
      const s = r.scanStream({ match: 'ss:*', count: 20 });
      s.on('data', (keys) => seen.push(...keys));
      s.on('end', resolve);
      s.on('error', reject);
    });
    eq([...new Set(seen)].sort(), want, 'scanStream MATCH ss:* COUNT 20');
    eq(await r.dbsize(), 91, 'DBSIZE');
    eq(await r.type('zz'), 'string', 'TYPE');
    eq(await r.exists('zz', 'ss:1', 'none'), 2, 'EXISTS');
    eq(await r.copy('zz', 'zz2'), 1, 'COPY');
    eq(await r.rename('zz2', 'zz3'), 'OK', 'RENAME');
    eq(await r.del('zz', 'zz3'), 2, 'DEL');
    await r.flushdb();
    eq(await r.keys('*'), [], 'KEYS * after FLUSHDB');
  },

  async bitmaps(c) {
    const r = await c.client();
    eq(await r.setbit(c.k('b'), 0, 1), 0, 'SETBIT');
    eq(await r.getbit(c.k('b'), 0), 1, 'GETBIT');
    eq(await r.getBuffer(c.k('b')), Buffer.from([0x80]), 'GET bitmap');
    eq(await r.bitcount(c.k('b')), 1, 'BITCOUNT');
    eq(await r.bitpos(c.k('b'), 0), 1, 'BITPOS 0');
    eq(await r.bitop('NOT', c.k('nb'), c.k('b')), 1, 'BITOP NOT');
    eq(await r.getBuffer(c.k('nb')), Buffer.from([0x7f]), 'BITOP NOT result');
  },

  async errors(c) {
    const r = await c.client();
    await r.set(c.k('s'), 'x');
    let e = await rejects(r.incr(c.k('s')), 'INCR non-integer');
    eq(e.message, 'ERR value is not an integer or out of range', 'INCR error text');
    e = await rejects(r.call('EXPIRE', c.k('s')), 'EXPIRE with one arg');
    eq(e.message, "ERR wrong number of arguments for 'expire' command", 'arity error text');
    e = await rejects(r.call('SETBIT', c.k('s'), '-1', '1'), 'SETBIT -1');
    eq(e.message, 'ERR bit offset is not an integer or out of range', 'SETBIT offset error text');
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
  name: 'node',
  file: 'test_node_clients.mjs',
  skip: /at (self\.sendCommand|r\.sendCommand) /,
  checks,
  timeoutMs: 15000,
  setup: async () => {
    const admin = await new NodeRedisCtx(2, 'setup').client();
    await admin.flushAll().catch((e) => console.log(`warning: setup FLUSHALL failed: ${e.message}`));
    admin.destroy();
  },
});
