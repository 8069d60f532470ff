import { MemoryDpopReplayCache } from '@sessionkit/core';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { deviceBoundSessions, endSession } from '../src/index.js';
import type { TestApp } from './harness.js';
import { browserOf, SECURE_COOKIE, setCookies, testApp } from './harness.js';

const SECRET = 'a dbsc secret of at least thirty-two characters';

/** A test app whose `POST /dbsc-logout` ends the session through `endSession` with DBSC on. */
async function appWithDbscLogout(secure?: boolean) {
  const dbsc = deviceBoundSessions({
    secret: SECRET,
    basePath: '/dbsc',
    ...(secure === undefined ? {} : { secure }),
    replayCache: new MemoryDpopReplayCache(),
  });
  return testApp('memory', {
    extend: (app) => {
      app.post('/dbsc-logout', async (req, res) => {
        res.json({ ended: await endSession(req, res, { dbsc }) });
      });
    },
  });
}

describe('logout of a device-bound session', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it.each([
    ['__Host-sk_bound', true],
    ['sk_bound', false],
  ])('clears the bound cookie %s beside the session cookie', async (name, secure) => {
    t = await appWithDbscLogout(secure);
    const { cookie, csrf } = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    const res = await request(t.app)
      .post('/dbsc-logout')
      .set('cookie', cookie)
      .set('x-csrf-token', csrf)
      .expect(200);
    expect(res.body).toEqual({ ended: true });
    const cookies = setCookies(res);
    expect(cookies.get(SECURE_COOKIE)?.line).toMatch(/^__Host-sk_session=; Max-Age=0/);
    const bound = cookies.get(name);
    expect(bound?.value).toBe('');
    // The attributes the bound cookie was set with, or the browser would keep it as another cookie.
    expect(bound?.line).toMatch(/Max-Age=0/);
    expect(bound?.line).toMatch(/; Path=\//);
    expect(bound?.line).toMatch(/; HttpOnly/);
    expect(bound?.line.includes('; Secure')).toBe(secure);
  });

  it('clears no bound cookie without dbsc, and clears it even when the request had no session', async () => {
    t = await appWithDbscLogout();
    const { cookie, csrf } = browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
    const plain = await request(t.app)
      .post('/logout')
      .set('cookie', cookie)
      .set('x-csrf-token', csrf)
      .expect(204);
    expect([...setCookies(plain).keys()].some((name) => name.includes('sk_bound'))).toBe(false);
    const anonymous = await request(t.app).post('/dbsc-logout').expect(200);
    expect(anonymous.body).toEqual({ ended: false });
    expect(setCookies(anonymous).get('__Host-sk_bound')?.value).toBe('');
  });
});
