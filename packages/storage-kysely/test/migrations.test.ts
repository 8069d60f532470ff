import { PGlite } from '@electric-sql/pglite';
import { hashSecret, newSecret, sampleRecord } from '@sessionkit/core/store';
import { Kysely, Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/index.js';
import {
  DEFAULT_SCHEMA,
  KyselyStore,
  migrateDown,
  migrateToLatest,
  sessionMigrations,
} from '../src/index.js';
import { PGliteDialect, PGliteInvalidationFeed } from '../src/pglite/index.js';
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

const MIGRATIONS = [
  '0001_sessions',
  '0002_create_session',
  '0003_refresh_generations',
  '0004_admin_listing',
  '0005_dpop_replay',
];
const EXPECTED_TABLES = ['dpop_replay', 'sessionkit_migration', 'sessionkit_migration_lock', 'sessions'];
const EXPECTED_INDEXES = [
  'dpop_replay_by_expiry',
  'dpop_replay_pkey',
  'sessionkit_migration_lock_pkey',
  'sessionkit_migration_pkey',
  'sessions_by_created',
  'sessions_by_expiry',
  'sessions_by_parent',
  'sessions_by_revoked',
  'sessions_by_tenant_created',
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
  }, 120_000);
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

describe('migration 0003 on a PGlite database written before it', () => {
  const pglite = new PGlite();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  const sessions = sql.table('sessionkit.sessions');

  afterAll(async () => {
    await db.destroy();
    await pglite.close();
  });

  it('drops the retired hashes and their history; sessions stay readable, rotate, and creates still work', async () => {
    await sql`create schema sessionkit`.execute(db);
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => sessionMigrations(DEFAULT_SCHEMA) },
      migrationTableSchema: DEFAULT_SCHEMA,
      migrationTableName: 'sessionkit_migration',
      migrationLockTableName: 'sessionkit_migration_lock',
    });
    expect((await migrator.migrateTo('0002_create_session')).error).toBeUndefined();
    const store = new KyselyStore({ db, feed: new PGliteInvalidationFeed(pglite) });
    const record = sampleRecord();
    await store.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    const retired = [newSecret().slice(0, 22), newSecret().slice(0, 22)];
    await sql`update ${sessions} set refresh_retired_hashes = ${retired} where id = ${record.id}`.execute(db);
    await sql`insert into sessionkit.refresh_history values (${record.id}, ${retired[0]}, now())`.execute(db);

    expect(await migrateToLatest(db)).toEqual(MIGRATIONS.slice(2));
    expect(await tables(db, DEFAULT_SCHEMA)).toEqual(EXPECTED_TABLES);
    expect(await store.get(record.id)).toEqual(record);
    const now = Date.now();
    const rotated = await store.rotateRefresh({
      sessionId: record.id,
      presentedHash: record.refresh?.currentHash ?? '',
      successorHash: hashSecret(newSecret()),
      sealedSuccessor: 'sealed',
      now,
      graceMs: 10_000,
      idleExpiresAt: now + 60_000,
    });
    expect(rotated.outcome).toBe('rotated');
    const next = sampleRecord({ userId: record.userId });
    await store.create({ session: next, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    expect(await store.get(next.id)).toEqual(next);

    expect(await migrateDown(db)).toEqual([...MIGRATIONS].reverse());
    await store.close();
  });
});
