import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@sessionkit/core';
import { configFromEnv } from '@sessionkit/demo-idp';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { PENDING_MFA_TTL_MS } from '../src/idp-pending-mfa.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import { ARTIFACTS, launchChromium } from './chromium.js';
import { IdpAgent } from './idp-agent.js';

const BOB = DEMO_USERS[1]!;
const SESSION_COOKIE = '__Host-sk_session';
const MFA_COOKIE = 'sk_idp_mfa';

/**
 * `DEMO_IDP=1`: the app starts the demo OpenID provider (oidc-provider) on another loopback port. Its accounts
 * (apps/demo-idp) each assert something different: a verified email with a password only (`alice`, `bob`), a
 * second factor through `amr` (`bob-mfa`) or `acr` (`bob-acr`), Bob's address unverified (`mallory`: claim
 * absent, `eve`: false).
 */
describe('sign in with the demo IdP', () => {
  let app: RunningApp;
  let clock: ManualClock;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sk-reference-idp-'));
    clock = new ManualClock(Date.now());
    app = await startReferenceApp(
      loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir, DEMO_IDP: '1', DEMO_IDP_PORT: '0' }),
      clock,
    );
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.kek`, { force: true });
  });

  /** A code from the next TOTP time step: each step is accepted once, so the clock moves on first. */
  const nextCode = () => {
    clock.advance(30_000);
    return currentTotp(BOB.totpSecret ?? '', clock.now());
  };
  const bobId = async () => (await app.users.findByEmail(BOB.email))?.id ?? '';
  const viaIdp = async (userId: string) =>
    (await app.manager.list(userId)).filter((session) => session.metadata.via === 'demo-idp');

  describe('over HTTP', () => {
    it('leaves a TOTP account signed in by the provider alone at a TOTP step, with no session, until its code', async () => {
      const agent = new IdpAgent();
      const before = (await viaIdp(await bobId())).length;
      const callback = await agent.signInWithProvider(app.url, 'bob');
      expect(callback.status).toBe(303);
      expect(callback.headers.get('location')).toBe('/?idp=totp');
      expect(callback.headers.get('set-cookie')).toMatch(/sk_idp_mfa=[^;]+;.*HttpOnly.*SameSite=Strict/i);

      // The attack of the finding: the provider's password alone used to yield an AAL 1 session for Bob.
      expect(agent.cookies.has(SESSION_COOKIE)).toBe(false);
      expect((await agent.json(`${app.url}/api/me/sessions/current`, 'GET')).status).toBe(401);
      expect(await viaIdp(await bobId())).toHaveLength(before);

      const good = nextCode();
      const wrong = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
      const refused = await agent.json(`${app.url}/auth/idp/totp`, 'POST', { otp: wrong });
      expect(refused).toMatchObject({ status: 401, body: { code: 'otp.invalid' } });
      expect(agent.cookies.has(SESSION_COOKIE)).toBe(false);

      // Another browser without the handle cannot finish this sign-in, even with the right code.
      const stranger = await new IdpAgent().json(`${app.url}/auth/idp/totp`, 'POST', { otp: good });
      expect(stranger).toMatchObject({ status: 401, body: { code: 'idp.no_pending_sign_in' } });

      const handle = agent.cookies.get(MFA_COOKIE) ?? '';
      const passed = await agent.json(`${app.url}/auth/idp/totp`, 'POST', { otp: good });
      expect(passed).toMatchObject({ status: 200, body: { session: { userId: await bobId(), aal: 2 } } });
      expect(agent.cookies.has(MFA_COOKIE)).toBe(false);
      const current = await agent.json(`${app.url}/api/me/sessions/current`, 'GET');
      expect(current).toMatchObject({
        status: 200,
        body: { session: { aal: 2, metadata: { via: 'demo-idp' } } },
      });
      expect(await viaIdp(await bobId())).toHaveLength(before + 1);

      // Single use: the same handle, replayed with a fresh code, opens nothing more.
      const replay = new IdpAgent();
      replay.cookies.set(MFA_COOKIE, handle);
      const again = await replay.json(`${app.url}/auth/idp/totp`, 'POST', { otp: nextCode() });
      expect(again).toMatchObject({ status: 401, body: { code: 'idp.no_pending_sign_in' } });
      expect(await viaIdp(await bobId())).toHaveLength(before + 1);
    });

    it('lets the pending TOTP step expire after a few minutes', async () => {
      const agent = new IdpAgent();
      expect((await agent.signInWithProvider(app.url, 'bob')).headers.get('location')).toBe('/?idp=totp');
      clock.advance(PENDING_MFA_TTL_MS);
      const late = await agent.json(`${app.url}/auth/idp/totp`, 'POST', { otp: nextCode() });
      expect(late).toMatchObject({ status: 401, body: { code: 'idp.no_pending_sign_in' } });
      expect(agent.cookies.has(SESSION_COOKIE)).toBe(false);
    });

    it.each([
      ['amr', 'bob-mfa'],
      ['acr', 'bob-acr'],
    ])('signs the TOTP account in at AAL 2 when the provider asserts a second factor (%s)', async (_how, account) => {
      const agent = new IdpAgent();
      const callback = await agent.signInWithProvider(app.url, account);
      expect(callback.status).toBe(303);
      expect(callback.headers.get('location')).toBe('/');
      const current = await agent.json(`${app.url}/api/me/sessions/current`, 'GET');
      expect(current).toMatchObject({
        status: 200,
        body: { session: { userId: await bobId(), aal: 2 }, user: { email: BOB.email } },
      });
    });

    it("dates the session from the provider's sign-in (auth_time), not the callback: an old sign-in is not fresh", async () => {
      const agent = new IdpAgent();
      expect((await agent.signInWithProvider(app.url, 'bob-mfa')).headers.get('location')).toBe('/');
      const first = await agent.json(`${app.url}/api/me/sessions/current`, 'GET');
      // Sixteen minutes on, the provider still has its session and signs the same person in without asking.
      clock.advance(16 * 60_000);
      expect((await agent.signInWithProvider(app.url, 'bob-mfa')).headers.get('location')).toBe('/');
      const second = await agent.json(`${app.url}/api/me/sessions/current`, 'GET');
      expect((second.body?.session as { id: string }).id).not.toBe(
        (first.body?.session as { id: string }).id,
      );
      const firstAuth = (first.body?.session as { authenticatedAt: number }).authenticatedAt;
      const secondAuth = (second.body?.session as { authenticatedAt: number }).authenticatedAt;
      expect(secondAuth).toBeLessThanOrEqual(firstAuth);
      // Older than the 15 minutes requireFresh() allows: the sensitive routes ask for a step-up.
      expect(clock.now() - secondAuth).toBeGreaterThan(15 * 60_000);
    });

    it.each([
      ['absent', 'mallory'],
      ['false', 'eve'],
    ])('refuses to link an account whose email_verified is %s to the local account with that email', async (_how, account) => {
      const agent = new IdpAgent();
      const before = (await viaIdp(await bobId())).length;
      const callback = await agent.signInWithProvider(app.url, account);
      expect(callback.status).toBe(403);
      expect(callback.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await callback.json()).toMatchObject({ code: 'idp.email_unverified' });
      expect(agent.cookies.has(SESSION_COOKIE)).toBe(false);
      expect(agent.cookies.has(MFA_COOKIE)).toBe(false);
      expect(await app.users.userIdForSubject(app.idpIssuer ?? '', account)).toBeUndefined();
      expect(await viaIdp(await bobId())).toHaveLength(before);
    });

    it('links a verified email to the local account without a second factor at AAL 1', async () => {
      const agent = new IdpAgent();
      expect((await agent.signInWithProvider(app.url, 'alice')).headers.get('location')).toBe('/');
      const alice = await app.users.findByEmail('alice@example.com');
      const current = await agent.json(`${app.url}/api/me/sessions/current`, 'GET');
      expect(current).toMatchObject({ status: 200, body: { session: { userId: alice?.id, aal: 1 } } });
      expect(await app.users.userIdForSubject(app.idpIssuer ?? '', 'alice')).toBe(alice?.id);
    });

    it('revokes the sessions of a provider session named by sid alone, suspended ones included', async () => {
      const sessionOf = async (agent: IdpAgent) => {
        const current = await agent.json(`${app.url}/api/me/sessions/current`, 'GET');
        return app.manager.get(String((current.body?.session as { id?: string } | undefined)?.id));
      };
      const laptop = new IdpAgent();
      await laptop.signInWithProvider(app.url, 'alice');
      const phone = new IdpAgent();
      await phone.signInWithProvider(app.url, 'alice');
      const laptopSession = await sessionOf(laptop);
      const phoneSession = await sessionOf(phone);
      const sid = laptopSession?.metadata.idpSid;
      expect(typeof sid).toBe('string');
      expect(phoneSession?.metadata.idpSid).not.toBe(sid);
      await app.manager.suspend(laptopSession?.id ?? '');

      const [demoClient] = configFromEnv({}).clients;
      const token = await app.idp!.logoutToken({ clientId: demoClient?.clientId ?? '', sid: String(sid) });
      expect(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())).not.toHaveProperty(
        'sub',
      );
      const delivered = await fetch(`${app.url}/auth/idp/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });
      expect(delivered.status).toBe(200);
      const after = await app.manager.get(laptopSession?.id ?? '');
      expect(after).toMatchObject({ state: 'revoked', revokeReason: 'upstream.logout' });
      expect((await app.manager.get(phoneSession?.id ?? ''))?.state).toBe('active');
      expect((await phone.json(`${app.url}/api/me/sessions/current`, 'GET')).status).toBe(200);
    });
  });

  describe('in a real browser', () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchChromium();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
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

    it('asks the TOTP account for its code after the provider, and signs it in at AAL 2', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(app.url);
      await page.getByRole('link', { name: 'Sign in with the demo IdP' }).click();
      await page.getByLabel('Username').fill('bob');
      await page.getByLabel('Password').fill('demo-idp-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'One more step' }).waitFor();
      expect((await context.cookies(app.url)).map((cookie) => cookie.name)).not.toContain(SESSION_COOKIE);
      await page.screenshot({ path: `${ARTIFACTS}idp-totp-step.png`, fullPage: true });

      await page.getByLabel('Code from your authenticator app').fill(nextCode());
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Signed in as Bob (password + TOTP)' }).waitFor();
      expect(await page.locator('#aal').textContent()).toBe('2');
      expect(new URL(page.url()).search).toBe('');
      await page.screenshot({ path: `${ARTIFACTS}idp-totp-signed-in.png`, fullPage: true });
      await context.close();
    }, 90_000);
  });

  it('refuses a callback without a pending sign-in in this browser', async () => {
    const response = await fetch(`${app.url}/auth/idp/callback?code=x&state=y`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'token.invalid' });
  });
});
