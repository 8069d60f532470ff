/**
 * An Express 5 app whose sessions live in PGlite (PostgreSQL compiled to WebAssembly, in this process): no
 * database server, data kept in a directory. One process; several machines need PostgreSQL.
 *
 *   SESSIONKIT_SECRET=$(openssl rand -base64 32) PGLITE_DIR=./data/sessions node pglite.js
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
import { openPGlite, PGliteDialect, PGliteInvalidationFeed } from '@sessionkit/storage-kysely/pglite';
import express from 'express';
import { Kysely } from 'kysely';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    PGLITE_DIR: z.string().default('./data/sessions'),
    // Kept across restarts (≥ 32 chars): it keys refresh-token MACs and IP hashes.
    SESSIONKIT_SECRET: z.string().min(32),
  })
  .parse(process.env);

const pglite = await openPGlite(env.PGLITE_DIR); // creates missing directories; openPGlite() is in-memory
const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
await migrateToLatest(db);
const store = new KyselyStore({ db, feed: new PGliteInvalidationFeed(pglite) });
const cleanup = startCleanup(store, { intervalMs: 60_000 });
const manager = new SessionManager({
  store,
  config: { secret: env.SESSIONKIT_SECRET, maxSessionsPerUser: 5 },
});
await manager.start();

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
    await store.close();
    await pglite.close(); // the store leaves the PGlite instance open: it is yours
  });
});
