import type { Clock, RequestContext, SessionManager, ValidatedSession } from '@sessionkit/core';
import { InvalidTokenError, parseInput, SessionKitError, systemClock } from '@sessionkit/core';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { CookieOptions, CookieSettings } from './cookies.js';
import { clearSessionCookie, cookieSettings, readSessionCookie } from './cookies.js';
import { csrfTokenFor } from './csrf-token.js';
import type { RequestContextOptions } from './request-context.js';
import { RequestSessionKit, RequestState, stateOf } from './request-state.js';

export type ValidationTier = 'fast' | 'full';

/** What the middleware puts on `req.sessionkit`. No raw token: it stays inside the middleware. */
export interface SessionKitRequest {
  /** The proxy's request id (see `context.requestIdHeader`) or a fresh one; minted on first read. */
  readonly requestId: string;
  /** Built on first read: the tiers that answer from local caches never need it. */
  readonly context: RequestContext;
  /** Where the presented token came from; absent when none was presented. */
  transport?: 'cookie' | 'bearer';
  /** The validated session; absent when no token was presented or it did not validate. */
  session?: ValidatedSession;
  /** Why a presented token did not validate; guards answer with it. */
  error?: SessionKitError;
  /** The CSRF token of a cookie session, for server-rendered forms (`_csrf`) or an `X-CSRF-Token` header. */
  csrfToken?: string;
}

declare global {
  namespace Express {
    interface Request {
      sessionkit?: SessionKitRequest;
    }
  }
}

export interface SessionMiddlewareOptions {
  manager: SessionManager;
  /** Default tier for every route; `requireSession({ tier: 'full' })` raises it per route. Default `full`. */
  tier?: ValidationTier;
  /** Accept `Authorization: Bearer <session token or access token>`. Default true. */
  bearer?: boolean;
  cookie?: CookieOptions;
  context?: RequestContextOptions;
  /** The clock guards measure freshness with; pass the manager's own clock. */
  clock?: Clock;
}

const optionsSchema = z.object({
  tier: z.enum(['fast', 'full']).default('full'),
  bearer: z.boolean().default(true),
});

// A JWT access token is a few hundred bytes; anything this long is not one of ours and is not worth parsing.
const MAX_BEARER_LENGTH = 4096;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

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
 * Reads the session token from `Authorization: Bearer` or the session cookie, validates it and exposes the
 * result on `req.sessionkit`. It never rejects a request itself (guards do), except when the store cannot
 * answer: then it fails closed with `store.unavailable`. Every answer behind it is `Cache-Control: no-store`
 * unless its route says otherwise. Touches are throttled by core, so a validation
 * writes to the store at most once per `touchThrottleMs`. A fast-tier token that core can answer from its
 * local caches is handled synchronously: no promise, and the request context is never built.
 */
export function sessionMiddleware(options: SessionMiddlewareOptions): RequestHandler {
  const { tier, bearer } = parseInput(optionsSchema, options, 'session middleware options');
  const { manager } = options;
  const cookies = cookieSettings(options.cookie);
  const clock = options.clock ?? systemClock;
  const contextOptions = options.context ?? {};
  const echoHeader = contextOptions.echoRequestId
    ? contextOptions.requestIdHeader || 'x-request-id'
    : undefined;
  return (req, res, next) => {
    // What is answered behind the middleware may depend on who asks, or carry a token (login, refresh): no
    // cache may keep it. A route serving something public sets its own Cache-Control over this one.
    res.setHeader('cache-control', 'no-store');
    const presented = presentedToken(req, bearer, cookies);
    const state = new RequestState(manager, cookies, clock, contextOptions, req, presented.token);
    if (echoHeader !== undefined) res.setHeader(echoHeader, state.requestId);
    const kit = new RequestSessionKit(state, req);
    if (presented.transport !== undefined) kit.transport = presented.transport;
    if (presented.error) kit.error = presented.error;
    req.sessionkit = kit;
    if (presented.token === undefined) return next();
    let cached: ValidatedSession | undefined;
    try {
      cached = manager.validateFromCache(presented.token, { tier });
    } catch (error) {
      if (!rejected(kit, state, res, error)) return next(error);
      return next();
    }
    if (!cached) {
      // The same as `validateRequest`, one promise shorter: this is every full-tier request's path.
      manager.validate(presented.token, { tier, context: kit.context }).then(
        (session) => {
          accepted(kit, state, session);
          next();
        },
        (error: unknown) => (rejected(kit, state, res, error) ? next() : next(error)),
      );
      return;
    }
    accepted(kit, state, cached);
    next();
  };
}

/**
 * (Re)validates the request's token at `tier` and records the outcome on `req.sessionkit`. Store failures
 * propagate; every other SessionKit error leaves the request anonymous with `error` set.
 */
export async function validateRequest(req: Request, res: Response, tier: ValidationTier): Promise<void> {
  const state = stateOf(req);
  const kit = req.sessionkit;
  if (!kit || state.token === undefined) return;
  try {
    accepted(kit, state, await state.manager.validate(state.token, { tier, context: kit.context }));
  } catch (error) {
    if (!rejected(kit, state, res, error)) throw error;
  }
}

function accepted(kit: SessionKitRequest, state: RequestState, session: ValidatedSession): void {
  kit.session = session;
  delete kit.error;
  if (kit.transport === 'cookie' && state.token !== undefined) kit.csrfToken = csrfTokenFor(state.token);
}

/** Records a token that does not authenticate; false for errors that must fail the request instead. */
function rejected(kit: SessionKitRequest, state: RequestState, res: Response, error: unknown): boolean {
  if (!(error instanceof SessionKitError) || !ANONYMOUS_CODES.has(error.code)) return false;
  delete kit.session;
  delete kit.csrfToken;
  kit.error = error;
  if (kit.transport === 'cookie' && ENDED_CODES.has(error.code)) clearSessionCookie(res, state.cookies);
  return true;
}

function presentedToken(
  req: Request,
  acceptBearer: boolean,
  cookies: CookieSettings,
): { token?: string; transport?: 'cookie' | 'bearer'; error?: SessionKitError } {
  const authorization = acceptBearer ? req.headers.authorization : undefined;
  // Other schemes (Basic for OAuth client authentication, say) are not ours to judge.
  // The common shape skips the regular expressions: "Bearer " and one word, which core checks in full.
  if (
    authorization !== undefined &&
    authorization.length <= MAX_BEARER_LENGTH &&
    authorization.startsWith('Bearer ') &&
    authorization.indexOf(' ', 7) === -1 &&
    authorization.length > 7
  ) {
    return { token: authorization.slice(7), transport: 'bearer' };
  }
  if (authorization !== undefined && /^bearer(\s|$)/i.test(authorization)) {
    const match = authorization.length <= MAX_BEARER_LENGTH ? BEARER.exec(authorization) : null;
    if (!match?.[1]) return { transport: 'bearer', error: new InvalidTokenError('Malformed bearer token') };
    return { token: match[1], transport: 'bearer' };
  }
  const fromCookie = readSessionCookie(req, cookies);
  return fromCookie === undefined ? {} : { token: fromCookie, transport: 'cookie' };
}
