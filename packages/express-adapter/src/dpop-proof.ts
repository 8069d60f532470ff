import type { DpopProofVerifier, VerifiedDpopProof } from '@sessionkit/core';
import { DpopInvalidProofError } from '@sessionkit/core';
import type { Request, Response } from 'express';

export interface DpopRequestOptions {
  /**
   * The origin clients address, e.g. `https://api.example.com`, when a proxy in front changes scheme or host.
   * Without it the URL is rebuilt from the request (`req.protocol` honours Express `trust proxy`).
   */
  origin?: string | undefined;
}

/** The request's `Authorization` scheme, lowercased: `dpop`, `bearer`, or undefined (none, or a cookie). */
export function authorizationScheme(req: Request): 'dpop' | 'bearer' | undefined {
  const authorization = req.headers.authorization;
  if (authorization === undefined) return undefined;
  const scheme = authorization.slice(0, authorization.indexOf(' ')).toLowerCase();
  return scheme === 'dpop' || scheme === 'bearer' ? scheme : undefined;
}

/** The absolute URL the proof's `htu` must name; query and fragment are dropped by the verifier. */
export function requestUrl(req: Request, options: DpopRequestOptions = {}): string {
  const origin = options.origin ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  return `${origin}${req.originalUrl}`;
}

/**
 * Verifies the request's DPoP proof, if it has one: `undefined` without a `DPoP` header. Two proofs (Node joins
 * repeated headers with a comma, which no JWS contains) are refused, as RFC 9449 §4.3 asks. When nonces are
 * required the response carries the current one in `DPoP-Nonce`, also on failure, so the client can retry.
 */
export async function verifyDpopProof(
  req: Request,
  res: Response,
  verifier: DpopProofVerifier,
  options: DpopRequestOptions & { accessToken?: string | undefined } = {},
): Promise<VerifiedDpopProof | undefined> {
  const nonce = verifier.currentNonce();
  if (nonce !== undefined) res.setHeader('dpop-nonce', nonce);
  const proof = req.headers.dpop;
  if (proof === undefined) return undefined;
  if (typeof proof !== 'string' || proof.includes(',')) {
    throw new DpopInvalidProofError('Exactly one DPoP header is allowed');
  }
  return verifier.verify({
    proof,
    method: req.method,
    url: requestUrl(req, options),
    accessToken: options.accessToken,
  });
}

/**
 * The `WWW-Authenticate` challenge for a binding failure (RFC 9449 §7.1, §9), or undefined for other codes.
 * A missing nonce is `use_dpop_nonce`, so DPoP clients retry with the `DPoP-Nonce` they were just given.
 */
export function dpopChallenge(code: string): string | undefined {
  switch (code) {
    case 'dpop.nonce_required':
      return 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"';
    case 'dpop.invalid_proof':
    case 'dpop.replay':
      return 'DPoP error="invalid_dpop_proof"';
    case 'binding.required':
      return 'DPoP error="invalid_token"';
    default:
      return undefined;
  }
}
