import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../src/index.js';
import { DEFAULT_SCHEMA, KyselyStore, migrateToLatest } from '../src/index.js';
import { createPgPool, PgInvalidationFeed } from '../src/pg/index.js';
import { PGliteDialect, PGliteInvalidationFeed } from '../src/pglite/index.js';

/** The shared server every package tests against; each run works in a schema of its own. */
export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function uniqueSchema(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * Statement timeout for test stores, unless a test sets its own to provoke an outage. A loaded machine (two
 * suites at once) runs a statement in seconds, and Kysely's migrator takes one advisory lock for the whole
 * database, whatever the schema, so test files migrating their own schemas queue behind each other: a tight
 * bound would fail healthy stores.
 */
const PATIENT_TIMEOUT_MS = 60_000;

export function postgresDb(
  connectionString = POSTGRES_URL,
  timeoutMs = PATIENT_TIMEOUT_MS,
): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPgPool({ connectionString, max: 8, timeoutMs }) }),
  });
}

/** Connects store handles to one PostgreSQL schema, as separate app instances would (own pool, own feed). */
export function postgresStores(schema: string, connectionString = POSTGRES_URL) {
  let migrated: Promise<string[]> | undefined;
  return {
    async connect(options: { timeoutMs?: number; onReconnect?: () => void } = {}): Promise<KyselyStore> {
      const pool = createPgPool({
        connectionString,
        max: 8,
        timeoutMs: options.timeoutMs ?? PATIENT_TIMEOUT_MS,
      });
      const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      migrated ??= migrateOnce(connectionString, schema);
      await migrated;
      const feed = new PgInvalidationFeed({
        pool,
        channel: schema,
        reconnectDelayMs: { min: 50, max: 500 },
        ...(options.onReconnect && { onReconnect: options.onReconnect }),
      });
      return new KyselyStore({ db, feed, schema });
    },
    async dropSchema(): Promise<void> {
      const db = postgresDb(connectionString);
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
      await db.destroy();
    },
  };
}

async function migrateOnce(connectionString: string, schema: string): Promise<string[]> {
  const db = postgresDb(connectionString);
  try {
    return await migrateToLatest(db, { schema });
  } finally {
    await db.destroy();
  }
}

/** Store handles sharing one in-memory PGlite instance. */
export function pgliteStores() {
  const pglite = new PGlite();
  let migrated: Promise<string[]> | undefined;
  return {
    pglite,
    async connect(): Promise<KyselyStore> {
      const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
      migrated ??= migrateToLatest(db);
      await migrated;
      return new KyselyStore({ db, feed: new PGliteInvalidationFeed(pglite) });
    },
    async close(): Promise<void> {
      await pglite.close();
    },
  };
}

/** A store backend for tests that also reach behind the store, as an operator (or an attacker with access) can. */
export interface Backend {
  schema: string;
  connect: () => Promise<KyselyStore>;
  /** Direct access to the same database beside the store. */
  raw: Kysely<Database>;
  close: () => Promise<void>;
}

/** The shared PostgreSQL server, in a fresh schema named after `prefix`, dropped on close. */
export function postgresBackend(prefix: string): Backend {
  const schema = uniqueSchema(prefix);
  const stores = postgresStores(schema);
  const raw = postgresDb();
  return {
    schema,
    connect: () => stores.connect(),
    raw,
    close: async () => {
      await raw.destroy();
      await stores.dropSchema();
    },
  };
}

/** An in-memory PGlite instance in the default schema. */
export function pgliteBackend(): Backend {
  const stores = pgliteStores();
  return {
    schema: DEFAULT_SCHEMA,
    connect: () => stores.connect(),
    raw: new Kysely<Database>({ dialect: new PGliteDialect(stores.pglite) }),
    close: () => stores.close(),
  };
}
