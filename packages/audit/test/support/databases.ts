import { PGlite } from '@electric-sql/pglite';
import { randomToken } from '@sessionkit/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { KyselyPGlite } from 'kysely-pglite';
import pg from 'pg';

export interface TestDatabase {
  name: string;
  schema: string;
  /** A fresh connection (pool) to the same database, as a second application instance would have. */
  connect(): Kysely<unknown>;
  db: Kysely<unknown>;
  close(): Promise<void>;
}

export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

export function postgresKysely(options: Partial<pg.PoolConfig> = {}): Kysely<unknown> {
  const pool = new pg.Pool({ ...POSTGRES, max: 4, ...options });
  // An idle client whose connection drops makes the pool emit `error`; unheard, it would crash the process.
  pool.on('error', () => {});
  // So does a checked-out client between two statements of a transaction; the next statement fails instead.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
}

/** The shared PostgreSQL with a schema of our own, dropped afterwards. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const schema = `audit_test_${randomToken(6)
    .replace(/[^A-Za-z0-9]/g, 'x')
    .toLowerCase()}`;
  const opened: Kysely<unknown>[] = [];
  const connect = () => {
    const db = postgresKysely();
    opened.push(db);
    return db;
  };
  const db = connect();
  return {
    name: 'PostgreSQL',
    schema,
    db,
    connect,
    async close() {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
      for (const each of opened) await each.destroy();
    },
  };
}

/** PGlite in process: one connection, so a "second instance" shares it. */
export async function pgliteDatabase(): Promise<TestDatabase> {
  const client = new PGlite();
  const db = new Kysely<unknown>({ dialect: new KyselyPGlite(client).dialect });
  return {
    name: 'PGlite',
    schema: 'audit',
    db,
    connect: () => db,
    async close() {
      await db.destroy();
    },
  };
}
