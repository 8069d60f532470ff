import { inspect } from 'node:util';
import type { SessionEvent } from '@sessionkit/core';
import { MemoryStore, SessionManager } from '@sessionkit/core';
import { deviceFingerprint } from '@sessionkit/security';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { requestContext, sessionMiddleware } from '../src/index.js';
import type { TestApp } from './harness.js';
import { testApp } from './harness.js';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('request context', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  function contextApp(trustProxy: boolean) {
    const app = express();
    if (trustProxy) app.set('trust proxy', 'loopback');
    app.get('/', (req, res) => {
      res.json(requestContext(req));
    });
    return app;
  }

  it('takes the client IP from req.ip: X-Forwarded-For only counts when trust proxy says so', async () => {
    const spoofed = await request(contextApp(false)).get('/').set('x-forwarded-for', '203.0.113.9');
    expect(spoofed.body.ip).toMatch(/127\.0\.0\.1$/);
    const proxied = await request(contextApp(true)).get('/').set('x-forwarded-for', '203.0.113.9');
    expect(proxied.body.ip).toBe('203.0.113.9');
  });

  it('collects the user agent and fingerprint components, cut to core bounds instead of failing', async () => {
    const res = await request(contextApp(false))
      .get('/')
      .set('user-agent', 'U'.repeat(3000))
      .set('accept-language', 'de-CH,de;q=0.9')
      .set('sec-ch-ua-platform', `"${'L'.repeat(900)}"`)
      .set('sec-ch-ua', 'x'.repeat(900));
    expect(res.body.userAgent).toHaveLength(1024);
    expect(res.body.fingerprint).toEqual({ languages: 'de-ch,de', 'ch.platform': 'l'.repeat(64) });
    expect(res.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('feeds the structured components security compares: browser, OS, device type, client hints', async () => {
    const res = await request(contextApp(false))
      .get('/')
      .set('user-agent', CHROME_WINDOWS)
      .set('accept-language', 'en-US,en;q=0.9')
      .set('sec-ch-ua-mobile', '?0')
      .set('sec-ch-ua-platform', '"Windows"');
    expect(res.body.fingerprint).toEqual(
      deviceFingerprint({
        userAgent: CHROME_WINDOWS,
        acceptLanguage: 'en-US,en;q=0.9',
        clientHints: { mobile: false, platform: 'Windows' },
      }),
    );
    expect(res.body.fingerprint).toMatchObject({
      browser: 'chrome',
      os: 'windows',
      deviceType: 'desktop',
      languages: 'en-us,en',
      'ch.mobile': 'false',
      'ch.platform': 'windows',
    });
    // No header at all: nothing observed, no empty fingerprint.
    const bare = await request(contextApp(false)).get('/').unset('user-agent');
    expect(bare.body).not.toHaveProperty('fingerprint');
    expect(bare.body).not.toHaveProperty('userAgent');
  });

  it('reaches core on every call: events carry the hashed IP, user agent and request id', async () => {
    t = await testApp('memory');
    const events: SessionEvent[] = [];
    t.manager.events.subscribe((event) => events.push(event));
    t.app.set('trust proxy', 'loopback');
    await request(t.app)
      .post('/login')
      .set('x-forwarded-for', '198.51.100.4')
      .set('user-agent', 'TestBrowser/1.0')
      .set('x-request-id', 'login-1')
      .send({ userId: 'alice' })
      .expect(200);
    await request(t.app)
      .get('/whoami')
      .set('authorization', 'Bearer nonsense.token')
      .set('x-request-id', 'probe-1');
    expect(events.map((event) => event.type)).toEqual(['session.created', 'token.rejected']);
    expect(events[0]?.context).toEqual({
      ipHash: t.manager.hashIp('198.51.100.4'),
      userAgent: 'TestBrowser/1.0',
      requestId: 'login-1',
    });
    expect(events[1]?.context.requestId).toBe('probe-1');
    expect(JSON.stringify(events)).not.toContain('198.51.100.4');
  });
});

describe('per-request state', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers a seen access token from core caches with the same result, and a revoked one as anonymous', async () => {
    t = await testApp('memory', { accessTokens: true, tier: 'fast' });
    const login = await request(t.app).post('/login').send({ userId: 'alice', bearer: true }).expect(200);
    const bearer = `Bearer ${login.body.accessToken as string}`;
    const first = await request(t.app).get('/public').set('authorization', bearer).expect(200);
    const second = await request(t.app).get('/public').set('authorization', bearer).expect(200);
    expect([first.body.signedIn, second.body.signedIn]).toEqual([true, true]);
    expect(second.headers['x-request-id']).toBe(second.body.requestId);
    await t.manager.revoke(login.body.session.id);
    const after = await request(t.app).get('/whoami').set('authorization', bearer).expect(401);
    expect(after.body.code).toBe('session.revoked');
  });

  it('keeps the raw token out of everything it adds to the request, inspected or serialised', async () => {
    t = await testApp('memory', {
      extend(app) {
        app.get('/inspect', (req, res) => {
          // The header it arrived in is the caller's own; what must not hold it is everything we add.
          delete req.headers.authorization;
          req.rawHeaders = [];
          res.json({
            inspected: inspect(req, { depth: 4 }),
            serialised: JSON.stringify(req.sessionkit),
            context: req.sessionkit?.context,
          });
        });
      },
    });
    const login = await request(t.app).post('/login').send({ userId: 'alice', bearer: true }).expect(200);
    const token = login.body.token as string;
    const res = await request(t.app)
      .get('/inspect')
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', 'inspect-1')
      .expect(200);
    expect(res.body.inspected).not.toContain(token.split('.')[1]);
    expect(res.body.serialised).not.toContain(token.split('.')[1]);
    expect(res.body.context).toMatchObject({ requestId: 'inspect-1', ip: expect.any(String) });
  });
});

describe('request id', () => {
  it('is minted only when used and is the same for the whole request; echoed only when asked', async () => {
    const manager = new SessionManager({ store: new MemoryStore() });
    const app = express();
    app.use(sessionMiddleware({ manager }));
    app.get('/ids', (req, res) => {
      res.json({ first: req.sessionkit?.requestId, context: req.sessionkit?.context.requestId });
    });
    const minted = await request(app).get('/ids').expect(200);
    expect(minted.headers['x-request-id']).toBeUndefined();
    expect(minted.body.first).toMatch(/^[0-9a-f-]{36}$/);
    expect(minted.body.context).toBe(minted.body.first);
    const given = await request(app).get('/ids').set('x-request-id', 'edge-7').expect(200);
    expect(given.body).toEqual({ first: 'edge-7', context: 'edge-7' });
  });
});
