/**
 * The store wired to a SessionManager, on PGlite (no server) or, with DATABASE_URL set, on PostgreSQL:
 *   SESSION_SECRET=$(openssl rand -base64 32) npx tsx packages/storage-kysely/examples/wiring.ts
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test SESSION_SECRET=... npx tsx packages/storage-kysely/examples/wiring.ts
 * On PostgreSQL it works in the `sessionkit_example` schema and drops it at the end.
 */
import { PGlite } from '@electric-sql/pglite';
import { SessionManager } from '@sessionkit/core';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../src/index.js';
import { KyselyStore, migrateToLatest, startCleanup } from '../src/index.js';
import { createPgPool, PgInvalidationFeed } from '../src/pg/index.js';
import { PGliteDialect, PGliteInvalidationFeed } from '../src/pglite/index.js';

const schema = 'sessionkit_example';

async function openStore(): Promise<{ store: KyselyStore; done: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const pool = createPgPool({ connectionString: url, timeoutMs: 2000 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    console.log('migrations applied:', await migrateToLatest(db, { schema }));
    const store = new KyselyStore({ db, schema, feed: new PgInvalidationFeed({ pool, schema }) });
    // Runs after store.close() ended the store's pool.
    const done = async () => {
      const admin = createPgPool({ connectionString: url });
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    };
    return { store, done };
  }
  const pglite = new PGlite();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  console.log('migrations applied:', await migrateToLatest(db, { schema }));
  const store = new KyselyStore({ db, schema, feed: new PGliteInvalidationFeed(pglite, { schema }) });
  return { store, done: () => pglite.close() };
}

const { store, done } = await openStore();
// SESSION_SECRET: the same on every instance (≥ 32 chars); a SQL store is shared, so the manager refuses to start without it.
const manager = new SessionManager({
  store,
  config: { maxSessionsPerUser: 3, secret: process.env.SESSION_SECRET },
});
await manager.start();
const cleanup = startCleanup(store, { intervalMs: 60_000 });

const context = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' };
const login = await manager.create({ userId: 'alice', deviceLabel: 'Firefox on Linux', context });
const validated = await manager.validate(login.token, { context });
console.log(`created and validated session ${validated.sessionId} for ${validated.userId}`);
console.log('alice has', (await manager.list('alice')).length, 'session(s)');
await manager.revoke(login.session.id);
console.log('after revoke:', (await manager.get(login.session.id))?.state);

await cleanup.stop();
await manager.close();
await store.close();
await done();
