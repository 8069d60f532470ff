import type { SessionEvent } from '@sessionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { DEMO_USERS } from '../src/user-directory.js';
import { embedded, servers } from './backends.js';
import { DbscBrowser } from './dbsc-client.js';

const ALICE = DEMO_USERS[0]!;
let nextClient = 1;

describe.each([embedded(), servers()])('Device Bound Session Credentials on $name', (backend) => {
  let app: RunningApp;

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'loopback',
      ...(await backend.env()),
    });
    app = await startReferenceApp(config);
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    await backend.cleanup();
  });

  async function signIn(browser: DbscBrowser) {
    const login = await browser.fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${nextClient++}` },
      body: JSON.stringify({ email: ALICE.email, password: ALICE.password }),
    });
    expect(login.status).toBe(200);
    return login;
  }

  it('offers registration after login, binds the key, and answers the session configuration with a bound cookie', async () => {
    const browser = new DbscBrowser(app.url);
    const login = await signIn(browser);
    const offered = login.headers.get('secure-session-registration');
    expect(DbscBrowser.registration(offered)).toMatchObject({
      algs: ['ES256', 'RS256'],
      path: '/dbsc/register',
      authorization: expect.stringMatching(/^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/),
    });
    const registered = await browser.register(offered);
    expect(registered.status).toBe(200);
    const config = (await registered.json()) as Record<string, unknown>;
    expect(config).toEqual({
      session_identifier: browser.sessionId,
      refresh_url: '/dbsc/refresh',
      scope: { origin: app.url, include_site: false, scope_specification: [] },
      credentials: [{ type: 'cookie', name: 'sk_bound', attributes: 'Path=/; HttpOnly; SameSite=Lax' }],
      allowed_refresh_initiators: [],
    });
    // The draft's browser caches the challenge of the registration answer for its first refresh.
    expect(registered.headers.get('secure-session-challenge')).toMatch(/^"[^"]+";id="[^"]+"$/);
    expect(registered.headers.get('x-frame-options')).toBe('DENY');
    expect(registered.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(registered.headers.get('access-control-allow-credentials')).toBeNull();
    expect(browser.cookies.has('sk_bound')).toBe(true);
    const sessions = await browser.fetch('/api/me/sessions');
    const list = (await sessions.json()) as { current?: boolean; deviceBound?: boolean }[];
    expect(list.find((session) => session.current)?.deviceBound).toBe(true);
  });

  it('refuses the session cookie without a current bound cookie, and renews it only on a proof from the key', async () => {
    const browser = new DbscBrowser(app.url);
    await browser.register((await signIn(browser)).headers.get('secure-session-registration'));
    expect((await browser.fetch('/api/me/sessions/current')).status).toBe(200);

    // What a thief who copied only the long-lived cookie has.
    const stolen = new DbscBrowser(app.url);
    for (const [name, value] of browser.cookies) if (name !== 'sk_bound') stolen.cookies.set(name, value);
    const refused = await stolen.fetch('/api/me/sessions/current');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { code: string }).code).toBe('binding.required');

    stolen.sessionId = browser.sessionId;
    stolen.refreshUrl = browser.refreshUrl;
    const thiefKey = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const thief = await stolen.refresh(thiefKey.privateKey);
    expect(thief.challenged.status).toBe(403);
    expect(thief.final.status).toBe(400);
    expect(stolen.cookies.has('sk_bound')).toBe(false);

    browser.cookies.delete('sk_bound');
    expect((await browser.fetch('/api/me/sessions/current')).status).toBe(401);
    const { challenged, final } = await browser.refresh();
    expect(challenged.status).toBe(403);
    expect(challenged.headers.get('secure-session-challenge')).toMatch(/^"[^"]+";id="[^"]+"$/);
    expect(final.status).toBe(200);
    expect(((await final.json()) as { session_identifier: string }).session_identifier).toBe(
      browser.sessionId,
    );
    expect((await browser.fetch('/api/me/sessions/current')).status).toBe(200);
  });

  it('refuses a registration proof over a made-up challenge, and a replayed one', async () => {
    const browser = new DbscBrowser(app.url);
    const offered = (await signIn(browser)).headers.get('secure-session-registration') ?? '';
    const forged = await new DbscBrowser(app.url).register(
      offered.replace(/challenge="[^"]*"/, 'challenge="zz.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"'),
    );
    expect(forged.status).toBe(401);
    const made = await browser.register(
      offered.replace(/challenge="[^"]*"/, 'challenge="zz.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"'),
    );
    expect(made.status).toBe(400);
    const key = browser.key;
    expect((await browser.register(offered, key)).status).toBe(200);
    expect((await browser.register(offered, key)).status).toBe(400);
  });

  it('refuses a registration whose authorization claim is missing, foreign, or contradicted by the Authorization header', async () => {
    const other = new DbscBrowser(app.url);
    const foreign = DbscBrowser.registration(
      (await signIn(other)).headers.get('secure-session-registration'),
    )?.authorization;
    const browser = new DbscBrowser(app.url);
    const offered = (await signIn(browser)).headers.get('secure-session-registration');
    const refusals = [
      { claims: ({ authorization: _, ...rest }: Record<string, unknown>) => rest },
      { claims: (claims: Record<string, unknown>) => ({ ...claims, authorization: foreign }) },
      { headers: (headers: Record<string, string>) => ({ ...headers, authorization: 'not-the-offer' }) },
    ];
    for (const tamper of refusals) {
      const refused = await browser.register(offered, undefined, tamper);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await refused.json()) as { code: string }).code).toBe('input.invalid');
    }
    // Chromium copies the authorization into the proof only, without the header: that is enough.
    const withoutHeader = await browser.register(offered, undefined, {
      headers: ({ authorization: _, ...rest }) => rest,
    });
    expect(withoutHeader.status).toBe(200);
  });

  it('registers and refreshes a browser that sends the sf-string headers bare, as Chromium does', async () => {
    const browser = new DbscBrowser(app.url, { bare: true });
    expect(
      (await browser.register((await signIn(browser)).headers.get('secure-session-registration'))).status,
    ).toBe(200);
    browser.cookies.delete('sk_bound');
    const { final } = await browser.refresh();
    expect(final.status).toBe(200);
    expect((await browser.fetch('/api/me/sessions/current')).status).toBe(200);
  });

  it('renews on the cached challenge without a 403 round, and asks again when that challenge is spent', async () => {
    const browser = new DbscBrowser(app.url);
    await browser.register((await signIn(browser)).headers.get('secure-session-registration'));
    const cached = browser.cachedChallenge;
    browser.cookies.delete('sk_bound');
    const renewed = await browser.refreshWithCachedChallenge();
    expect(renewed.status).toBe(200);
    expect(browser.cookies.has('sk_bound')).toBe(true);
    expect(browser.cachedChallenge).not.toBe(cached);
    browser.cachedChallenge = cached;
    const spent = await browser.refreshWithCachedChallenge();
    expect(spent.status).toBe(403);
    expect(spent.headers.get('secure-session-challenge')).toMatch(/^"[^"]+";id="[^"]+"$/);
  });

  it('refuses refresh requests without a well-formed Sec-Secure-Session-Id, and refresh proofs that carry a jwk', async () => {
    const browser = new DbscBrowser(app.url);
    await browser.register((await signIn(browser)).headers.get('secure-session-registration'));
    for (const value of [undefined, '"has space"', '"unterminated', `"${'a'.repeat(200)}"`]) {
      const response = await fetch(`${app.url}/dbsc/refresh`, {
        method: 'POST',
        headers: value === undefined ? {} : { 'sec-secure-session-id': value },
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { code: string }).code).toBe('input.invalid');
    }
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', browser.key?.publicKey as CryptoKey);
    const { challenged, final } = await browser.refresh(undefined, { jwk: { kty, crv, x, y } });
    expect(challenged.status).toBe(403);
    expect(final.status).toBe(400);
    expect(((await final.json()) as { code: string }).code).toBe('input.invalid');
  });

  it('answers continue: false to the refresh of a revoked session, and clears its bound cookie', async () => {
    const browser = new DbscBrowser(app.url);
    await browser.register((await signIn(browser)).headers.get('secure-session-registration'));
    const sessionId = browser.sessionId as string;
    await app.manager.revoke(sessionId);
    const ended = await browser.fetch('/dbsc/refresh', {
      method: 'POST',
      headers: { 'sec-secure-session-id': `"${sessionId}"` },
    });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ continue: false });
    expect(ended.headers.get('set-cookie')).toMatch(/(^|, )sk_bound=; Max-Age=0/);
    expect(browser.cookies.has('sk_bound')).toBe(false);
    // The same answer for an id that names nothing: no oracle for which sessions exist.
    const unknown = await fetch(`${app.url}/dbsc/refresh`, {
      method: 'POST',
      headers: { 'sec-secure-session-id': '"AAAAAAAAAAAAAAAAAAAAAA"' },
    });
    expect(await unknown.json()).toEqual({ continue: false });
  });

  it('audits a request whose browser skipped the refresh, still refuses it, and never fails on a bad header', async () => {
    const browser = new DbscBrowser(app.url);
    await browser.register((await signIn(browser)).headers.get('secure-session-registration'));
    browser.cookies.delete('sk_bound');
    const reasons: string[] = [];
    const unsubscribe = app.manager.events.subscribe((event: SessionEvent) => {
      if (event.type === 'token.rejected' && event.sessionId === browser.sessionId)
        reasons.push(event.reason);
    });
    try {
      const skipped = await browser.fetch('/api/me/sessions/current', {
        headers: {
          'secure-session-skipped': `quota_exceeded;session_identifier="other", unreachable;session_identifier="${browser.sessionId}"`,
        },
      });
      expect(skipped.status).toBe(401);
      const problem = (await skipped.json()) as { code: string; detail: string };
      expect(problem.code).toBe('binding.required');
      expect(problem.detail).toMatch(/skipped its refresh \(unreachable\)/);
      for (const bad of [
        'unreachable;session_identifier=unquoted',
        'made_up;session_identifier="x"',
        '"a string", ,;;',
        `unreachable;session_identifier="${'x'.repeat(9000)}"`,
      ]) {
        const response = await browser.fetch('/api/me/sessions/current', {
          headers: { 'secure-session-skipped': bad },
        });
        expect(response.status).toBe(401);
        expect(((await response.json()) as { code: string }).code).toBe('binding.required');
      }
      expect(reasons).toEqual([
        'dbsc.refresh_skipped.unreachable',
        'binding.required',
        'binding.required',
        'binding.required',
        'binding.required',
      ]);
    } finally {
      unsubscribe();
    }
    // An unbound session is unaffected by the header.
    const plain = new DbscBrowser(app.url);
    await signIn(plain);
    const unbound = await plain.fetch('/api/me/sessions/current', {
      headers: { 'secure-session-skipped': 'unreachable;session_identifier="x"' },
    });
    expect(unbound.status).toBe(200);
  });

  it('keeps a browser without DBSC signed in as before (graceful fallback)', async () => {
    const browser = new DbscBrowser(app.url);
    await signIn(browser);
    expect((await browser.fetch('/api/me/sessions/current')).status).toBe(200);
    const list = (await (await browser.fetch('/api/me/sessions')).json()) as {
      current?: boolean;
      deviceBound?: boolean;
    }[];
    expect(list.find((session) => session.current)?.deviceBound).toBeUndefined();
  });
});
