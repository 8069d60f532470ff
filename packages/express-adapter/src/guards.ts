import type { Aal, SessionView, ValidatedSession } from '@sessionkit/core';
import { AalInsufficientError, AuthStaleError, parseInput } from '@sessionkit/core';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { AccessDeniedError, AuthenticationRequiredError } from './adapter-errors.js';
import { asyncHandler } from './async-handler.js';
import { kitOf, stateOf } from './request-state.js';
import type { ValidationTier } from './session-kit-request.js';
import { validateRequest } from './validation-outcome.js';

/**
 * The validated session of this request, or the reason there is none: the error the token failed with
 * (`session.revoked`, `token.invalid`, ...) or `auth.required` when no token was presented.
 */
export function sessionOf(req: Request): ValidatedSession {
  const kit = kitOf(req);
  if (kit.session) return kit.session;
  throw kit.error ?? new AuthenticationRequiredError();
}

/**
 * A session validated against the store in this request: access-token and cached validations are upgraded
 * with one store read, so revocation, suspension and AAL changes are seen at once.
 */
export async function storeBackedSession(req: Request, res: Response): Promise<ValidatedSession> {
  const session = sessionOf(req);
  if (session.source === 'store') return session;
  await validateRequest(req, res, 'full');
  return sessionOf(req);
}

/** Refuses the request unless it carries a valid session. `tier: 'full'` forces a store read for this route. */
export function requireSession(options: { tier?: ValidationTier } = {}): RequestHandler {
  const tier = parseInput(z.enum(['fast', 'full']).optional(), options.tier, 'tier');
  return asyncHandler(async (req, res, next) => {
    if (tier === 'full') await storeBackedSession(req, res);
    else sessionOf(req);
    next();
  });
}

/** Requires an authentication assurance level of at least `level` (403 `aal.insufficient`). */
export function requireAal(level: Aal): RequestHandler {
  const required = parseInput(z.union([z.literal(1), z.literal(2), z.literal(3)]), level, 'assurance level');
  return asyncHandler(async (req, res, next) => {
    const session = await storeBackedSession(req, res);
    if (session.aal < required) throw new AalInsufficientError(required, session.aal);
    next();
  });
}

/**
 * Requires the user to have authenticated within `maxAgeMs` (403 `auth.stale`): the step-up gate for
 * sensitive actions. Defaults to the manager's `freshnessMaxAgeMs`.
 */
export function requireFresh(maxAgeMs?: number): RequestHandler {
  const explicit = parseInput(z.number().int().positive().optional(), maxAgeMs, 'maximum authentication age');
  return asyncHandler(async (req, res, next) => {
    const session = await storeBackedSession(req, res);
    const state = stateOf(req);
    const limit = explicit ?? state.manager.config.freshnessMaxAgeMs;
    if (state.clock.now() - session.authenticatedAt > limit) throw new AuthStaleError(limit);
    next();
  });
}

export type AuthorizationPredicate = (session: ValidatedSession, req: Request) => boolean | Promise<boolean>;

/** The hook behind role checks: any rule of the app's, given the validated session (403 `access.denied`). */
export function requireAuthorization(predicate: AuthorizationPredicate): RequestHandler {
  return asyncHandler(async (req, res, next) => {
    const session = await storeBackedSession(req, res);
    if (!(await predicate(session, req))) throw new AccessDeniedError();
    next();
  });
}

export type RolesResolver = (
  session: ValidatedSession,
  req: Request,
) => readonly string[] | Promise<readonly string[]>;

const rolesSchema = z.array(z.string()).catch([]);

/** Roles stored in the session's metadata at login (`metadata.roles`), the default resolver. */
function rolesFromMetadata(session: ValidatedSession): readonly string[] {
  const view: SessionView | undefined = session.session;
  return rolesSchema.parse(view?.metadata.roles);
}

/** Requires one of `roles`; who has which role is the app's business, answered by `rolesOf`. */
export function requireRole(
  roles: string | readonly string[],
  options: { rolesOf?: RolesResolver } = {},
): RequestHandler {
  const wanted = new Set(typeof roles === 'string' ? [roles] : roles);
  const rolesOf = options.rolesOf ?? rolesFromMetadata;
  return requireAuthorization(async (session, req) => {
    const held = await rolesOf(session, req);
    return held.some((role) => wanted.has(role));
  });
}
