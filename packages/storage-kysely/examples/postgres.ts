/**
 * An Express 5 app whose sessions live in PostgreSQL: durable, transactional revocation, any number of
 * instances (LISTEN/NOTIFY carries revocations to every instance's caches).
 *
 *   SESSIONKIT_SECRET=$(openssl rand -base64 32) DATABASE_URL=postgres://user@127.0.0.1:5432/app node postgres.js
 */
import { parseInput, SessionManager } from '@sessionkit/core';
import {
  csrfProtection,
  endSession,
  establishSession,
  problemHandler,
  requireSession,
  sessionMiddleware,
  sessionOf,
} from '@sessionkit/express';
import { type Database, KyselyStore, migrateToLatest, startCleanup } from '@sessionkit/storage-kysely';
import { createPgPool, PgInvalidationFeed } from '@sessionkit/storage-kysely/pg';
import express from 'express';
import { Kysely, PostgresDialect } from 'kysely';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    DATABASE_URL: z.string(),
    DATABASE_SCHEMA: z.string().default('sessionkit'),
    // The same on every instance (≥ 32 chars): it keys refresh-token MACs and IP hashes.
    SESSIONKIT_SECRET: z.string().min(32),
  })
  .parse(process.env);

const pool = createPgPool({
  connectionString: env.DATABASE_URL,
  max: 20,
  timeoutMs: 2000,
  onError: (error) => console.warn(`postgres: ${error.message}`),
});
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
// Explicit and idempotent: a deploy step or start-up, never a side effect of an import.
await migrateToLatest(db, { schema: env.DATABASE_SCHEMA });
const store = new KyselyStore({
  db,
  schema: env.DATABASE_SCHEMA,
  // The feed's NOTIFY channel follows the schema, so stores in two schemas of one database never cross-notify.
  feed: new PgInvalidationFeed({ pool, schema: env.DATABASE_SCHEMA }),
});
const cleanup = startCleanup(store, { intervalMs: 60_000, batchSize: 500 }); // deletes long-dead rows
const manager = new SessionManager({
  store,
  config: { secret: env.SESSIONKIT_SECRET, maxSessionsPerUser: 5 },
});
await manager.start(); // subscribes to the feed: revocations reach this instance's caches

const loginBody = z.object({ userId: z.string().min(1).max(128) });

const app = express();
app.use(sessionMiddleware({ manager }), express.json(), csrfProtection());
app.post('/login', async (req, res) => {
  // A real app checks the password (and a second factor) here.
  const { userId } = parseInput(loginBody, req.body, 'login body');
  const { session } = await establishSession(req, res, { userId });
  res.json({ session });
});
app.get('/me', requireSession(), (req, res) => {
  const { userId, sessionId, aal } = sessionOf(req);
  res.json({ userId, sessionId, aal });
});
app.post('/logout', async (req, res) => {
  await endSession(req, res);
  res.status(204).end();
});
app.use(problemHandler());

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await cleanup.stop();
    await manager.close();
    await store.close(); // closes the feed's LISTEN connection and destroys the Kysely instance (ends the pool)
  });
});
