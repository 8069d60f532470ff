import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, MemoryStore, SessionManager, StoreUnavailableError } from '@sessionkit/core';
import type { JWTPayload } from 'jose';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, BackchannelLogoutReceiver, sessionsByMetadata } from '../src/index.js';
import type { App } from './fixture.js';
import { signIn, startApp } from './fixture.js';
import { codeOf } from './helpers.js';
import { LoopbackProvider, POST_LOGOUT_URI } from './loopback-provider.js';
import { UserAgent } from './user-agent.js';

describe('back-channel logout sent by the real provider', () => {
  let idp: LoopbackProvider;
  let app: App;
  let receiver: BackchannelLogoutReceiver;
  let rp: Server;
  const delivered: string[] = [];

  beforeAll(async () => {
    // The app's logout endpoint, framework-free: the raw form body in, the receiver's response out.
    rp = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        delivered.push(new URLSearchParams(body).get('logout_token') ?? '');
        receiver.handleRequest(body).then((answer) => {
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
        });
      });
    });
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
    const port = (rp.address() as AddressInfo).port;
    idp = await LoopbackProvider.start({
      backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout`,
    });
    app = await startApp(idp);
    receiver = BackchannelLogoutReceiver.forClient(app.client, {
      manager: app.manager,
      sessionsForSid: sessionsByMetadata({ manager: app.manager, key: 'idpSid' }),
    });
  });
  afterAll(async () => {
    await idp.stop();
    await new Promise<void>((resolve) => rp.close(() => resolve()));
  });

  it('revokes exactly the sessions of the provider session that logged out, and refuses a replay', async () => {
    const laptop = await signIn(app, idp, 'nina', new UserAgent());
    const phone = await signIn(app, idp, 'nina', new UserAgent());
    expect(laptop.claims.sid).toEqual(expect.any(String));
    expect(laptop.claims.sid).not.toBe(phone.claims.sid);

    const endSession = app.client.endSessionUrl({
      idTokenHint: laptop.tokens.idToken!,
      postLogoutRedirectUri: POST_LOGOUT_URI,
    });
    await laptop.agent.endSession(endSession!, POST_LOGOUT_URI);

    expect(delivered).toHaveLength(1);
    expect((await app.store.get(laptop.sessionId))?.state).toBe('revoked');
    expect((await app.store.get(laptop.sessionId))?.revokeReason).toBe('upstream.logout');
    expect((await app.store.get(phone.sessionId))?.state).toBe('active');
    expect(app.events.at(-1)).toMatchObject({
      type: 'session.revoked',
      reason: 'upstream.logout',
      by: 'policy',
    });

    const replay = await receiver.handleRequest(new URLSearchParams({ logout_token: delivered[0]! }));
    expect(replay).toMatchObject({ status: 400, body: JSON.stringify({ error: 'invalid_request' }) });
    expect(replay.headers['cache-control']).toBe('no-store');
  });

  it('verifies the provider logout token claims', async () => {
    const user = await signIn(app, idp, 'oscar', new UserAgent());
    const before = delivered.length;
    await user.agent.endSession(
      app.client.endSessionUrl({ idTokenHint: user.tokens.idToken, postLogoutRedirectUri: POST_LOGOUT_URI })!,
      POST_LOGOUT_URI,
    );
    const token = delivered[before]!;
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ typ: 'logout+jwt', alg: 'RS256' });
    expect(payload).toMatchObject({
      iss: idp.issuer,
      aud: app.client.clientId,
      sub: 'oscar',
      sid: user.claims.sid,
    });
    expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
    expect((await app.store.get(user.sessionId))?.state).toBe('revoked');
  });
});

describe('logout token verification', () => {
  const ISSUER = 'https://idp.example';
  const AUDIENCE = 'app';
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  beforeAll(async () => {
    keys = await generateKeyPair('ES256');
    jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' }] });
  });

  async function setup() {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const store = new MemoryStore({ now: () => clock.now() });
    const manager = new SessionManager({ store, clock, config: { ipHashKey: 'k'.repeat(32) } });
    const receiver = new BackchannelLogoutReceiver({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks,
      manager,
      clock,
      sessionsForSid: sessionsByMetadata({ manager, key: 'idpSid' }),
      userIdForSubject: (sub) => (sub === 'ghost' ? undefined : `user:${sub}`),
    });
    const sign = (claims: JWTPayload, header: Record<string, unknown> = {}, key = keys.privateKey) =>
      new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, jti: crypto.randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt', ...header })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(claims.iat ?? Math.floor(clock.now() / 1000))
        .sign(key);
    return { clock, manager, receiver, sign };
  }

  it('lets the provider retry a token whose revocation failed, instead of refusing it as a replay', async () => {
    const { manager, sign, clock } = await setup();
    const session = await manager.create({ userId: 'user:pat', metadata: { idpSid: 's9' } });
    let outage = true;
    const lookup = sessionsByMetadata({ manager, key: 'idpSid', userIdForSubject: (sub) => `user:${sub}` });
    const receiver = new BackchannelLogoutReceiver({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks,
      manager,
      clock,
      // The app's lookup reads the session store, which is down for the first delivery.
      sessionsForSid: (claims) => {
        if (outage) throw new StoreUnavailableError('sessions store is restarting');
        return lookup(claims);
      },
    });
    const token = await sign({ sub: 'pat', sid: 's9' });
    expect((await receiver.handleRequest(new URLSearchParams({ logout_token: token }))).status).toBe(503);
    outage = false;
    expect((await receiver.handleRequest(new URLSearchParams({ logout_token: token }))).status).toBe(200);
    expect((await manager.get(session.session.id))?.state).toBe('revoked');
    expect((await receiver.handleRequest(new URLSearchParams({ logout_token: token }))).status).toBe(400);
  });

  it('revokes the active and suspended sessions of a sid-only token through userIdForSid', async () => {
    const { clock, manager, sign } = await setup();
    const laptop = await manager.create({ userId: 'user:pat', metadata: { idpSid: 's7' } });
    const away = await manager.create({ userId: 'user:pat', metadata: { idpSid: 's7' } });
    await manager.suspend(away.session.id);
    const phone = await manager.create({ userId: 'user:pat', metadata: { idpSid: 's8' } });
    const lookup = (userIdForSid?: (sid: string) => Promise<string | undefined>) =>
      new BackchannelLogoutReceiver({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks,
        manager,
        clock,
        sessionsForSid: sessionsByMetadata({
          manager,
          key: 'idpSid',
          ...(userIdForSid === undefined ? {} : { userIdForSid }),
        }),
      });
    // Without the app's sid record there is nobody to look at: nothing is revoked (the old, silent outcome).
    expect(await lookup().logout(await sign({ sid: 's7' }))).toEqual({ revoked: 0, by: 'sid' });
    const receiver = lookup(async (sid) => (sid === 's7' || sid === 's8' ? 'user:pat' : undefined));
    expect(await receiver.logout(await sign({ sid: 's7' }))).toEqual({ revoked: 2, by: 'sid' });
    expect((await manager.get(laptop.session.id))?.state).toBe('revoked');
    expect((await manager.get(away.session.id))?.state).toBe('revoked');
    expect((await manager.get(phone.session.id))?.state).toBe('active');
    expect(await receiver.logout(await sign({ sid: 'unknown' }))).toEqual({ revoked: 0, by: 'sid' });
  });

  it('revokes every session of the subject for a sub-only token', async () => {
    const { manager, receiver, sign } = await setup();
    await manager.create({ userId: 'user:pat' });
    await manager.create({ userId: 'user:pat' });
    const other = await manager.create({ userId: 'user:quinn' });
    expect(await receiver.logout(await sign({ sub: 'pat' }))).toEqual({ revoked: 2, by: 'sub' });
    expect((await manager.get(other.session.id))?.state).toBe('active');
    expect(await receiver.logout(await sign({ sub: 'ghost' }))).toEqual({ revoked: 0, by: 'sub' });
  });

  it('rejects every malformed or misdirected token with token.invalid and never revokes', async () => {
    const { clock, manager, receiver, sign } = await setup();
    const session = await manager.create({ userId: 'user:pat', metadata: { idpSid: 's1' } });
    const otherKey = (await generateKeyPair('ES256')).privateKey;
    const cases: Record<string, Promise<string>> = {
      nonce: sign({ sub: 'pat', sid: 's1', nonce: 'n' }),
      noEvents: sign({ sub: 'pat', sid: 's1', events: { 'urn:other': {} } }),
      eventNotObject: sign({ sub: 'pat', events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }),
      neitherSubNorSid: sign({}),
      wrongType: sign({ sub: 'pat' }, { typ: 'JWT' }),
      wrongAudience: new SignJWT({ sub: 'pat', jti: 'x', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience('someone-else')
        .setIssuedAt(Math.floor(clock.now() / 1000))
        .sign(keys.privateKey),
      wrongKey: sign({ sub: 'pat' }, {}, otherKey),
      noJti: new SignJWT({ sub: 'pat', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(clock.now() / 1000))
        .sign(keys.privateKey),
      fromTheFuture: sign({ sub: 'pat', iat: Math.floor(clock.now() / 1000) + 600 }),
    };
    for (const [name, token] of Object.entries(cases)) {
      expect([name, await codeOf(receiver.verifyLogoutToken(await token))]).toEqual([name, 'token.invalid']);
    }
    for (const bad of [undefined, 42, '', 'a.b.c', 'x'.repeat(20_000)]) {
      expect(await codeOf(receiver.verifyLogoutToken(bad))).toBe('token.invalid');
    }
    expect((await receiver.handleRequest('logout_token=')).status).toBe(400);
    expect((await receiver.handleRequest({ logout_token: await cases.nonce })).status).toBe(400);
    expect((await manager.get(session.session.id))?.state).toBe('active');
  });

  it('rejects an expired token and answers 503 when the provider keys cannot be fetched', async () => {
    const { clock, manager, receiver, sign } = await setup();
    const expired = await sign({ sub: 'pat', exp: Math.floor(clock.now() / 1000) + 10 });
    clock.advance(60_000);
    expect(await codeOf(receiver.verifyLogoutToken(expired))).toBe('token.expired');
    const tooOld = await sign({ sub: 'pat', iat: Math.floor(clock.now() / 1000) - 600 });
    expect(await codeOf(receiver.verifyLogoutToken(tooOld))).toBe('token.expired');
    const unreachable = new BackchannelLogoutReceiver({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: async () => {
        throw new TypeError('fetch failed');
      },
      manager,
      clock,
      sessionsForSid: () => [],
    });
    const answer = await unreachable.handleRequest(
      new URLSearchParams({ logout_token: await sign({ sub: 'pat' }) }),
    );
    expect(answer).toMatchObject({ status: 503, body: JSON.stringify({ error: 'temporarily_unavailable' }) });
  });
});
