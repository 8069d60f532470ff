/**
 * 100,000 fuzzed requests (FUZZ_REQUESTS) of malformed tokens, cookies, headers and bodies against an app with
 * the Express adapter (sessions on the shared Redis under their own prefix, then on PostgreSQL in a fresh
 * schema), plus raw malformed HTTP over sockets. Pass: zero 5xx other than a deliberate 503, zero crashes,
 * zero hangs (every request bounded by 5 s). Seeded: FUZZ_SEED reproduces a run.
 */

import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AppProcess } from './app-process.js';
import { post, startApp } from './app-process.js';
import type { FuzzMaterial } from './fuzz-request.js';
import { FuzzGenerator } from './fuzz-request.js';
import { deleteRedisPrefix, dropSchemas } from './namespace-cleanup.js';
import { writeResult } from './results.js';
import { verdict } from './stats.js';

const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const CONCURRENCY = 32;
const MAX_SECONDS = Number(process.env.FUZZ_MAX_SECONDS ?? 300);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function send(agent: http.Agent, base: URL, request: ReturnType<FuzzGenerator['next']>): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', () => resolve(-1));
      },
    );
    req.once('timeout', () => {
      req.destroy();
      resolve(-2);
    });
    req.once('error', () => resolve(-1));
    req.end(request.body);
  });
}

function sendRaw(base: URL, bytes: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(base.port), base.hostname);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(-2);
    }, 5000);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const status = answer.match(/^HTTP\/1\.[01] (\d{3})/)?.[1];
      resolve(status ? Number(status) : -1);
    });
    socket.write(bytes, () => socket.end());
  });
}

async function fuzz(app: AppProcess, count: number, seed: number) {
  const login = await post(`${app.url}/login`, { userId: 'fuzz-owner' });
  const issued = login.body as {
    token: string;
    accessToken: string;
    refreshToken: string;
    sessionId: string;
  };
  const material: FuzzMaterial = {
    sessionToken: issued.token,
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    sessionId: issued.sessionId,
  };
  const generator = new FuzzGenerator(seed, material);
  const base = new URL(app.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const statuses = new Map<number, number>();
  const serverErrors: { index: number; status: number; method: string; path: string }[] = [];
  let crashed = false;
  app.child.once('exit', () => {
    crashed = true;
  });
  let next = 0;
  const deadline = performance.now() + MAX_SECONDS * 1000;
  const worker = async () => {
    while (next < count && performance.now() < deadline && !crashed) {
      const index = next;
      next += 1;
      // One in fifty goes over a raw socket: bytes an HTTP client would refuse to send.
      const isRaw = index % 50 === 49;
      const request = isRaw ? undefined : generator.next();
      const status = isRaw
        ? await sendRaw(base, generator.raw())
        : await send(agent, base, request as ReturnType<FuzzGenerator['next']>);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500 && status !== 503)
        serverErrors.push({ index, status, method: request?.method ?? 'raw', path: request?.path ?? '' });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  const alive = !crashed && app.child.exitCode === null;
  return {
    sent: next,
    seconds,
    statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
    serverErrors: serverErrors.slice(0, 20),
    serverErrorCount: serverErrors.length,
    deliberate503: statuses.get(503) ?? 0,
    timeouts: statuses.get(-2) ?? 0,
    alive,
  };
}

const runs: { backend: string; seed: number; result: Awaited<ReturnType<typeof fuzz>> }[] = [];
for (const [backend, share] of [
  ['redis', 0.8],
  ['postgres', 0.2],
] as const) {
  const namespace = `bench_fuzz_${randomBytes(4).toString('hex')}`;
  const app = await startApp({ APP_BACKEND: backend, APP_NAMESPACE: namespace, REDIS_URL, DATABASE_URL });
  try {
    const seed = SEED + runs.length;
    const result = await fuzz(app, Math.round(TOTAL * share), seed);
    runs.push({ backend, seed, result });
    console.error(
      `${backend}: ${result.sent} requests in ${result.seconds.toFixed(1)} s, statuses ${JSON.stringify(result.statuses)}`,
    );
  } finally {
    await app.stop();
    if (backend === 'redis') await deleteRedisPrefix(REDIS_URL, namespace);
    else await dropSchemas(DATABASE_URL, [namespace]);
  }
}
writeResult('fuzz', { total: TOTAL, runs });
const sent = runs.reduce((sum, run) => sum + run.result.sent, 0);
const errors = runs.reduce((sum, run) => sum + run.result.serverErrorCount, 0);
const timeouts = runs.reduce((sum, run) => sum + run.result.timeouts, 0);
const crashes = runs.filter((run) => !run.result.alive).length;
console.log(
  `${verdict(sent >= TOTAL && errors === 0)}  ${sent} fuzzed requests: ${errors} 5xx other than 503 (${runs.reduce((sum, run) => sum + run.result.deliberate503, 0)} 503)`,
);
console.log(
  `${verdict(crashes === 0 && timeouts === 0)}  zero crashes (${crashes}) and zero hangs (${timeouts} requests over 5 s)`,
);
for (const run of runs)
  for (const error of run.result.serverErrors)
    console.log(
      `  ${run.backend} seed ${run.seed} #${error.index}: ${error.status} ${error.method} ${error.path}`,
    );
