/**
 * Faults: a backend stopped under load. Every server here is private (redis-server on 6395, PostgreSQL 15 on
 * 5434, in temporary directories) and stopped afterwards even on failure; the shared 6379 and 5432 are never
 * touched. Scenarios:
 *   1. sessions on Redis, Redis stopped for 3 s;
 *   2. sessions on PostgreSQL with the login limiter on Redis, Redis stopped for 3 s;
 *   3. sessions on PostgreSQL, PostgreSQL stopped for 3 s and started again.
 * Pass lines: 503 problem documents within 1 s of the stop; no request hangs (every answer within 1 s); the app
 * never crashes; service back within 5 s of the backend's return; no session lost (PostgreSQL-backed).
 */
import type { AppProcess } from './app-process.js';
import { post, startApp } from './app-process.js';
import { ROUTE } from './payload.js';
import { benchPostgres, benchRedis } from './private-servers.js';
import { writeResult } from './results.js';
import { verdict } from './stats.js';
import type { Observation } from './steady-load.js';
import { sleep, steadyLoad } from './steady-load.js';

const REDIS_PORT = Number(process.env.FAULT_REDIS_PORT ?? 6395);
const PG_PORT = Number(process.env.FAULT_PG_PORT ?? 5434);
const OUTAGE_MS = 3000;
const SESSIONS = 50;

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface ScenarioResult {
  scenario: string;
  checks: Check[];
  statusesDuringOutage: Record<string, number>;
  firstProblemAfterStopMs?: number;
  slowestAnswerDuringOutageMs?: number;
  recoveryAfterReturnMs?: number;
  sessionsLost: number;
}

async function login(app: AppProcess, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const answer = await post(`${app.url}/login`, { userId: `fault-user-${i}` });
    if (answer.status !== 200) throw new Error(`login answered ${answer.status}`);
    tokens.push((answer.body as { token: string }).token);
  }
  return tokens;
}

async function stillValid(app: AppProcess, tokens: string[]): Promise<number> {
  let valid = 0;
  for (const token of tokens) {
    const response = await fetch(`${app.url}${ROUTE}`, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    if (response.status === 200) valid += 1;
  }
  return valid;
}

/**
 * Watches `url` under load while `stopBackend` / `startBackend` run; `expectOutage` says whether the watched
 * requests should fail (503) during it or keep succeeding.
 */
async function outage(options: {
  scenario: string;
  app: AppProcess;
  tokens: string[];
  watch: { url: string; method: 'GET' | 'POST'; body?: () => unknown };
  expectOutage: boolean;
  stopBackend: () => Promise<void>;
  startBackend: () => Promise<void>;
  requireNoLoss: boolean;
}): Promise<ScenarioResult> {
  const { app, tokens } = options;
  let crashed = false;
  app.child.once('exit', () => {
    crashed = true;
  });
  // Logins go without a token: a login presenting one replaces (revokes) that session.
  const load = steadyLoad({
    url: options.watch.url,
    method: options.watch.method,
    ...(options.watch.body ? { body: options.watch.body } : {}),
    tokens: options.watch.body ? [] : tokens,
    callers: 8,
    timeoutMs: 3000,
    pauseMs: 2,
  });
  await sleep(1500);
  const stoppedAt = load.now();
  await options.stopBackend();
  const stopReturnedAt = load.now();
  await sleep(OUTAGE_MS);
  const restartAt = load.now();
  await options.startBackend();
  const returnedAt = load.now();
  await sleep(6000);
  await load.stop();
  const during = load.observations.filter((o) => o.sentAt >= stopReturnedAt && o.sentAt < restartAt);
  const after = load.observations.filter((o) => o.sentAt >= returnedAt);
  const firstProblem = load.observations.find((o) => o.sentAt >= stoppedAt && o.status === 503 && o.problem);
  const nonProblemFailures = during.filter((o) => o.status !== 200 && !(o.status === 503 && o.problem));
  const slowest = Math.max(0, ...during.map((o) => o.answeredAt - o.sentAt));
  // Recovered: the first answer sent after the backend returned from which on every answer is a 200.
  let recoveredAt: number | undefined;
  for (let i = after.length - 1; i >= 0; i -= 1) {
    if ((after[i] as Observation).status !== 200) break;
    recoveredAt = (after[i] as Observation).sentAt;
  }
  const alive = !crashed && app.child.exitCode === null;
  const valid = alive ? await stillValid(app, tokens) : 0;
  const statuses: Record<string, number> = {};
  for (const o of during) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  const checks: Check[] = [];
  if (options.expectOutage) {
    const firstProblemMs = firstProblem ? firstProblem.answeredAt - stoppedAt : undefined;
    checks.push({
      name: '503 problem documents within 1 s of the stop',
      ok: firstProblemMs !== undefined && firstProblemMs <= 1000 && nonProblemFailures.length === 0,
      detail: `first after ${firstProblemMs?.toFixed(0) ?? 'never'} ms; ${during.length} answers during the outage (${JSON.stringify(statuses)}), ${nonProblemFailures.length} of them neither 200 nor a 503 problem`,
    });
  } else {
    const failed = during.filter((o) => o.status !== 200).length;
    checks.push({
      name: 'sessions keep validating while the backend is down',
      ok: failed === 0,
      detail: `${failed} of ${during.length} failed (${JSON.stringify(statuses)})`,
    });
  }
  checks.push({
    name: 'no hang: every answer during the outage within 1 s',
    ok: slowest <= 1000 && during.every((o) => o.status !== 0),
    detail: `slowest ${slowest.toFixed(0)} ms`,
  });
  checks.push({ name: 'no crash', ok: alive, detail: alive ? 'process alive' : 'process exited' });
  const recovery = recoveredAt === undefined ? undefined : Math.max(0, recoveredAt - returnedAt);
  checks.push({
    name: 'recovery within 5 s of the backend returning',
    ok: recovery !== undefined && recovery <= 5000,
    detail: `${recovery?.toFixed(0) ?? 'never'} ms after it answered again (${(returnedAt - restartAt).toFixed(0)} ms to start it)`,
  });
  const lost = tokens.length - valid;
  checks.push({
    name: options.requireNoLoss ? 'no session lost' : 'sessions lost (reported)',
    ok: options.requireNoLoss ? lost === 0 : true,
    detail: `${lost} of ${tokens.length} lost`,
  });
  return {
    scenario: options.scenario,
    checks,
    statusesDuringOutage: statuses,
    ...(firstProblem ? { firstProblemAfterStopMs: firstProblem.answeredAt - stoppedAt } : {}),
    slowestAnswerDuringOutageMs: slowest,
    ...(recovery === undefined ? {} : { recoveryAfterReturnMs: recovery }),
    sessionsLost: lost,
  };
}

const redis = benchRedis(REDIS_PORT);
const postgres = benchPostgres(PG_PORT);
const apps: AppProcess[] = [];
const results: ScenarioResult[] = [];
try {
  await redis.start();
  postgres.start();

  const onRedis = await startApp({
    APP_BACKEND: 'redis',
    APP_NAMESPACE: 'fault_redis',
    REDIS_URL: redis.url,
    APP_MAX_SESSIONS: '100',
  });
  apps.push(onRedis);
  const redisTokens = await login(onRedis, SESSIONS);
  results.push(
    await outage({
      scenario: 'sessions on Redis; Redis stopped 3 s',
      app: onRedis,
      tokens: redisTokens,
      watch: { url: `${onRedis.url}${ROUTE}`, method: 'GET' },
      expectOutage: true,
      stopBackend: () => redis.stop('SIGTERM'),
      startBackend: () => redis.start(),
      requireNoLoss: false,
    }),
  );

  const onPostgres = await startApp({
    APP_BACKEND: 'postgres',
    APP_NAMESPACE: 'fault_pg',
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    APP_LOGIN_LIMIT_REDIS: '1',
    APP_MAX_SESSIONS: '100',
  });
  apps.push(onPostgres);
  const pgTokens = await login(onPostgres, SESSIONS);
  let loginCounter = 0;
  results.push(
    await outage({
      scenario: 'sessions on PostgreSQL, login limiter on Redis; Redis stopped 3 s (watching logins)',
      app: onPostgres,
      tokens: pgTokens,
      watch: {
        url: `${onPostgres.url}/login`,
        method: 'POST',
        body: () => {
          loginCounter += 1;
          return { userId: `login-${loginCounter % 20}` };
        },
      },
      expectOutage: true,
      stopBackend: () => redis.stop('SIGTERM'),
      startBackend: () => redis.start(),
      requireNoLoss: true,
    }),
  );
  results.push(
    await outage({
      scenario: 'sessions on PostgreSQL, login limiter on Redis; Redis stopped 3 s (watching session reads)',
      app: onPostgres,
      tokens: pgTokens,
      watch: { url: `${onPostgres.url}${ROUTE}`, method: 'GET' },
      expectOutage: false,
      stopBackend: () => redis.stop('SIGTERM'),
      startBackend: () => redis.start(),
      requireNoLoss: true,
    }),
  );
  results.push(
    await outage({
      scenario: 'sessions on PostgreSQL; PostgreSQL stopped 3 s and started again',
      app: onPostgres,
      tokens: pgTokens,
      watch: { url: `${onPostgres.url}${ROUTE}`, method: 'GET' },
      expectOutage: true,
      stopBackend: async () => postgres.stop('fast'),
      startBackend: async () => postgres.start(),
      requireNoLoss: true,
    }),
  );
} finally {
  for (const app of apps) await app.stop();
  await redis.destroy('SIGTERM');
  postgres.destroy();
}

writeResult('fault-outages', { outageMs: OUTAGE_MS, results });
for (const result of results) {
  console.log(`\n${result.scenario}`);
  for (const check of result.checks) console.log(`  ${verdict(check.ok)}  ${check.name}: ${check.detail}`);
}
