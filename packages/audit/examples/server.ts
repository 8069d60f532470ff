/**
 * An Express 5 app with an audit trail in PostgreSQL: every session event and every failed login is recorded,
 * hash-chained under a secret key, and the user's "recent activity" is served from it.
 *
 *   SESSIONKIT_SECRET=... AUDIT_KEY=... AUDIT_IP_KEY=... DATABASE_URL=postgres://user@127.0.0.1:5432/app node server.js
 */
import { Auditor, Keyring, loggerSink } from '@sessionkit/audit';
import { migrateAuditSchema, SqlActivitySource, SqlAuditLedger } from '@sessionkit/audit/sql';
import { MemoryStore, parseInput, SessionManager } from '@sessionkit/core';
import {
  csrfProtection,
  endSession,
  establishSession,
  problemHandler,
  requestContext,
  selfServiceRouter,
  sessionMiddleware,
} from '@sessionkit/express';
import express from 'express';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    DATABASE_URL: z.string(),
    AUDIT_SCHEMA: z.string().default('audit'),
    // Secrets from your secret store, ≥ 32 chars each. Rotate by adding a key and moving currentKeyId.
    SESSIONKIT_SECRET: z.string().min(32),
    AUDIT_KEY: z.string().min(32),
    AUDIT_IP_KEY: z.string().min(32),
  })
  .parse(process.env);

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, statement_timeout: 5000 });
pool.on('error', (error) => console.warn(`postgres: ${error.message}`)); // an idle connection that drops
const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
const schema = env.AUDIT_SCHEMA;
await migrateAuditSchema(db, { schema }); // explicit, idempotent: run it with your migrations

const keys = new Keyring({ currentKeyId: '2026-01', keys: { '2026-01': env.AUDIT_KEY } });
const auditor = new Auditor({
  ledger: new SqlAuditLedger(db, { schema, keys }),
  sinks: [loggerSink({ stream: process.stdout })],
  ip: { keys: { currentKeyId: '2026-01', keys: { '2026-01': env.AUDIT_IP_KEY } }, keepPrefix: true },
  onDrop: (notice) => console.error(`audit is dropping records at ${notice.stage} (${notice.cause})`),
});

const manager = new SessionManager({
  store: new MemoryStore(),
  config: { secret: env.SESSIONKIT_SECRET },
});
auditor.attach(manager.events); // every engine event is recorded from here on
await manager.start();

// Stands in for your user table and password hashing.
const passwords = new Map([['alice', 'correct horse battery staple']]);
const loginBody = z.object({ userId: z.string().max(128), password: z.string().max(1024) });

const app = express();
app.use(sessionMiddleware({ manager }), express.json(), csrfProtection());
// GET /api/me/activity: "recent activity" from the audit table, beside the session list.
app.use('/api/me', selfServiceRouter({ activity: new SqlActivitySource(db, { schema }) }));
app.post('/login', async (req, res) => {
  const { userId, password } = parseInput(loginBody, req.body, 'login body');
  if (passwords.get(userId) !== password) {
    // What the engine cannot see, the application records itself, typed per action.
    const { ip, userAgent, requestId } = requestContext(req);
    auditor.record('auth.login_failed', {
      userId,
      ip,
      userAgent,
      requestId,
      details: { method: 'password' },
    });
    res.status(401).json({ error: 'bad credentials' });
    return;
  }
  const { session } = await establishSession(req, res, { userId });
  res.json({ session });
});
app.post('/logout', async (req, res) => {
  await endSession(req, res);
  res.status(204).end();
});
app.use(problemHandler());

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await manager.close();
    await auditor.close(); // flushes what is queued, then stops
    await db.destroy(); // ends the pool
  });
});
