import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { endSession, establishSession, stepUpSession } from '../src/index.js';
import type { StoreKind, TestApp } from './harness.js';
import { browserOf, CSRF_COOKIE, SECURE_COOKIE, setCookies, storeKinds, testApp } from './harness.js';

const MINUTE = 60_000;

describe.each(storeKinds)('session lifecycle over HTTP (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('login sets a __Host- cookie with HttpOnly, Secure, SameSite=Lax, Path=/ and a readable CSRF companion', async () => {
    t = await testApp(kind);
    const res = await request(t.app).post('/login').send({ userId: 'alice' }).expect(200);
    const cookies = setCookies(res);
    const session = cookies.get(SECURE_COOKIE);
    expect(session?.value).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    // The HttpOnly cookie is the only place the token goes: the body holds the session view alone.
    expect(Object.keys(res.body as object).sort()).toEqual(['expiresAt', 'session']);
    expect(res.text).not.toContain(session?.value.split('.')[1]);
    expect(session?.line).toMatch(/; HttpOnly/);
    expect(session?.line).toMatch(/; Secure/);
    expect(session?.line).toMatch(/; SameSite=Lax/);
    expect(session?.line).toMatch(/; Path=\//);
    expect(session?.line).not.toMatch(/Domain=/);
    expect(session?.line).toMatch(/Max-Age=43200/);
    const csrf = cookies.get(CSRF_COOKIE);
    expect(csrf?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf?.line).not.toMatch(/HttpOnly/);
  });

  it('authenticates by cookie and by bearer token, and leaves anonymous requests anonymous', async () => {
    t = await testApp(kind);
    const login = await request(t.app).post('/login').send({ userId: 'alice' });
    const { cookie, token } = browserOf(login);
    const byCookie = await request(t.app).get('/whoami').set('cookie', cookie).expect(200);
    expect(byCookie.body).toMatchObject({ userId: 'alice', aal: 1, source: 'store' });
    await request(t.app).get('/whoami').set('authorization', `Bearer ${token}`).expect(200);
    const anonymous = await request(t.app).get('/public').expect(200);
    expect(anonymous.body).toMatchObject({ signedIn: false });
    const none = await request(t.app).get('/whoami').expect(401);
    expect(none.body).toMatchObject({ code: 'auth.required', status: 401 });
    expect(none.headers['www-authenticate']).toBe('Bearer');
  });

  it('rotates the token on login: the pre-login session is revoked and its cookie rejected (no fixation)', async () => {
    t = await testApp(kind);
    const first = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    const second = await request(t.app)
      .post('/login')
      .set('cookie', first.cookie)
      .set('x-csrf-token', first.csrf)
      .send({ userId: 'alice' })
      .expect(200);
    const next = browserOf(second);
    expect(next.token).not.toBe(first.token);
    expect(next.token.split('.')[0]).not.toBe(first.token.split('.')[0]);
    const old = await request(t.app).get('/whoami').set('cookie', first.cookie).expect(401);
    expect(old.body).toMatchObject({ code: 'session.revoked' });
    await request(t.app).get('/whoami').set('cookie', next.cookie).expect(200);
  });

  it('re-issues the token on step-up: new cookie, raised AAL, the old token rejected at once', async () => {
    t = await testApp(kind);
    const before = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    const stepped = await request(t.app)
      .post('/step-up')
      .set('cookie', before.cookie)
      .set('x-csrf-token', before.csrf)
      .expect(200);
    const after = browserOf(stepped);
    expect(after.token).not.toBe(before.token);
    expect(after.csrf).not.toBe(before.csrf);
    expect((await request(t.app).get('/whoami').set('cookie', after.cookie).expect(200)).body).toMatchObject({
      aal: 2,
    });
    const old = await request(t.app).get('/whoami').set('cookie', before.cookie).expect(401);
    expect(old.body).toMatchObject({ code: 'token.invalid' });
    // No clearing here: another tab's request racing the step-up must not delete the cookie just re-issued.
    expect(setCookies(old).size).toBe(0);
  });

  it('re-issues the access and refresh tokens on step-up: the access token from before fails the guards', async () => {
    t = await testApp(kind, { accessTokens: true, tier: 'fast' });
    const login = await request(t.app).post('/login').send({ userId: 'alice', bearer: true }).expect(200);
    const old = login.body as { token: string; accessToken: string; refreshToken: string };
    const stepped = await request(t.app).post('/step-up').set('authorization', `Bearer ${old.token}`);
    const renewed = stepped.body as { token: string; accessToken: string; refreshToken: string };
    expect(renewed.token).not.toBe(old.token);
    expect(renewed.refreshToken).toMatch(/^rt_/);
    expect(renewed.refreshToken).not.toBe(old.refreshToken);
    const refused = await request(t.app).post('/sensitive').set('authorization', `Bearer ${old.accessToken}`);
    expect(refused.body).toMatchObject({ status: 401, code: 'token.invalid' });
    await request(t.app).post('/sensitive').set('authorization', `Bearer ${renewed.accessToken}`).expect(200);
  });

  it("answers a cookie session's step-up with the session view only: its new token stays in the cookie", async () => {
    t = await testApp(kind, { accessTokens: true, tier: 'fast' });
    const { cookie, csrf } = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    const stepped = await request(t.app).post('/step-up').set('cookie', cookie).set('x-csrf-token', csrf);
    expect(stepped.status).toBe(200);
    expect(Object.keys(stepped.body as object).sort()).toEqual(['expiresAt', 'session']);
    expect(stepped.body).toMatchObject({ session: { aal: 2 } });
    const renewed = browserOf(stepped);
    expect(stepped.text).not.toContain(renewed.token.split('.')[1]);
    await request(t.app)
      .post('/sensitive')
      .set('cookie', renewed.cookie)
      .set('x-csrf-token', renewed.csrf)
      .expect(200);
  });

  it('a session revoked elsewhere is rejected on the very next request', async () => {
    t = await testApp(kind);
    const login = await request(t.app).post('/login').send({ userId: 'alice' });
    const { cookie } = browserOf(login);
    await request(t.app).get('/whoami').set('cookie', cookie).expect(200);
    await t.manager.revoke((login.body as { session: { id: string } }).session.id, { by: 'admin' });
    const res = await request(t.app).get('/whoami').set('cookie', cookie).expect(401);
    expect(res.body).toMatchObject({
      code: 'session.revoked',
      type: 'urn:sessionkit:problem:session.revoked',
    });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    // The session is over: the browser is told to drop its cookie.
    expect(setCookies(res).get(SECURE_COOKIE)?.value).toBe('');
  });

  it('logout revokes on the server and clears both cookies', async () => {
    t = await testApp(kind);
    const { cookie, csrf, token } = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    const res = await request(t.app)
      .post('/logout')
      .set('cookie', cookie)
      .set('x-csrf-token', csrf)
      .expect(204);
    const cookies = setCookies(res);
    expect(cookies.get(SECURE_COOKIE)?.line).toMatch(/^__Host-sk_session=; Max-Age=0/);
    expect(cookies.get(CSRF_COOKIE)?.value).toBe('');
    await request(t.app).get('/whoami').set('authorization', `Bearer ${token}`).expect(401);
  });

  it('throttles touches: validations within touchThrottleMs do not write the session', async () => {
    t = await testApp(kind, { config: { touchThrottleMs: MINUTE } });
    const login = await request(t.app).post('/login').send({ userId: 'alice' });
    const { cookie } = browserOf(login);
    const id = (login.body as { session: { id: string } }).session.id;
    const version = (await t.store.get(id))?.version;
    for (let i = 0; i < 5; i += 1) await request(t.app).get('/whoami').set('cookie', cookie).expect(200);
    expect((await t.store.get(id))?.version).toBe(version);
    t.clock.advance(MINUTE);
    await request(t.app).get('/whoami').set('cookie', cookie).expect(200);
    expect((await t.store.get(id))?.version).toBe((version ?? 0) + 1);
  });

  it('expires idle sessions on the server', async () => {
    t = await testApp(kind, { config: { idleTimeoutMs: 10 * MINUTE } });
    const { cookie } = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    t.clock.advance(10 * MINUTE);
    const res = await request(t.app).get('/whoami').set('cookie', cookie).expect(401);
    expect(res.body).toMatchObject({ code: 'session.expired' });
  });

  it('fast tier accepts access tokens without a store read; full tier per route sees a revocation', async () => {
    t = await testApp(kind, { accessTokens: true, tier: 'fast' });
    const login = await request(t.app).post('/login').send({ userId: 'alice', bearer: true });
    expect(setCookies(login).size).toBe(0);
    const { accessToken, session } = login.body as { accessToken: string; session: { id: string } };
    const fast = await request(t.app)
      .get('/whoami')
      .set('authorization', `Bearer ${accessToken}`)
      .expect(200);
    expect(fast.body).toMatchObject({ source: 'access-token', userId: 'alice' });
    const full = await request(t.app)
      .get('/whoami/full')
      .set('authorization', `Bearer ${accessToken}`)
      .expect(200);
    expect(full.body).toMatchObject({ source: 'store' });
    await t.manager.revoke(session.id);
    // The local denylist (fed by the store's revocation feed) stops the access token even on the fast tier.
    const denied = await request(t.app)
      .get('/whoami')
      .set('authorization', `Bearer ${accessToken}`)
      .expect(401);
    expect(denied.body).toMatchObject({ code: 'session.revoked' });
  });

  it('answers a malformed bearer header with 401 token.invalid and ignores other schemes', async () => {
    t = await testApp(kind);
    const res = await request(t.app).get('/whoami').set('authorization', 'Bearer a b c').expect(401);
    expect(res.body).toMatchObject({ code: 'token.invalid' });
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const basic = await request(t.app).get('/whoami').set('authorization', 'Basic Zm9vOmJhcg==').expect(401);
    expect(basic.body).toMatchObject({ code: 'auth.required' });
  });

  it('fails closed with 503 store.unavailable when the store cannot answer, even on a public route', async () => {
    t = await testApp(kind);
    const { cookie } = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    await t.store.close();
    const res = await request(t.app).get('/public').set('cookie', cookie).expect(503);
    expect(res.body).toMatchObject({ code: 'store.unavailable', status: 503 });
    expect(res.body).not.toHaveProperty('detail');
    await request(t.app).get('/public').expect(200);
  });

  it('answers Cache-Control: no-store behind the middleware; a route may set its own, except around tokens', async () => {
    const CACHED = 'public, max-age=600';
    t = await testApp(kind, {
      accessTokens: true,
      // Routes whose app set a caching policy before the token was issued, re-issued or cleared.
      extend: (app) => {
        app.post('/cached/login', async (req, res) => {
          res.setHeader('cache-control', CACHED);
          res.json(await establishSession(req, res, { userId: 'carol' }));
        });
        app.post('/cached/step-up', async (req, res) => {
          res.setHeader('cache-control', CACHED);
          res.json(await stepUpSession(req, res, { aal: 2 }));
        });
        app.post('/cached/logout', async (req, res) => {
          res.setHeader('cache-control', CACHED);
          await endSession(req, res);
          res.status(204).end();
        });
      },
    });
    const login = await request(t.app).post('/login').send({ userId: 'alice' }).expect(200);
    const { cookie, csrf } = browserOf(login);
    const answers = [
      login,
      await request(t.app).get('/public').expect(200),
      await request(t.app).get('/whoami').set('cookie', cookie).expect(200),
      await request(t.app).get('/whoami').expect(401),
      await request(t.app).post('/step-up').set('cookie', cookie).set('x-csrf-token', csrf).expect(200),
    ];
    const cached = await request(t.app).post('/cached/login').send({}).expect(200);
    const carol = browserOf(cached);
    answers.push(
      cached,
      await request(t.app)
        .post('/cached/step-up')
        .set('cookie', carol.cookie)
        .set('x-csrf-token', carol.csrf)
        .expect(200),
    );
    const stepped = browserOf(answers[answers.length - 1]!);
    answers.push(
      await request(t.app)
        .post('/cached/logout')
        .set('cookie', stepped.cookie)
        .set('x-csrf-token', stepped.csrf)
        .expect(204),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.headers['cache-control'], `answer ${i}`).toBe('no-store');
    }
    const jwks = await request(t.app).get('/.well-known/jwks.json').expect(200);
    expect(jwks.headers['cache-control']).toBe('public, max-age=60');
  });

  it('echoes a well-formed X-Request-Id and mints one otherwise', async () => {
    t = await testApp(kind);
    const given = await request(t.app).get('/public').set('x-request-id', 'req-123.abc').expect(200);
    expect(given.headers['x-request-id']).toBe('req-123.abc');
    const minted = await request(t.app).get('/public').set('x-request-id', 'bad id\twith spaces').expect(200);
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((minted.body as { requestId: string }).requestId).toBe(minted.headers['x-request-id']);
  });
});
