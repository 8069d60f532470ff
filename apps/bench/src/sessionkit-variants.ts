import { AccessTokenKeyRing, SessionManager, systemClock } from '@sessionkit/core';
import type { Database } from '@sessionkit/storage-kysely';
import { KyselyStore, migrateToLatest } from '@sessionkit/storage-kysely';
import { createPgPool, PgInvalidationFeed } from '@sessionkit/storage-kysely/pg';
import { RedisStore } from '@sessionkit/storage-redis';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { BENCH_SECRET } from './session-backends.js';
import { sessionKitApp } from './sessionkit-app.js';
import type { StartedVariant, Variant } from './variant.js';

const USER = 'u-000001';
const CONTEXT = { ip: '127.0.0.1', userAgent: 'autocannon' };

/** A RedisStore under a per-process prefix, so concurrent runs never share keys; `close` deletes them. */
async function redisManager(
  redisUrl: string,
  config: ConstructorParameters<typeof SessionManager>[0]['config'],
  accessTokens?: AccessTokenKeyRing,
) {
  const redis = new Redis(redisUrl, { enableOfflineQueue: false });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const prefix = `bench-sk-${process.pid}`;
  const store = new RedisStore({ client: redis, prefix, commandTimeoutMs: 500 });
  const manager = new SessionManager({ store, config: { secret: BENCH_SECRET, ...config }, accessTokens });
  await manager.start();
  return {
    manager,
    async close() {
      await manager.close();
      await store.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

async function opaqueOnRedis(
  redisUrl: string,
  tier: 'fast' | 'full',
  cache: boolean,
): Promise<StartedVariant> {
  const { manager, close } = await redisManager(redisUrl, {
    validationCache: { enabled: cache },
  });
  const issued = await manager.create({ userId: USER, context: CONTEXT });
  return {
    app: sessionKitApp(manager, tier),
    headers: { authorization: `Bearer ${issued.token}` },
    close,
  };
}

/** (c) opaque session tokens on Redis, full tier: one store read per request. */
export const sessionKitRedis: Variant = {
  name: 'c: SessionKit, opaque token, Redis (full tier)',
  start: (redisUrl) => opaqueOnRedis(redisUrl, 'full', false),
};

/** (g) as (c) with core's local validation cache and the fast tier: revocation delay traded for speed. */
export const sessionKitRedisCached: Variant = {
  name: 'g: SessionKit, opaque token, Redis + validation cache (fast tier)',
  start: (redisUrl) => opaqueOnRedis(redisUrl, 'fast', true),
};

/** (d) JWT access tokens on the fast tier: signature once, then the verified-token cache and the denylist. */
export const sessionKitJwt: Variant = {
  name: 'd: SessionKit, JWT access token (fast tier)',
  async start(redisUrl) {
    const accessTokens = await AccessTokenKeyRing.generate({
      issuer: 'bench',
      audience: 'bench',
      ttlMs: 3_600_000,
      clock: systemClock,
    });
    const { manager, close } = await redisManager(
      redisUrl,
      { accessToken: { ttlMs: 3_600_000, issuer: 'bench', audience: 'bench' } },
      accessTokens,
    );
    const issued = await manager.create({ userId: USER, context: CONTEXT });
    if (!issued.accessToken) throw new Error('no access token issued');
    return {
      app: sessionKitApp(manager, 'fast'),
      headers: { authorization: `Bearer ${issued.accessToken}` },
      close,
    };
  },
};

/** (e) opaque tokens on PostgreSQL (KyselyStore over pg), full tier, in a fresh schema dropped afterwards. */
export const sessionKitPostgres: Variant = {
  name: 'e: SessionKit, opaque token, PostgreSQL (full tier)',
  async start(_redisUrl, databaseUrl) {
    const schema = `bench_sk_${process.pid}`;
    const pool = createPgPool({ connectionString: databaseUrl, max: 10, timeoutMs: 2000 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await migrateToLatest(db, { schema });
    const store = new KyselyStore({ db, schema, feed: new PgInvalidationFeed({ pool, schema }) });
    const manager = new SessionManager({ store, config: { secret: BENCH_SECRET } });
    await manager.start();
    const issued = await manager.create({ userId: USER, context: CONTEXT });
    return {
      app: sessionKitApp(manager, 'full'),
      headers: { authorization: `Bearer ${issued.token}` },
      async close() {
        await manager.close();
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
        await store.close();
      },
    };
  },
};
