import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/index.js';
import { migrateDown, migrateToLatest, PGliteDialect } from '../src/index.js';
import { postgresDb, uniqueSchema } from './databases.js';

async function tables(db: Kysely<Database>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables where table_schema = ${schema} order by 1`.execute(
    db,
  );
  return rows.map((row) => row.name);
}

async function indexes(db: Kysely<Database>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select indexname as name from pg_indexes where schemaname = ${schema} order by 1`.execute(db);
  return rows.map((row) => row.name);
}

const MIGRATIONS = ['0001_sessions', '0002_create_session'];
const EXPECTED_TABLES = ['refresh_history', 'sessionkit_migration', 'sessionkit_migration_lock', 'sessions'];
const EXPECTED_INDEXES = [
  'refresh_history_pk',
  'sessionkit_migration_lock_pkey',
  'sessionkit_migration_pkey',
  'sessions_by_expiry',
  'sessions_by_parent',
  'sessions_by_tenant',
  'sessions_by_user',
  'sessions_live_by_user',
  'sessions_pkey',
];

describe('migrations on a fresh PGlite database', () => {
  const pglite = new PGlite();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });

  afterAll(async () => {
    await db.destroy();
    await pglite.close();
  });

  it('migrates an empty database up, then a second run is a no-op, and down removes the tables', async () => {
    expect(await tables(db, 'sessionkit')).toEqual([]);
    expect(await migrateToLatest(db)).toEqual(MIGRATIONS);
    expect(await tables(db, 'sessionkit')).toEqual(EXPECTED_TABLES);
    expect(await indexes(db, 'sessionkit')).toEqual(EXPECTED_INDEXES);
    expect(await migrateToLatest(db)).toEqual([]);
    expect(await migrateDown(db)).toEqual([...MIGRATIONS].reverse());
    expect(await tables(db, 'sessionkit')).toEqual(['sessionkit_migration', 'sessionkit_migration_lock']);
  });
});

describe('migrations on PostgreSQL 127.0.0.1:5432', () => {
  const schema = uniqueSchema('sk_migrations');
  const dbs = [postgresDb(), postgresDb(), postgresDb()];

  afterAll(async () => {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(dbs[0] as Kysely<Database>);
    for (const db of dbs) await db.destroy();
  });

  it('migrates a new schema once even when instances start together, and is a no-op afterwards', async () => {
    const runs = await Promise.all(dbs.map((db) => migrateToLatest(db, { schema })));
    expect(runs.flat()).toEqual(MIGRATIONS);
    const db = dbs[0] as Kysely<Database>;
    expect(await tables(db, schema)).toEqual(EXPECTED_TABLES);
    expect(await indexes(db, schema)).toEqual(EXPECTED_INDEXES);
    expect(await migrateToLatest(db, { schema })).toEqual([]);
    expect(await tables(db, schema)).toEqual(EXPECTED_TABLES);
  });

  it('fails with store.unavailable when it cannot migrate', async () => {
    const db = dbs[1] as Kysely<Database>;
    await expect(migrateToLatest(db, { schema: 'pg_catalog' })).rejects.toMatchObject({
      code: 'store.unavailable',
    });
  });
});
