/**
 * Soak: an app process (sessions on the shared Redis under their own prefix, Node with --expose-gc) under a
 * steady open-loop rate for SOAK_SECONDS (default 600): 90 % session reads, 5 % logins (a bounded pool of users,
 * limit 5, so the store stays bounded), 3 % refreshes, 2 % revocations. Every 10 s the app's heap is sampled
 * after a full collection. Pass: after the warm-up, no sample exceeds the warm-up plateau (median of the
 * warm-up's last 30 s) by more than 10 %.
 */
import { randomBytes } from 'node:crypto';
import { post, startApp } from './app-process.js';
import { deleteRedisPrefix } from './namespace-cleanup.js';
import { ROUTE } from './payload.js';
import { writeResult } from './results.js';
import { percentile, verdict } from './stats.js';
import { sleep } from './steady-load.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const RATE = Number(process.env.SOAK_RATE ?? 300);
const SAMPLE_MS = 10_000;
const WARMUP_S = Math.min(120, Math.max(20, SECONDS * 0.2));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const namespace = `bench_soak_${randomBytes(4).toString('hex')}`;

const app = await startApp(
  { APP_BACKEND: 'redis', APP_NAMESPACE: namespace, REDIS_URL, APP_MAX_SESSIONS: '5' },
  ['--expose-gc'],
);
const samples: { at: number; heapUsed: number; rss: number }[] = [];
/** Answers per kind of request: a refresh of a session the limit has since evicted is a legitimate 401. */
const statuses = new Map<string, number>();
const latencies: number[] = [];
let sent = 0;
try {
  const readers: string[] = [];
  for (let i = 0; i < 100; i += 1)
    readers.push(
      ((await post(`${app.url}/login`, { userId: `soak-reader-${i}` })).body as { token: string }).token,
    );
  const refreshTokens: string[] = [];
  const revocable: string[] = [];
  let counter = 0;
  const one = async () => {
    counter += 1;
    const roll = counter % 100;
    const t0 = performance.now();
    let status = 0;
    const kind = roll < 90 ? 'read' : roll < 95 ? 'login' : roll < 98 ? 'refresh' : 'revoke';
    try {
      if (roll < 90) {
        const response = await fetch(`${app.url}${ROUTE}`, {
          headers: { authorization: `Bearer ${readers[counter % readers.length]}` },
          signal: AbortSignal.timeout(5000),
        });
        await response.arrayBuffer();
        status = response.status;
      } else if (roll < 95) {
        const answer = await post(`${app.url}/login`, { userId: `soak-user-${counter % 200}` });
        status = answer.status;
        const issued = answer.body as { refreshToken: string; sessionId: string };
        refreshTokens.push(issued.refreshToken);
        revocable.push(issued.sessionId);
        if (refreshTokens.length > 200) refreshTokens.shift();
        if (revocable.length > 200) revocable.shift();
      } else if (roll < 98) {
        const token = refreshTokens.shift();
        if (token) {
          const answer = await post(`${app.url}/refresh`, { refreshToken: token });
          status = answer.status;
          if (answer.status === 200)
            refreshTokens.push((answer.body as { refreshToken: string }).refreshToken);
        } else status = 200;
      } else {
        const sessionId = revocable.shift();
        status = sessionId ? (await post(`${app.url}/admin/revoke`, { sessionId })).status : 200;
      }
    } catch {
      status = 0;
    }
    latencies.push(performance.now() - t0);
    if (latencies.length > 200_000) latencies.splice(0, 100_000);
    statuses.set(`${kind} ${status}`, (statuses.get(`${kind} ${status}`) ?? 0) + 1);
  };
  const started = performance.now();
  const sampler = setInterval(() => {
    fetch(`${app.url}/debug/heap`)
      .then((response) => response.json() as Promise<{ heapUsed: number; rss: number }>)
      .then((memory) => {
        samples.push({
          at: Math.round((performance.now() - started) / 1000),
          heapUsed: memory.heapUsed,
          rss: memory.rss,
        });
        console.error(
          `${samples.at(-1)?.at} s: heap ${(memory.heapUsed / 1048576).toFixed(1)} MiB, rss ${(memory.rss / 1048576).toFixed(0)} MiB, ${sent} requests`,
        );
      })
      .catch(() => {});
  }, SAMPLE_MS);
  // Open loop: every 10 ms the slice's share of the rate is started, whether earlier ones answered or not.
  const inFlight = new Set<Promise<void>>();
  while (performance.now() - started < SECONDS * 1000) {
    const slice = performance.now();
    for (let i = 0; i < RATE / 100 && inFlight.size < 1000; i += 1) {
      sent += 1;
      const request = one().finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await sleep(Math.max(0, 10 - (performance.now() - slice)));
  }
  clearInterval(sampler);
  await Promise.all(inFlight);
} finally {
  await app.stop();
  await deleteRedisPrefix(REDIS_URL, namespace);
}

const warm = samples.filter((s) => s.at <= WARMUP_S && s.at > WARMUP_S - 30).map((s) => s.heapUsed);
const plateau = percentile(warm, 50) ?? 0;
const after = samples.filter((s) => s.at > WARMUP_S);
const peak = Math.max(0, ...after.map((s) => s.heapUsed));
const last = after.at(-1)?.heapUsed ?? 0;
const growth = plateau > 0 ? peak / plateau - 1 : Infinity;
// Reads, logins and revocations must all succeed; a refresh may meet a session evicted by the per-user limit
// (401), never a 5xx or no answer.
const errors = [...statuses]
  .filter(([key]) => !key.endsWith(' 200') && !(key === 'refresh 401'))
  .reduce((sum, [, n]) => sum + n, 0);
writeResult('soak', {
  seconds: SECONDS,
  rate: RATE,
  warmupSeconds: WARMUP_S,
  plateau,
  peak,
  last,
  growth,
  sent,
  errors,
  statuses: Object.fromEntries(statuses),
  p50: percentile(latencies, 50),
  p99: percentile(latencies, 99),
  samples,
});
console.log(
  `soak: ${SECONDS} s at ${RATE} req/s (${sent} requests, ${errors} failed: ${JSON.stringify(Object.fromEntries(statuses))}), latency p50 ${percentile(latencies, 50)?.toFixed(1)} ms p99 ${percentile(latencies, 99)?.toFixed(1)} ms`,
);
console.log(
  `heap after gc: warm-up plateau ${(plateau / 1048576).toFixed(1)} MiB (median of ${warm.length} samples in the warm-up's last 30 s), peak after warm-up ${(peak / 1048576).toFixed(1)} MiB, last ${(last / 1048576).toFixed(1)} MiB`,
);
console.log(
  `${verdict(after.length > 0 && growth <= 0.1 && errors === 0)}  heap within 10 % of the warm-up plateau: +${(growth * 100).toFixed(1)} % at peak; reads, logins and revocations all 200, refreshes 200 or 401 (session evicted by the limit)`,
);
