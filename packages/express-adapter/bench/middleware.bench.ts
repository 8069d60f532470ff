/**
 * Throughput of a guarded route over real HTTP on loopback, against bare Express measured in the same run.
 * Run: `npx tsx bench/middleware.bench.ts` (about 10 s; uses Redis on 127.0.0.1:6379 under a random prefix).
 */

import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import type { SessionStore } from '@sessionkit/core';
import { AccessTokenKeyRing, MemoryStore, randomToken, SessionManager, systemClock } from '@sessionkit/core';
import { RedisStore } from '@sessionkit/storage-redis';
import type { Express } from 'express';
import express from 'express';
import { Redis } from 'ioredis';
import { problemHandler, requireSession, sessionMiddleware } from '../src/index.js';

const DURATION_MS = 1000;
// Rows run interleaved, best round kept: the machine is shared, and noise only ever lowers a figure.
const ROUNDS = 3;
const CONCURRENCY = 16;

async function throughput(app: Express, headers: Record<string, string>): Promise<number> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/me', agent, headers }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  for (let i = 0; i < 200; i += 1) await once();
  let done = 0;
  const deadline = Date.now() + DURATION_MS;
  const worker = async () => {
    while (Date.now() < deadline) {
      await once();
      done += 1;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = Date.now() - started;
  agent.destroy();
  await new Promise((resolve) => server.close(resolve));
  return (done * 1000) / elapsed;
}

function bare(): Express {
  const app = express();
  app.get('/me', (_req, res) => {
    res.json({ userId: 'anonymous' });
  });
  return app;
}

function guarded(manager: SessionManager, tier: 'fast' | 'full'): Express {
  const app = express();
  app.use(sessionMiddleware({ manager, tier }));
  app.get('/me', requireSession(), (req, res) => {
    res.json({ userId: req.sessionkit?.session?.userId });
  });
  app.use(problemHandler());
  return app;
}

async function managerOver(store: SessionStore) {
  const accessTokens = await AccessTokenKeyRing.generate({
    issuer: 'bench',
    audience: 'bench',
    ttlMs: 300_000,
    clock: systemClock,
  });
  const manager = new SessionManager({
    store,
    accessTokens,
    // One secret for both stores: a shared store (Redis) refuses to start without one.
    config: {
      secret: 'bench-server-secret-0123456789abcdef',
      contextChange: { ip: 'allow', device: 'allow' },
    },
  });
  await manager.start();
  const issued = await manager.create({ userId: 'bench-user' });
  return { manager, issued };
}

const redis = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false, lazyConnect: true });
await redis.connect();
const prefix = `sk-express-bench-${randomToken(6)}`;
const redisStore = new RedisStore({ client: redis, prefix });
const memory = await managerOver(new MemoryStore());
const overRedis = await managerOver(redisStore);

const setups: [string, () => Promise<number>][] = [
  ['bare Express (baseline)', () => throughput(bare(), {})],
  [
    'cookie, full tier, MemoryStore',
    () => throughput(guarded(memory.manager, 'full'), { cookie: `__Host-sk_session=${memory.issued.token}` }),
  ],
  [
    'bearer JWT, fast tier, MemoryStore',
    () =>
      throughput(guarded(memory.manager, 'fast'), { authorization: `Bearer ${memory.issued.accessToken}` }),
  ],
  [
    'cookie, full tier, RedisStore',
    () =>
      throughput(guarded(overRedis.manager, 'full'), {
        cookie: `__Host-sk_session=${overRedis.issued.token}`,
      }),
  ],
  [
    'bearer JWT, fast tier, RedisStore',
    () =>
      throughput(guarded(overRedis.manager, 'fast'), {
        authorization: `Bearer ${overRedis.issued.accessToken}`,
      }),
  ],
];
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, run] of setups) best.set(name, Math.max(best.get(name) ?? 0, await run()));
}
const rows = [...best.entries()];
const baseline = rows[0]?.[1] ?? 1;
console.log(
  `\n${CONCURRENCY} concurrent keep-alive clients, ${DURATION_MS} ms per row, best of ${ROUNDS}, GET /me behind requireSession()`,
);
// Other work on a shared machine skews every row; the load average says how much to trust this run.
console.log(`${cpus().length} cores, 1-minute load average ${(loadavg()[0] ?? 0).toFixed(1)}\n`);
console.log('| setup | req/s | vs bare Express |');
console.log('| --- | ---: | ---: |');
for (const [name, rate] of rows)
  console.log(`| ${name} | ${Math.round(rate)} | ${(rate / baseline).toFixed(2)}x |`);

await memory.manager.close();
await overRedis.manager.close();
await redisStore.close();
let cursor = '0';
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length > 0) await redis.unlink(...keys);
} while (cursor !== '0');
await redis.quit();
