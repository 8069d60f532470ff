import type { Clock } from '@sessionkit/core';
import { AccessTokenKeyRing } from '@sessionkit/core';
import type { Kysely } from 'kysely';
import type { AppDatabase } from './app-database.js';
import { APP_SCHEMA } from './app-database.js';

const ACCESS_TOKEN_TTL_MS = 5 * 60_000;

/**
 * The access-token key ring, kept in the database so every instance signs and verifies with the same keys and
 * a restart does not invalidate tokens in flight. Two instances racing at first start may each insert a key;
 * both then load the same set in the same order, so they agree on the signing key (the newest).
 */
export async function loadSigningKeys(
  db: Kysely<AppDatabase>,
  clock: Clock,
  issuer: string,
): Promise<AccessTokenKeyRing> {
  const options = { issuer, audience: 'sessionkit-reference', ttlMs: ACCESS_TOKEN_TTL_MS, clock };
  const keys = db.withSchema(APP_SCHEMA);
  const existing = await keys
    .selectFrom('signing_keys')
    .select(['private_jwk'])
    .orderBy('created_at')
    .execute();
  if (existing.length > 0)
    return AccessTokenKeyRing.fromJwks(
      options,
      existing.map((row) => row.private_jwk),
    );
  const fresh = await AccessTokenKeyRing.generate(options, 'EdDSA');
  const [jwk] = await fresh.exportPrivateJwks();
  await keys
    .insertInto('signing_keys')
    .values({ kid: fresh.signingKey.kid, private_jwk: JSON.stringify(jwk) })
    .execute();
  const stored = await keys
    .selectFrom('signing_keys')
    .select(['private_jwk'])
    .orderBy('created_at')
    .execute();
  return AccessTokenKeyRing.fromJwks(
    options,
    stored.map((row) => row.private_jwk),
  );
}
