import { randomBytes } from 'node:crypto';
import type { SessionEvent } from '@sessionkit/core';
import { ManualClock } from '@sessionkit/core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { currentTotp } from '../src/user-directory.js';
import type { Backend } from './backends.js';
import { embedded, servers } from './backends.js';

const CHROME_WINDOWS = {
  'user-agent':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'accept-language': 'de-DE,de;q=0.9,en;q=0.8',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Windows"',
};
/** Chrome over plain HTTP: no client hints (they need a secure context), only what every browser sends. */
const CHROME_WINDOWS_NO_HINTS = {
  'user-agent': CHROME_WINDOWS['user-agent'],
  'accept-language': CHROME_WINDOWS['accept-language'],
};
const FIREFOX_LINUX_COPIED_LANGUAGE = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'accept-language': CHROME_WINDOWS['accept-language'],
};
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

async function startApp(backend: Backend, clock: ManualClock, env: Record<string, string> = {}) {
  return startReferenceApp(
    loadConfig({
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      // Each simulated client gets its own address, as behind a real proxy.
      TRUST_PROXY: 'loopback',
      ...env,
      ...(await backend.env()),
    }),
    clock,
  );
}

/** The value of one cookie the answer set. */
function cookieOf(response: request.Response, name: string): string {
  const line = ([] as string[])
    .concat(response.headers['set-cookie'] ?? [])
    .find((cookie) => cookie.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie set`);
  return line.slice(name.length + 1).split(';')[0] ?? '';
}

describe.each([embedded(), servers()])('device binding and lockout over HTTP on $name', (backend) => {
  let app: RunningApp;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    app = await startApp(backend, clock);
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    await backend.cleanup();
  });

  /** A fresh account per test: counters keyed by account never leak between tests or concurrent runs. */
  async function newUser(options: { mfa?: boolean } = {}) {
    const email = `user-${randomBytes(6).toString('hex')}@example.com`;
    const password = `pw ${randomBytes(8).toString('hex')}`;
    await app.users.seed([
      { email, password, displayName: email, ...(options.mfa ? { totpSecret: TOTP_SECRET } : {}) },
    ]);
    return { email, password };
  }

  const login = (
    user: { email: string; password: string },
    ip: string,
    headers: Record<string, string> = {},
    extra: { otp?: string; password?: string } = {},
  ) =>
    request(app.url)
      .post('/api/auth/login')
      .set('x-forwarded-for', ip)
      .set(headers)
      .send({
        email: user.email,
        password: extra.password ?? user.password,
        ...(extra.otp ? { otp: extra.otp } : {}),
      });

  describe('a stolen session cookie replayed from another device (point 3)', () => {
    /** Signs in at AAL 2 from Chrome on Windows, then replays the cookie with `replayHeaders` only. */
    async function replay(replayHeaders: Record<string, string>) {
      const user = await newUser({ mfa: true });
      clock.advance(30_000);
      const ip = '203.0.113.50';
      const signedIn = await login(user, ip, CHROME_WINDOWS_NO_HINTS, {
        otp: currentTotp(TOTP_SECRET, clock.now()),
      });
      expect(signedIn.status).toBe(200);
      const cookie = `sk_session=${cookieOf(signedIn, 'sk_session')}`;
      const events: SessionEvent[] = [];
      const unsubscribe = app.manager.events.subscribe((event) => {
        if (event.type === 'session.context_changed' && event.session.id === signedIn.body.session.id) {
          events.push(event);
        }
      });
      try {
        const owner = await request(app.url)
          .get('/api/me/sessions/current')
          .set('x-forwarded-for', ip)
          .set(CHROME_WINDOWS_NO_HINTS)
          .set('cookie', cookie)
          .expect(200);
        expect(owner.body.session.aal).toBe(2);
        expect(events).toEqual([]);
        const thief = await request(app.url)
          .get('/api/me/sessions/current')
          .unset('user-agent')
          .set('x-forwarded-for', ip)
          .set(replayHeaders)
          .set('cookie', cookie);
        // The owner's next sensitive action now needs a fresh second factor.
        const sensitive = await request(app.url)
          .post('/api/me/sensitive')
          .set('x-forwarded-for', ip)
          .set(CHROME_WINDOWS_NO_HINTS)
          .set('cookie', cookie)
          .set('x-csrf-token', signedIn.body.csrfToken);
        return { thief, sensitive, events };
      } finally {
        unsubscribe();
      }
    }

    it('with no User-Agent and no Accept-Language: a device change (device.missing), answered with step-up', async () => {
      const { thief, sensitive, events } = await replay({});
      expect(thief.status).toBe(200);
      // The reference policy (risk engine defaults): device.changed weighs 0.6, in the step-up band.
      expect(thief.body.session.aal).toBe(1);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'step-up',
        reasons: expect.arrayContaining(['device.missing']),
      });
      expect(sensitive.body).toMatchObject({ status: 403, code: 'aal.insufficient' });
    });

    it('with Firefox on Linux and the copied Accept-Language: the same verdict, from parsed components', async () => {
      const { thief, sensitive, events } = await replay(FIREFOX_LINUX_COPIED_LANGUAGE);
      expect(thief.status).toBe(200);
      expect(thief.body.session.aal).toBe(1);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'step-up',
        reasons: expect.arrayContaining(['device.changed']),
      });
      expect(sensitive.body).toMatchObject({ status: 403, code: 'aal.insufficient' });
    });

    it('with a User-Agent that names no browser: device.unparseable, the same verdict', async () => {
      const { thief, events } = await replay({ 'user-agent': 'curl/8.5.0' });
      expect(thief.body.session.aal).toBe(1);
      expect(events[0]).toMatchObject({
        action: 'step-up',
        reasons: expect.arrayContaining(['device.unparseable']),
      });
    });
  });

  describe('IPv6 networks and the lockout (point 6)', () => {
    it('ten successful logins in a minute (and more) never lock the account out', async () => {
      const user = await newUser();
      const statuses: number[] = [];
      for (let i = 0; i < 12; i += 1)
        statuses.push((await login(user, '198.51.100.60', CHROME_WINDOWS)).status);
      expect(statuses).toEqual(Array(12).fill(200));
    });

    it('16 addresses of one IPv6 /64 count as one client: they lock themselves out, not the owner', async () => {
      const user = await newUser();
      const statuses: number[] = [];
      for (let host = 1; host <= 16; host += 1) {
        const ip = `2001:db8:bad:1:${host.toString(16)}:${((host * 4099) % 65_536).toString(16)}::${host.toString(16)}`;
        statuses.push((await login(user, ip, {}, { password: 'guess' })).status);
      }
      expect(statuses.slice(0, 5)).toEqual(Array(5).fill(401));
      expect(statuses.slice(-5)).toEqual(Array(5).fill(429));
      // Another address of the same /64 with the right password: still that client, still refused.
      expect((await login(user, '2001:db8:bad:1::beef', CHROME_WINDOWS)).status).toBe(429);
      // Only one network failed, so the account-wide lock is untouched: the owner signs in from theirs.
      expect((await login(user, '2001:db8:600d:1::1', CHROME_WINDOWS)).status).toBe(200);
    });

    it("a stranger's failures from many networks lock the account for strangers, never for a known device", async () => {
      const user = await newUser();
      const home = '2001:db8:600d:2::10';
      const known = await login(user, home, CHROME_WINDOWS);
      expect(known.status).toBe(200);
      const deviceCookie = `sk_device=${cookieOf(known, 'sk_device')}`;
      expect(String(known.headers['set-cookie'])).toMatch(/sk_device=[^;]+;.*HttpOnly.*SameSite=Strict/i);
      // A botnet: one wrong guess from each of 11 networks, past the account's 10 free distinct networks.
      for (let network = 0; network < 11; network += 1) {
        const guess = await login(user, `2001:db8:b07:${network}::1`, {}, { password: 'guess' });
        expect(guess.status).toBe(401);
      }
      const stranger = await login(user, '2001:db8:b07:99::1', CHROME_WINDOWS);
      expect(stranger.body).toMatchObject({ status: 429, code: 'rate.limited' });
      // Copying the victim's headers does not help: a fingerprint is not proof of a known device.
      expect((await login(user, home, CHROME_WINDOWS)).status).toBe(429);
      // A forged cookie, or one issued for another account, is no proof either.
      const other = await newUser();
      const otherCookie = `sk_device=${cookieOf(await login(other, home, CHROME_WINDOWS), 'sk_device')}`;
      for (const cookie of [
        otherCookie,
        'sk_device=1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      ]) {
        expect((await login(user, home, CHROME_WINDOWS).set('cookie', cookie)).status).toBe(429);
      }
      // The device that signed in before passes, from home and from a network it never used.
      expect((await login(user, home, CHROME_WINDOWS).set('cookie', deviceCookie)).status).toBe(200);
      expect(
        (await login(user, '2001:db8:cafe:3::1', CHROME_WINDOWS).set('cookie', deviceCookie)).status,
      ).toBe(200);
    });
  });
});

describe('the IPv6 client prefix is configurable (IPV6_CLIENT_PREFIX)', () => {
  const backend = embedded();
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp(backend, new ManualClock(Date.now()), { IPV6_CLIENT_PREFIX: '48' });
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    await backend.cleanup();
  });

  it('with /48, a client rotating through the /64s of its /48 is one client', async () => {
    const email = `user-${randomBytes(6).toString('hex')}@example.com`;
    await app.users.seed([{ email, password: 'right password', displayName: email }]);
    const statuses: number[] = [];
    for (let subnet = 0; subnet < 8; subnet += 1) {
      const response = await request(app.url)
        .post('/api/auth/login')
        .set('x-forwarded-for', `2001:db8:48:${subnet}::1`)
        .send({ email, password: 'guess' });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 5)).toEqual(Array(5).fill(401));
    expect(statuses.slice(-2)).toEqual([429, 429]);
    expect(() => loadConfig({ IPV6_CLIENT_PREFIX: '129' })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
  });
});
