import type { SessionManager } from '@sessionkit/core';
import {
  BACKCHANNEL_LOGOUT_EVENT,
  BackchannelLogoutReceiver,
  sessionsByMetadata,
} from '@sessionkit/upstream';
import type { JWK, JWTPayload } from 'jose';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import request from 'supertest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backChannelLogoutRouter } from '../src/index.js';
import type { StoreKind, TestApp } from './harness.js';
import { storeKinds, testApp } from './harness.js';

const ISSUER = 'https://idp.example';
const CLIENT_ID = 'sessionkit-rp';
type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

let issuerKeys: Keys;
let strangerKeys: Keys;
let issuerJwk: JWK;

beforeAll(async () => {
  issuerKeys = await generateKeyPair('ES256');
  strangerKeys = await generateKeyPair('ES256');
  issuerJwk = { ...(await exportJWK(issuerKeys.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
});

let jtiCounter = 0;
/** Claims as the tests write them: an undefined claim is absent from the signed token, which is JSON. */
type Claims = { [K in keyof JWTPayload]?: JWTPayload[K] | undefined };

function claims(overrides: Claims = {}): JWTPayload {
  jtiCounter += 1;
  const all = {
    sub: 'alice',
    jti: `jti-${jtiCounter}`,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...overrides,
  };
  return all as JWTPayload;
}

async function logoutToken(
  payload: Claims,
  options: {
    now: number;
    key?: Keys['privateKey'];
    iss?: string;
    aud?: string;
    iatOffset?: number;
    typ?: string;
  },
) {
  const iat = Math.floor(options.now / 1000) + (options.iatOffset ?? 0);
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: options.typ ?? 'logout+jwt' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? CLIENT_ID)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 120)
    .sign(options.key ?? issuerKeys.privateKey);
}

describe.each(storeKinds)('OpenID Connect Back-Channel Logout receiver (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  let engine: SessionManager;
  /** The app's own record of which provider sid each local session came from. */
  const providerSids = new Map<string, string[]>();
  /** Or: of which user signed in under each provider sid, the sessions themselves carrying `idpSid`. */
  const sidUsers = new Map<string, string>();
  afterEach(async () => {
    providerSids.clear();
    sidUsers.clear();
    await t.close();
  });

  async function setup(lookup: 'map' | 'metadata' = 'map') {
    t = await testApp(kind, {
      extend: (app, manager, clock) => {
        engine = manager;
        const receiver = new BackchannelLogoutReceiver({
          manager,
          clock,
          issuer: ISSUER,
          audience: CLIENT_ID,
          jwks: createLocalJWKSet({ keys: [issuerJwk] }),
          sessionsForSid:
            lookup === 'map'
              ? (logout) => providerSids.get(logout.sid) ?? []
              : sessionsByMetadata({ manager, key: 'idpSid', userIdForSid: (sid) => sidUsers.get(sid) }),
        });
        app.use('/bcl', backChannelLogoutRouter({ receiver }));
      },
    });
  }
  const post = (path: string, token: string) =>
    request(t.app).post(path).type('form').send({ logout_token: token });
  const login = async (userId: string) =>
    (await request(t.app).post('/login').send({ userId, bearer: true })).body as {
      token: string;
      session: { id: string };
    };
  const isLive = async (token: string) =>
    (await request(t.app).get('/whoami').set('authorization', `Bearer ${token}`)).status === 200;

  it("revokes every session of the token's sub and answers 200 with no-store", async () => {
    await setup();
    const phone = await login('alice');
    const laptop = await login('alice');
    const bob = await login('bob');
    const res = await post('/bcl', await logoutToken(claims(), { now: t.clock.now() })).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await isLive(phone.token)).toBe(false);
    expect(await isLive(laptop.token)).toBe(false);
    expect(await isLive(bob.token)).toBe(true);
  });

  it('revokes only the sessions the app maps a provider sid to', async () => {
    await setup();
    const phone = await login('alice');
    const laptop = await login('alice');
    providerSids.set('idp-sid-1', [phone.session.id]);
    const token = await logoutToken(claims({ sub: undefined, sid: 'idp-sid-1' }), { now: t.clock.now() });
    await post('/bcl', token).expect(200);
    expect(await isLive(phone.token)).toBe(false);
    expect(await isLive(laptop.token)).toBe(true);
  });

  it('revokes the active and suspended sessions of a sid-only token found by metadata', async () => {
    await setup('metadata');
    const laptop = await engine.create({ userId: 'alice', metadata: { idpSid: 'idp-sid-7' } });
    const away = await engine.create({ userId: 'alice', metadata: { idpSid: 'idp-sid-7' } });
    const phone = await engine.create({ userId: 'alice', metadata: { idpSid: 'idp-sid-8' } });
    await engine.suspend(away.session.id);
    sidUsers.set('idp-sid-7', 'alice');
    const token = await logoutToken(claims({ sub: undefined, sid: 'idp-sid-7' }), { now: t.clock.now() });
    await post('/bcl', token).expect(200);
    expect((await t.store.get(laptop.session.id))?.state).toBe('revoked');
    expect((await t.store.get(away.session.id))?.state).toBe('revoked');
    expect((await t.store.get(away.session.id))?.revokeReason).toBe('upstream.logout');
    expect((await t.store.get(phone.session.id))?.state).toBe('active');
  });

  it('rejects a replayed logout token (same jti) with 400', async () => {
    await setup();
    const token = await logoutToken(claims(), { now: t.clock.now() });
    await post('/bcl', token).expect(200);
    const replay = await post('/bcl', token).expect(400);
    expect(replay.body).toMatchObject({ error: 'invalid_request' });
  });

  it.each([
    ['a foreign signing key', { key: 'stranger' }, {}],
    ['the wrong issuer', { iss: 'https://evil.example' }, {}],
    ['the wrong audience', { aud: 'someone-else' }, {}],
    ['an iat too far in the past', { iatOffset: -3600 }, {}],
    ['a nonce', {}, { nonce: 'n-1' }],
    ['no events claim', {}, { events: undefined }],
    ['the wrong event', {}, { events: { 'http://schemas.openid.net/event/other': {} } }],
    ['a non-object event value', {}, { events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }],
    ['neither sub nor sid', {}, { sub: undefined }],
    ['a token type other than logout+jwt', { typ: 'JWT' }, {}],
    ['no jti', {}, { jti: undefined }],
  ] as const)('answers 400 and revokes nothing for a token with %s', async (_name, signing, overrides) => {
    await setup();
    const alice = await login('alice');
    const payload: Claims = { ...claims(), ...overrides };
    for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete payload[key];
    const token = await logoutToken(payload, {
      now: t.clock.now(),
      ...('key' in signing ? { key: strangerKeys.privateKey } : {}),
      ...('iss' in signing ? { iss: signing.iss } : {}),
      ...('aud' in signing ? { aud: signing.aud } : {}),
      ...('iatOffset' in signing ? { iatOffset: signing.iatOffset } : {}),
      ...('typ' in signing ? { typ: signing.typ } : {}),
    });
    const res = await post('/bcl', token).expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(await isLive(alice.token)).toBe(true);
  });

  it('refuses unsigned and HMAC-signed tokens, garbage and a missing parameter', async () => {
    await setup();
    const alice = await login('alice');
    const now = Math.floor(t.clock.now() / 1000);
    const unsigned = new UnsecuredJWT(claims())
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .setIssuedAt(now)
      .encode();
    await post('/bcl', unsigned).expect(400);
    const hmac = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .setIssuedAt(now)
      .sign(new TextEncoder().encode(JSON.stringify(issuerJwk)));
    await post('/bcl', hmac).expect(400);
    await post('/bcl', 'not.a.jwt').expect(400);
    await request(t.app).post('/bcl').type('form').send({}).expect(400);
    expect(await isLive(alice.token)).toBe(true);
  });

  it('answers 200 and revokes nothing for a sid the app does not know', async () => {
    await setup();
    const alice = await login('alice');
    const token = await logoutToken(claims({ sub: undefined, sid: 'idp-sid-9' }), { now: t.clock.now() });
    await post('/bcl', token).expect(200);
    expect(await isLive(alice.token)).toBe(true);
  });

  it('answers 503, not 400, when the store cannot revoke, so the provider retries', async () => {
    await setup();
    await t.store.close();
    const res = await post('/bcl', await logoutToken(claims(), { now: t.clock.now() })).expect(503);
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
