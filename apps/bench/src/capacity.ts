/**
 * The measurements docs/capacity.md rests on. Per session operation, on RedisStore and on KyselyStore over
 * PostgreSQL: the app's CPU (process.cpuUsage) and the backend's CPU (Redis `INFO cpu`; PostgreSQL: its backends'
 * utime+stime from /proc) per operation, in ROUNDS rounds interleaving the backends, median and spread. Then the
 * bytes per live session at FILL sessions (Redis `INFO memory` delta and `MEMORY USAGE` of sample keys;
 * PostgreSQL `pg_total_relation_size`). Private servers on 7540/7541 so no one else moves their counters.
 */
import { readFileSync } from 'node:fs';
import type { SessionManager } from '@sessionkit/core';
import { AccessTokenKeyRing, SessionManager as Manager, systemClock } from '@sessionkit/core';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { benchPostgres, benchRedis } from './private-servers.js';
import { writeResult } from './results.js';
import { postgresBackend, redisBackend } from './session-backends.js';

const N = Number(process.env.CAPACITY_OPS ?? 2000);
const ROUNDS = Number(process.env.CAPACITY_ROUNDS ?? 3);
const FILL = Number(process.env.CAPACITY_FILL ?? 100_000);
const CONCURRENCY = 32;
const SECRET = 'capacity-bench-secret-0123456789abcdef';
const context = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' };
const TICK_US = 10_000; // /proc utime/stime are in clock ticks of 10 ms (USER_HZ 100)

type Op = 'create' | 'validate full' | 'validate fast (JWT)' | 'refresh' | 'revoke';
interface Cost {
  appUs: number;
  backendUs: number;
  opsPerSec: number;
}

async function pool<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const redisCpuUs = async (redis: Redis) => {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
};

/** utime+stime of every process of the cluster (postmaster children: backends, walwriter, ...). */
function postgresCpuUs(postmasterPid: number): number {
  let ticks = 0;
  for (const pid of processTree(postmasterPid)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited between listing and reading
    }
  }
  return ticks * TICK_US;
}

function processTree(parent: number): number[] {
  const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/);
  return [parent, ...children.filter(Boolean).map(Number)];
}

async function measure(backendCpu: () => Promise<number>, count: number, run: () => Promise<void>) {
  const backendBefore = await backendCpu();
  const appBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const app = process.cpuUsage(appBefore);
  const backend = (await backendCpu()) - backendBefore;
  return { appUs: (app.user + app.system) / count, backendUs: backend / count, opsPerSec: count / seconds };
}

async function operationCosts(
  manager: SessionManager,
  jwt: SessionManager,
  backendCpu: () => Promise<number>,
) {
  const users = Array.from({ length: N }, (_, index) => `cap-${index % 500}-${Math.random()}`);
  const costs = {} as Record<Op, Cost>;
  const issued: Awaited<ReturnType<SessionManager['create']>>[] = [];
  costs.create = await measure(backendCpu, N, () =>
    pool(users, async (userId) => issued.push(await manager.create({ userId, context }))),
  );
  const reads = [...issued, ...issued, ...issued, ...issued];
  costs['validate full'] = await measure(backendCpu, reads.length, () =>
    pool(reads, (each) => manager.validateUncached(each.token, { tier: 'full', context })),
  );
  const tokens = await Promise.all(
    issued.slice(0, 200).map(() => jwt.create({ userId: 'cap-jwt', context })),
  );
  const jwtReads = Array.from(
    { length: 4 * N },
    (_, index) => tokens[index % tokens.length]?.accessToken ?? '',
  );
  costs['validate fast (JWT)'] = await measure(backendCpu, jwtReads.length, () =>
    pool(jwtReads, (token) => jwt.validate(token, { tier: 'fast', context })),
  );
  costs.refresh = await measure(backendCpu, N, () =>
    pool(issued, (each) => manager.refresh(each.refreshToken, { context })),
  );
  costs.revoke = await measure(backendCpu, N, () => pool(issued, (each) => manager.revoke(each.session.id)));
  return costs;
}

const accessTokens = await AccessTokenKeyRing.generate({
  issuer: 'cap',
  audience: 'cap',
  ttlMs: 300_000,
  clock: systemClock,
});
const config = { secret: SECRET, maxSessionsPerUser: 1000 };
const jwtConfig = { ...config, accessToken: { issuer: 'cap', audience: 'cap' } };

const redisServer = benchRedis(7540);
const postgresServer = benchPostgres(7541);
await redisServer.start();
postgresServer.start();
const redis = await redisBackend(redisServer.url, 'cap', config);
const postgres = await postgresBackend(postgresServer.url, 'cap', config);
const redisJwt = new Manager({ store: redis.manager.store, accessTokens, config: jwtConfig });
const postgresJwt = new Manager({ store: postgres.manager.store, accessTokens, config: jwtConfig });
const postmaster = postgresServer.postmasterPid;

const rounds: { backend: string; costs: Record<Op, Cost> }[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  // Interleaved, so a noisy neighbour during one round hits both backends alike.
  rounds.push({
    backend: 'redis',
    costs: await operationCosts(redis.manager, redisJwt, () => redisCpuUs(redis.redis)),
  });
  rounds.push({
    backend: 'postgres',
    costs: await operationCosts(postgres.manager, postgresJwt, async () => postgresCpuUs(postmaster)),
  });
}

const summary: Record<
  string,
  Record<string, Record<keyof Cost, { median: number; min: number; max: number }>>
> = {};
for (const backend of ['redis', 'postgres']) {
  summary[backend] = {};
  for (const op of Object.keys(rounds[0]?.costs ?? {}) as Op[]) {
    const samples = rounds.filter((each) => each.backend === backend).map((each) => each.costs[op]);
    const stat = (key: keyof Cost) => {
      const values = samples.map((sample) => sample[key]).sort((a, b) => a - b);
      return {
        median: values[Math.floor(values.length / 2)] ?? 0,
        min: values[0] ?? 0,
        max: values.at(-1) ?? 0,
      };
    };
    (summary[backend] as Record<string, unknown>)[op] = {
      appUs: stat('appUs'),
      backendUs: stat('backendUs'),
      opsPerSec: stat('opsPerSec'),
    };
  }
}

/** Bytes per live session: FILL sessions, 10 per user as at 10 M sessions for 1 M users. */
async function fill(manager: SessionManager): Promise<void> {
  const users = Array.from({ length: FILL }, (_, index) => `fill-user-${Math.floor(index / 10)}`);
  await pool(users, (userId) => manager.create({ userId, context }));
}
// Fresh prefix and schema: the rounds' revoked sessions stay out of the figures.
const redisFill = await redisBackend(redisServer.url, 'capfill', config);
const postgresFill = await postgresBackend(postgresServer.url, 'capfill', config);
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.redis.info('memory'))?.[1]);
const memoryBefore = await usedMemory();
await fill(redisFill.manager);
const memoryAfter = await usedMemory();
const keySample = new Map<string, number[]>();
let cursor = '0';
do {
  const [next, keys] = await redis.redis.scan(cursor, 'MATCH', 'capfill:*', 'COUNT', 1000);
  cursor = next;
  for (const key of keys) {
    const kind = key.replace(/\{[^}]*\}/g, '{…}').replace(/:[A-Za-z0-9_-]{16,}/g, ':…');
    const bucket = keySample.get(kind) ?? [];
    keySample.set(kind, bucket);
    if (bucket.length < 200) bucket.push(Number(await redis.redis.memory('USAGE', key)));
  }
} while (cursor !== '0' && [...keySample.values()].every((bucket) => bucket.length < 200));
let keyCount = 0;
cursor = '0';
do {
  const [next, keys] = await redis.redis.scan(cursor, 'MATCH', 'capfill:*', 'COUNT', 5000);
  cursor = next;
  keyCount += keys.length;
} while (cursor !== '0');

await fill(postgresFill.manager);
await sql`vacuum analyze`.execute(postgres.db);
const relations = await sql<{ name: string; bytes: string; rows: string }>`
  select c.relname as name, pg_total_relation_size(c.oid)::text as bytes, c.reltuples::bigint::text as rows
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'capfill' and c.relkind = 'r' order by pg_total_relation_size(c.oid) desc`.execute(
  postgres.db,
);

const memory = {
  fill: FILL,
  redis: {
    usedMemoryDelta: memoryAfter - memoryBefore,
    bytesPerSession: (memoryAfter - memoryBefore) / FILL,
    keys: keyCount,
    memoryUsageByKeyKind: Object.fromEntries(
      [...keySample.entries()].map(([kind, sizes]) => [
        kind,
        { sampled: sizes.length, mean: sizes.reduce((a, b) => a + b, 0) / sizes.length },
      ]),
    ),
  },
  postgres: {
    relations: relations.rows.map((row) => ({
      name: row.name,
      bytes: Number(row.bytes),
      rows: Number(row.rows),
    })),
    // The sessions table with its indexes and TOAST; the migration bookkeeping is a constant, not per session.
    bytesPerSession:
      relations.rows
        .filter((row) => !row.name.startsWith('sessionkit_migration'))
        .reduce((total, row) => total + Number(row.bytes), 0) / FILL,
  },
};

writeResult('capacity', { ops: N, roundCount: ROUNDS, concurrency: CONCURRENCY, summary, rounds, memory });
const range = (figure: { median: number; min: number; max: number }) =>
  `${figure.median.toFixed(0)} [${figure.min.toFixed(0)}–${figure.max.toFixed(0)}]`;
console.log(`${ROUNDS} interleaved rounds of ${N} operations, ${CONCURRENCY} concurrent; median [min–max]`);
console.log('| backend | operation | app CPU µs/op | backend CPU µs/op | ops/s |');
console.log('| --- | --- | --- | --- | --- |');
for (const [backend, ops] of Object.entries(summary)) {
  for (const [op, cost] of Object.entries(ops)) {
    console.log(
      `| ${backend} | ${op} | ${range(cost.appUs)} | ${range(cost.backendUs)} | ${range(cost.opsPerSec)} |`,
    );
  }
}
console.log(JSON.stringify(memory, null, 1));
for (const backend of [redis, postgres, redisFill, postgresFill]) await backend.close();
await redisServer.destroy('SIGTERM');
postgresServer.destroy();
