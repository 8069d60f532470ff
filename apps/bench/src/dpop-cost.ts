/**
 * CPU of a DPoP-protected fast-tier request over a plain bearer one. One process serves an Express app
 * (sessionMiddleware at the fast tier, then the binding guard) on loopback and sends it keep-alive requests, 8
 * in flight; proofs are signed before each timed round, so the figures hold the server's work plus an HTTP
 * client's, the same for every variant. Variants run interleaved, in a rotating order, for ROUNDS rounds.
 */
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DpopReplayCache } from '@sessionkit/core';
import {
  AccessTokenKeyRing,
  DpopNonces,
  DpopProofVerifier,
  MemoryDpopReplayCache,
  MemoryStore,
  SessionManager,
  sha256,
  systemClock,
} from '@sessionkit/core';
import { problemHandler, sessionBinding, sessionMiddleware } from '@sessionkit/express';
import { RedisDpopReplayCache } from '@sessionkit/storage-redis';
import express from 'express';
import { Redis } from 'ioredis';
import type { CryptoKey, JWK } from 'jose';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const IN_FLIGHT = 8;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ORIGIN = 'http://bench.test';
const SECRET = 'bench nonce secret, thirty-two characters or more';

interface Variant {
  name: string;
  path: string;
  /** The Authorization and DPoP headers of one request, made before the timed round. */
  headers: () => Promise<Record<string, string>>;
}

const clock = systemClock;
const accessTokens = await AccessTokenKeyRing.generate(
  { issuer: 'b', audience: 'b', ttlMs: 3_600_000, clock },
  'ES256',
);
const manager = new SessionManager({
  store: new MemoryStore(),
  accessTokens,
  config: { accessToken: { ttlMs: 3_600_000, issuer: 'b', audience: 'b' } },
});
const pair = await generateKeyPair('ES256', { extractable: true });
const { kty, crv, x, y } = await exportJWK(pair.publicKey);
const proofJwk = { kty, crv, x, y } as JWK;
const jkt = await calculateJwkThumbprint(pair.publicKey);
const bearerToken = (await manager.create({ userId: 'bearer' })).accessToken as string;
const boundToken = (await manager.create({ userId: 'bound', dpopJkt: jkt })).accessToken as string;
const nonces = new DpopNonces({ secret: SECRET, clock });
const redis = new Redis(REDIS_URL, { enableOfflineQueue: false });
await once(redis, 'ready');
const prefix = `bench_dpop_${process.pid}:`;

const app = express();
app.use(sessionMiddleware({ manager, tier: 'fast', clock }));
const ok: express.RequestHandler = (_req, res) => {
  res.json({ ok: true });
};
app.get('/bearer', ok);
function dpopRoute(path: string, replayCache: DpopReplayCache, keyCacheSize: number) {
  const dpop = new DpopProofVerifier({ replayCache, clock, nonces, keyCacheSize });
  app.get(path, sessionBinding({ dpop, origin: ORIGIN })('required'), ok);
}
dpopRoute('/dpop-memory', new MemoryDpopReplayCache({ maxEntries: 1_000_000 }), 1000);
dpopRoute('/dpop-memory-nokeycache', new MemoryDpopReplayCache({ maxEntries: 1_000_000 }), 0);
dpopRoute('/dpop-redis', new RedisDpopReplayCache({ client: redis, prefix }), 1000);
app.use(problemHandler());
const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;

async function proof(privateKey: CryptoKey, path: string): Promise<string> {
  return new SignJWT({
    jti: crypto.randomUUID(),
    htm: 'GET',
    htu: `${ORIGIN}${path}`,
    iat: Math.floor(Date.now() / 1000),
    nonce: nonces.current(),
    ath: sha256(boundToken),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: proofJwk })
    .sign(privateKey);
}

const dpopVariant = (name: string, path: string): Variant => ({
  name,
  path,
  headers: async () => ({ authorization: `DPoP ${boundToken}`, dpop: await proof(pair.privateKey, path) }),
});
const variants: Variant[] = [
  {
    name: 'bearer JWT, fast tier',
    path: '/bearer',
    headers: async () => ({ authorization: `Bearer ${bearerToken}` }),
  },
  dpopVariant('DPoP, memory jti cache, key cache', '/dpop-memory'),
  dpopVariant('DPoP, memory jti cache, no key cache', '/dpop-memory-nokeycache'),
  dpopVariant('DPoP, Redis jti cache, key cache', '/dpop-redis'),
];

const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
function get(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function round(variant: Variant): Promise<{ cpuUs: number; rps: number }> {
  const prepared = await Promise.all(Array.from({ length: REQUESTS }, () => variant.headers()));
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < prepared.length) {
        const headers = prepared[next++] as Record<string, string>;
        const status = await get(variant.path, headers);
        if (status !== 200) throw new Error(`${variant.name}: HTTP ${status}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  return { cpuUs: (used.user + used.system) / REQUESTS, rps: REQUESTS / seconds };
}

const results = new Map<string, { cpuUs: number[]; rps: number[] }>(
  variants.map((v) => [v.name, { cpuUs: [], rps: [] }]),
);
try {
  for (const variant of variants) await round(variant); // warm-up
  for (let r = 0; r < ROUNDS; r += 1) {
    for (let i = 0; i < variants.length; i += 1) {
      const variant = variants[(i + r) % variants.length] as Variant;
      const { cpuUs, rps } = await round(variant);
      const entry = results.get(variant.name);
      entry?.cpuUs.push(cpuUs);
      entry?.rps.push(rps);
    }
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const base = median(results.get(variants[0]?.name ?? '')?.cpuUs ?? [0]);
  console.log(
    `${ROUNDS} interleaved rounds x ${REQUESTS} requests, ${IN_FLIGHT} in flight, Node ${process.version}`,
  );
  console.log('| variant | CPU µs/request, median (min–max) | over bearer | req/s, median (min–max) |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, { cpuUs, rps }] of results) {
    const cpu = median(cpuUs);
    console.log(
      `| ${name} | ${cpu.toFixed(0)} (${Math.min(...cpuUs).toFixed(0)}–${Math.max(...cpuUs).toFixed(0)}) | +${(cpu - base).toFixed(0)} µs | ${median(rps).toFixed(0)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}) |`,
    );
  }
} finally {
  server.close();
  agent.destroy();
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = nextCursor;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
