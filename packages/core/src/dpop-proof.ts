import type { CryptoKey, JWK, JWSHeaderParameters } from 'jose';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { z } from 'zod';
import { looksLikeJwt } from './access-token.js';
import { DpopInvalidProofError, DpopNonceRequiredError, DpopReplayError } from './binding-errors.js';
import type { Clock } from './clock.js';
import type { DpopNonces } from './dpop-nonce.js';
import type { DpopReplayCache } from './dpop-replay-cache.js';
import { ExpiringCache } from './expiring-cache.js';
import { digestsEqual, sha256 } from './token-crypto.js';

/** Asymmetric JWS algorithms only: `none` and the HMAC family can never be configured, let alone accepted. */
export const dpopAlgorithmSchema = z.enum([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
]);
export type DpopAlgorithm = z.infer<typeof dpopAlgorithmSchema>;
const DEFAULT_ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'EdDSA', 'Ed25519', 'PS256'];

export const DPOP_PROOF_TYP = 'dpop+jwt';
const MAX_PROOF_LENGTH = 8192;
/** Members only a private or symmetric JWK has: a proof carrying one is refused (RFC 9449 §4.3 check 7). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const publicJwkSchema = z.looseObject({
  kty: z.enum(['EC', 'OKP', 'RSA']),
  crv: z.string().max(16).optional(),
  x: z.string().max(256).optional(),
  y: z.string().max(256).optional(),
  n: z.string().max(2048).optional(),
  e: z.string().max(16).optional(),
});

const claimsSchema = z.object({
  jti: z.string().min(1).max(256),
  htm: z.string().min(1).max(16),
  htu: z.string().min(1).max(4096),
  iat: z.number().int().nonnegative(),
  ath: z.string().max(128).optional(),
  nonce: z.string().max(256).optional(),
});

export interface DpopProofVerifierOptions {
  /** Shared by every instance (RedisDpopReplayCache, KyselyDpopReplayCache); MemoryDpopReplayCache for one process. */
  replayCache: DpopReplayCache;
  clock: Clock;
  /** When given, every proof must carry a nonce these nonces accept (`dpop.nonce_required` otherwise). */
  nonces?: DpopNonces | undefined;
  algorithms?: readonly DpopAlgorithm[] | undefined;
  /** How old a proof's `iat` may be; also how long its `jti` is remembered. Default 60 s. */
  maxAgeMs?: number | undefined;
  /** How far in the future `iat` may be, for clients whose clocks run ahead. Default 5 s. */
  clockSkewMs?: number | undefined;
  /** Imported public keys kept, by algorithm and thumbprint; 0 imports every proof's key afresh. Default 1000. */
  keyCacheSize?: number | undefined;
}

export interface DpopProofRequest {
  /** The value of the request's single `DPoP` header. */
  proof: string;
  method: string;
  /** The request's absolute URL as the client addressed it; query and fragment are ignored. */
  url: string;
  /** The access or session token presented with the proof: its hash must be the proof's `ath`. */
  accessToken?: string | undefined;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what tokens bound to it carry as `cnf.jkt`. */
  jkt: string;
}

/**
 * Checks DPoP proofs as RFC 9449 §4.3 lists, then claims the proof's `jti` in the shared replay cache. The
 * imported public key is cached by algorithm and thumbprint (importing is a third of a check's cost); the
 * signature, the claims and the replay claim are checked afresh for every proof.
 */
export class DpopProofVerifier {
  readonly algorithms: readonly DpopAlgorithm[];
  readonly #options: DpopProofVerifierOptions;
  readonly #maxAgeMs: number;
  readonly #skewMs: number;
  readonly #keys: ExpiringCache<CryptoKey>;

  constructor(options: DpopProofVerifierOptions) {
    this.#options = options;
    this.algorithms = z
      .array(dpopAlgorithmSchema)
      .min(1)
      .parse(options.algorithms ?? DEFAULT_ALGORITHMS);
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#skewMs = options.clockSkewMs ?? 5_000;
    this.#keys = new ExpiringCache(options.keyCacheSize ?? 1000);
  }

  /** The nonce to send in `DPoP-Nonce`, when nonces are required. */
  currentNonce(): string | undefined {
    return this.#options.nonces?.current();
  }

  async verify(request: DpopProofRequest): Promise<VerifiedDpopProof> {
    const { proof } = request;
    if (proof.length > MAX_PROOF_LENGTH || !looksLikeJwt(proof)) {
      throw new DpopInvalidProofError('The DPoP proof is not a compact JWS');
    }
    const now = this.#options.clock.now();
    let header: JWSHeaderParameters;
    try {
      header = decodeProtectedHeader(proof) as JWSHeaderParameters;
    } catch {
      throw new DpopInvalidProofError('The DPoP proof header is not valid JSON');
    }
    if (header.typ !== DPOP_PROOF_TYP) throw new DpopInvalidProofError('The DPoP proof typ is not dpop+jwt');
    const alg = this.algorithms.find((allowed) => allowed === header.alg);
    if (alg === undefined) throw new DpopInvalidProofError('The DPoP proof alg is not accepted');
    const jwk = publicJwkSchema.safeParse(header.jwk);
    if (!jwk.success) throw new DpopInvalidProofError('The DPoP proof has no valid jwk header');
    if (PRIVATE_MEMBERS.some((member) => member in jwk.data)) {
      throw new DpopInvalidProofError('The DPoP proof jwk contains private key material');
    }
    const jkt = await this.#thumbprint(jwk.data);
    const key = await this.#publicKey(jwk.data, alg, jkt, now);
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(proof, key, {
        typ: DPOP_PROOF_TYP,
        algorithms: [alg],
        currentDate: new Date(now),
      }));
    } catch {
      throw new DpopInvalidProofError('The DPoP proof signature or claims are invalid');
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new DpopInvalidProofError('The DPoP proof lacks jti, htm, htu or iat');
    const { jti, htm, htu, iat, ath, nonce } = claims.data;
    if (htm !== request.method)
      throw new DpopInvalidProofError('The DPoP proof htm does not match the method');
    const expected = normalisedHtu(request.url);
    if (expected === undefined || normalisedHtu(htu) !== expected) {
      throw new DpopInvalidProofError('The DPoP proof htu does not match the URL');
    }
    const issuedAt = iat * 1000;
    if (issuedAt > now + this.#skewMs || issuedAt < now - this.#maxAgeMs) {
      throw new DpopInvalidProofError('The DPoP proof iat is outside the accepted window');
    }
    const nonces = this.#options.nonces;
    if (nonces && (nonce === undefined || !nonces.isValid(nonce))) throw new DpopNonceRequiredError();
    if (
      request.accessToken !== undefined &&
      (ath === undefined || !digestsEqual(ath, sha256(request.accessToken)))
    ) {
      throw new DpopInvalidProofError('The DPoP proof ath does not match the access token');
    }
    // Last, so that only proofs that passed every other check take room in the shared cache.
    const fresh = await this.#options.replayCache.claimOnce(
      sha256(`${jkt}.${jti}`),
      issuedAt + this.#maxAgeMs + 1,
      now,
    );
    if (!fresh) throw new DpopReplayError();
    return { jkt };
  }

  async #thumbprint(jwk: z.infer<typeof publicJwkSchema>): Promise<string> {
    try {
      return await calculateJwkThumbprint(jwk as JWK, 'sha256');
    } catch {
      throw new DpopInvalidProofError('The DPoP proof jwk lacks a required member');
    }
  }

  async #publicKey(jwk: z.infer<typeof publicJwkSchema>, alg: DpopAlgorithm, jkt: string, now: number) {
    // The thumbprint covers exactly the members that make the key, so equal thumbprints are equal keys.
    const cacheKey = `${alg}:${jkt}`;
    const cached = this.#keys.get(cacheKey, now);
    if (cached) return cached;
    let key: CryptoKey | Uint8Array;
    try {
      key = await importJWK(jwk as JWK, alg);
    } catch {
      throw new DpopInvalidProofError('The DPoP proof jwk does not fit its alg');
    }
    if (key instanceof Uint8Array || key.type !== 'public') {
      throw new DpopInvalidProofError('The DPoP proof jwk is not a public key');
    }
    this.#keys.set(cacheKey, key, now + 3_600_000, now);
    return key;
  }
}

/** RFC 9449 §4.3: the URI without query and fragment, normalised per RFC 3986 §6.2.2 and §6.2.3. */
export function normalisedHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  // WHATWG URL already lowercases scheme and host, drops the default port and removes dot segments.
  const path = url.pathname.replace(/%[0-9a-fA-F]{2}/g, (encoded) => {
    const char = String.fromCharCode(Number.parseInt(encoded.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : encoded.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}
