import { PGlite } from '@electric-sql/pglite';
import { describeDpopReplayCacheConformance } from '@sessionkit/core/store/testing';
import { Kysely, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/index.js';
import { KyselyDpopReplayCache, migrateToLatest } from '../src/index.js';
import { PGliteDialect } from '../src/pglite/index.js';
import { postgresDb, uniqueSchema } from './databases.js';

const schema = uniqueSchema('sk_dpop');
const pools: Kysely<Database>[] = [];
let migrated: Promise<string[]> | undefined;

/** A pool of its own per call, as separate app instances would have, all on one schema. */
async function postgresCache(): Promise<KyselyDpopReplayCache<Database>> {
  const db = postgresDb();
  pools.push(db);
  migrated ??= migrateToLatest(db, { schema });
  await migrated;
  return new KyselyDpopReplayCache({ db, schema, sweepIntervalMs: 100 });
}

const pglite = new PGlite();
const pgliteDb = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
const pgliteMigrated = migrateToLatest(pgliteDb);

afterAll(async () => {
  const admin = postgresDb();
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
  await admin.destroy();
  for (const db of pools) await db.destroy();
  await pgliteDb.destroy();
  await pglite.close();
});

describeDpopReplayCacheConformance('KyselyDpopReplayCache on PostgreSQL 127.0.0.1:5432', postgresCache);

describeDpopReplayCacheConformance('KyselyDpopReplayCache on PGlite', async () => {
  await pgliteMigrated;
  return new KyselyDpopReplayCache({ db: pgliteDb });
});

describe('KyselyDpopReplayCache on PostgreSQL: the table stays bounded', () => {
  it('sweeps rows whose proofs expired', async () => {
    const cache = await postgresCache();
    const db = pools.at(-1) as Kysely<Database>;
    const now = Date.now();
    for (let i = 0; i < 20; i += 1) await cache.claimOnce(`old-${i}`, now - 1, now - 60_000);
    const count = async () => {
      const { rows } = await sql<{ n: string }>`
        select count(*) as n from ${sql.table(`${schema}.dpop_replay`)} where key like 'old-%'`.execute(db);
      return Number(rows[0]?.n);
    };
    expect(await count()).toBeGreaterThan(0);
    let left = await count();
    for (let attempt = 0; attempt < 50 && left > 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await cache.claimOnce(`fresh-${attempt}`, Date.now() + 60_000, Date.now());
      left = await count();
    }
    expect(left).toBe(0);
  });
});
