import { ManualClock } from '@sessionkit/core';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import type { BearerLoginAnswer, CookieLoginAnswer, Tokens } from './api-test-support.js';
import { basicFor, nextIp } from './api-test-support.js';
import { embedded, servers } from './backends.js';

const ALICE = DEMO_USERS[0]!;
const BOB = DEMO_USERS[1]!;
const MINUTE = 60_000;

describe.each([embedded(), servers()])('reference app HTTP API on $name', (backend) => {
  let app: RunningApp;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    const config = loadConfig({
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      // Each simulated device gets its own address, as behind a real proxy.
      TRUST_PROXY: 'loopback',
      ...(await backend.env()),
    });
    app = await startReferenceApp(config, clock);
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    await backend.cleanup();
  });

  /**
   * A code from the next TOTP time step: replay protection accepts each step once and never an older one,
   * so the test's clock moves on a step before every code it asks for.
   */
  const nextCode = () => {
    clock.advance(30_000);
    return currentTotp(BOB.totpSecret ?? '', clock.now());
  };

  /** A browser-like client on its own device: keeps the cookie and echoes the CSRF token on unsafe requests. */
  async function signIn(user = ALICE) {
    // Logins happen at distinct instants, so "the oldest session" is well defined for the per-user limit.
    clock.advance(1000);
    const agent = request.agent(app.url).set('x-forwarded-for', nextIp());
    const body: Record<string, string> = { email: user.email, password: user.password };
    if (user.totpSecret) body.otp = nextCode();
    const login = await agent.post('/api/auth/login').send(body);
    expect(login.status).toBe(200);
    return { agent, login: login.body as CookieLoginAnswer, csrf: login.body.csrfToken as string };
  }

  /** An API client on its own device: asks for bearer transport and gets the tokens, no cookie. */
  async function apiSignIn(user = ALICE) {
    clock.advance(1000);
    const body: Record<string, string> = { email: user.email, password: user.password, transport: 'bearer' };
    if (user.totpSecret) body.otp = nextCode();
    const login = await request(app.url).post('/api/auth/login').set('x-forwarded-for', nextIp()).send(body);
    expect(login.status).toBe(200);
    return login.body as BearerLoginAnswer;
  }

  describe('POST /api/auth/login', () => {
    it('creates a cookie session: the session view and CSRF token in the body, every token in HttpOnly cookies only', async () => {
      const response = await request(app.url)
        .post('/api/auth/login')
        .send({ email: ALICE.email, password: ALICE.password })
        .expect(200);
      expect(response.body).toMatchObject({ session: { state: 'active', aal: 1 } });
      expect(Object.keys(response.body).sort()).toEqual(['csrfToken', 'expiresAt', 'session']);
      expect(response.body.expiresAt).toBeGreaterThan(clock.now());
      const cookie = String(response.headers['set-cookie']);
      expect(cookie).toMatch(/sk_session=/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      const token = /sk_session=([^;]+)/.exec(cookie)?.[1] ?? '';
      expect(response.text).not.toContain(token.split('.')[1]);
    });

    it('answers an API client that asks for bearer transport with access and refresh tokens, and no cookie', async () => {
      const response = await request(app.url)
        .post('/api/auth/login')
        .send({ email: ALICE.email, password: ALICE.password, transport: 'bearer' })
        .expect(200);
      expect(response.body).toMatchObject({ session: { state: 'active', aal: 1 } });
      expect(response.body.accessToken.split('.')).toHaveLength(3);
      expect(response.body.refreshToken).toMatch(/^rt_/);
      expect(response.body.token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      expect(String(response.headers['set-cookie'])).not.toMatch(/sk_session=/);
    });

    it('answers 401 problem documents for bad credentials, a missing and a wrong OTP', async () => {
      const wrong = await request(app.url)
        .post('/api/auth/login')
        .send({ email: ALICE.email, password: 'nope' });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(wrong.body).toMatchObject({ status: 401, code: 'auth.invalid_credentials' });
      const unknown = await request(app.url)
        .post('/api/auth/login')
        .send({ email: 'x@example.com', password: 'nope' });
      expect(unknown.body.code).toBe('auth.invalid_credentials');
      const noOtp = await request(app.url)
        .post('/api/auth/login')
        .send({ email: BOB.email, password: BOB.password });
      expect(noOtp.body).toMatchObject({ status: 401, code: 'otp.required' });
      const badOtp = await request(app.url)
        .post('/api/auth/login')
        .send({ email: BOB.email, password: BOB.password, otp: '000000' });
      expect(badOtp.body).toMatchObject({ status: 401, code: 'otp.invalid' });
    });

    it('signs the MFA user in at AAL 2 and never accepts the same code twice', async () => {
      const code = nextCode();
      const first = await request(app.url)
        .post('/api/auth/login')
        .set('x-forwarded-for', nextIp())
        .send({ email: BOB.email, password: BOB.password, otp: code })
        .expect(200);
      expect(first.body.session.aal).toBe(2);
      const replay = await request(app.url)
        .post('/api/auth/login')
        .set('x-forwarded-for', nextIp())
        .send({ email: BOB.email, password: BOB.password, otp: code });
      expect(replay.body.code).toBe('otp.invalid');
    });

    it('answers 400 for a malformed body and 429 with Retry-After when rate limited', async () => {
      const malformed = await request(app.url)
        .post('/api/auth/login')
        .set('content-type', 'application/json')
        .send('{');
      expect(malformed.status).toBe(400);
      expect(malformed.headers['content-type']).toMatch(/problem\+json/);
      const invalid = await request(app.url)
        .post('/api/auth/login')
        .send({ email: 'not-an-email', password: 'x' });
      expect(invalid.body).toMatchObject({ status: 400, code: 'input.invalid' });
      const victim = `victim-${Date.now()}@example.com`;
      let limited: request.Response | undefined;
      for (let attempt = 0; attempt < 15 && !limited; attempt += 1) {
        const response = await request(app.url)
          .post('/api/auth/login')
          .send({ email: victim, password: 'guess' });
        if (response.status === 429) limited = response;
      }
      expect(limited?.body).toMatchObject({ status: 429, code: 'rate.limited' });
      expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('POST /api/auth/refresh', () => {
    it('rotates, and a replayed older token revokes the family with 401 token.reuse_detected', async () => {
      const login = await apiSignIn();
      const first = await request(app.url)
        .post('/api/auth/refresh')
        .send({ refreshToken: login.refreshToken })
        .expect(200);
      expect(first.body.refreshToken).not.toBe(login.refreshToken);
      expect(first.body.accessToken.split('.')).toHaveLength(3);
      await request(app.url)
        .post('/api/auth/refresh')
        .send({ refreshToken: first.body.refreshToken })
        .expect(200);
      const reuse = await request(app.url)
        .post('/api/auth/refresh')
        .send({ refreshToken: login.refreshToken });
      expect(reuse.status).toBe(401);
      expect(reuse.body.code).toBe('token.reuse_detected');
      const current = await request(app.url)
        .get('/api/me/sessions/current')
        .set('authorization', `Bearer ${login.accessToken}`);
      expect(current.status).toBe(401);
    });

    it('answers 401 for an unknown token and 400 for a malformed request', async () => {
      const unknown = await request(app.url)
        .post('/api/auth/refresh')
        .send({ refreshToken: `rt_${'a'.repeat(22)}.${'b'.repeat(43)}` });
      expect(unknown.body).toMatchObject({ status: 401, code: 'token.invalid' });
      expect((await request(app.url).post('/api/auth/refresh').send({})).status).toBe(400);
    });
  });

  describe('POST /api/auth/step-up and POST /api/me/sensitive', () => {
    it('needs AAL 2 and fresh authentication; a valid code raises AAL and replaces the cookie', async () => {
      const { agent, csrf } = await signIn(BOB);
      await agent.post('/api/me/sensitive').set('x-csrf-token', csrf).expect(200);
      clock.advance(16 * MINUTE);
      const stale = await agent.post('/api/me/sensitive').set('x-csrf-token', csrf);
      expect(stale.body).toMatchObject({ status: 403, code: 'auth.stale' });
      const bad = await agent.post('/api/auth/step-up').set('x-csrf-token', csrf).send({ otp: '000000' });
      expect(bad.body).toMatchObject({ status: 401, code: 'otp.invalid' });
      const stepped = await agent
        .post('/api/auth/step-up')
        .set('x-csrf-token', csrf)
        .send({ otp: nextCode() })
        .expect(200);
      expect(String(stepped.headers['set-cookie'])).toMatch(/sk_session=/);
      await agent.post('/api/me/sensitive').set('x-csrf-token', stepped.body.csrfToken).expect(200);
    });

    it("re-issues every credential: a thief's refresh and access tokens from before the step-up get nothing", async () => {
      const chrome =
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36';
      const userDevice = { 'x-forwarded-for': nextIp(), 'user-agent': chrome };
      const thiefDevice = { 'x-forwarded-for': nextIp(), 'user-agent': 'curl/8.5.0' };
      clock.advance(1000);
      const login = await request(app.url)
        .post('/api/auth/login')
        .set(userDevice)
        .send({ email: BOB.email, password: BOB.password, otp: nextCode(), transport: 'bearer' })
        .expect(200);
      const sensitive = (token: string, device: Record<string, string>) =>
        request(app.url).post('/api/me/sensitive').set(device).set('authorization', `Bearer ${token}`);
      const refresh = (refreshToken: string, device: Record<string, string>) =>
        request(app.url).post('/api/auth/refresh').set(device).send({ refreshToken });

      // The thief holds the refresh token and uses it once the authentication has gone stale.
      clock.advance(16 * MINUTE);
      const stolen = (await refresh(login.body.refreshToken, thiefDevice).expect(200)).body as Tokens;
      // Its access token, used from another device, demotes the session; the user steps up again.
      expect((await sensitive(stolen.accessToken, thiefDevice)).body).toMatchObject({
        status: 403,
        code: 'aal.insufficient',
      });
      const stepped = await request(app.url)
        .post('/api/auth/step-up')
        .set(userDevice)
        .set('authorization', `Bearer ${login.body.token}`)
        .send({ otp: nextCode() })
        .expect(200);
      const renewed = stepped.body as Tokens;
      expect(renewed.refreshToken).toMatch(/^rt_/);

      // The access token from before is refused at the AAL 2, fresh route; the re-issued one passes.
      expect((await sensitive(stolen.accessToken, thiefDevice)).body).toMatchObject({
        status: 401,
        code: 'token.invalid',
      });
      await sensitive(renewed.accessToken, userDevice).expect(200);
      // The user's new refresh token rotates normally, and what it yields passes too.
      const next = (await refresh(renewed.refreshToken, userDevice).expect(200)).body as Tokens;
      await sensitive(next.accessToken, userDevice).expect(200);
      // The refresh token from before yields nothing: it is reuse, and the session ends.
      expect((await refresh(stolen.refreshToken, thiefDevice)).body).toMatchObject({
        status: 401,
        code: 'token.reuse_detected',
      });
      expect((await sensitive(next.accessToken, userDevice)).body).toMatchObject({ code: 'session.revoked' });
    });

    it('refuses AAL 1 sessions with 403 aal.insufficient and anonymous callers with 401', async () => {
      const { agent, csrf } = await signIn();
      const low = await agent.post('/api/me/sensitive').set('x-csrf-token', csrf);
      expect(low.body).toMatchObject({ status: 403, code: 'aal.insufficient' });
      const anonymous = await request(app.url).post('/api/auth/step-up').send({ otp: '123456' });
      expect(anonymous.body).toMatchObject({ status: 401, code: 'auth.required' });
    });
  });

  describe('cookie sessions: CSRF, logout', () => {
    it('refuses cookie-authenticated unsafe requests without the CSRF token, accepts bearer ones', async () => {
      const { agent } = await signIn();
      const login = await apiSignIn();
      const refused = await agent.post('/api/me/sessions/revoke-others');
      expect(refused.body).toMatchObject({ status: 403, code: 'csrf.rejected' });
      const bearer = await request(app.url)
        .post('/api/me/sessions/revoke-others')
        .set('authorization', `Bearer ${login.accessToken}`);
      expect(bearer.status).toBe(200);
    });

    it('logout revokes the session on the server and clears the cookie', async () => {
      const { agent, csrf } = await signIn();
      const out = await agent.post('/api/auth/logout').set('x-csrf-token', csrf).expect(204);
      expect(String(out.headers['set-cookie'])).toMatch(/sk_session=;/);
      expect((await agent.get('/api/me/sessions')).status).toBe(401);
    });
  });

  describe('/api/me/sessions', () => {
    it('lists the user sessions with the current one flagged, shows it, revokes one and the others', async () => {
      const first = await signIn();
      const second = await signIn();
      const third = await signIn();
      const list = await second.agent.get('/api/me/sessions').expect(200);
      const ids = (list.body as { id: string; current: boolean }[]).map((s) => s.id);
      expect(ids).toEqual(expect.arrayContaining([first.login.session.id, second.login.session.id]));
      expect(
        list.body.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id),
      ).toEqual([second.login.session.id]);
      const current = await second.agent.get('/api/me/sessions/current').expect(200);
      expect(current.body.session).toMatchObject({ id: second.login.session.id, current: true });
      await second.agent
        .delete(`/api/me/sessions/${first.login.session.id}`)
        .set('x-csrf-token', second.csrf)
        .expect(204);
      expect((await first.agent.get('/api/me/sessions/current')).status).toBe(401);
      const others = await second.agent
        .post('/api/me/sessions/revoke-others')
        .set('x-csrf-token', second.csrf)
        .expect(200);
      expect(others.body.revoked).toBeGreaterThanOrEqual(1);
      expect((await third.agent.get('/api/me/sessions/current')).status).toBe(401);
      await second.agent.get('/api/me/sessions/current').expect(200);
    });

    it("answers 404 for another user's session, without revoking it", async () => {
      const alice = await signIn();
      const bob = await signIn(BOB);
      const probe = await alice.agent
        .delete(`/api/me/sessions/${bob.login.session.id}`)
        .set('x-csrf-token', alice.csrf);
      expect(probe.body).toMatchObject({ status: 404 });
      await bob.agent.get('/api/me/sessions/current').expect(200);
    });

    it('keeps at most 5 sessions per user, evicting the oldest', async () => {
      const oldest = await signIn();
      for (let i = 0; i < 5; i += 1) await signIn();
      expect((await oldest.agent.get('/api/me/sessions/current')).status).toBe(401);
    });
  });

  describe('standards endpoints', () => {
    it('publishes a JWKS that verifies the access tokens', async () => {
      const login = await apiSignIn();
      const jwks = await request(app.url).get('/.well-known/jwks.json').expect(200);
      const { payload } = await jwtVerify(login.accessToken, createLocalJWKSet(jwks.body), {
        currentDate: new Date(clock.now()),
      });
      expect(payload).toMatchObject({ sid: login.session.id, sub: login.session.userId });
    });

    it('introspects (RFC 7662) and revokes (RFC 7009) for authenticated clients only', async () => {
      const login = await apiSignIn();
      const denied = await request(app.url)
        .post('/oauth/introspect')
        .type('form')
        .send({ token: login.accessToken });
      expect(denied.status).toBe(401);
      const active = await request(app.url)
        .post('/oauth/introspect')
        .set('authorization', basicFor(app))
        .type('form')
        .send({ token: login.accessToken })
        .expect(200);
      expect(active.body).toMatchObject({ active: true, sub: login.session.userId });
      await request(app.url)
        .post('/oauth/revoke')
        .set('authorization', basicFor(app))
        .type('form')
        .send({ token: login.refreshToken, token_type_hint: 'refresh_token' })
        .expect(200);
      const after = await request(app.url)
        .post('/oauth/introspect')
        .set('authorization', basicFor(app))
        .type('form')
        .send({ token: login.accessToken })
        .expect(200);
      expect(after.body).toEqual({ active: false });
    });
  });

  describe('page, health, unknown paths', () => {
    it('serves the page and its assets locally, with a strict CSP', async () => {
      const page = await request(app.url).get('/').expect(200);
      expect(page.text).toContain('Your devices');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      await request(app.url).get('/assets/app.js').expect(200);
      await request(app.url).get('/assets/styles.css').expect(200);
    });

    it('answers liveness, readiness and a problem document for unknown paths', async () => {
      await request(app.url).get('/healthz').expect(200);
      const ready = (await request(app.url).get('/readyz').expect(200)).body;
      expect(ready.status).toBe('ready');
      expect(ready.checks.map((check: { name: string }) => check.name)).toEqual([
        'session-store',
        'database',
        'audit',
        ...(backend.name.includes('Redis') ? ['rate-limit-store'] : []),
      ]);
      const missing = await request(app.url).get('/nope');
      expect(missing.body).toMatchObject({ status: 404, code: 'not_found' });
    });
  });
});
