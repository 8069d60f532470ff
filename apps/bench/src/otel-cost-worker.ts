/**
 * One telemetry mode of the OTel cost bench (otel-cost.ts), in its own process: `none` (run with
 * hide-otel-api.ts preloaded), `api` (the API, no SDK) or `sdk` (the SDK, 10 % of traces sampled). Calls
 * `sessionMiddleware` directly on Express requests, as packages/express-adapter/bench/middleware-cpu.bench.ts
 * does, and prints one JSON line: per case, CPU µs and wall-clock calls per second.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { getPriority } from 'node:os';
import { AccessTokenKeyRing, MemoryStore, SessionManager, systemClock } from '@sessionkit/core';
import { sessionMiddleware } from '@sessionkit/express';
import type { Request, RequestHandler, Response } from 'express';
import express from 'express';

const mode = process.argv[2];
/** Calls between refills of the validation cache: smaller under valgrind, where 10 000 calls outlast its 10 s. */
const CHUNK = Number(process.env.BENCH_CHUNK ?? 10_000);
const CALLS = {
  sync: Number(process.env.BENCH_SYNC_CALLS ?? 200_000),
  awaited: Number(process.env.BENCH_AWAITED_CALLS ?? 20_000),
};
/** Warm-up calls per case before the measured ones. */
const WARMUP = Number(process.env.BENCH_WARMUP_CALLS ?? CHUNK);
/**
 * Under callgrind with `--dump-before=getpriority` (otel-cost-instructions.ts), each call ends one counted region:
 * a call before and after each chunk (warm-up ones too, so that the measured code is the warmed code) leaves the
 * chunks' instruction counts in the even-numbered dumps.
 */
const MARK = process.env.BENCH_MARK_CHUNKS === '1';
/** Runs only the case of this index (otel-cost-instructions.ts counts one case per process). */
const ONLY = process.env.BENCH_CASE === undefined ? undefined : Number(process.env.BENCH_CASE);
if (mode === 'sdk') (await import('./otel-sdk-sampled.js')).startSampledSdk(0.1);

const manager = new SessionManager({
  store: new MemoryStore(),
  accessTokens: await AccessTokenKeyRing.generate({
    issuer: 'bench',
    audience: 'bench',
    ttlMs: 3_600_000,
    clock: systemClock,
  }),
  config: {
    contextChange: { ip: 'allow', device: 'allow' },
    validationCache: { enabled: true, maxAgeMs: 10_000 },
  },
});
await manager.start();
const issued = await manager.create({ userId: 'bench-user' });
const app = express();

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
  synchronous: boolean;
  /** Run before each chunk of calls, untimed: keeps the validation-cache entry younger than its maximum age. */
  refill?: () => Promise<unknown>;
}

const fast = sessionMiddleware({ manager, tier: 'fast' });
const full = sessionMiddleware({ manager, tier: 'full' });
const allCases: Case[] = [
  {
    name: 'bearer JWT, fast tier',
    middleware: fast,
    headers: { authorization: `Bearer ${issued.accessToken}` },
    synchronous: true,
  },
  {
    name: 'cookie, fast tier, validation cache hit',
    middleware: fast,
    headers: { cookie: `__Host-sk_session=${issued.token}` },
    synchronous: true,
    refill: () => manager.validate(issued.token, { tier: 'full' }),
  },
  {
    name: 'cookie, full tier, one store read',
    middleware: full,
    headers: { cookie: `__Host-sk_session=${issued.token}` },
    synchronous: false,
  },
];

const cases = ONLY === undefined ? allCases : allCases.slice(ONLY, ONLY + 1);

async function measure(c: Case, calls: number): Promise<{ cpuMicros: number; callsPerSec: number }> {
  const { req, res } = exchange(c.headers);
  const once = () =>
    new Promise<void>((resolve, reject) =>
      c.middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
    );
  await once();
  let called = 0;
  const next = () => {
    called += 1;
  };
  let cpuMicros = 0;
  let seconds = 0;
  for (let done = 0; done < calls; done += CHUNK) {
    await c.refill?.();
    const wall = performance.now();
    const started = process.cpuUsage();
    if (MARK) getPriority();
    if (c.synchronous) {
      for (let i = 0; i < CHUNK; i += 1) c.middleware(req, res, next);
    } else {
      for (let i = 0; i < CHUNK; i += 1) await once();
    }
    if (MARK) getPriority();
    const used = process.cpuUsage(started);
    seconds += (performance.now() - wall) / 1000;
    cpuMicros += used.user + used.system;
  }
  if (c.synchronous && called !== calls) throw new Error(`${c.name}: next was not called synchronously`);
  if (!req.sessionkit?.session) throw new Error(`${c.name}: the token did not validate`);
  return { cpuMicros: cpuMicros / calls, callsPerSec: calls / seconds };
}

const results: Record<string, { cpuMicros: number; callsPerSec: number }> = {};
for (const c of cases) await measure(c, WARMUP);
for (const c of cases) {
  results[c.name] = await measure(c, c.synchronous ? CALLS.sync : CALLS.awaited);
}
await manager.close();
console.log(JSON.stringify({ mode, results }));
process.exit(0);
