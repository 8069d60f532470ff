import { ManualClock, MemoryStore, SessionManager } from '@sessionkit/core';
import express4 from 'express4';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  asyncHandler,
  csrfProtection,
  establishSession,
  problemHandler,
  requireAal,
  requireSession,
  selfServiceRouter,
  sessionMiddleware,
} from '../src/index.js';
import { browserOf } from './harness.js';

describe('on Express 4', () => {
  let manager: SessionManager;
  afterEach(async () => {
    await manager.close();
  });

  function app4() {
    const clock = new ManualClock(Date.now());
    manager = new SessionManager({ store: new MemoryStore({ now: () => clock.now() }), clock });
    const app = express4();
    app.use(sessionMiddleware({ manager, clock }));
    app.use(express4.json());
    app.use(csrfProtection());
    app.post(
      '/login',
      // Express 4 does not forward rejected promises: an app's own async routes go through asyncHandler.
      asyncHandler(async (req, res) => {
        res.json(
          await establishSession(req, res, { userId: String((req.body as { userId?: unknown }).userId) }),
        );
      }),
    );
    app.get('/whoami', requireSession(), (req, res) => {
      res.json(req.sessionkit?.session);
    });
    app.post('/sensitive', requireAal(2), (_req, res) => {
      res.json({ ok: true });
    });
    app.use('/api/me', selfServiceRouter());
    app.use(problemHandler());
    return app;
  }

  it('authenticates, rotates nothing it should not, and answers problems from async guards', async () => {
    const app = app4();
    const login = await request(app).post('/login').send({ userId: 'alice' }).expect(200);
    const browser = browserOf(login);
    expect(login.text).not.toContain(browser.token.split('.')[1]);
    await request(app).get('/whoami').set('cookie', browser.cookie).expect(200);
    const weak = await request(app)
      .post('/sensitive')
      .set('cookie', browser.cookie)
      .set('x-csrf-token', browser.csrf);
    expect(weak.status).toBe(403);
    expect(weak.body).toMatchObject({ code: 'aal.insufficient' });
    await manager.revoke((login.body as { session: { id: string } }).session.id);
    const revoked = await request(app).get('/whoami').set('cookie', browser.cookie).expect(401);
    expect(revoked.body).toMatchObject({ code: 'session.revoked' });
  });

  it('enforces CSRF and serves the self-service router', async () => {
    const app = app4();
    const browser = browserOf(await request(app).post('/login').send({ userId: 'alice' }));
    await request(app).post('/api/me/sessions/revoke-others').set('cookie', browser.cookie).expect(403);
    const res = await request(app)
      .post('/api/me/sessions/revoke-others')
      .set('cookie', browser.cookie)
      .set('x-csrf-token', browser.csrf)
      .expect(200);
    expect(res.body).toEqual({ revoked: 0 });
    await request(app)
      .delete(`/api/me/sessions/${'Z'.repeat(22)}`)
      .set('cookie', browser.cookie)
      .set('x-csrf-token', browser.csrf)
      .expect(404);
    const list = await request(app).get('/api/me/sessions').set('cookie', browser.cookie).expect(200);
    expect(list.body).toEqual([expect.objectContaining({ userId: 'alice', current: true })]);
  });
});
