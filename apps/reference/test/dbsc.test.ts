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
    });
    const registered = await browser.register(offered);
    expect(registered.status).toBe(200);
    const config = (await registered.json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      refresh_url: '/dbsc/refresh',
      scope: { include_site: false },
      credentials: [{ type: 'cookie', name: 'sk_bound' }],
    });
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
