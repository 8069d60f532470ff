import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreKind, TestApp } from './harness.js';
import { browserOf, storeKinds, testApp } from './harness.js';

const MINUTE = 60_000;

describe.each(storeKinds)('guards (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('requireAal(2) refuses an AAL 1 session with 403 aal.insufficient and passes after step-up', async () => {
    t = await testApp(kind);
    const browser = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    const refused = await request(t.app)
      .post('/sensitive')
      .set('cookie', browser.cookie)
      .set('x-csrf-token', browser.csrf)
      .expect(403);
    expect(refused.body).toMatchObject({ code: 'aal.insufficient', details: { required: 2, actual: 1 } });
    const stepped = browserOf(
      await request(t.app).post('/step-up').set('cookie', browser.cookie).set('x-csrf-token', browser.csrf),
    );
    await request(t.app)
      .post('/sensitive')
      .set('cookie', stepped.cookie)
      .set('x-csrf-token', stepped.csrf)
      .expect(200);
  });

  it('requireFresh refuses once authentication is older than freshnessMaxAgeMs (403 auth.stale)', async () => {
    t = await testApp(kind, { config: { freshnessMaxAgeMs: 5 * MINUTE, idleTimeoutMs: 60 * MINUTE } });
    const login = await request(t.app).post('/login').send({ userId: 'alice', aal: 2 });
    const browser = browserOf(login);
    const send = (b: typeof browser) =>
      request(t.app).post('/sensitive').set('cookie', b.cookie).set('x-csrf-token', b.csrf);
    await send(browser).expect(200);
    t.clock.advance(6 * MINUTE);
    const stale = await send(browser).expect(403);
    expect(stale.body).toMatchObject({ code: 'auth.stale', details: { maxAgeMs: 5 * MINUTE } });
    const stepped = browserOf(
      await request(t.app).post('/step-up').set('cookie', browser.cookie).set('x-csrf-token', browser.csrf),
    );
    await send(stepped).expect(200);
  });

  it('requireAal reads the store even for access tokens, so it cannot be satisfied by a stale claim', async () => {
    t = await testApp(kind, { accessTokens: true, tier: 'fast' });
    const login = await request(t.app).post('/login').send({ userId: 'alice', aal: 2, bearer: true });
    const { accessToken, session } = login.body as { accessToken: string; session: { id: string } };
    await request(t.app).post('/sensitive').set('authorization', `Bearer ${accessToken}`).expect(200);
    await t.manager.suspend(session.id);
    const suspended = await request(t.app).post('/sensitive').set('authorization', `Bearer ${accessToken}`);
    expect(suspended.status).toBe(401);
    expect(suspended.body).toMatchObject({ code: 'session.revoked' });
  });

  it('requireRole uses roles kept in session metadata by default', async () => {
    t = await testApp(kind);
    const user = browserOf(
      await request(t.app)
        .post('/login')
        .send({ userId: 'bob', roles: ['user'] }),
    );
    const admin = browserOf(
      await request(t.app)
        .post('/login')
        .send({ userId: 'carol', roles: ['admin'] }),
    );
    const denied = await request(t.app).get('/admin').set('cookie', user.cookie).expect(403);
    expect(denied.body).toMatchObject({ code: 'access.denied' });
    await request(t.app).get('/admin').set('cookie', admin.cookie).expect(200);
    await request(t.app).get('/admin').expect(401);
  });
});
