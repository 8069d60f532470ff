import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import { ARTIFACTS, launchChromium } from './chromium.js';

const BOB = DEMO_USERS[1]!;

/**
 * The reference app in real headless Chromium (Debian's, driven by playwright-core): the MFA user signs in on two
 * "devices" (two browser contexts), sees both, revokes the other from the first, and the second is signed out on
 * its next navigation. Screenshots land in test-artifacts/reference-e2e/.
 */
describe('reference app in a real browser', () => {
  let app: RunningApp;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sk-reference-e2e-'));
    // Secure, __Host- cookies as in production: Chromium treats http://127.0.0.1 as a secure context.
    app = await startReferenceApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir }));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.kek`, { force: true });
  });

  async function signIn(context: BrowserContext, code: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByLabel('Email').fill(BOB.email);
    await page.getByLabel('Password').fill(BOB.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const otp = page.getByLabel('One-time code from your authenticator');
    await otp.waitFor();
    await otp.fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Signed in as/ }).waitFor();
    return page;
  }

  it('signs in twice, shows two devices, revokes the other, which is signed out on its next navigation', async () => {
    const laptop = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    });
    // Each code may be used once: the second device uses the next time step, inside the drift window.
    const first = await signIn(laptop, currentTotp(BOB.totpSecret ?? ''));
    const second = await signIn(phone, currentTotp(BOB.totpSecret ?? '', Date.now() + 30_000));
    await second.screenshot({ path: `${ARTIFACTS}phone-signed-in.png`, fullPage: true });

    const cookies = await laptop.cookies();
    const session = cookies.find((cookie) => cookie.name === '__Host-sk_session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });

    await first.reload();
    const devices = first.locator('#devices > li');
    await expect.poll(() => devices.count()).toBe(2);
    await expect.poll(() => first.locator('#devices .badge').count()).toBe(1);
    const phoneEntry = devices.filter({ hasText: 'Safari' });
    await expect.poll(() => phoneEntry.count()).toBe(1);
    await first.screenshot({ path: `${ARTIFACTS}laptop-two-devices.png`, fullPage: true });

    await phoneEntry.getByRole('button', { name: /Sign out/ }).click();
    await expect.poll(() => first.locator('#status').textContent()).toContain('Device signed out');
    await expect.poll(() => devices.count()).toBe(1);
    await first.screenshot({ path: `${ARTIFACTS}laptop-after-revoke.png`, fullPage: true });

    await second.reload();
    await second.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await second.locator('#account').isHidden()).toBe(true);
    await second.screenshot({ path: `${ARTIFACTS}phone-signed-out.png`, fullPage: true });

    // The activity timeline shows what happened, newest first.
    await first.reload();
    await expect.poll(() => first.locator('#activity li').count()).toBeGreaterThan(1);
    await laptop.close();
    await phone.close();
  }, 90_000);

  it('is usable by keyboard alone at phone width, and explains a refused sensitive action', async () => {
    const alice = DEMO_USERS[0]!;
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByLabel('Email').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
    await page.keyboard.type(alice.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(alice.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Signed in as/ }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.getByRole('button', { name: 'Try a sensitive action' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#status').textContent()).toContain('aal.insufficient');
    await page.screenshot({ path: `${ARTIFACTS}phone-keyboard-flow.png`, fullPage: true });
    await context.close();
  }, 90_000);
});
