/**
 * The same wiring on Express 4, which does not catch a rejected promise: every async route of the app goes
 * through `asyncHandler`, so a failure (Redis gone: 503) reaches `problemHandler` instead of crashing the
 * process. The adapter's own middleware, guards and routers do this already.
 *
 *   npm install express@4 @types/express@4
 *   SESSIONKIT_SECRET=$(openssl rand -base64 32) REDIS_URL=redis://127.0.0.1:6379 node express4.js
 */
import { parseInput, SessionManager } from '@sessionkit/core';
import {
  asyncHandler,
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
    SESSIONKIT_SECRET: z.string().min(32),
  })
  .parse(process.env);

const redis = new Redis(env.REDIS_URL, { enableOfflineQueue: false });
const store = new RedisStore({
  client: redis,
  prefix: env.REDIS_PREFIX,
  onError: (error) => console.warn(`redis: ${error.message}`),
});
const manager = new SessionManager({ store, config: { secret: env.SESSIONKIT_SECRET } });
await manager.start();

const loginBody = z.object({ userId: z.string().min(1).max(128) });

const app = express();
app.use(sessionMiddleware({ manager }), express.json(), csrfProtection());
app.post(
  '/login',
  asyncHandler(async (req, res) => {
    const { userId } = parseInput(loginBody, req.body, 'login body');
    const { session } = await establishSession(req, res, { userId });
    res.json({ session });
  }),
);
app.get('/me', requireSession(), (req, res) => {
  const { userId, sessionId, aal } = sessionOf(req);
  res.json({ userId, sessionId, aal });
});
app.post(
  '/logout',
  asyncHandler(async (req, res) => {
    await endSession(req, res);
    res.status(204).end();
  }),
);
app.use(problemHandler());

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await manager.close();
    await store.close();
    await redis.quit();
  });
});
