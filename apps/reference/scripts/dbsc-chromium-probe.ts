/**
 * Can real Chromium register a Device Bound Session with the reference app? Starts the app (embedded), signs in
 * with fetch from a page on http://localhost (a secure context), or on https://dbsc.test through a self-signed
 * TLS front with HTTPS=1, in /usr/bin/chromium's default (non-incognito) profile launched with DBSC on, the
 * origin-trial requirement and refresh quota off, and the software key provider for manual testing (FEATURES
 * overrides the list, EXTRA_ARGS adds switches, NAV=1 with HTTPS=1 repeats the registration header on the next
 * navigation's answer; NETLOG=<file> writes a net log to look for DBSC_* events), watches the DevTools DBSC
 * events and the app's device list, and prints what happened. Run: node --conditions=@sessionkit/source
 * --import tsx scripts/dbsc-chromium-probe.ts. Findings are in the README, "DBSC in real Chromium".
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
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
/**
 * HTTPS=1: a TLS front on https://dbsc.test (self-signed, mapped to 127.0.0.1, certificate errors ignored),
 * relaying to the app, to rule out the http://localhost case.
 */
const tlsPort = process.env.HTTPS === '1' ? await startTlsFront(Number(port)) : undefined;
const origin = tlsPort === undefined ? `http://localhost:${port}` : `https://dbsc.test:${tlsPort}`;
const features =
  process.env.FEATURES ??
  'DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false,EnableBoundSessionCredentialsSoftwareKeysForManualTesting';
// The default (persistent) profile: Playwright's newContext() is an off-the-record context.
const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    `--enable-features=${features}`,
    ...(tlsPort === undefined
      ? []
      : ['--ignore-certificate-errors', '--host-resolver-rules=MAP dbsc.test 127.0.0.1']),
    ...(process.env.EXTRA_ARGS?.split(' ') ?? []),
    '--enable-logging=stderr',
    '--v=0',
    ...(process.env.NETLOG
      ? [`--log-net-log=${process.env.NETLOG}`, '--net-log-capture-mode=Everything']
      : []),
    '--vmodule=*/device_bound_sessions/*=3,*/unexportable_keys/*=3,*/crypto/*=2',
  ],
});
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
  if (new URL(r.url()).pathname.startsWith('/dbsc/')) seen.push(`${r.method()} ${r.url()}`);
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
await context.close();
await app.shutdown();

async function startTlsFront(target: number): Promise<number> {
  let pendingOffer: string | undefined;
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=dbsc.test',
      '-addext',
      'subjectAltName=DNS:dbsc.test',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    const upstream = request(
      { port: target, host: '127.0.0.1', path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        // NAV=1: the login answer's registration header is repeated on the next page navigation's answer.
        const offer = answer.headers['secure-session-registration'];
        if (typeof offer === 'string') pendingOffer = offer;
        const headers = { ...answer.headers };
        if (process.env.NAV === '1' && req.url === '/' && pendingOffer !== undefined) {
          headers['secure-session-registration'] = pendingOffer;
          pendingOffer = undefined;
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return (server.address() as AddressInfo).port;
}
