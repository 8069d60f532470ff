import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/reference-app.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import { embedded, servers } from './backends.js';
import { ARTIFACTS, appInChromium } from './chromium.js';

const ALICE = DEMO_USERS[0]!;
const BOB = DEMO_USERS[1]!;
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/**
 * The admin console in real Chromium, on both backends: Bob (admin, AAL 2) sees the charts drawn in the page,
 * filters the sessions table to Alice's, and suspends then revokes one of her sessions with the keyboard alone;
 * Alice's tokens stop working at once. Alice (no admin role) and an AAL 1 admin session are turned away.
 * Screenshots land in test-artifacts/reference-e2e/admin-*.png.
 */
describe.each([
  { tag: 'embedded', makeBackend: embedded },
  { tag: 'servers', makeBackend: servers },
])('admin console in a real browser ($tag)', ({ tag, makeBackend }) => {
  const running = appInChromium(makeBackend);
  const contexts = running.contexts;
  let app: RunningApp;
  let browser: Browser;
  beforeAll(() => {
    ({ app, browser } = running);
  });

  async function page(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    contexts.push(context);
    return context.newPage();
  }

  async function aliceOn(userAgent: string) {
    const login = await request(app.url)
      .post('/api/auth/login')
      .set('user-agent', userAgent)
      .send({ email: ALICE.email, password: ALICE.password, transport: 'bearer' })
      .expect(200);
    return login.body as {
      accessToken: string;
      refreshToken: string;
      session: { id: string; userId: string };
    };
  }

  const focused = (p: Page) =>
    p.evaluate(() => {
      const element = document.activeElement;
      return element?.id || element?.getAttribute('aria-label') || element?.textContent?.trim() || '';
    });

  it('charts, filters, suspends and revokes by keyboard; refuses non-admins and AAL 1', async () => {
    // Alice on a phone, on a laptop, and a session whose refresh token is replayed (reuse: revoked by policy).
    const phone = await aliceOn(IPHONE);
    const replayed = await aliceOn(FIREFOX);
    // Two rotations: the first token is then past the grace that covers only the latest predecessor.
    const rotated = await request(app.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: replayed.refreshToken })
      .expect(200);
    await request(app.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: rotated.body.refreshToken })
      .expect(200);
    const reuse = await request(app.url)
      .post('/api/auth/refresh')
      .send({ refreshToken: replayed.refreshToken })
      .expect(401);
    expect(reuse.body.code).toBe('token.reuse_detected');
    const laptop = await aliceOn(FIREFOX);

    const admin = await page();
    await admin.goto(app.url);
    await admin.getByLabel('Email').fill(BOB.email);
    await admin.getByLabel('Password').fill(BOB.password);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByLabel('One-time code from your authenticator').fill(currentTotp(BOB.totpSecret ?? ''));
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('link', { name: 'Admin console' }).click();
    await admin.getByRole('heading', { name: 'Sessions' }).waitFor();

    // Four charts, drawn in the page as SVG images named by their captions; every value is also in words.
    const charts = admin.locator('figure svg[role="img"]');
    await expect.poll(() => charts.count()).toBe(4);
    const described = (id: string) => admin.locator(`#${id} desc`).textContent();
    await expect.poll(() => described('chart-reuse')).toMatch(/: 1\b/);
    await expect.poll(() => described('chart-revoked')).toMatch(/: [1-9]/);
    // At least Alice's phone (with REDIS_URL the store's key prefix is shared with other runs on this Redis).
    await expect.poll(() => described('chart-devices')).toMatch(/mobile: [1-9]/);
    await expect.poll(() => described('chart-started')).toMatch(/: [4-9]/);
    expect(await admin.getByRole('img', { name: 'Refresh-token reuse detected per day' }).count()).toBe(1);
    const requests: string[] = [];
    admin.on('request', (sent) => requests.push(sent.url()));
    await admin.screenshot({ path: `${ARTIFACTS}admin-${tag}-overview.png`, fullPage: true });

    // Keyboard only from here: the filters in order, each with its label, then the table's buttons.
    await admin.getByLabel('User id').focus();
    await admin.keyboard.type(phone.session.userId);
    const order: string[] = [await focused(admin)];
    for (let step = 0; step < 12; step += 1) {
      await admin.keyboard.press('Tab');
      const now = await focused(admin);
      // A date field's own parts (month, day, year) are tab stops of one input: count the input once.
      if (now !== order.at(-1)) order.push(now);
      if (now === 'Apply filters') break;
    }
    expect(order).toEqual([
      'filter-user',
      'filter-state',
      'filter-device',
      'filter-from',
      'filter-to',
      'Apply filters',
    ]);
    await admin.keyboard.press('Enter');
    await expect
      .poll(() => admin.locator('#status').textContent())
      .toContain('Filters applied: 3 session(s)');
    const rows = admin.locator('#sessions tbody tr');
    expect(await rows.allTextContents()).toHaveLength(3);
    for (const text of await rows.allTextContents()) expect(text).toContain(phone.session.userId);
    await admin.screenshot({ path: `${ARTIFACTS}admin-${tag}-filtered.png`, fullPage: true });

    // Newest first: the laptop's row. Tab reaches its Suspend button, Enter suspends it.
    await admin.keyboard.press('Tab');
    expect(await focused(admin)).toMatch(/^Suspend session of .* on Firefox/);
    expect(await admin.evaluate(() => document.activeElement?.closest('tr')?.dataset.sessionId)).toBe(
      laptop.session.id,
    );
    await admin.keyboard.press('Enter');
    await expect.poll(() => admin.locator('#status').textContent()).toContain('suspended');
    await expect.poll(() => focused(admin)).toMatch(/^Resume session of/);
    // Her access token stops at once: core denylists a suspended session's access tokens (401 there; a
    // session-token request would read 403 session.suspended from the store).
    const suspended = await request(app.url)
      .get('/api/me/sessions/current')
      .set('user-agent', FIREFOX)
      .set('authorization', `Bearer ${laptop.accessToken}`)
      .expect(401);
    expect(suspended.body.code).toBe('session.revoked');

    await admin.keyboard.press('Tab');
    expect(await focused(admin)).toMatch(/^Revoke session of/);
    await admin.keyboard.press('Enter');
    await expect.poll(() => admin.locator('#status').textContent()).toContain('revoked');
    // The row has no action left: focus lands on the table, never on the page's start.
    await expect.poll(() => focused(admin)).toBe('sessions');
    await request(app.url)
      .get('/api/me/sessions/current')
      .set('user-agent', FIREFOX)
      .set('authorization', `Bearer ${laptop.accessToken}`)
      .expect(401);
    expect(requests.every((url) => url.startsWith(app.url))).toBe(true);
    await admin.screenshot({ path: `${ARTIFACTS}admin-${tag}-after-revoke.png`, fullPage: true });

    // Alice holds no admin role: the page says so and the API refuses.
    const alicePage = await page();
    await alicePage.goto(app.url);
    await alicePage.getByLabel('Email').fill(ALICE.email);
    await alicePage.getByLabel('Password').fill(ALICE.password);
    await alicePage.getByRole('button', { name: 'Sign in' }).click();
    await alicePage.getByRole('heading', { name: /Signed in as/ }).waitFor();
    expect(await alicePage.getByRole('link', { name: 'Admin console' }).isHidden()).toBe(true);
    await alicePage.goto(`${app.url}/admin`);
    await expect.poll(() => alicePage.locator('#denied-reason').textContent()).toContain('admin role');
    await alicePage.screenshot({ path: `${ARTIFACTS}admin-${tag}-denied.png`, fullPage: true });
    const refused = await alicePage.evaluate(async () => {
      const answer = await fetch('/api/admin/sessions', { headers: { accept: 'application/json' } });
      return answer.json();
    });
    expect(refused).toMatchObject({ status: 403, code: 'access.denied' });

    // Bob's session carried to another device by a transfer code is AAL 1: the console asks for step-up.
    await admin.goto(app.url);
    await admin.getByRole('button', { name: 'Show a sign-in code' }).click();
    await expect.poll(() => admin.locator('#transfer-code-shown').textContent()).toMatch(/^tc_/);
    const code = (await admin.locator('#transfer-code-shown').textContent()) ?? '';
    const second = await page();
    await second.goto(app.url);
    await second.getByLabel('Sign-in code from your other device').fill(code);
    await second.getByRole('button', { name: 'Use code' }).click();
    await second.getByRole('heading', { name: /Signed in as/ }).waitFor();
    await second.goto(`${app.url}/admin`);
    await expect.poll(() => second.locator('#denied-reason').textContent()).toContain('assurance level 2');
  }, 180_000);
});
