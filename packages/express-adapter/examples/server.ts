/**
 * An Express 5 app with cookie sessions: login, the user's own device list, a route that needs a second
 * factor passed in the last minutes, step-up and logout, with CSRF protection on every unsafe request.
 * One process on the in-memory store; swap in RedisStore or KyselyStore for several.
 *
 *   SESSIONKIT_SECRET=$(openssl rand -base64 32) PORT=3000 node server.js
 */
import { MemoryStore, parseInput, SessionManager } from '@sessionkit/core';
import {
  csrfProtection,
  endSession,
  establishSession,
  problemHandler,
  requireAal,
  requireFresh,
  requireSession,
  selfServiceRouter,
  sessionMiddleware,
  stepUpSession,
} from '@sessionkit/express';
import express from 'express';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    SESSIONKIT_SECRET: z.string().min(32),
  })
  .parse(process.env);

const manager = new SessionManager({
  store: new MemoryStore(),
  config: { secret: env.SESSIONKIT_SECRET },
});
await manager.start();

const loginBody = z.object({ userId: z.string().min(1).max(128) });

const app = express();
// The cookie options shown are the defaults: `__Host-sk_session`, HttpOnly, Secure, SameSite=Lax.
app.use(
  sessionMiddleware({ manager, cookie: { name: 'sk_session', sameSite: 'lax' } }),
  express.json(),
  csrfProtection(),
);
app.use('/api/me', selfServiceRouter()); // the user's sessions and devices; revoke one or all others
app.post('/api/me/sensitive', requireAal(2), requireFresh(), (_req, res) => {
  res.json({ ok: true });
});

// The app's own authentication: a real one checks a password here, and an OTP at step-up.
app.post('/api/auth/login', async (req, res) => {
  const { userId } = parseInput(loginBody, req.body, 'login body');
  const { session } = await establishSession(req, res, { userId });
  res.json({ session });
});
app.post('/api/auth/step-up', requireSession(), async (req, res) => {
  const { session } = await stepUpSession(req, res, { aal: 2 });
  res.json({ session });
});
app.post('/api/auth/logout', async (req, res) => {
  await endSession(req, res);
  res.status(204).end();
});
app.use(problemHandler());

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await manager.close();
  });
});
