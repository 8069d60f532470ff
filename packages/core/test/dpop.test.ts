import type { CryptoKey } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { DpopNonces } from '../src/dpop-nonce.js';
import { DpopProofVerifier, normalisedHtu } from '../src/dpop-proof.js';
import { MemoryDpopReplayCache } from '../src/dpop-replay-cache.js';
import type { SessionKitError } from '../src/errors.js';
import { describeDpopReplayCacheConformance } from '../src/store-kit/testing.js';
import { harness } from './helpers.js';

const SECRET = 'a shared secret of at least thirty-two characters';

describe('DpopNonces', () => {
  it('mints the same nonce on every instance sharing the secret, accepted from one window early to one late', () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const first = new DpopNonces({ secret: SECRET, clock, windowMs: 60_000 });
    const second = new DpopNonces({ secret: SECRET, clock, windowMs: 60_000 });
    const nonce = first.current();
    expect(second.current()).toBe(nonce);
    expect(second.isValid(nonce)).toBe(true);
    clock.advance(60_000);
    expect(second.current()).not.toBe(nonce);
    expect(second.isValid(nonce)).toBe(true);
    clock.advance(60_000);
    expect(second.isValid(nonce)).toBe(false);
    clock.advance(-180_000);
    expect(second.isValid(nonce)).toBe(true);
    clock.advance(-60_000);
    expect(second.isValid(nonce)).toBe(false);
  });

  it('refuses nonces of another secret and forged ones', () => {
    const clock = new ManualClock();
    const ours = new DpopNonces({ secret: SECRET, clock });
    const theirs = new DpopNonces({ secret: `${SECRET}, but another`, clock });
    expect(ours.isValid(theirs.current())).toBe(false);
    expect(ours.isValid(`${ours.current().split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAA`)).toBe(false);
    expect(ours.isValid('')).toBe(false);
  });
});

const shared = new MemoryDpopReplayCache();
describeDpopReplayCacheConformance('MemoryDpopReplayCache', async () => shared);

describe('MemoryDpopReplayCache', () => {
  it('refuses new proofs when full of live ones rather than forget one early, and makes room as they expire', async () => {
    const cache = new MemoryDpopReplayCache({ maxEntries: 2 });
    await cache.claimOnce('a', 2000, 0);
    await cache.claimOnce('b', 1000, 0);
    await expect(cache.claimOnce('c', 3000, 500)).rejects.toMatchObject({ code: 'store.unavailable' });
    expect(await cache.claimOnce('c', 3000, 1500)).toBe(true);
    expect(cache.size).toBe(2);
    expect(await cache.claimOnce('a', 4000, 1500)).toBe(false);
  });
});

describe('normalisedHtu', () => {
  it('ignores query, fragment, scheme and host case, the default port, and unreserved escapes', () => {
    const base = normalisedHtu('https://api.example.com/a/b~c');
    expect(normalisedHtu('HTTPS://API.example.COM:443/a/b%7ec?x=1#y')).toBe(base);
    expect(normalisedHtu('https://api.example.com/a/./b~c')).toBe(base);
    expect(normalisedHtu('https://api.example.com:8443/a/b~c')).not.toBe(base);
    expect(normalisedHtu('http://api.example.com/a/b~c')).not.toBe(base);
    expect(normalisedHtu('ftp://api.example.com/a')).toBeUndefined();
  });
});

describe('DPoP binding in the session engine', () => {
  async function proof(privateKey: CryptoKey, publicJwk: Record<string, unknown>, iat: number) {
    return new SignJWT({ jti: crypto.randomUUID(), htm: 'POST', htu: 'https://x.test/refresh', iat })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })
      .sign(privateKey);
  }

  it('puts cnf.jkt in access tokens of a bound session, from creation through refresh', async () => {
    const { manager, clock } = await harness({ refresh: { enabled: true } }, { withAccessTokens: true });
    const verifier = new DpopProofVerifier({ replayCache: new MemoryDpopReplayCache(), clock });
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const iat = Math.floor(clock.now() / 1000);
    const { jkt } = await verifier.verify({
      proof: await proof(privateKey, { kty, crv, x, y }, iat),
      method: 'POST',
      url: 'https://x.test/refresh?ignored=1',
    });
    const issued = await manager.create({ userId: 'u1', dpopJkt: jkt });
    const validated = await manager.validate(issued.accessToken, { tier: 'fast' });
    expect(validated.dpopJkt).toBe(jkt);
    expect((await manager.validate(issued.token)).dpopJkt).toBe(jkt);
    expect(issued.session.metadata).toEqual({});

    const refused = await manager.refresh(issued.refreshToken).catch((error: SessionKitError) => error.code);
    expect(refused).toBe('binding.required');
    const refreshed = await manager.refresh(issued.refreshToken, { dpopJkt: jkt });
    expect((await manager.validate(refreshed.accessToken, { tier: 'fast' })).dpopJkt).toBe(jkt);
  });
});
