/**
 * CPU cost of one validation inside the engine, without HTTP: for each HTTP variant that misses its target,
 * how much of the gap to its baseline the engine accounts for (the rest is the Express adapter and
 * allocation). One caller, sequential calls, after a warm-up.
 */
import { AccessTokenKeyRing, SessionManager, systemClock } from '@sessionkit/core';
import { BENCH_SECRET, redisBackend } from './session-backends.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 20_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const context = { ip: '127.0.0.1', userAgent: 'autocannon' };

async function perCall(label: string, call: () => Promise<unknown>) {
  for (let i = 0; i < 2000; i += 1) await call();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ITERATIONS; i += 1) await call();
  const wall = ((performance.now() - t0) * 1000) / ITERATIONS;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / ITERATIONS;
  console.log(`| ${label} | ${wall.toFixed(1)} | ${cpu.toFixed(1)} |`);
}

const accessTokens = await AccessTokenKeyRing.generate({
  issuer: 'b',
  audience: 'b',
  ttlMs: 3_600_000,
  clock: systemClock,
});
const cached = await redisBackend(REDIS_URL, `bench_cost_${process.pid}`, {
  validationCache: { enabled: true },
});
const jwtManager = new SessionManager({
  store: cached.manager.store,
  accessTokens,
  config: { secret: BENCH_SECRET, accessToken: { ttlMs: 3_600_000, issuer: 'b', audience: 'b' } },
});
try {
  const issued = await jwtManager.create({ userId: 'u-000001', context });
  const opaque = await cached.manager.create({ userId: 'u-000001', context });
  console.log('| call | wall µs per call | CPU µs per call |\n| --- | ---: | ---: |');
  await perCall('raw ioredis GET of the record key', () =>
    cached.redis.get(`bench_cost_${process.pid}:{u-000001}:s:${opaque.session.id}`),
  );
  await perCall('validate: JWT access token, fast tier (d)', () =>
    jwtManager.validate(issued.accessToken, { tier: 'fast', context }),
  );
  await perCall('validate: opaque token, fast tier, validation cache (g)', () =>
    cached.manager.validate(opaque.token, { tier: 'fast', context }),
  );
  await perCall('validate: opaque token, full tier on Redis (c)', () =>
    cached.manager.validate(opaque.token, { context }),
  );
} finally {
  await cached.close();
}
