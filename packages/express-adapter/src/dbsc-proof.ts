import { createHmac, hkdfSync } from 'node:crypto';
import type { Clock, DeviceKey } from '@sessionkit/core';
import { digestsEqual, randomToken } from '@sessionkit/core';
import type { CryptoKey, JWK } from 'jose';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { z } from 'zod';

/** Device Bound Session Credentials, W3C draft: `typ` of the proofs the browser signs. */
export const DBSC_PROOF_TYP = 'dbsc+jwt';
const ALGORITHMS = ['ES256', 'RS256'] as const;
const STAMPED = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/;
const CHALLENGE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})$/;
const publicJwkSchema = z.object({
  kty: z.enum(['EC', 'RSA']),
  crv: z.string().max(16).optional(),
  x: z.string().max(256).optional(),
  y: z.string().max(256).optional(),
  n: z.string().max(2048).optional(),
  e: z.string().max(16).optional(),
});
const headerSchema = z.looseObject({ typ: z.literal(DBSC_PROOF_TYP), alg: z.enum(ALGORITHMS) });
const payloadSchema = z.looseObject({
  jti: z.string().min(1).max(128),
  authorization: z.string().max(256).optional(),
});

/**
 * Challenges and bound-cookie values without shared state: both carry a time window (or expiry) and a MAC keyed
 * from a secret every instance shares, bound to one session. A challenge also carries 96 random bits, so each
 * is used once (the replay cache) and is good in its window and the next.
 */
export class DbscTokens {
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly #windowMs: number;

  constructor(secret: string, clock: Clock, windowMs = 5 * 60_000) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, '', 'sessionkit/dbsc', 32));
    this.#clock = clock;
    this.#windowMs = windowMs;
  }

  challenge(sessionId: string): string {
    const stamp = `${Math.floor(this.#clock.now() / this.#windowMs).toString(36)}.${randomToken(12)}`;
    return `${stamp}.${this.#mac('challenge', sessionId, stamp)}`;
  }

  isChallengeFor(sessionId: string, challenge: string): boolean {
    const match = CHALLENGE.exec(challenge);
    if (!match) return false;
    const window = Number.parseInt(match[1] as string, 36);
    const now = Math.floor(this.#clock.now() / this.#windowMs);
    if (window < now - 1 || window > now) return false;
    return digestsEqual(match[3] as string, this.#mac('challenge', sessionId, `${match[1]}.${match[2]}`));
  }

  /**
   * The `authorization` of a registration offer, which the browser copies into its proof: ties the
   * registration to the session the offer went to, good in its window and the next.
   */
  authorization(sessionId: string): string {
    const stamp = Math.floor(this.#clock.now() / this.#windowMs).toString(36);
    return `${stamp}.${this.#mac('authorization', sessionId, stamp)}`;
  }

  isAuthorizationFor(sessionId: string, value: string): boolean {
    const match = STAMPED.exec(value);
    if (!match) return false;
    const window = Number.parseInt(match[1] as string, 36);
    const now = Math.floor(this.#clock.now() / this.#windowMs);
    if (window < now - 1 || window > now) return false;
    return digestsEqual(match[2] as string, this.#mac('authorization', sessionId, match[1] as string));
  }

  /** The bound cookie's value: its expiry and a MAC over it and the session id. */
  boundCookie(sessionId: string, maxAgeMs: number): string {
    const expires = Math.floor((this.#clock.now() + maxAgeMs) / 1000).toString(36);
    return `${expires}.${this.#mac('cookie', sessionId, expires)}`;
  }

  isBoundCookieFor(sessionId: string, value: string | undefined): boolean {
    const match = value === undefined ? null : STAMPED.exec(value);
    if (!match) return false;
    if (Number.parseInt(match[1] as string, 36) * 1000 <= this.#clock.now()) return false;
    return digestsEqual(match[2] as string, this.#mac('cookie', sessionId, match[1] as string));
  }

  #mac(purpose: string, sessionId: string, stamp: string): string {
    return createHmac('sha256', this.#key)
      .update(`${purpose}\u0000${sessionId}\u0000${stamp}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }
}

export type DbscProofCheck =
  | { ok: true; challenge: string; authorization: string | undefined; key: DeviceKey }
  | { ok: false; reason: string };
type SignedClaims = { challenge: string; authorization: string | undefined };

/** A registration proof: signed by the key in its own `jwk` header (public, ES256 or RS256; never `none`). */
export async function verifyRegistrationProof(proof: string): Promise<DbscProofCheck> {
  let header: unknown;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    return { ok: false, reason: 'not a JWS' };
  }
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success) return { ok: false, reason: 'typ must be dbsc+jwt and alg ES256 or RS256' };
  const jwk = publicJwkSchema.safeParse((header as { jwk?: unknown }).jwk);
  if (!jwk.success) return { ok: false, reason: 'no public jwk' };
  const alg = parsed.data.alg;
  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK(jwk.data as JWK, alg);
  } catch {
    return { ok: false, reason: 'jwk does not fit alg' };
  }
  const claims = await signedClaims(proof, key, alg);
  if (claims === undefined) return { ok: false, reason: 'bad signature or claims' };
  const jkt = await calculateJwkThumbprint(jwk.data as JWK);
  return { ok: true, ...claims, key: { alg, jwk: jwk.data, jkt } };
}

/** A refresh proof: signed by the key stored at registration; the draft forbids a `jwk` header on it. */
export async function verifyRefreshProof(proof: string, stored: DeviceKey): Promise<DbscProofCheck> {
  let header: unknown;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    return { ok: false, reason: 'not a JWS' };
  }
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success || parsed.data.alg !== stored.alg) return { ok: false, reason: 'typ or alg' };
  if ('jwk' in parsed.data) return { ok: false, reason: 'a refresh proof carries no jwk' };
  const key = await importJWK(stored.jwk as JWK, stored.alg);
  const claims = await signedClaims(proof, key, stored.alg);
  return claims === undefined ? { ok: false, reason: 'bad signature' } : { ok: true, ...claims, key: stored };
}

async function signedClaims(
  proof: string,
  key: CryptoKey | Uint8Array,
  alg: string,
): Promise<SignedClaims | undefined> {
  if (key instanceof Uint8Array || key.type !== 'public') return undefined;
  try {
    const { payload } = await jwtVerify(proof, key, { typ: DBSC_PROOF_TYP, algorithms: [alg] });
    const claims = payloadSchema.safeParse(payload);
    return claims.success
      ? { challenge: claims.data.jti, authorization: claims.data.authorization }
      : undefined;
  } catch {
    return undefined;
  }
}
