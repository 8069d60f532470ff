/**
 * An Express 5 app whose sessions live in Redis: any number of instances share them, and a logout on one
 * instance reaches the others' caches through the store's invalidation feed.
 *
 *   SESSIONKIT_SECRET=$(openssl rand -base64 32) REDIS_URL=redis://127.0.0.1:6379 node server.js
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
import { RedisStore } from '@sessionkit/storage-redis';
import express from 'express';
import { Redis } from 'ioredis';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z.string().default('sk'),
    // The same on every instance (≥ 32 chars): it keys refresh-token MACs and IP hashes.
    SESSIONKIT_SECRET: z.string().min(32),
  })
  .parse(process.env);

// enableOfflineQueue: false — while Redis is away, commands fail at once instead of piling up in memory.
const redis = new Redis(env.REDIS_URL, { enableOfflineQueue: false });
const store = new RedisStore({
  client: redis,
  prefix: env.REDIS_PREFIX,
  commandTimeoutMs: 500,
  onError: (error) => console.warn(`redis: ${error.message}`),
});
const manager = new SessionManager({
  store,
  config: { secret: env.SESSIONKIT_SECRET, maxSessionsPerUser: 5 },
});
await manager.start(); // subscribes to the invalidation feed

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
app.use(problemHandler()); // every error leaves as an RFC 9457 problem document

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await manager.close();
    await store.close(); // the client stays yours to close
    await redis.quit();
  });
});
