import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreKind, TestApp } from './harness.js';
import { browserOf, storeKinds, testApp } from './harness.js';

describe.each(storeKinds)('CSRF protection (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  async function signedIn() {
    t = await testApp(kind);
    return browserOf(await request(t.app).post('/login').send({ userId: 'alice' }));
  }

  it('rejects a cookie-authenticated POST without the token and accepts it with the token', async () => {
    const browser = await signedIn();
    const rejected = await request(t.app)
      .post('/echo')
      .set('cookie', browser.cookie)
      .send({ a: 1 })
      .expect(403);
    expect(rejected.body).toMatchObject({ code: 'csrf.rejected', status: 403 });
    await request(t.app)
      .post('/echo')
      .set('cookie', browser.cookie)
      .set('x-csrf-token', browser.csrf)
      .send({ a: 1 })
      .expect(200);
  });

  it('accepts the token as a _csrf form field', async () => {
    const browser = await signedIn();
    await request(t.app)
      .post('/echo')
      .set('cookie', browser.cookie)
      .type('form')
      .send({ _csrf: browser.csrf, a: '1' })
      .expect(200);
  });

  it("rejects a wrong token and another session's token", async () => {
    const browser = await signedIn();
    const other = browserOf(await request(t.app).post('/login').send({ userId: 'mallory' }));
    await request(t.app)
      .post('/echo')
      .set('cookie', browser.cookie)
      .set('x-csrf-token', 'x'.repeat(43))
      .expect(403);
    await request(t.app)
      .post('/echo')
      .set('cookie', browser.cookie)
      .set('x-csrf-token', other.csrf)
      .expect(403);
  });

  it('rejects cross-site requests by Sec-Fetch-Site or Origin even with the right token', async () => {
    const browser = await signedIn();
    const base = () =>
      request(t.app).post('/echo').set('cookie', browser.cookie).set('x-csrf-token', browser.csrf).send({});
    await base().set('sec-fetch-site', 'cross-site').expect(403);
    await base().set('sec-fetch-site', 'same-site').expect(403);
    await base().set('origin', 'https://evil.example').expect(403);
    await base().set('origin', 'null').expect(403);
    await base().set('sec-fetch-site', 'same-origin').expect(200);
    // The request's own origin: plain http in this test, under whatever Host it was addressed to.
    await base().set('host', 'app.example').set('origin', 'http://app.example').expect(200);
    await base().set('host', 'app.example').set('origin', 'https://app.example').expect(403);
  });

  it('guards login against cross-site posts even without a session (login CSRF)', async () => {
    t = await testApp(kind);
    await request(t.app)
      .post('/login')
      .set('sec-fetch-site', 'cross-site')
      .send({ userId: 'alice' })
      .expect(403);
  });

  it('exempts bearer requests and safe methods', async () => {
    const browser = await signedIn();
    await request(t.app)
      .post('/echo')
      .set('authorization', `Bearer ${browser.token}`)
      .set('sec-fetch-site', 'cross-site')
      .send({})
      .expect(200);
    await request(t.app)
      .get('/whoami')
      .set('cookie', browser.cookie)
      .set('sec-fetch-site', 'cross-site')
      .expect(200);
  });
});
