/**
 * Can real Chromium register a Device Bound Session with the reference app? Starts the app (embedded), signs in
 * from a page on http://localhost (a secure context) in /usr/bin/chromium launched with the DBSC feature and the
 * software-key switch for manual testing (FEATURES overrides the list), watches the DevTools DBSC events and
 * the app's device list, and prints what happened. Run: node --conditions=@sessionkit/source --import tsx
 * scripts/dbsc-chromium-probe.ts. Findings are in the README, "Device Bound Session Credentials".
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { startReferenceApp } from '../src/reference-app.js';
import { DEMO_USERS } from '../src/user-directory.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-dbsc-'));
const app = await startReferenceApp(
  loadConfig({ PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'info', DATA_DIR: dir }),
);
const port = new URL(app.url).port;
const origin = `http://localhost:${port}`;
const features =
  process.env.FEATURES ?? 'DeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    `--enable-features=${features}`,
    '--enable-logging=stderr',
    '--v=0',
    '--vmodule=*device_bound*=3,*registration_fetcher*=3,*session_service*=3',
  ],
});
const context = await browser.newContext();
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
const events: string[] = [];
try {
  await cdp.send('Network.enable');
  await cdp.send('Network.enableDeviceBoundSessions' as 'Network.enable', { enable: true } as never);
  cdp.on('Network.deviceBoundSessionEventOccurred' as 'Network.requestWillBeSent', (e: unknown) =>
    events.push(JSON.stringify(e).slice(0, 600)),
  );
  cdp.on('Network.deviceBoundSessionsAdded' as 'Network.requestWillBeSent', (e: unknown) =>
    events.push(`added ${JSON.stringify(e).slice(0, 600)}`),
  );
} catch (error) {
  events.push(`cdp: ${String(error)}`);
}
const seen: string[] = [];
page.on('request', (r) => {
  if (r.url().includes('/dbsc')) seen.push(`${r.method()} ${r.url()}`);
});
await page.goto(`${origin}/`);
const alice = DEMO_USERS[0]!;
const status = await page.evaluate(
  async ([email, password]) => {
    const r = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    return `${r.status} ${r.headers.get('secure-session-registration')}`;
  },
  [alice.email, alice.password],
);
console.log('login', status);
await page.goto(`${origin}/`);
await new Promise((r) => setTimeout(r, 8000));
const sessions = await page.evaluate(async () => (await fetch('/api/me/sessions')).json());
console.log('seen dbsc requests (page-visible):', seen);
console.log('cdp events:', events);
console.log('deviceBound:', JSON.stringify(sessions).includes('deviceBound'));
await browser.close();
await app.shutdown();
