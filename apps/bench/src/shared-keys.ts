import { createHash, createPrivateKey } from 'node:crypto';
import { AccessTokenKeyRing, systemClock } from '@sessionkit/core';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The one access-token signing key every bench app instance uses, derived from the shared secret (instances
 * that share a store must share the key ring; a real deployment loads it from its secret manager).
 */
export async function sharedAccessTokens(secret: string): Promise<AccessTokenKeyRing> {
  const seed = createHash('sha256').update(`bench-signing-key/${secret}`).digest();
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = { ...key.export({ format: 'jwk' }), kid: 'bench-1', alg: 'EdDSA' };
  return AccessTokenKeyRing.fromJwks(
    { issuer: 'bench', audience: 'bench', ttlMs: 300_000, clock: systemClock },
    [jwk],
  );
}
