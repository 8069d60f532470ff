/**
 * Multi-instance: two app processes share one store (Redis, then PostgreSQL). A session created through A is
 * revoked through A while B is polled with its token without pause; the propagation delay is the time from A's
 * acknowledgement of the revocation to B's first rejection. Configurations: B on the full tier (store read),
 * on the fast tier with the local validation cache (variant g: the invalidation feed must reach B), and an
 * access token on the fast tier (variant d: the denylist, fed by the feed). Target: p99 < 100 ms.
 */
import { randomBytes } from 'node:crypto';
import type { AppProcess } from './app-process.js';
import { post, startApp } from './app-process.js';
import { deleteRedisPrefix, dropSchemas } from './namespace-cleanup.js';
import { ROUTE } from './payload.js';
import { writeResult } from './results.js';
import type { Distribution } from './stats.js';
import { distribution, ms, verdict } from './stats.js';

const SAMPLES = Number(process.env.MULTI_SAMPLES ?? 200);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const GIVE_UP_MS = 3000;

interface Configuration {
  label: string;
  backend: 'redis' | 'postgres';
  tier: 'fast' | 'full';
  cache: boolean;
  token: 'opaque' | 'access';
}

const CONFIGURATIONS: Configuration[] = [
  { label: 'Redis, full tier', backend: 'redis', tier: 'full', cache: false, token: 'opaque' },
  {
    label: 'Redis, fast tier + validation cache (g)',
    backend: 'redis',
    tier: 'fast',
    cache: true,
    token: 'opaque',
  },
  {
    label: 'Redis, JWT access token, fast tier (d)',
    backend: 'redis',
    tier: 'fast',
    cache: false,
    token: 'access',
  },
  { label: 'PostgreSQL, full tier', backend: 'postgres', tier: 'full', cache: false, token: 'opaque' },
  {
    label: 'PostgreSQL, fast tier + validation cache',
    backend: 'postgres',
    tier: 'fast',
    cache: true,
    token: 'opaque',
  },
  {
    label: 'PostgreSQL, JWT access token, fast tier',
    backend: 'postgres',
    tier: 'fast',
    cache: false,
    token: 'access',
  },
];

async function statusOf(url: string, token: string): Promise<number> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(2000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** One revocation: A revokes, B is polled; answers the delay in ms, or undefined if B never rejected. */
async function sample(a: AppProcess, b: AppProcess, configuration: Configuration, user: string) {
  const login = await post(`${a.url}/login`, { userId: user });
  const issued = login.body as { sessionId: string; token: string; accessToken: string };
  const token = configuration.token === 'access' ? issued.accessToken : issued.token;
  // B must have seen the session (its caches warm), or there is nothing to propagate.
  for (let i = 0; i < 3; i += 1)
    if ((await statusOf(`${b.url}${ROUTE}`, token)) !== 200) throw new Error('B rejects a live session');
  let acknowledgedAt: number | undefined;
  let rejectedAt: number | undefined;
  let staleAccepts = 0;
  const revoked = post(`${a.url}/admin/revoke`, { sessionId: issued.sessionId }).then(() => {
    acknowledgedAt = performance.now();
  });
  const deadline = performance.now() + GIVE_UP_MS;
  while (rejectedAt === undefined && performance.now() < deadline) {
    const sentAt = performance.now();
    const status = await statusOf(`${b.url}${ROUTE}`, token);
    if (status === 401) rejectedAt = performance.now();
    else if (acknowledgedAt !== undefined && sentAt > acknowledgedAt) staleAccepts += 1;
  }
  await revoked;
  if (rejectedAt === undefined || acknowledgedAt === undefined) return { delay: undefined, staleAccepts };
  return { delay: Math.max(0, rejectedAt - acknowledgedAt), staleAccepts };
}

const rows: {
  configuration: Configuration;
  delays: Distribution;
  neverRejected: number;
  staleAccepts: number;
  pass: boolean;
}[] = [];
for (const configuration of CONFIGURATIONS) {
  const namespace = `bench_multi_${randomBytes(4).toString('hex')}`;
  const env = {
    APP_BACKEND: configuration.backend,
    APP_NAMESPACE: namespace,
    APP_TIER: configuration.tier,
    APP_CACHE: configuration.cache ? '1' : '0',
    APP_MAX_SESSIONS: '1000',
    REDIS_URL,
    DATABASE_URL,
  };
  const a = await startApp(env);
  const b = await startApp(env);
  try {
    const delays: number[] = [];
    let neverRejected = 0;
    let staleAccepts = 0;
    for (let i = 0; i < SAMPLES; i += 1) {
      const result = await sample(a, b, configuration, `multi-user-${i % 50}`);
      staleAccepts += result.staleAccepts;
      if (result.delay === undefined) neverRejected += 1;
      else delays.push(result.delay);
    }
    const delaysDistribution = distribution(delays);
    const pass = neverRejected === 0 && (delaysDistribution.p99 ?? Infinity) < 100;
    rows.push({ configuration, delays: delaysDistribution, neverRejected, staleAccepts, pass });
    console.error(
      `${configuration.label}: p99 ${ms(delaysDistribution.p99)} ms, never rejected ${neverRejected}`,
    );
  } finally {
    await a.stop();
    await b.stop();
    if (configuration.backend === 'redis') await deleteRedisPrefix(REDIS_URL, namespace);
    else await dropSchemas(DATABASE_URL, [namespace]);
  }
}

writeResult('multi-instance', { samples: SAMPLES, target: { p99Ms: 100 }, rows });
console.log(
  `\nMulti-instance revocation: ${SAMPLES} revocations through A per configuration, B polled without pause\n`,
);
console.log(
  '| configuration | p50 ms | p95 ms | p99 ms | max ms | B never rejected | B accepted after A acked | p99 < 100 ms |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const row of rows)
  console.log(
    `| ${row.configuration.label} | ${ms(row.delays.p50)} | ${ms(row.delays.p95)} | ${ms(row.delays.p99)} | ${ms(row.delays.max)} | ${row.neverRejected} | ${row.staleAccepts} | ${verdict(row.pass)} |`,
  );
