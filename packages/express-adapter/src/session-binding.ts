import type { DpopProofVerifier, VerifiedDpopProof } from '@sessionkit/core';
import { BindingRequiredError, DpopInvalidProofError, parseInput, SessionKitError } from '@sessionkit/core';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { asyncHandler } from './async-handler.js';
import type { DeviceBoundSessions } from './dbsc-router.js';
import type { DpopRequestOptions } from './dpop-proof.js';
import { authorizationScheme, verifyDpopProof } from './dpop-proof.js';
import { requestContext } from './request-context.js';
import { stateOf } from './request-state.js';

/**
 * `required`: only a session bound to a key, presented with a valid proof of it, passes. `preferred`: a bound
 * session must come with its proof, an unbound one passes. `ignored`: no proof is asked for or checked, so a
 * stolen bound token works here: only for routes whose clients cannot sign (and that do nothing sensitive).
 */
export type BindingPolicy = 'required' | 'preferred' | 'ignored';
const policySchema = z.enum(['required', 'preferred', 'ignored']);
const BINDING_CODES = new Set<string>([
  'binding.required',
  'dpop.invalid_proof',
  'dpop.replay',
  'dpop.nonce_required',
]);

export interface SessionBindingOptions extends DpopRequestOptions {
  dpop: DpopProofVerifier;
  /**
   * Device Bound Session Credentials: a device-bound cookie session must bring a current bound cookie. With
   * `skippedRefresh`, a request whose browser says it skipped the refresh is audited with its reason.
   */
  dbsc?:
    | (Pick<DeviceBoundSessions, 'accepts'> & Partial<Pick<DeviceBoundSessions, 'skippedRefresh'>>)
    | undefined;
  /** The policy of `binding()` without an argument. Default `preferred`. */
  policy?: BindingPolicy;
}

/**
 * Guards for sender-constrained sessions: `binding()` applies the app's policy, `binding('required')` a
 * route's. Mount after `sessionMiddleware`. Each request's proof is verified once however many guards it
 * meets (its `jti` is claimed once), and each refusal is a problem document with its code, recorded as a
 * `token.rejected` event for the audit trail.
 */
export function sessionBinding(options: SessionBindingOptions): (policy?: BindingPolicy) => RequestHandler {
  const fallback = parseInput(policySchema.default('preferred'), options.policy, 'binding policy');
  const proofs = new WeakMap<Request, Promise<VerifiedDpopProof | undefined>>();
  const proofOf = (req: Request, res: Response, accessToken: string) => {
    let proof = proofs.get(req);
    if (!proof) {
      proof = verifyDpopProof(req, res, options.dpop, { origin: options.origin, accessToken });
      proofs.set(req, proof);
    }
    return proof;
  };
  return (policy) => {
    const effective = parseInput(policySchema.default(fallback), policy, 'binding policy');
    return asyncHandler(async (req, res, next) => {
      const session = req.sessionkit?.session;
      if (effective === 'ignored' || !session) return next();
      const state = stateOf(req);
      let auditAs: string | undefined;
      try {
        if (authorizationScheme(req) === 'dpop' && state.token !== undefined) {
          const proof = await proofOf(req, res, state.token);
          if (!proof) throw new DpopInvalidProofError('The DPoP scheme needs a DPoP proof header');
          if (session.dpopJkt === undefined)
            throw new DpopInvalidProofError('This token is not bound to a DPoP key');
          if (proof.jkt !== session.dpopJkt) {
            throw new DpopInvalidProofError(
              'The DPoP proof is signed by another key than the token is bound to',
            );
          }
          return next();
        }
        if (session.dpopJkt !== undefined) throw new BindingRequiredError();
        if (session.deviceBound && req.sessionkit?.transport === 'cookie') {
          if (options.dbsc?.accepts(req, session.sessionId)) return next();
          // Any client can send Secure-Session-Skipped, so a skip never stands in for the bound cookie: it
          // only names, for the audit trail and the client, why the cookie is missing.
          const skipped = options.dbsc?.skippedRefresh?.(req, session.sessionId);
          if (skipped !== undefined) {
            auditAs = `dbsc.refresh_skipped.${skipped}`;
            throw new BindingRequiredError(
              `This session is bound to a device; the browser skipped its refresh (${skipped})`,
            );
          }
          throw new BindingRequiredError(
            'This session is bound to a device; its bound cookie is missing or expired',
          );
        }
        if (effective === 'required')
          throw new BindingRequiredError('This route requires a session bound to a key');
        next();
      } catch (error) {
        // A replay cache that cannot answer is an outage, not a refusal of this client: not recorded as one.
        if (error instanceof SessionKitError && BINDING_CODES.has(error.code)) {
          state.manager.bindingRejected(auditAs ?? error.code, {
            sessionId: session.sessionId,
            context: requestContext(req),
          });
        }
        throw error;
      }
    });
  };
}
