import type { Aal, CreateSessionOptions, IssuedTokens } from '@sessionkit/core';
import type { Request, Response } from 'express';
import { clearSessionCookie, setSessionCookie } from './cookies.js';
import { sessionOf } from './guards.js';
import { noStore } from './no-store.js';
import { requestContext } from './request-context.js';
import { stateOf } from './request-state.js';
import { accepted } from './validation-outcome.js';

export interface EstablishOptions {
  /** Set the session cookie (browsers). API clients that use the returned bearer token can skip it. Default true. */
  setCookie?: boolean;
}

/**
 * Call after the app has authenticated the user. Core mints a new session (new id, new secret), the
 * session the request arrived with is revoked, and the cookie is replaced: nothing from before the
 * login authenticates after it (no session fixation).
 */
export async function establishSession(
  req: Request,
  res: Response,
  create: Omit<CreateSessionOptions, 'context'>,
  options: EstablishOptions = {},
): Promise<IssuedTokens> {
  const state = stateOf(req);
  const context = requestContext(req);
  const previous = req.sessionkit?.session;
  const issued = await state.manager.create({ ...create, context });
  if (previous) {
    await state.manager.revoke(previous.sessionId, { reason: 'login.replaced', by: 'user', context });
  }
  const setCookie = options.setCookie ?? true;
  // The middleware said no-store already; said again over any caching policy the app set for the route since.
  noStore(res);
  if (setCookie) setSessionCookie(res, issued, state.cookies, state.clock.now());
  adopt(req, issued, setCookie ? 'cookie' : 'bearer');
  return issued;
}

/**
 * Call after the app has re-verified the user (password, OTP, WebAuthn). Raises the assurance level,
 * refreshes `authenticatedAt` and re-issues the token: the old token stops working at once, and a cookie
 * session gets the new cookie in this response. The refresh and access tokens are re-issued too, and those
 * from before stop working: this adapter keeps no refresh cookie, so answer a client that holds them with
 * `refreshToken` and `accessToken` from the result.
 */
export async function stepUpSession(
  req: Request,
  res: Response,
  options: { aal: Aal },
): Promise<IssuedTokens> {
  const state = stateOf(req);
  const session = sessionOf(req);
  const issued = await state.manager.stepUp(session.sessionId, {
    aal: options.aal,
    context: requestContext(req),
  });
  const transport = req.sessionkit?.transport ?? 'cookie';
  noStore(res);
  if (transport === 'cookie') setSessionCookie(res, issued, state.cookies, state.clock.now());
  adopt(req, issued, transport);
  return issued;
}

/** Logout: revokes the request's session on the server (if it had one) and clears the cookie either way. */
export async function endSession(req: Request, res: Response): Promise<boolean> {
  const state = stateOf(req);
  const session = req.sessionkit?.session;
  noStore(res);
  clearSessionCookie(res, state.cookies);
  if (!session) return false;
  await state.manager.revoke(session.sessionId, {
    reason: 'logout',
    by: 'user',
    context: requestContext(req),
  });
  delete req.sessionkit?.session;
  delete req.sessionkit?.csrfToken;
  return true;
}

/** The rest of this request runs as the newly issued session. */
export function adopt(req: Request, issued: IssuedTokens, transport: 'cookie' | 'bearer'): void {
  const state = stateOf(req);
  const kit = req.sessionkit;
  state.token = issued.token;
  if (!kit) return;
  const view = issued.session;
  kit.transport = transport;
  // Shaped as core's own answers, where an untenanted session has no `tenantId` key at all.
  accepted(kit, issued.token, {
    sessionId: view.id,
    userId: view.userId,
    ...(view.tenantId === undefined ? {} : { tenantId: view.tenantId }),
    aal: view.aal,
    authenticatedAt: view.authenticatedAt,
    expiresAt: issued.expiresAt,
    source: 'store',
    session: view,
    warnings: [],
  });
}
