import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { ARTIFACTS, launchChromium } from './chromium.js';

/**
 * `DEMO_IDP=1`: the app starts the demo OpenID provider (oidc-provider) on another loopback port. In real
 * Chromium a user signs in through the provider, lands in the app as the local user with the same email, then
 * signs out at the provider, whose back-channel logout ends the app session.
 */
describe('sign in with the demo IdP, in a real browser', () => {
  let app: RunningApp;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sk-reference-idp-'));
    app = await startReferenceApp(
      loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir, DEMO_IDP: '1', DEMO_IDP_PORT: '0' }),
    );
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.kek`, { force: true });
  });

  it('signs in through the provider and is signed out by its back-channel logout', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByRole('link', { name: 'Sign in with the demo IdP' }).click();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('demo-idp-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Signed in as Alice (password only)' }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}idp-signed-in.png`, fullPage: true });

    const cookies = await context.cookies(app.url);
    expect(cookies.map((cookie) => cookie.name)).toContain('__Host-sk_session');
    expect(cookies.map((cookie) => cookie.name)).not.toContain('sk_idp_pending');

    // RP-independent logout at the provider: it confirms, then POSTs a logout token to the app.
    await page.goto(`${app.idpIssuer}/session/end`);
    await page.getByRole('button', { name: /yes/i }).click();
    await page.waitForURL((url) => !url.href.includes('/session/end/confirm'));

    const alice = await app.users.findByEmail('alice@example.com');
    const sessions = await app.manager.list(alice?.id ?? '');
    await expect
      .poll(async () => (await app.manager.list(alice?.id ?? '')).map((session) => session.revokeReason))
      .toContain('upstream.logout');
    expect(sessions.some((session) => session.metadata.via === 'demo-idp')).toBe(true);

    await page.goto(app.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.locator('#account').isHidden()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}idp-signed-out-by-provider.png`, fullPage: true });
    await context.close();
  }, 90_000);

  it('refuses a callback without a pending sign-in in this browser', async () => {
    const response = await fetch(`${app.url}/auth/idp/callback?code=x&state=y`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'token.invalid' });
  });
});
