/**
 * Latency of the session operations under concurrency, through SessionManager on RedisStore (shared Redis,
 * own key prefix) and KyselyStore on PostgreSQL (shared server, fresh schema); both are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { OperationFigures, OperationName } from './operation-latency.js';
import { measureOperations, operationTable } from './operation-latency.js';
import { writeResult } from './results.js';
import { postgresBackend, redisBackend } from './session-backends.js';

const COUNT = Number(process.env.OPS_COUNT ?? 3000);
const CONCURRENCY = Number(process.env.OPS_CONCURRENCY ?? 32);
const MAX_SECONDS = Number(process.env.OPS_MAX_SECONDS ?? 15);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const run = randomBytes(4).toString('hex');

const results: Record<string, Record<OperationName, OperationFigures>> = {};
const options = { count: COUNT, concurrency: CONCURRENCY, maxSeconds: MAX_SECONDS, userPrefix: `ops-${run}` };
const redis = await redisBackend(REDIS_URL, `bench_ops_${run}`);
try {
  results.redis = await measureOperations(redis.manager, options);
} finally {
  await redis.close();
}
const postgres = await postgresBackend(DATABASE_URL, `bench_ops_${run}`);
try {
  results.postgres = await measureOperations(postgres.manager, options);
} finally {
  await postgres.close();
}
writeResult('operations', { count: COUNT, concurrency: CONCURRENCY, results });
console.log(
  operationTable(`Redis (${REDIS_URL}), ${CONCURRENCY} concurrent callers`, results.redis, 'redis'),
);
console.log(operationTable(`PostgreSQL, ${CONCURRENCY} concurrent callers`, results.postgres, 'postgres'));
