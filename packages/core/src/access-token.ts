import type { CryptoKey, JWK, JWSHeaderParameters, JWTPayload } from 'jose';
import { errors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Clock } from './clock.js';
import { jktSchema } from './dpop-binding.js';
import { InvalidInputError, InvalidTokenError, TokenExpiredError } from './errors.js';
import type { Aal } from './session-record.js';
import { aalSchema, sessionIdSchema } from './session-record.js';
import { randomToken } from './token-crypto.js';
import { parseInput } from './zod-input.js';

export type AccessTokenAlgorithm = 'EdDSA' | 'ES256';
const ALGORITHMS: AccessTokenAlgorithm[] = ['EdDSA', 'ES256'];

/** RFC 9068: JWT access tokens are typed so an ID token or another JWT can never pass as one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface SigningKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Verification stops at this instant; undefined while the key is current or merely superseded. */
  retiresAt?: number;
}

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  aal: Aal;
  /** OIDC `auth_time`, in seconds: when the user last actually authenticated. */
  authTime: number;
  /**
   * The same instant in milliseconds (private claim `sk_auth`), exact enough to tell the session's
   * authentication before a step-up from the one after it; absent from tokens signed before it was added.
   */
  authenticatedAt?: number;
  tenantId?: string;
  /** RFC 9449 `cnf.jkt`: the thumbprint of the DPoP key the token is bound to; absent on bearer tokens. */
  jkt?: string;
  iat: number;
  exp: number;
  jti: string;
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  sid: sessionIdSchema,
  aal: aalSchema,
  auth_time: z.number().int().nonnegative(),
  sk_auth: z.number().int().nonnegative().optional(),
  tid: z.string().min(1).max(256).optional(),
  cnf: z.object({ jkt: jktSchema }).optional(),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  jti: z.string().min(1).max(64),
});

const privateJwkSchema = z.looseObject({
  kid: z.string().min(1).max(128),
  alg: z.enum(['EdDSA', 'ES256']),
  kty: z.enum(['OKP', 'EC']),
  d: z.string().min(1),
  /** SessionKit's own member (epoch ms): a superseded key must stop verifying on every instance alike. */
  retiresAt: z.number().int().nonnegative().optional(),
});

/** A signing key as `exportPrivateJwks` gives it and `fromJwks` takes it back: a secret. */
export type PrivateSigningJwk = JWK & { kid: string; alg: AccessTokenAlgorithm; retiresAt?: number };

export interface AccessTokenIssuerOptions {
  issuer: string;
  audience: string;
  ttlMs: number;
  clock: Clock;
}

/**
 * Signs and verifies access tokens with a rotatable set of asymmetric keys. Verification pins the algorithm
 * to the key's own, the `typ`, issuer and audience; keys are found only by `kid` in this ring, so `jku`,
 * `x5u` and embedded `jwk` headers are never consulted, and an HMAC-signed token has no key to match.
 */
export class AccessTokenKeyRing {
  readonly #keys: SigningKey[] = [];
  readonly #options: AccessTokenIssuerOptions;

  constructor(options: AccessTokenIssuerOptions) {
    this.#options = options;
  }

  static async generate(options: AccessTokenIssuerOptions, alg: AccessTokenAlgorithm = 'EdDSA') {
    const ring = new AccessTokenKeyRing(options);
    await ring.rotate(alg);
    return ring;
  }

  /** Loads private JWKs, newest last (the last is the signing key), e.g. from a secret manager. */
  static async fromJwks(options: AccessTokenIssuerOptions, jwks: readonly unknown[]) {
    const ring = new AccessTokenKeyRing(options);
    await ring.load(jwks);
    return ring;
  }

  /**
   * Replaces every key with these private JWKs (newest last), e.g. when instances sharing a ring through a
   * store reload it after one of them rotated. All are parsed first: a bad one leaves the ring as it was.
   */
  async load(jwks: readonly unknown[]): Promise<void> {
    const keys: SigningKey[] = [];
    for (const raw of jwks) {
      const { retiresAt, ...jwk } = parseInput(privateJwkSchema, raw, 'signing key');
      const privateKey = (await importJWK(jwk as JWK, jwk.alg, { extractable: true })) as CryptoKey;
      const { d: _d, ...publicJwk } = jwk;
      const publicKey = (await importJWK(publicJwk as JWK, jwk.alg)) as CryptoKey;
      keys.push({
        kid: jwk.kid,
        alg: jwk.alg,
        privateKey,
        publicKey,
        ...(retiresAt === undefined ? {} : { retiresAt }),
      });
    }
    if (keys.length === 0) throw new InvalidInputError('At least one signing key is required');
    this.#keys.splice(0, this.#keys.length, ...keys);
  }

  /**
   * Makes a fresh key the signing key. The previous keys keep verifying until every token they signed
   * has expired, then `prune` drops them.
   */
  async rotate(alg: AccessTokenAlgorithm = 'EdDSA'): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const retiresAt = this.#options.clock.now() + this.#options.ttlMs + 60_000;
    for (const key of this.#keys) key.retiresAt ??= retiresAt;
    const key: SigningKey = { kid: randomToken(12), alg, privateKey, publicKey };
    this.#keys.push(key);
    return key;
  }

  prune(): void {
    const now = this.#options.clock.now();
    for (let i = this.#keys.length - 1; i >= 0; i -= 1) {
      const retiresAt = this.#keys[i]?.retiresAt;
      if (retiresAt !== undefined && retiresAt <= now) this.#keys.splice(i, 1);
    }
  }

  get signingKey(): SigningKey {
    const key = this.#keys.at(-1);
    if (!key) throw new InvalidInputError('No signing key');
    return key;
  }

  /** The public half of every key that still verifies, for `/.well-known/jwks.json`. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const now = this.#options.clock.now();
    const live = this.#keys.filter((key) => key.retiresAt === undefined || key.retiresAt > now);
    const keys = await Promise.all(
      live.map(async (key) => ({
        ...(await exportJWK(key.publicKey)),
        kid: key.kid,
        alg: key.alg,
        use: 'sig',
      })),
    );
    return { keys };
  }

  /** Private JWKs with their retirement times, to share the ring with other instances. Treat as a secret. */
  async exportPrivateJwks(): Promise<PrivateSigningJwk[]> {
    return Promise.all(
      this.#keys.map(async (key) => ({
        ...(await exportJWK(key.privateKey)),
        kid: key.kid,
        alg: key.alg,
        ...(key.retiresAt === undefined ? {} : { retiresAt: key.retiresAt }),
      })),
    );
  }

  async sign(input: {
    userId: string;
    sessionId: string;
    aal: Aal;
    authenticatedAt: number;
    tenantId?: string;
    jkt?: string;
  }) {
    const key = this.signingKey;
    const nowSeconds = Math.floor(this.#options.clock.now() / 1000);
    const exp = nowSeconds + Math.ceil(this.#options.ttlMs / 1000);
    const payload: JWTPayload = {
      sid: input.sessionId,
      aal: input.aal,
      auth_time: Math.floor(input.authenticatedAt / 1000),
      sk_auth: input.authenticatedAt,
      ...(input.tenantId === undefined ? {} : { tid: input.tenantId }),
      ...(input.jkt === undefined ? {} : { cnf: { jkt: input.jkt } }),
    };
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
      .setSubject(input.userId)
      .setIssuer(this.#options.issuer)
      .setAudience(this.#options.audience)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(exp)
      .setJti(randomToken(16))
      .sign(key.privateKey);
    return { token, expiresAt: exp * 1000 };
  }

  /** Verifies signature first, then every pinned claim; any failure is `token.invalid` or `token.expired`. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const now = this.#options.clock.now();
    try {
      // The header only selects a key of ours, and only a key of the header's algorithm: the algorithm is
      // pinned to that key's own. jose hands over the header it parsed, so it is decoded once.
      const { payload } = await jwtVerify(token, (header) => this.#verificationKey(header, now), {
        algorithms: ALGORITHMS,
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        typ: ACCESS_TOKEN_TYP,
        currentDate: new Date(now),
        requiredClaims: ['sub', 'sid', 'exp', 'iat', 'jti'],
      });
      const claims = claimsSchema.parse(payload);
      return {
        sub: claims.sub,
        sid: claims.sid,
        aal: claims.aal,
        authTime: claims.auth_time,
        ...(claims.sk_auth === undefined ? {} : { authenticatedAt: claims.sk_auth }),
        iat: claims.iat,
        exp: claims.exp,
        jti: claims.jti,
        ...(claims.tid === undefined ? {} : { tenantId: claims.tid }),
        ...(claims.cnf === undefined ? {} : { jkt: claims.cnf.jkt }),
      };
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new TokenExpiredError('Access token has expired');
      throw new InvalidTokenError('Access token is invalid');
    }
  }

  #verificationKey(header: JWSHeaderParameters, now: number): CryptoKey {
    const key = this.#keys.find(
      (candidate) =>
        candidate.kid === header.kid &&
        candidate.alg === header.alg &&
        (candidate.retiresAt === undefined || candidate.retiresAt > now),
    );
    if (!key) throw new InvalidTokenError('Unknown signing key');
    return key.publicKey;
  }
}

/** Three base64url segments: a cheap shape test that tells a JWT from an opaque session token. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
