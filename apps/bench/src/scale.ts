/**
 * Scale: the operation figures at 10,000 and at 1,000,000 stored sessions, on a private redis-server and a
 * private PostgreSQL 15 (both started here on free ports and removed afterwards, so a million sessions never
 * land on the shared servers). Filler sessions are copies of one session created through the store, in its
 * exact stored form: on Redis every key of the template is re-written with a new id and user (pipelined raw
 * writes), on PostgreSQL its row is copied with `generate_series`. Also: Redis memory per session.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '@sessionkit/storage-kysely';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { OperationFigures, OperationName } from './operation-latency.js';
import { measureOperations, operationTable } from './operation-latency.js';
import { benchPostgres, benchRedis } from './private-servers.js';
import { writeResult } from './results.js';
import { postgresBackend, redisBackend } from './session-backends.js';

const SIZES = (process.env.SCALE_SIZES ?? '10000,1000000').split(',').map(Number);
const COUNT = Number(process.env.OPS_COUNT ?? 3000);
const CONCURRENCY = Number(process.env.OPS_CONCURRENCY ?? 32);
const REDIS_PORT = Number(process.env.SCALE_REDIS_PORT ?? 6396);
const PG_PORT = Number(process.env.SCALE_PG_PORT ?? 5435);
const PREFIX = 'scale';
const SCHEMA = 'scale';

const id = () => randomBytes(16).toString('base64url');

/** Copies every key of the template session under a new id and user: the store's exact stored form. */
async function loadRedisFiller(
  redis: Redis,
  from: number,
  to: number,
  templateId: string,
  templateUser: string,
) {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found.filter((key) => key.includes(templateId) || key.includes(`{${templateUser}}`)));
  } while (cursor !== '0');
  const template = await Promise.all(
    keys.map(async (key) => ({
      key,
      type: await redis.type(key),
      value: await redis.get(key).catch(() => null),
      members: await redis.zrange(key, 0, -1, 'WITHSCORES').catch(() => [] as string[]),
      expireAt: await redis.pexpiretime(key),
    })),
  );
  const swap = (text: string, sessionId: string, userId: string) =>
    text.replaceAll(templateId, sessionId).replaceAll(templateUser, userId);
  for (let start = from; start < to; start += 2000) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(to, start + 2000); i += 1) {
      const sessionId = id();
      const userId = `scale-u${Math.floor(i / 2)}`;
      for (const key of template) {
        const target = swap(key.key, sessionId, userId);
        if (key.type === 'string' && key.value !== null)
          pipeline.set(target, swap(key.value, sessionId, userId));
        else if (key.type === 'zset')
          for (let m = 0; m < key.members.length; m += 2)
            pipeline.zadd(target, key.members[m + 1] ?? '0', swap(key.members[m] ?? '', sessionId, userId));
        if (key.expireAt > 0) pipeline.pexpireat(target, key.expireAt);
      }
    }
    await pipeline.exec();
  }
}

/** Copies the template row `to - from` times with new ids and users, in one INSERT ... SELECT. */
async function loadPostgresFiller(db: Kysely<Database>, from: number, to: number, templateId: string) {
  const columns = await sql<{ column_name: string }>`
    select column_name from information_schema.columns
    where table_schema = ${SCHEMA} and table_name = 'sessions' and is_generated = 'NEVER'
    order by ordinal_position`.execute(db);
  const names = columns.rows.map((row) => row.column_name);
  const select = names.map((name) =>
    name === 'id'
      ? `'f' || lpad(g::text, 21, '0')`
      : name === 'user_id'
        ? `'scale-u' || (g / 2)::text`
        : `s.${name}`,
  );
  // In slices: each statement stays well inside the pool's statement timeout.
  for (let start = from; start < to; start += 50_000) {
    const end = Math.min(to, start + 50_000) - 1;
    await sql
      .raw(
        `insert into "${SCHEMA}".sessions (${names.join(', ')}) select ${select.join(', ')} from "${SCHEMA}".sessions s, generate_series(${start}, ${end}) g where s.id = '${templateId}'`,
      )
      .execute(db);
  }
  // Measure the steady state, not the aftermath of a bulk load: statistics current, dirty pages written.
  await sql.raw(`vacuum analyze "${SCHEMA}".sessions`).execute(db);
  await sql.raw('checkpoint').execute(db);
}

const redisServer = benchRedis(REDIS_PORT);
const postgresServer = benchPostgres(PG_PORT);
const results: {
  size: number;
  redis: Record<OperationName, OperationFigures>;
  postgres: Record<OperationName, OperationFigures>;
  redisBytesPerSession?: number;
  redisMemoryUsagePerSession?: number;
  loadSeconds: { redis: number; postgres: number };
}[] = [];
try {
  await redisServer.start();
  postgresServer.start();
  const redis = await redisBackend(redisServer.url, PREFIX);
  const postgres = await postgresBackend(postgresServer.url, SCHEMA);
  const redisTemplate = await redis.manager.create({
    userId: 'scale-template',
    context: { ip: '127.0.0.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench' },
  });
  const postgresTemplate = await postgres.manager.create({
    userId: 'scale-template',
    context: { ip: '127.0.0.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench' },
  });
  const usedMemory = async () => Number((await redis.redis.info('memory')).match(/used_memory:(\d+)/)?.[1]);
  let loaded = 0;
  for (const size of SIZES) {
    const before = await usedMemory();
    let t0 = performance.now();
    await loadRedisFiller(redis.redis, loaded, size, redisTemplate.session.id, 'scale-template');
    const redisLoad = (performance.now() - t0) / 1000;
    const after = await usedMemory();
    t0 = performance.now();
    await loadPostgresFiller(postgres.db, loaded, size, postgresTemplate.session.id);
    const postgresLoad = (performance.now() - t0) / 1000;
    console.error(
      `loaded ${size - loaded} sessions: Redis ${redisLoad.toFixed(1)} s, PostgreSQL ${postgresLoad.toFixed(1)} s`,
    );
    // MEMORY USAGE over one filler user's keys (two sessions: records, owner pointers, the two index sets).
    const sample = `scale-u${Math.floor(loaded / 2) + 1}`;
    const sampleKeys = (await redis.redis.keys(`${PREFIX}:{${sample}}:*`)) as string[];
    const ownerIds = sampleKeys.filter((key) => key.includes(':s:')).map((key) => key.split(':s:')[1] ?? '');
    let usage = 0;
    for (const key of [...sampleKeys, ...ownerIds.map((sessionId) => `${PREFIX}:o:{${sessionId}}`)])
      usage += Number(await redis.redis.memory('USAGE', key));
    const options = { count: COUNT, concurrency: CONCURRENCY, maxSeconds: 15, userPrefix: `ops-${size}` };
    const row = {
      size,
      loadSeconds: { redis: redisLoad, postgres: postgresLoad },
      redisBytesPerSession: (after - before) / (size - loaded),
      redisMemoryUsagePerSession: usage / 2,
      redis: await measureOperations(redis.manager, options),
      postgres: await measureOperations(postgres.manager, options),
    };
    results.push(row);
    loaded = size;
    console.log(
      `\n${size.toLocaleString('en-US')} stored sessions; Redis used_memory growth ${row.redisBytesPerSession.toFixed(0)} B per session, MEMORY USAGE ${row.redisMemoryUsagePerSession.toFixed(0)} B per session (all its keys)`,
    );
    console.log(
      operationTable(
        `Redis, ${size.toLocaleString('en-US')} sessions, ${CONCURRENCY} callers`,
        row.redis,
        'redis',
      ),
    );
    console.log(
      operationTable(
        `PostgreSQL, ${size.toLocaleString('en-US')} sessions, ${CONCURRENCY} callers`,
        row.postgres,
        'postgres',
      ),
    );
  }
  await redis.close();
  await postgres.close();
} finally {
  await redisServer.destroy('SIGTERM');
  postgresServer.destroy();
}
writeResult('scale', { count: COUNT, concurrency: CONCURRENCY, results });
