import type { CryptoKey, JWTHeaderParameters } from 'jose';
import { exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AccessTokenKeyRing, looksLikeJwt } from '../src/access-token.js';
import { ManualClock } from '../src/clock.js';
import { newSessionId } from '../src/opaque-token.js';
import { codeOf } from './helpers.js';

const TTL = 300_000;

async function ring(alg: 'EdDSA' | 'ES256' = 'EdDSA') {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const keys = await AccessTokenKeyRing.generate(
    { issuer: 'https://issuer', audience: 'api', ttlMs: TTL, clock },
    alg,
  );
  return { clock, keys };
}

const subject = {
  userId: 'alice',
  sessionId: newSessionId(),
  aal: 2 as const,
  authenticatedAt: Date.UTC(2026, 5, 1),
};

/** A token with valid-looking claims for our issuer and audience, signed however a test's attacker chooses. */
function forge(header: JWTHeaderParameters, key: CryptoKey | Uint8Array, aal = 3): Promise<string> {
  return new SignJWT({ sid: subject.sessionId, aal, auth_time: 1 })
    .setProtectedHeader(header)
    .setSubject('alice')
    .setIssuer('https://issuer')
    .setAudience('api')
    .setIssuedAt()
    .setJti('x')
    .setExpirationTime('5m')
    .sign(key);
}

describe('access tokens', () => {
  it.each([
    'EdDSA',
    'ES256',
  ] as const)('signs and verifies %s with pinned typ, kid, sub, sid, aal, jti', async (alg) => {
    const { keys } = await ring(alg);
    const { token, expiresAt } = await keys.sign({ ...subject, tenantId: 'acme' });
    expect(looksLikeJwt(token)).toBe(true);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
    expect(header).toEqual({ alg, kid: keys.signingKey.kid, typ: 'at+jwt' });
    const claims = await keys.verify(token);
    expect(claims).toMatchObject({ sub: 'alice', sid: subject.sessionId, aal: 2, tenantId: 'acme' });
    expect(claims.exp * 1000).toBe(expiresAt);
    expect(claims.jti.length).toBeGreaterThan(10);
  });

  it('rejects expired tokens and tokens for another audience or issuer', async () => {
    const { keys, clock } = await ring();
    const { token } = await keys.sign(subject);
    clock.advance(TTL + 1000);
    expect(await codeOf(keys.verify(token))).toBe('token.expired');
    const other = await AccessTokenKeyRing.fromJwks(
      { issuer: 'https://issuer', audience: 'other-api', ttlMs: TTL, clock },
      await keys.exportPrivateJwks(),
    );
    const fresh = await keys.sign(subject);
    expect(await codeOf(other.verify(fresh.token))).toBe('token.invalid');
  });

  it('rejects alg none, HS256 signed with the public key (key confusion), and foreign keys', async () => {
    const { keys } = await ring();
    const unsecured = new UnsecuredJWT({ sid: subject.sessionId, aal: 3 })
      .setSubject('alice')
      .setIssuer('https://issuer')
      .setAudience('api')
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    expect(await codeOf(keys.verify(unsecured))).toBe('token.invalid');

    const publicJwk = (await keys.jwks()).keys[0];
    const hmacSecret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const confused = await forge({ alg: 'HS256', kid: keys.signingKey.kid, typ: 'at+jwt' }, hmacSecret);
    expect(await codeOf(keys.verify(confused))).toBe('token.invalid');

    const attacker = await generateKeyPair('EdDSA');
    const embedded = await forge(
      {
        alg: 'EdDSA',
        kid: keys.signingKey.kid,
        typ: 'at+jwt',
        jwk: await exportJWK(attacker.publicKey),
        jku: 'https://evil.example/jwks',
      },
      attacker.privateKey,
    );
    expect(await codeOf(keys.verify(embedded))).toBe('token.invalid');
  });

  it('rejects a JWT of another type (an ID token is not an access token)', async () => {
    const { keys } = await ring();
    const key = keys.signingKey;
    const idToken = await forge({ alg: key.alg, kid: key.kid, typ: 'JWT' }, key.privateKey, 1);
    expect(await codeOf(keys.verify(idToken))).toBe('token.invalid');
  });

  it('keeps verifying tokens of a rotated-out key until it retires, and publishes it meanwhile', async () => {
    const { keys, clock } = await ring();
    const old = await keys.sign(subject);
    const oldKid = keys.signingKey.kid;
    await keys.rotate('ES256');
    const fresh = await keys.sign(subject);
    expect(keys.signingKey.kid).not.toBe(oldKid);
    await expect(keys.verify(old.token)).resolves.toMatchObject({ sub: 'alice' });
    await expect(keys.verify(fresh.token)).resolves.toMatchObject({ sub: 'alice' });
    expect((await keys.jwks()).keys.map((key) => key.kid)).toContain(oldKid);
    clock.advance(TTL + 61_000);
    keys.prune();
    expect((await keys.jwks()).keys.map((key) => key.kid)).toEqual([keys.signingKey.kid]);
    expect((await keys.jwks()).keys[0]).not.toHaveProperty('d');
  });

  it('round-trips retiresAt through exportPrivateJwks and fromJwks: a loaded ring retires keys on time', async () => {
    const { keys, clock } = await ring();
    const old = await keys.sign(subject);
    const oldKid = keys.signingKey.kid;
    await keys.rotate();
    const exported = await keys.exportPrivateJwks();
    expect(exported[0]).toMatchObject({ kid: oldKid, retiresAt: clock.now() + TTL + 60_000 });
    expect(exported[1]).not.toHaveProperty('retiresAt');

    const loaded = await AccessTokenKeyRing.fromJwks(
      { issuer: 'https://issuer', audience: 'api', ttlMs: TTL, clock },
      exported,
    );
    expect(await loaded.exportPrivateJwks()).toEqual(exported);
    await expect(loaded.verify(old.token)).resolves.toMatchObject({ sub: 'alice' });
    clock.advance(TTL + 61_000);
    // A token the retired key signs now, with a fresh expiry, no longer verifies on the loaded ring.
    const retired = exported[0]!;
    const late = await forge(
      { alg: retired.alg, kid: retired.kid, typ: 'at+jwt' },
      (await importJWK(retired, retired.alg)) as CryptoKey,
    );
    expect(await codeOf(loaded.verify(late))).toBe('token.invalid');
    expect((await loaded.jwks()).keys.map((key) => key.kid)).toEqual([loaded.signingKey.kid]);
  });

  it('load replaces every key at once, and a malformed set leaves the ring as it was', async () => {
    const { keys, clock } = await ring();
    const other = await ring();
    const options = { issuer: 'https://issuer', audience: 'api', ttlMs: TTL, clock };
    const shared = await AccessTokenKeyRing.fromJwks(options, await keys.exportPrivateJwks());
    await shared.load(await other.keys.exportPrivateJwks());
    expect(shared.signingKey.kid).toBe(other.keys.signingKey.kid);
    expect(await codeOf(shared.verify((await keys.sign(subject)).token))).toBe('token.invalid');
    expect(await codeOf(shared.load([...(await keys.exportPrivateJwks()), { kty: 'oct' }]))).toBe(
      'input.invalid',
    );
    expect(shared.signingKey.kid).toBe(other.keys.signingKey.kid);
  });

  it('loads keys from private JWKs and refuses malformed ones', async () => {
    const { keys, clock } = await ring('ES256');
    const loaded = await AccessTokenKeyRing.fromJwks(
      { issuer: 'https://issuer', audience: 'api', ttlMs: TTL, clock },
      await keys.exportPrivateJwks(),
    );
    const { token } = await keys.sign(subject);
    await expect(loaded.verify(token)).resolves.toMatchObject({ sid: subject.sessionId });
    const options = { issuer: 'i', audience: 'a', ttlMs: TTL, clock };
    expect(await codeOf(AccessTokenKeyRing.fromJwks(options, [{ kty: 'oct', k: 'abc' }]))).toBe(
      'input.invalid',
    );
    expect(await codeOf(AccessTokenKeyRing.fromJwks(options, []))).toBe('input.invalid');
  });
});
