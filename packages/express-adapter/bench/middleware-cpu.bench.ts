/**
 * CPU per request of `sessionMiddleware` itself, called directly on an Express request and response (no
 * sockets, no client in the process), so a change of a fraction of a microsecond shows through the noise
 * that swamps the HTTP benchmark. Run: `npx tsx --conditions=@sessionkit/source bench/middleware-cpu.bench.ts`
 * (about 10 s, MemoryStore only).
 */

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { AccessTokenKeyRing, MemoryStore, SessionManager, systemClock } from '@sessionkit/core';
import type { Request, RequestHandler, Response } from 'express';
import express from 'express';
import { sessionMiddleware } from '../src/index.js';

const ROUNDS = 9;
const SYNC_CALLS = 200_000;
const AWAITED_CALLS = 20_000;

const manager = new SessionManager({
  store: new MemoryStore(),
  accessTokens: await AccessTokenKeyRing.generate({
    issuer: 'bench',
    audience: 'bench',
    ttlMs: 3_600_000,
    clock: systemClock,
  }),
  config: { contextChange: { ip: 'allow', device: 'allow' } },
});
await manager.start();
const issued = await manager.create({ userId: 'bench-user' });
const app = express();

/** A request and response with Express' prototypes, as `app.handle` gives them to middleware. */
function exchange(headers: Record<string, string>): { req: Request; res: Response } {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/me';
  req.headers = {
    host: 'localhost',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0',
    ...headers,
  };
  Object.setPrototypeOf(req, app.request);
  const res = new ServerResponse(req);
  Object.setPrototypeOf(res, app.response);
  return { req: req as unknown as Request, res: res as unknown as Response };
}

interface Case {
  name: string;
  middleware: RequestHandler;
  headers: Record<string, string>;
  /** Called in a plain loop: valid only where the middleware calls `next` before it returns. */
  synchronous: boolean;
}

const fast = sessionMiddleware({ manager, tier: 'fast' });
const full = sessionMiddleware({ manager, tier: 'full' });
const cases: Case[] = [
  { name: 'no token', middleware: full, headers: {}, synchronous: true },
  {
    name: 'bearer JWT, fast tier (from core caches)',
    middleware: fast,
    headers: { authorization: `Bearer ${issued.accessToken}` },
    synchronous: true,
  },
  {
    name: 'cookie, full tier (one store read)',
    middleware: full,
    headers: { cookie: `__Host-sk_session=${issued.token}` },
    synchronous: false,
  },
  {
    name: 'cookie, fast tier, validation cache off',
    middleware: fast,
    headers: { cookie: `__Host-sk_session=${issued.token}` },
    synchronous: false,
  },
];

/** CPU microseconds (user + system, so GC threads count) per call. */
async function measure(c: Case, calls: number): Promise<number> {
  const { req, res } = exchange(c.headers);
  const once = () =>
    new Promise<void>((resolve, reject) =>
      c.middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
    );
  // A token's first sight is a cache miss that core answers asynchronously.
  await once();
  let called = 0;
  const next = () => {
    called += 1;
  };
  const started = process.cpuUsage();
  if (c.synchronous) {
    for (let i = 0; i < calls; i += 1) c.middleware(req, res, next);
    if (called !== calls) throw new Error(`${c.name}: next was not called synchronously`);
  } else {
    for (let i = 0; i < calls; i += 1) await once();
  }
  const used = process.cpuUsage(started);
  if (c.headers.authorization !== undefined || c.headers.cookie !== undefined) {
    if (!req.sessionkit?.session) throw new Error(`${c.name}: the token did not validate`);
  }
  return (used.user + used.system) / calls;
}

const results = new Map<string, number[]>();
for (const c of cases) await measure(c, c.synchronous ? SYNC_CALLS / 4 : AWAITED_CALLS / 4);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const c of cases) {
    const perCall = await measure(c, c.synchronous ? SYNC_CALLS : AWAITED_CALLS);
    results.set(c.name, [...(results.get(c.name) ?? []), perCall]);
  }
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
console.log(`\nsessionMiddleware called directly, CPU µs per request, median [min–max] of ${ROUNDS} rounds`);
console.log(`${cpus().length} cores, 1-minute load average ${(loadavg()[0] ?? 0).toFixed(1)}\n`);
console.log('| request | CPU µs | min–max |');
console.log('| --- | ---: | ---: |');
for (const [name, values] of results) {
  const s = sorted(values);
  const median = s[Math.floor(s.length / 2)] ?? 0;
  console.log(
    `| ${name} | ${median.toFixed(2)} | ${(s[0] ?? 0).toFixed(2)}–${(s[s.length - 1] ?? 0).toFixed(2)} |`,
  );
}
await manager.close();
