/**
 * A SessionKit app process used by the multi-instance, fault, fuzz and soak scripts (configured by
 * app-config.ts). Routes: `POST /login {userId}`, `POST /refresh {refreshToken}`, `POST /admin/revoke
 * {sessionId}`, the benchmark route, `/api/me` (the adapter's self-service router), `GET /debug/heap`.
 * Prints one JSON line `{port}` once it listens; SIGTERM closes it cleanly.
 */
import type { AddressInfo } from 'node:net';
import { Auditor, Keyring } from '@sessionkit/audit';
import { migrateAuditSchema, SqlAuditLedger } from '@sessionkit/audit/sql';
import type { SessionStore } from '@sessionkit/core';
import { parseInput, SessionManager } from '@sessionkit/core';
import {
  csrfProtection,
  establishSession,
  problemHandler,
  rateLimit,
  selfServiceRouter,
  sessionMiddleware,
  sessionOf,
} from '@sessionkit/express';
import { RedisRateLimiter } from '@sessionkit/security';
import type { Database } from '@sessionkit/storage-kysely';
import { KyselyStore, migrateToLatest } from '@sessionkit/storage-kysely';
import { createPgPool, PgInvalidationFeed } from '@sessionkit/storage-kysely/pg';
import { RedisStore } from '@sessionkit/storage-redis';
import express from 'express';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';
import { z } from 'zod';
import { loadAppConfig } from './app-config.js';
import { payload, ROUTE } from './payload.js';
import { sharedAccessTokens } from './shared-keys.js';

const config = loadAppConfig();
const closers: (() => Promise<unknown>)[] = [];
const warn = (error: unknown) => process.stderr.write(`app ${process.pid}: ${String(error)}\n`);

let redis: Redis | undefined;
const needsRedis = config.APP_BACKEND === 'redis' || config.APP_LOGIN_LIMIT_REDIS === '1';
if (needsRedis) {
  redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', warn);
  const client = redis;
  closers.push(async () => client.disconnect());
}
let pool: ReturnType<typeof createPgPool> | undefined;
const needsPostgres = config.APP_BACKEND === 'postgres' || config.APP_AUDIT === '1';
if (needsPostgres) pool = createPgPool({ connectionString: config.DATABASE_URL, max: 10, timeoutMs: 2000 });

let store: SessionStore;
if (config.APP_BACKEND === 'redis' && redis) {
  store = new RedisStore({
    client: redis,
    prefix: config.APP_NAMESPACE,
    commandTimeoutMs: 500,
    onError: warn,
  });
} else if (pool) {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db, { schema: config.APP_NAMESPACE });
  store = new KyselyStore({
    db,
    schema: config.APP_NAMESPACE,
    feed: new PgInvalidationFeed({ pool, schema: config.APP_NAMESPACE, onError: warn }),
  });
} else {
  throw new Error('no backend');
}

const manager = new SessionManager({
  store,
  accessTokens: await sharedAccessTokens(config.APP_SHARED_SECRET),
  config: {
    maxSessionsPerUser: config.APP_MAX_SESSIONS,
    onLimit: 'evict-oldest',
    // Instances share it, so each recognises the others' old refresh tokens (and IP hashes match).
    secret: config.APP_SHARED_SECRET,
    validationCache: { enabled: config.APP_CACHE === '1' },
  },
});
await manager.start();
closers.unshift(() => manager.close());
closers.push(() => store.close());

let auditor: Auditor | undefined;
if (config.APP_AUDIT === '1' && pool) {
  const auditDb = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const schema = `${config.APP_NAMESPACE}_audit`;
  await migrateAuditSchema(auditDb, { schema });
  const keys = new Keyring({ currentKeyId: 'k1', keys: { k1: config.APP_SHARED_SECRET } });
  auditor = new Auditor({
    ledger: new SqlAuditLedger(auditDb, { schema, keys }),
    ip: { keys: { currentKeyId: 'k1', keys: { k1: config.APP_SHARED_SECRET } } },
    onLedgerError: warn,
  });
  auditor.attach(manager.events);
  const running = auditor;
  closers.unshift(() => running.close());
}

const app = express();
app.disable('x-powered-by');
app.use(
  sessionMiddleware({ manager, tier: config.APP_TIER }),
  express.json({ limit: '16kb' }),
  csrfProtection(),
);

const loginBody = z.object({ userId: z.string().min(1).max(64) });
// The login limiter (fail closed, as login limiters must be) guards /login only; its limit is out of reach of
// the scripts, so it only ever refuses when Redis cannot answer.
const loginGuards =
  config.APP_LOGIN_LIMIT_REDIS === '1' && redis
    ? [
        rateLimit({
          limiter: new RedisRateLimiter({
            redis,
            prefix: `${config.APP_NAMESPACE}:rl:`,
            rule: { name: 'login-ip', scope: 'ip', limit: 1_000_000, windowMs: 60_000 },
          }),
        }),
      ]
    : [];
app.post('/login', ...loginGuards, async (req, res) => {
  const body = parseInput(loginBody, req.body, 'login request');
  const issued = await establishSession(req, res, { userId: body.userId }, { transport: 'bearer' });
  res.json({
    sessionId: issued.session.id,
    token: issued.token,
    refreshToken: issued.refreshToken,
    accessToken: issued.accessToken,
  });
});
const refreshBody = z.object({ refreshToken: z.string().min(1).max(512) });
app.post('/refresh', async (req, res) => {
  const body = parseInput(refreshBody, req.body, 'refresh request');
  const refreshed = await manager.refresh(body.refreshToken);
  res.json({ sessionId: refreshed.session.id, refreshToken: refreshed.refreshToken });
});
const revokeBody = z.object({ sessionId: z.string().min(1).max(64) });
app.post('/admin/revoke', async (req, res) => {
  const body = parseInput(revokeBody, req.body, 'revoke request');
  res.json({ revoked: await manager.revoke(body.sessionId, { reason: 'bench', by: 'admin' }) });
});
app.get(ROUTE, (req, res) => {
  res.type('application/json').send(payload(sessionOf(req).userId));
});
app.use('/api/me', selfServiceRouter());
app.get('/debug/heap', (_req, res) => {
  // With --expose-gc the figure is the live heap after a full collection, the one a leak shows in.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const memory = process.memoryUsage();
  res.json({ heapUsed: memory.heapUsed, rss: memory.rss, collected: gc !== undefined });
});
app.get('/debug/audit', async (_req, res) => {
  res.json({ flushed: auditor ? await auditor.flush(5000) : true, stats: auditor?.stats });
});
app.use(problemHandler({ onServerError: warn }));

const server = app.listen(config.APP_PORT, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);
});
server.keepAliveTimeout = 60_000;
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  (async () => {
    for (const close of closers) await close().catch(warn);
  })().finally(() => process.exit(0));
});
