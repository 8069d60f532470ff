/**
 * @sessionkit/core on its own behind Express: API clients log in, send the session token as a bearer token,
 * refresh it and log out. One process, in-memory store.
 *
 *   SESSIONKIT_SECRET=$(openssl rand -base64 32) PORT=3000 node server.js
 */
import { MemoryStore, parseInput, SessionKitError, SessionManager } from '@sessionkit/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    // Keys refresh-token MACs and IP hashes; the same on every instance and across restarts.
    SESSIONKIT_SECRET: z.string().min(32),
  })
  .parse(process.env);

const manager = new SessionManager({
  store: new MemoryStore(),
  config: { secret: env.SESSIONKIT_SECRET, maxSessionsPerUser: 5 },
});
await manager.start();

const loginBody = z.object({ userId: z.string().min(1).max(128) });
const refreshBody = z.object({ refreshToken: z.string().min(1).max(512) });

function contextOf(req: Request) {
  return { ip: req.ip, userAgent: req.get('user-agent') };
}

function bearerToken(req: Request): string {
  const [scheme, token] = (req.get('authorization') ?? '').split(' ');
  return scheme === 'Bearer' && token !== undefined ? token : '';
}

const app = express();
app.use(express.json());

app.post('/login', async (req, res) => {
  // A real app checks the password (and a second factor) here.
  const { userId } = parseInput(loginBody, req.body, 'login body');
  const { token, refreshToken, session } = await manager.create({ userId, context: contextOf(req) });
  res.json({ token, refreshToken, session });
});
app.get('/me', async (req, res) => {
  const session = await manager.validate(bearerToken(req), { context: contextOf(req) });
  res.json({ userId: session.userId, sessionId: session.sessionId, aal: session.aal });
});
app.post('/refresh', async (req, res) => {
  const { refreshToken } = parseInput(refreshBody, req.body, 'refresh body');
  const next = await manager.refresh(refreshToken, { context: contextOf(req) });
  res.json({ refreshToken: next.refreshToken }); // the session token stays; the refresh token rotates
});
app.post('/logout', async (req, res) => {
  const session = await manager.validate(bearerToken(req), { context: contextOf(req) });
  await manager.revoke(session.sessionId, { reason: 'logout', by: 'user' });
  res.status(204).end();
});
// Errors carry a stable `code`; @sessionkit/express maps every code to a status and a problem document.
app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
  if (!(error instanceof SessionKitError)) return next(error);
  const status = error.code === 'input.invalid' ? 400 : error.code === 'store.unavailable' ? 503 : 401;
  res.status(status).json({ code: error.code });
});

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await manager.close();
  });
});
