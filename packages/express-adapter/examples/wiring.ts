/**
 * The README's wiring, runnable: `npx tsx --conditions=@sessionkit/source examples/wiring.ts`.
 * Starts the app on a loopback port, plays a browser through login, a CSRF-protected call, step-up and
 * logout, prints each answer, and stops.
 */
import type { AddressInfo } from 'node:net';
import { MemoryStore, SessionManager } from '@sessionkit/core';
import express from 'express';
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
} from '../src/index.js';

const app = express();
const manager = new SessionManager({ store: new MemoryStore() });
// `secure: false` only because this demo speaks plain HTTP on loopback; production keeps the __Host- cookie.
app.use(sessionMiddleware({ manager, cookie: { secure: false } }), express.json(), csrfProtection());
app.use('/api/me', selfServiceRouter());
app.post('/api/me/sensitive', requireAal(2), requireFresh(), (_req, res) => {
  res.json({ ok: true });
});

// The app's own authentication: a real one checks a password and an OTP here.
app.post('/api/auth/login', async (req, res) => {
  const { session } = await establishSession(req, res, { userId: 'demo-user' });
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

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const jar = new Map<string, string>();

async function call(method: string, path: string, withCsrf = true): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const csrf = jar.get('sk_csrf');
  if (withCsrf && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(`${base}${path}`, { method, headers });
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const [name = '', value = ''] = pair.split('=');
    if (value === '') jar.delete(name);
    else jar.set(name, value);
  }
  const body = await res.text();
  console.log(`${method} ${path}${withCsrf ? '' : ' (no CSRF token)'} → ${res.status} ${body.slice(0, 160)}`);
}

await call('POST', '/api/auth/login');
await call('GET', '/api/me/sessions/current');
await call('POST', '/api/me/sensitive', false);
await call('POST', '/api/me/sensitive');
await call('POST', '/api/auth/step-up');
await call('POST', '/api/me/sensitive');
await call('POST', '/api/auth/logout');
await call('GET', '/api/me/sessions');
server.close();
await manager.close();
