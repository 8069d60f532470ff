import { ManualClock } from '@sessionkit/core';
import { configFromEnv } from '@sessionkit/demo-idp';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import { servers } from './backends.js';

const ALICE = DEMO_USERS[0]!;
const BOB = DEMO_USERS[1]!;
const IDP_ACCOUNT = configFromEnv().accounts[0]!;
const OAUTH_CLIENT = { id: 'reference-resource-server', secret: 'test-introspection-secret-0123456789' };
const BASIC = `Basic ${Buffer.from(`${OAUTH_CLIENT.id}:${OAUTH_CLIENT.secret}`).toString('base64')}`;

/**
 * The only answers that may be cached: none carries a credential, a cookie or anything about a user. Every
 * other route of the app must answer `Cache-Control: no-store`.
 */
const CACHEABLE: Record<string, string> = {
  'GET /': 'the page shell; its user data comes from /api calls',
  'GET /admin': 'the admin console shell; its data comes from /api/admin calls',
  'USE /assets': 'the static script and stylesheet',
  'GET /healthz': 'liveness, the same for everyone',
  'GET /readyz': 'readiness, the same for everyone',
  'GET /.well-known/jwks.json': 'public keys, meant to be cached (public, max-age=60)',
};

interface RouterLayer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, unknown> };
  handle: { stack?: RouterLayer[] };
}

const joined = (prefix: string, path: string) =>
  `${prefix}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

/**
 * Every route of the app as "METHOD /path", read from Express' router stack (nested routers included), and
 * every middleware mounted under a path of its own ("USE /path": it answers requests itself). Middleware at
 * the root (parsers, the session middleware, error handlers) only passes requests on.
 */
function endpointsOf(stack: readonly RouterLayer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const { path, methods } = layer.route;
      if (typeof path !== 'string') throw new Error(`route with a non-string path under ${prefix}`);
      return Object.keys(methods)
        .filter((method) => method !== '_all')
        .map((method) => `${method.toUpperCase()} ${joined(prefix, path)}`);
    }
    if (typeof layer.rawPath !== 'string') throw new Error(`mount with a non-string path under ${prefix}`);
    const path = joined(prefix, layer.rawPath);
    if (layer.handle.stack) return endpointsOf(layer.handle.stack, path);
    return layer.rawPath === '/' ? [] : [`USE ${path}`];
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A browser in miniature for the identity-provider round trip: cookies and hand-followed redirects. */
class Browser {
  readonly #cookies = new Map<string, string>();

  async go(url: string, init: RequestInit = {}): Promise<Answer & { location?: string; text: string }> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const location = response.headers.get('location');
    const answerHeaders: Answer['headers'] = {};
    response.headers.forEach((value, name) => {
      answerHeaders[name] = value;
    });
    answerHeaders['set-cookie'] = response.headers.getSetCookie();
    return {
      status: response.status,
      headers: answerHeaders,
      text: await response.text(),
      ...(location === null ? {} : { location: new URL(location, url).href }),
    };
  }

  /** Follows redirects from `url` until a page answers or the next hop starts with `stopAt`. */
  async follow(url: string, stopAt: string): Promise<string> {
    let next = url;
    for (let hop = 0; hop < 10; hop += 1) {
      if (next.startsWith(stopAt)) return next;
      const answer = await this.go(next);
      if (answer.location === undefined) return next;
      next = answer.location;
    }
    throw new Error('too many redirects');
  }
}

describe('Cache-Control on every route of the reference app (PostgreSQL + Redis, demo IdP)', () => {
  const backend = servers();
  let app: RunningApp;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    const config = loadConfig({
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'loopback',
      DEMO_IDP: '1',
      DEMO_IDP_PORT: '0',
      INTROSPECTION_CLIENT_ID: OAUTH_CLIENT.id,
      INTROSPECTION_CLIENT_SECRET: OAUTH_CLIENT.secret,
      ...(await backend.env()),
    });
    app = await startReferenceApp(config, clock);
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    await backend.cleanup();
  });

  let devices = 0;
  const nextIp = () => {
    devices += 1;
    return `198.51.100.${devices}`;
  };
  const nextCode = () => {
    clock.advance(30_000);
    return currentTotp(BOB.totpSecret ?? '', clock.now());
  };

  async function signIn(user = ALICE) {
    clock.advance(1000);
    const agent = request.agent(app.url).set('x-forwarded-for', nextIp());
    const body: Record<string, string> = { email: user.email, password: user.password };
    if (user.totpSecret) body.otp = nextCode();
    const login = await agent.post('/api/auth/login').send(body).expect(200);
    return { agent, login, csrf: login.body.csrfToken as string };
  }

  /** An API client's login: bearer transport, so the answer carries the access and refresh tokens. */
  async function apiSignIn() {
    clock.advance(1000);
    const body = { email: ALICE.email, password: ALICE.password, transport: 'bearer' };
    const login = await request(app.url).post('/api/auth/login').set('x-forwarded-for', nextIp()).send(body);
    return { login: login.body as { accessToken: string; refreshToken: string } };
  }

  /** An admin action on a fresh session of Alice's (or on `target`), by Bob at AAL 2. */
  async function adminPost(action: 'suspend' | 'resume' | 'revoke', target?: string) {
    const id = target ?? ((await signIn()).login.body.session.id as string);
    const { agent, csrf } = await signIn(BOB);
    return agent.post(`/api/admin/sessions/${id}/${action}`).set('x-csrf-token', csrf).send({}).expect(200);
  }

  /** One or more answers of each route, produced over HTTP the way a client gets them. */
  const exercises: Record<string, () => Promise<Answer[]>> = {
    'POST /api/auth/login': async () => {
      const { login } = await signIn();
      const wrong = await request(app.url)
        .post('/api/auth/login')
        .set('x-forwarded-for', nextIp())
        .send({ email: ALICE.email, password: 'nope' })
        .expect(401);
      return [login, wrong];
    },
    'POST /api/auth/refresh': async () => {
      const { login } = await apiSignIn();
      const refreshed = await request(app.url)
        .post('/api/auth/refresh')
        .set('x-forwarded-for', nextIp())
        .send({ refreshToken: login.refreshToken })
        .expect(200);
      return [refreshed];
    },
    'POST /api/auth/step-up': async () => {
      const { agent, csrf } = await signIn(BOB);
      return [
        await agent.post('/api/auth/step-up').set('x-csrf-token', csrf).send({ otp: nextCode() }).expect(200),
      ];
    },
    'POST /api/auth/logout': async () => {
      const { agent, csrf } = await signIn();
      return [await agent.post('/api/auth/logout').set('x-csrf-token', csrf).expect(204)];
    },
    'GET /api/me/sessions/current': async () => {
      const { agent } = await signIn();
      const { login } = await apiSignIn();
      const bearer = await request(app.url)
        .get('/api/me/sessions/current')
        .set('authorization', `Bearer ${login.accessToken}`)
        .expect(200);
      return [await agent.get('/api/me/sessions/current').expect(200), bearer];
    },
    'GET /api/me/sessions': async () => [await (await signIn()).agent.get('/api/me/sessions').expect(200)],
    'DELETE /api/me/sessions/:id': async () => {
      const other = await signIn();
      const { agent, csrf } = await signIn();
      const id = other.login.body.session.id as string;
      return [await agent.delete(`/api/me/sessions/${id}`).set('x-csrf-token', csrf).expect(204)];
    },
    'POST /api/me/sessions/revoke-others': async () => {
      const { agent, csrf } = await signIn();
      return [await agent.post('/api/me/sessions/revoke-others').set('x-csrf-token', csrf).expect(200)];
    },
    'GET /api/me/activity': async () => [await (await signIn()).agent.get('/api/me/activity').expect(200)],
    // Unbound sessions are refused here; the DPoP-bound answer is in test/dpop.test.ts.
    'GET /api/me/sender-constrained': async () => [
      await (await signIn()).agent.get('/api/me/sender-constrained').expect(401),
    ],
    // Refused without a session (register) or a Sec-Secure-Session-Id (refresh); test/dbsc.test.ts has the accepted answers.
    'POST /dbsc/register': async () => [await request(app.url).post('/dbsc/register').expect(401)],
    'POST /dbsc/refresh': async () => [await request(app.url).post('/dbsc/refresh').expect(400)],
    'POST /api/me/sensitive': async () => {
      const { agent, csrf } = await signIn(BOB);
      return [await agent.post('/api/me/sensitive').set('x-csrf-token', csrf).expect(200)];
    },
    'POST /api/transfer/codes': async () => {
      const { agent, csrf } = await signIn();
      return [
        await agent.post('/api/transfer/codes').set('x-csrf-token', csrf).send({ mode: 'fork' }).expect(201),
      ];
    },
    'POST /api/transfer/qr': async () => {
      const { agent, csrf } = await signIn();
      const created = await agent
        .post('/api/transfer/codes')
        .set('x-csrf-token', csrf)
        .send({ mode: 'fork' });
      return [
        await agent
          .post('/api/transfer/qr')
          .set('x-csrf-token', csrf)
          .send({ code: created.body.code })
          .expect(200),
      ];
    },
    'POST /api/transfer/redeem': async () => {
      const { agent, csrf } = await signIn();
      const created = await agent
        .post('/api/transfer/codes')
        .set('x-csrf-token', csrf)
        .send({ mode: 'fork' });
      const redeemed = await request(app.url)
        .post('/api/transfer/redeem')
        .set('x-forwarded-for', nextIp())
        .send({ code: created.body.code })
        .expect(200);
      return [redeemed];
    },
    'GET /api/admin/insights': async () => {
      const { agent } = await signIn(BOB);
      return [await agent.get('/api/admin/insights?days=7').expect(200)];
    },
    'GET /api/admin/sessions': async () => [
      await (await signIn(BOB)).agent.get('/api/admin/sessions?limit=5').expect(200),
    ],
    'GET /api/admin/sessions/:id': async () => {
      const target = (await signIn()).login.body.session.id as string;
      return [await (await signIn(BOB)).agent.get(`/api/admin/sessions/${target}`).expect(200)];
    },
    'POST /api/admin/sessions/:id/suspend': async () => [await adminPost('suspend')],
    'POST /api/admin/sessions/:id/resume': async () => {
      const target = (await signIn()).login.body.session.id as string;
      await adminPost('suspend', target);
      return [await adminPost('resume', target)];
    },
    'POST /api/admin/sessions/:id/revoke': async () => [await adminPost('revoke')],
    'POST /api/admin/users/:userId/revoke': async () => {
      const { agent, csrf } = await signIn(BOB);
      return [
        await agent.post('/api/admin/users/nobody/revoke').set('x-csrf-token', csrf).send({}).expect(200),
      ];
    },
    'POST /api/admin/tenants/:tenantId/revoke': async () => {
      const { agent, csrf } = await signIn(BOB);
      return [
        await agent.post('/api/admin/tenants/acme/revoke').set('x-csrf-token', csrf).send({}).expect(200),
      ];
    },
    'GET /api/admin/statistics': async () => [
      await (await signIn(BOB)).agent.get('/api/admin/statistics').expect(200),
    ],
    'POST /api/admin/cleanup-expired': async () => {
      const { agent, csrf } = await signIn(BOB);
      return [await agent.post('/api/admin/cleanup-expired').set('x-csrf-token', csrf).expect(200)];
    },
    'GET /api/admin/users/:userId/export': async () => [
      await (await signIn(BOB)).agent.get('/api/admin/users/nobody/export').expect(200),
    ],
    'POST /api/admin/users/:userId/erase': async () => {
      const { agent, csrf } = await signIn(BOB);
      return [await agent.post('/api/admin/users/nobody/erase').set('x-csrf-token', csrf).expect(200)];
    },
    'POST /oauth/introspect': async () => {
      const { login } = await apiSignIn();
      const active = await request(app.url)
        .post('/oauth/introspect')
        .set('authorization', BASIC)
        .type('form')
        .send({ token: login.accessToken })
        .expect(200);
      expect(active.body).toMatchObject({ active: true });
      return [active];
    },
    'POST /oauth/revoke': async () => {
      const { login } = await apiSignIn();
      const revoked = await request(app.url)
        .post('/oauth/revoke')
        .set('authorization', BASIC)
        .type('form')
        .send({ token: login.refreshToken })
        .expect(200);
      return [revoked];
    },
    'GET /auth/idp': async () => [await request(app.url).get('/auth/idp').expect(200)],
    // The provider round trip: the pending-authorization cookie out, the session cookie back in.
    'GET /auth/idp/login': async () => (await idpRoundTrip()).slice(0, 1),
    'GET /auth/idp/callback': async () => (await idpRoundTrip()).slice(1),
    // Without a waiting sign-in; the success path answers through establishSession, as login does.
    'POST /auth/idp/totp': async () => [
      await request(app.url).post('/auth/idp/totp').send({ otp: '123456' }).expect(401),
    ],
    'POST /auth/idp/backchannel-logout': async () => [
      await request(app.url)
        .post('/auth/idp/backchannel-logout')
        .type('form')
        .send({ logout_token: 'x' })
        .expect(400),
    ],
  };

  async function idpRoundTrip(): Promise<Answer[]> {
    const browser = new Browser();
    const start = await browser.go(`${app.url}/auth/idp/login`);
    expect(start.status).toBe(303);
    expect(String(start.headers['set-cookie'])).toMatch(/sk_idp_pending=/);
    const callbackUrl = `${app.url}/auth/idp/callback`;
    const form = await browser.follow(start.location ?? '', callbackUrl);
    const submitted = await browser.go(new URL('login', `${form}/`).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: IDP_ACCOUNT.id, password: IDP_ACCOUNT.password }),
    });
    const callback = await browser.go(await browser.follow(submitted.location ?? '', callbackUrl));
    expect(callback.status).toBe(303);
    expect(String(callback.headers['set-cookie'])).toMatch(/sk_session=[^;]/);
    return [start, callback];
  }

  it('lists every route: each one is either exercised below or explicitly cacheable', () => {
    const express = app.server.listeners('request')[0] as unknown as Express & {
      router: { stack: RouterLayer[] };
    };
    const endpoints = new Set(endpointsOf(express.router.stack));
    expect(endpoints.size).toBeGreaterThan(15);
    const covered = [...Object.keys(exercises), ...Object.keys(CACHEABLE)];
    expect([...endpoints].sort()).toEqual([...new Set(covered)].sort());
  });

  it.each(Object.keys(exercises))('%s answers Cache-Control: no-store', async (endpoint) => {
    const answers = await exercises[endpoint]!();
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) {
      expect(answer.headers['cache-control'], `${endpoint} → ${answer.status}`).toMatch(/\bno-store\b/);
    }
  });

  it('answers the cacheable routes without a cookie', async () => {
    for (const path of ['/', '/assets/app.js', '/healthz', '/readyz', '/.well-known/jwks.json']) {
      const answer = await request(app.url).get(path).expect(200);
      expect(answer.headers['set-cookie'], path).toBeUndefined();
    }
  });
});
