import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SessionStore } from '@sessionkit/core';
import type { Database } from '@sessionkit/storage-kysely';
import { KyselyStore, migrateToLatest } from '@sessionkit/storage-kysely';
import { createPgPool, PgInvalidationFeed } from '@sessionkit/storage-kysely/pg';
import { PGliteDialect, PGliteInvalidationFeed } from '@sessionkit/storage-kysely/pglite';
import { RedisStore } from '@sessionkit/storage-redis';
import { Redis } from 'ioredis';
import type { Dialect } from 'kysely';
import { Kysely, PostgresDialect } from 'kysely';
import type { Logger } from 'pino';
import { migrateAppSchema } from './app-database.js';
import type { AppConfig } from './config.js';

/**
 * The backing services, chosen by the environment: one SQL database (PGlite in DATA_DIR by default, PostgreSQL
 * with DATABASE_URL) for users, audit, security profiles, signing keys and (without Redis) sessions; Redis with
 * REDIS_URL for sessions and rate limits.
 */
export interface Infrastructure {
  /** One Kysely over the SQL database; each package sees it through `tablesOf<ItsDatabase>(sql)`. */
  sql: Kysely<unknown>;
  sessionStore: SessionStore;
  redis?: Redis;
  /** Which backends are in use, for the start-up banner and /readyz. */
  describe: string;
  /** Closes everything in reverse order of opening. */
  close(): Promise<void>;
}

export async function openInfrastructure(config: AppConfig, logger: Logger): Promise<Infrastructure> {
  const closers: (() => Promise<void>)[] = [];
  const onError = (error: unknown) => logger.warn({ err: error }, 'backend connection error');

  let dialect: Dialect;
  let feedFor: () => SessionStore['feed'];
  let sqlName: string;
  if (config.DATABASE_URL) {
    const pool = createPgPool({ connectionString: config.DATABASE_URL, max: 20, timeoutMs: 2000 });
    dialect = new PostgresDialect({ pool });
    feedFor = () => new PgInvalidationFeed({ pool, onError });
    sqlName = 'PostgreSQL';
  } else {
    mkdirSync(config.DATA_DIR, { recursive: true });
    const pglite = new PGlite(`${config.DATA_DIR}/pglite`);
    await pglite.waitReady;
    closers.push(() => pglite.close());
    dialect = new PGliteDialect(pglite);
    feedFor = () => new PGliteInvalidationFeed(pglite);
    sqlName = `PGlite (${config.DATA_DIR}/pglite)`;
  }
  const sql = new Kysely<unknown>({ dialect });
  await migrateToLatest(tablesOf<Database>(sql));
  await migrateAppSchema(sql);

  let redis: Redis | undefined;
  let sessionStore: SessionStore;
  if (config.REDIS_URL) {
    redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.on('error', onError);
    const client = redis;
    closers.push(() => sql.destroy());
    closers.push(async () => {
      client.disconnect();
    });
    sessionStore = new RedisStore({
      client: redis,
      prefix: `${config.REDIS_PREFIX}sk`,
      commandTimeoutMs: 500,
      onError,
    });
  } else {
    // The store owns the Kysely from here on: closing it destroys the Kysely (and ends a pg pool).
    sessionStore = new KyselyStore({ db: tablesOf<Database>(sql), feed: feedFor() });
  }
  const store = sessionStore;
  closers.push(() => store.close());

  return {
    sql,
    sessionStore,
    ...(redis === undefined ? {} : { redis }),
    describe: `sessions on ${redis ? 'Redis' : sqlName}; users, audit and keys on ${sqlName}${redis ? '; rate limits on Redis' : ''}`,
    async close() {
      for (const close of closers.reverse()) await close().catch((error: unknown) => onError(error));
    },
  };
}

/**
 * The one SQL connection seen as a package's own tables. Kysely's database type is invariant and the packages
 * declare theirs as interfaces (which `withTables` does not accept), so this view is a type-level cast: the
 * executor, and so every query, is the same.
 */
export function tablesOf<T>(sql: Kysely<unknown>): Kysely<T> {
  return sql as unknown as Kysely<T>;
}
