import type { SessionConfigInput } from '@sessionkit/core';
import { SessionManager } from '@sessionkit/core';
import type { Database } from '@sessionkit/storage-kysely';
import { KyselyStore, migrateToLatest } from '@sessionkit/storage-kysely';
import { createPgPool, PgInvalidationFeed } from '@sessionkit/storage-kysely/pg';
import { RedisStore } from '@sessionkit/storage-redis';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, sql } from 'kysely';

/** Every bench instance shares this server secret, as instances of one deployment must. */
export const BENCH_SECRET = 'bench-server-secret-0123456789abcdef';

export interface Backend {
  manager: SessionManager;
  /** Closes the manager and the store and deletes what the run wrote (keys or schema). */
  close(): Promise<void>;
}

export async function redisBackend(
  url: string,
  prefix: string,
  config: SessionConfigInput = {},
): Promise<Backend & { redis: Redis }> {
  const redis = new Redis(url, { enableOfflineQueue: false });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const store = new RedisStore({ client: redis, prefix, commandTimeoutMs: 2000 });
  const manager = new SessionManager({ store, config: { secret: BENCH_SECRET, ...config } });
  await manager.start();
  return {
    manager,
    redis,
    async close() {
      await manager.close();
      await store.close();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}

export async function postgresBackend(
  url: string,
  schema: string,
  config: SessionConfigInput = {},
): Promise<Backend & { db: Kysely<Database> }> {
  const pool = createPgPool({ connectionString: url, max: 20, timeoutMs: 5000 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db, { schema });
  const store = new KyselyStore({ db, schema, feed: new PgInvalidationFeed({ pool, schema }) });
  const manager = new SessionManager({ store, config: { secret: BENCH_SECRET, ...config } });
  await manager.start();
  return {
    manager,
    db,
    async close() {
      await manager.close();
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
      await store.close();
    },
  };
}
