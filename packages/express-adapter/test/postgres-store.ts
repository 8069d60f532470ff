import { randomBytes } from 'node:crypto';
import type { SessionStore } from '@sessionkit/core';
import type { Database } from '@sessionkit/storage-kysely';
import { KyselyStore, migrateToLatest } from '@sessionkit/storage-kysely';
import { createPgPool, PgInvalidationFeed } from '@sessionkit/storage-kysely/pg';
import { Kysely, PostgresDialect, sql } from 'kysely';

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A KyselyStore on the shared PostgreSQL, in a schema of its own that closing drops. */
export async function openPostgresStore(): Promise<{ store: SessionStore; close(): Promise<void> }> {
  const schema = `sk_express_${randomBytes(5).toString('hex')}`;
  const pool = createPgPool({ connectionString: POSTGRES_URL, max: 4, timeoutMs: 60_000 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db, { schema });
  const feed = new PgInvalidationFeed({ pool, channel: schema });
  const store = new KyselyStore({ db, feed, schema });
  return {
    store,
    close: async () => {
      await store.close();
      const admin = new Kysely<Database>({
        dialect: new PostgresDialect({ pool: createPgPool({ connectionString: POSTGRES_URL, max: 1 }) }),
      });
      await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    },
  };
}
