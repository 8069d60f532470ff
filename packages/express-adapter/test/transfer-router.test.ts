import { MemoryRateLimiter } from '@sessionkit/security';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { transferRouter } from '../src/index.js';
import type { StoreKind, TestApp } from './harness.js';
import { browserOf, SECURE_COOKIE, setCookies, storeKinds, testApp } from './harness.js';

describe.each(storeKinds)('transfer router (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  async function start(options: { limit?: number; transport?: 'cookie' | 'bearer' } = {}) {
    t = await testApp(kind, {
      extend: (app, _manager, clock) => {
        const limiter = new MemoryRateLimiter({
          rule: { name: 'transfer-redeem', scope: 'ip', limit: options.limit ?? 20, windowMs: 60_000 },
          clock,
        });
        app.use(
          '/api/transfer',
          transferRouter({ limiter, ...(options.transport ? { transport: options.transport } : {}) }),
        );
      },
    });
  }

  async function signedIn(aal: 1 | 2 = 1) {
    return browserOf(await request(t.app).post('/login').send({ userId: 'alice', aal }));
  }

  async function codeFor(device: { cookie: string; csrf: string }, mode: 'takeover' | 'fork') {
    const created = await request(t.app)
      .post('/api/transfer/codes')
      .set('cookie', device.cookie)
      .set('x-csrf-token', device.csrf)
      .send({ mode })
      .expect(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body).toMatchObject({ mode, expiresAt: expect.any(Number) });
    return created.body.code as string;
  }

  it('forks: the second device gets its own cookie session at AAL 1, the first keeps working', async () => {
    await start();
    const laptop = await signedIn(2);
    const code = await codeFor(laptop, 'fork');
    const redeemed = await request(t.app)
      .post('/api/transfer/redeem')
      .send({ code, deviceLabel: 'Phone' })
      .expect(200);
    expect(redeemed.body.session).toMatchObject({ userId: 'alice', aal: 1 });
    expect(redeemed.body.token).toBeUndefined();
    expect(redeemed.body.csrfToken).toEqual(expect.any(String));
    expect(setCookies(redeemed).get(SECURE_COOKIE)?.value).toMatch(/\./);
    const phone = browserOf(redeemed);
    const me = await request(t.app).get('/whoami/full').set('cookie', phone.cookie).expect(200);
    expect(me.body).toMatchObject({ userId: 'alice', aal: 1 });
    await request(t.app).get('/whoami/full').set('cookie', laptop.cookie).expect(200);
    const listed = await request(t.app).get('/api/me/sessions').set('cookie', laptop.cookie).expect(200);
    expect(listed.body).toHaveLength(2);
  });

  it('takes over: the first device is signed out once the code is redeemed', async () => {
    await start();
    const laptop = await signedIn();
    const code = await codeFor(laptop, 'takeover');
    const phone = browserOf(await request(t.app).post('/api/transfer/redeem').send({ code }).expect(200));
    await request(t.app).get('/whoami/full').set('cookie', phone.cookie).expect(200);
    const old = await request(t.app).get('/whoami/full').set('cookie', laptop.cookie).expect(401);
    expect(old.body.code).toBe('session.revoked');
  });

  it('answers bad, used and expired codes with problem+json transfer.invalid, never a 5xx', async () => {
    await start();
    const laptop = await signedIn();
    for (const code of [
      'nonsense',
      'tc_AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    ]) {
      const bad = await request(t.app).post('/api/transfer/redeem').send({ code }).expect(400);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(bad.body).toMatchObject({ code: 'transfer.invalid', status: 400 });
    }
    const code = await codeFor(laptop, 'fork');
    await request(t.app).post('/api/transfer/redeem').send({ code }).expect(200);
    const used = await request(t.app).post('/api/transfer/redeem').send({ code }).expect(400);
    expect(used.body.code).toBe('transfer.invalid');

    const late = await codeFor(laptop, 'fork');
    t.clock.advance(t.manager.config.transfer.ttlMs + 1_000);
    const expired = await request(t.app).post('/api/transfer/redeem').send({ code: late }).expect(400);
    expect(expired.body.code).toBe('transfer.invalid');

    const malformed = await request(t.app).post('/api/transfer/redeem').send({ code: 7 }).expect(400);
    expect(malformed.body.code).toBe('input.invalid');
    const badMode = await request(t.app)
      .post('/api/transfer/codes')
      .set('cookie', laptop.cookie)
      .set('x-csrf-token', laptop.csrf)
      .send({ mode: 'clone' })
      .expect(400);
    expect(badMode.body.code).toBe('input.invalid');
    expect(t.serverErrors).toEqual([]);
  });

  it('creates codes only for a signed-in session that sent its CSRF token', async () => {
    await start();
    const anonymous = await request(t.app).post('/api/transfer/codes').send({ mode: 'fork' }).expect(401);
    expect(anonymous.body.code).toBe('auth.required');
    const laptop = await signedIn();
    const forged = await request(t.app)
      .post('/api/transfer/codes')
      .set('cookie', laptop.cookie)
      .send({ mode: 'fork' })
      .expect(403);
    expect(forged.body.code).toBe('csrf.rejected');
  });

  it('rate-limits redemption per client network with 429 and Retry-After', async () => {
    await start({ limit: 3 });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await request(t.app).post('/api/transfer/redeem').send({ code: 'guess' }).expect(400);
    }
    const limited = await request(t.app).post('/api/transfer/redeem').send({ code: 'guess' }).expect(429);
    expect(limited.body.code).toBe('rate.limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The limit holds even for a valid code: guessing must not be able to spend it first.
    const laptop = await signedIn();
    const code = await codeFor(laptop, 'fork');
    await request(t.app).post('/api/transfer/redeem').send({ code }).expect(429);
  });

  it('answers a native app with bearer tokens and sets no cookie', async () => {
    await start({ transport: 'bearer' });
    const laptop = await signedIn();
    const code = await codeFor(laptop, 'fork');
    const redeemed = await request(t.app).post('/api/transfer/redeem').send({ code }).expect(200);
    expect(setCookies(redeemed).has(SECURE_COOKIE)).toBe(false);
    const token = redeemed.body.token as string;
    const me = await request(t.app).get('/whoami/full').set('authorization', `Bearer ${token}`).expect(200);
    expect(me.body).toMatchObject({ userId: 'alice', aal: 1 });
  });
});
