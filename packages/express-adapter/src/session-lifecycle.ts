import type { Aal, CreateSessionOptions, IssuedTokens, SessionView } from '@sessionkit/core';
import type { Request, Response } from 'express';
import { clearSessionCookie, setSessionCookie } from './cookies.js';
import type { DeviceBoundSessions } from './dbsc-router.js';
import { sessionOf } from './guards.js';
import { noStore } from './no-store.js';
import { requestContext } from './request-context.js';
import { stateOf } from './request-state.js';
import { accepted } from './validation-outcome.js';

export interface EstablishOptions {
  /**
   * `cookie` (default, browsers): sets the HttpOnly session cookie and returns the session view only, so no
   * token reaches a page's scripts. `bearer` (API clients): sets no cookie and returns the tokens.
   */
  transport?: 'cookie' | 'bearer';
}

/** What a cookie session's login or step-up returns: safe to answer as JSON, it holds no token. */
export interface CookieSession {
  session: SessionView;
  expiresAt: number;
}

/**
 * What `stepUpSession` returns: the tokens only when the request came with a bearer token, since a cookie
 * session's tokens must stay in its HttpOnly cookie.
 */
export type SteppedUpSession = CookieSession & Partial<Omit<IssuedTokens, 'session' | 'expiresAt'>>;

/**
 * Call after the app has authenticated the user. Core mints a new session (new id, new secret), the
 * session the request arrived with is revoked, and the cookie is replaced: nothing from before the
 * login authenticates after it (no session fixation).
 */
export function establishSession(
  req: Request,
  res: Response,
  create: Omit<CreateSessionOptions, 'context'>,
  options: EstablishOptions & { transport: 'bearer' },
): Promise<IssuedTokens>;
export function establishSession(
  req: Request,
  res: Response,
  create: Omit<CreateSessionOptions, 'context'>,
  options?: EstablishOptions,
): Promise<CookieSession>;
export async function establishSession(
  req: Request,
  res: Response,
  create: Omit<CreateSessionOptions, 'context'>,
  options: EstablishOptions = {},
): Promise<CookieSession | IssuedTokens> {
  const state = stateOf(req);
  const context = requestContext(req);
  const previous = req.sessionkit?.session;
  const issued = await state.manager.create({ ...create, context });
  if (previous) {
    await state.manager.revoke(previous.sessionId, { reason: 'login.replaced', by: 'user', context });
  }
  const transport = options.transport ?? 'cookie';
  // The middleware said no-store already; said again over any caching policy the app set for the route since.
  noStore(res);
  if (transport === 'cookie') setSessionCookie(res, issued, state.cookies, state.clock.now());
  adopt(req, issued, transport);
  return transport === 'cookie' ? cookieSession(issued) : issued;
}

/**
 * Call after the app has re-verified the user (password, OTP, WebAuthn). Raises the assurance level,
 * refreshes `authenticatedAt` and re-issues the token: the old token stops working at once, and a cookie
 * session gets the new cookie in this response. The refresh and access tokens are re-issued too, and those
 * from before stop working: on a bearer request the result carries the new `token`, `refreshToken` and
 * `accessToken` for the client; on a cookie request it carries the session view only.
 */
export async function stepUpSession(
  req: Request,
  res: Response,
  options: { aal: Aal },
): Promise<SteppedUpSession> {
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
  return transport === 'cookie' ? cookieSession(issued) : issued;
}

export interface EndSessionOptions {
  /** The app's device-bound sessions: their short-lived bound cookie is cleared beside the session cookie. */
  dbsc?: Pick<DeviceBoundSessions, 'clearBoundCookie'> | undefined;
}

/**
 * Logout: revokes the request's session on the server (if it had one) and clears the cookie either way, and
 * with `dbsc` the bound cookie too: the browser keeps no credential of the ended session until it expires.
 */
export async function endSession(
  req: Request,
  res: Response,
  options: EndSessionOptions = {},
): Promise<boolean> {
  const state = stateOf(req);
  const session = req.sessionkit?.session;
  noStore(res);
  clearSessionCookie(res, state.cookies);
  options.dbsc?.clearBoundCookie(res);
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

/** A new object, so answering it as JSON can never carry a token along. */
function cookieSession(issued: IssuedTokens): CookieSession {
  return { session: issued.session, expiresAt: issued.expiresAt };
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
