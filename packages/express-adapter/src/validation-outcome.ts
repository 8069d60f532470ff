import type { ValidatedSession } from '@sessionkit/core';
import { SessionKitError } from '@sessionkit/core';
import type { Request, Response } from 'express';
import type { CookieSettings } from './cookies.js';
import { clearSessionCookie } from './cookies.js';
import { csrfTokenFor } from './csrf-token.js';
import { stateOf } from './request-state.js';
import type { SessionKitRequest, ValidationTier } from './session-kit-request.js';

/** Errors that mean "this token does not authenticate": the request goes on as anonymous and guards refuse. */
const ANONYMOUS_CODES = new Set<string>([
  'token.invalid',
  'token.expired',
  'session.not_found',
  'session.expired',
  'session.revoked',
  'session.suspended',
  'context.rejected',
  'aal.insufficient',
  'auth.stale',
]);
/**
 * Errors after which the cookie's session is over, so the browser is told to drop it. Not `token.invalid`:
 * that is also what a request still carrying the previous token gets while another tab steps up, and
 * clearing then would delete the cookie that was just re-issued.
 */
const ENDED_CODES = new Set<string>([
  'session.not_found',
  'session.expired',
  'session.revoked',
  'context.rejected',
]);

/**
 * (Re)validates the request's token at `tier` and records the outcome on `req.sessionkit`. Store failures
 * propagate; every other SessionKit error leaves the request anonymous with `error` set.
 */
export async function validateRequest(req: Request, res: Response, tier: ValidationTier): Promise<void> {
  const state = stateOf(req);
  const kit = req.sessionkit;
  if (!kit || state.token === undefined) return;
  try {
    accepted(kit, state.token, await state.manager.validate(state.token, { tier, context: kit.context }));
  } catch (error) {
    if (!rejected(kit, state.cookies, res, error)) throw error;
  }
}

/** The request runs as `session`, which `token` (sent as `kit.transport` says) authenticated. */
export function accepted(kit: SessionKitRequest, token: string, session: ValidatedSession): void {
  kit.session = session;
  delete kit.error;
  if (kit.transport === 'cookie') kit.csrfToken = csrfTokenFor(token);
  else if (kit.csrfToken !== undefined) delete kit.csrfToken;
}

/** Records a token that does not authenticate; false for errors that must fail the request instead. */
export function rejected(
  kit: SessionKitRequest,
  cookies: CookieSettings,
  res: Response,
  error: unknown,
): boolean {
  if (!(error instanceof SessionKitError) || !ANONYMOUS_CODES.has(error.code)) return false;
  delete kit.session;
  delete kit.csrfToken;
  kit.error = error;
  if (kit.transport === 'cookie' && ENDED_CODES.has(error.code)) clearSessionCookie(res, cookies);
  return true;
}
