import type { Browser, Page } from 'playwright-core';
import QRCode from 'qrcode';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/reference-app.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import { embedded, servers } from './backends.js';
import { ARTIFACTS, appInChromium } from './chromium.js';

const BOB = DEMO_USERS[1]!;

/**
 * Cross-device sign-in in real Chromium, on both backends: Bob (AAL 2) shows a code and its QR image on his
 * laptop, his phone (a second browser context) opens the QR link and signs in at AAL 1 (core's cap), the laptop
 * stays (fork); then the phone hands over to a tablet with a typed code (takeover) and notices it was signed
 * out; the used code is refused on a fourth device.
 */
describe.each([
  { tag: 'embedded', makeBackend: embedded },
  { tag: 'servers', makeBackend: servers },
])('cross-device sign-in in a real browser ($tag)', ({ tag, makeBackend }) => {
  const running = appInChromium(makeBackend);
  const contexts = running.contexts;
  let app: RunningApp;
  let browser: Browser;
  beforeAll(() => {
    ({ app, browser } = running);
  });

  async function device(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
    contexts.push(context);
    return context.newPage();
  }

  async function shownCode(page: Page, mode: 'stays signed in' | 'is signed out'): Promise<string> {
    await page.getByLabel(mode).check();
    await page.getByRole('button', { name: 'Show a sign-in code' }).click();
    const shown = page.locator('#transfer-code-shown');
    await expect.poll(() => shown.textContent()).toMatch(/^tc_/);
    return (await shown.textContent()) ?? '';
  }

  it('forks to a phone through the QR link, then takes over to a tablet with a typed code', async () => {
    const laptop = await device();
    await laptop.goto(app.url);
    await laptop.getByLabel('Email').fill(BOB.email);
    await laptop.getByLabel('Password').fill(BOB.password);
    await laptop.getByRole('button', { name: 'Sign in' }).click();
    await laptop.getByLabel('One-time code from your authenticator').fill(currentTotp(BOB.totpSecret ?? ''));
    await laptop.getByRole('button', { name: 'Sign in' }).click();
    await laptop.getByRole('heading', { name: /Signed in as/ }).waitFor();
    expect(await laptop.locator('#aal').textContent()).toBe('2');

    const forkCode = await shownCode(laptop, 'stays signed in');
    // The QR image is the app's own link with the code in the fragment, drawn by this server.
    const link = `${app.url}/#transfer=${forkCode}`;
    const expected = await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    const drawn = await laptop
      .locator('#transfer-qr svg path')
      .evaluateAll((paths) => paths.map((path) => path.getAttribute('d')));
    expect(drawn).toEqual([...expected.matchAll(/ d="([^"]+)"/g)].map((match) => match[1]));
    expect(drawn.length).toBeGreaterThan(0);
    await laptop.screenshot({ path: `${ARTIFACTS}transfer-${tag}-code-shown.png`, fullPage: true });

    const phone = await device();
    await phone.goto(link);
    await expect
      .poll(() => phone.getByLabel('Sign-in code from your other device').inputValue())
      .toBe(forkCode);
    expect(phone.url()).toBe(`${app.url}/`);
    await phone.getByRole('button', { name: 'Use code' }).click();
    await phone.getByRole('heading', { name: /Signed in as/ }).waitFor();
    expect(await phone.locator('#aal').textContent()).toBe('1');
    await phone.screenshot({ path: `${ARTIFACTS}transfer-${tag}-phone-forked.png`, fullPage: true });
    // The laptop, still signed in, sees the phone appear while it waits.
    await expect.poll(() => laptop.locator('#devices > li').count()).toBe(2);
    // Each device shows its last request from the request-activity trail: a route pattern, never a URL.
    await expect
      .poll(() => laptop.locator('#devices > li:not(:has(.badge)) .last-activity').textContent(), {
        timeout: 60_000,
      })
      .toMatch(/GET \/api\/me\/[a-z/]+ → 200 \(account\)/);
    expect(await laptop.locator('#account').isVisible()).toBe(true);

    const takeoverCode = await shownCode(phone, 'is signed out');
    const tablet = await device();
    await tablet.goto(app.url);
    await tablet.getByLabel('Sign-in code from your other device').fill(takeoverCode);
    await tablet.getByLabel('Sign-in code from your other device').press('Enter');
    await tablet.getByRole('heading', { name: /Signed in as/ }).waitFor();
    await expect.poll(() => phone.locator('#status').textContent()).toContain('moved to your other device');
    expect(await phone.locator('#account').isHidden()).toBe(true);
    await phone.screenshot({ path: `${ARTIFACTS}transfer-${tag}-phone-taken-over.png`, fullPage: true });

    const latecomer = await device();
    await latecomer.goto(app.url);
    await latecomer.getByLabel('Sign-in code from your other device').fill(takeoverCode);
    await latecomer.getByRole('button', { name: 'Use code' }).click();
    await expect
      .poll(() => latecomer.locator('#status').textContent())
      .toContain('invalid, expired or already used');
    expect(await latecomer.locator('#account').isHidden()).toBe(true);
    for (const context of contexts.splice(0)) await context.close();
  }, 120_000);
});
