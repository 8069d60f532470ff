import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreKind, TestApp } from './harness.js';
import { CLIENT_AUTH, OAUTH_CLIENT, storeKinds, testApp } from './harness.js';

interface Issued {
  token: string;
  accessToken: string;
  refreshToken: string;
  session: { id: string };
}

describe.each(storeKinds)('JWKS, introspection and revocation (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  async function login(userId = 'alice'): Promise<Issued> {
    return (await request(t.app).post('/login').send({ userId, bearer: true })).body as Issued;
  }
  const introspect = (token: unknown, auth = CLIENT_AUTH) =>
    request(t.app).post('/oauth/introspect').set('authorization', auth).type('form').send({ token });
  const revoke = (token: string) =>
    request(t.app).post('/oauth/revoke').set('authorization', CLIENT_AUTH).type('form').send({ token });

  it('publishes a JWKS that verifies the access tokens it issues', async () => {
    t = await testApp(kind, { accessTokens: true });
    const { accessToken } = await login();
    const res = await request(t.app).get('/.well-known/jwks.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    const jwks = JSON.parse(res.text) as { keys: { d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { payload } = await jwtVerify(accessToken, createLocalJWKSet(JSON.parse(res.text)), {
      issuer: 'test',
    });
    expect(payload.sub).toBe('alice');
  });

  it('introspects session, access and refresh tokens as active (RFC 7662)', async () => {
    t = await testApp(kind, { accessTokens: true });
    const issued = await login();
    const session = await introspect(issued.token).expect(200);
    expect(session.headers['cache-control']).toBe('no-store');
    expect(session.body).toMatchObject({
      active: true,
      token_type: 'session_token',
      sub: 'alice',
      sid: issued.session.id,
    });
    expect(session.body.exp).toBeGreaterThan(Math.floor(t.clock.now() / 1000));
    const access = await introspect(issued.accessToken).expect(200);
    expect(access.body).toMatchObject({ active: true, token_type: 'access_token', sub: 'alice', aal: 1 });
    const json = await request(t.app)
      .post('/oauth/introspect')
      .set('authorization', CLIENT_AUTH)
      .send({ token: issued.refreshToken })
      .expect(200);
    expect(json.body).toMatchObject({ active: true, token_type: 'refresh_token', sid: issued.session.id });
  });

  it('answers {active:false} for anything that is not a live token, and 401/400 for bad calls', async () => {
    t = await testApp(kind, { accessTokens: true });
    const issued = await login();
    for (const token of ['garbage', 'a.b.c', `rt_${'A'.repeat(22)}.${'B'.repeat(43)}`, 'x'.repeat(5000)]) {
      expect((await introspect(token).expect(200)).body).toEqual({ active: false });
    }
    await t.manager.revoke(issued.session.id);
    for (const token of [issued.token, issued.accessToken, issued.refreshToken]) {
      expect((await introspect(token).expect(200)).body).toEqual({ active: false });
    }
    const unauthenticated = await introspect(issued.token, 'Basic bm9wZTpub3Bl').expect(401);
    expect(unauthenticated.body).toMatchObject({ error: 'invalid_client' });
    const missing = await request(t.app)
      .post('/oauth/introspect')
      .set('authorization', CLIENT_AUTH)
      .type('form')
      .send({});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'invalid_request' });
  });

  it('answers malformed client authentication with 401 invalid_client, never a 500 (RFC 6749 §2.3.1, §5.2)', async () => {
    t = await testApp(kind);
    const issued = await login();
    const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64');
    const { id, secret } = OAUTH_CLIENT;
    const malformed = [
      `Basic ${b64(`%zz:${secret}`)}`,
      `Basic ${b64(`${id}:%E0%A4%A`)}`,
      `Basic ${b64(Buffer.from([0xc3, 0x28, 0x3a, 0x41]))}`,
      `Basic ${b64(`${id}${secret}`)}`,
      `Basic ${b64(`:${secret}`)}`,
      `Basic ${b64(`${id}:${secret}%0a`)}`,
      `${CLIENT_AUTH}=`,
      `${CLIENT_AUTH}, Bearer ${issued.token}`,
      `Bearer ${b64(`${id}:${secret}`)}`,
      `Basic ${'QUFB'.repeat(400)}`,
    ];
    for (const path of ['/oauth/introspect', '/oauth/revoke']) {
      for (const authorization of malformed) {
        const res = await request(t.app)
          .post(path)
          .set('authorization', authorization)
          .type('form')
          .send({ token: issued.token });
        expect(res.status, authorization).toBe(401);
        expect(res.body).toMatchObject({ error: 'invalid_client' });
        expect(res.headers['www-authenticate']).toBe('Basic realm="sessionkit"');
      }
    }
    // Node keeps the first of repeated headers, a proxy may have judged the last: ambiguous, so refused.
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const repeated = await new Promise<number | undefined>((resolve, reject) => {
      const { port } = server.address() as AddressInfo;
      const body = new URLSearchParams({ token: issued.token }).toString();
      const headers = [
        ['host', `127.0.0.1:${port}`],
        ['authorization', CLIENT_AUTH],
        ['authorization', `Basic ${b64('intruder:guess')}`],
        ['content-type', 'application/x-www-form-urlencoded'],
      ].flat();
      httpRequest({ port, host: '127.0.0.1', path: '/oauth/revoke', method: 'POST', headers }, (res) => {
        res.resume().on('end', () => resolve(res.statusCode));
      })
        .on('error', reject)
        .end(body);
    });
    await new Promise((resolve) => server.close(resolve));
    expect(repeated).toBe(401);
    expect(t.serverErrors).toEqual([]);
    expect((await t.manager.get(issued.session.id))?.state).toBe('active');
    const encoded = `basic  ${b64(`%72s:rs%2dsecret`)}`;
    expect((await introspect(issued.token, encoded).expect(200)).body).toMatchObject({ active: true });
  });

  it('a refreshed-away refresh token introspects inactive without being consumed by introspection', async () => {
    t = await testApp(kind);
    const issued = await login();
    expect((await introspect(issued.refreshToken)).body).toMatchObject({ active: true });
    const rotated = await t.manager.refresh(issued.refreshToken);
    expect((await introspect(issued.refreshToken)).body).toEqual({ active: false });
    expect((await introspect(rotated.refreshToken)).body).toMatchObject({ active: true });
  });

  it('revokes the session behind a session, access or refresh token (RFC 7009)', async () => {
    t = await testApp(kind, { accessTokens: true });
    for (const pick of ['token', 'accessToken', 'refreshToken'] as const) {
      const issued = await login();
      const res = await revoke(issued[pick]).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect((await t.manager.get(issued.session.id))?.state).toBe('revoked');
      await request(t.app).get('/whoami').set('authorization', `Bearer ${issued.token}`).expect(401);
    }
  });

  it('answers 200 for unknown, invalid and already revoked tokens and revokes nothing on a wrong secret', async () => {
    t = await testApp(kind);
    const issued = await login();
    const [id] = issued.token.split('.');
    await revoke('garbage').expect(200);
    await revoke(`${id}.${'A'.repeat(43)}`).expect(200);
    await revoke(`rt_${id}.${'A'.repeat(43)}`).expect(200);
    expect((await t.manager.get(issued.session.id))?.state).toBe('active');
    await revoke(issued.token).expect(200);
    await revoke(issued.token).expect(200);
    const unauthenticated = await request(t.app)
      .post('/oauth/revoke')
      .type('form')
      .send({ token: issued.token });
    expect(unauthenticated.status).toBe(401);
  });
});
