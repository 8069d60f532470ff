import type { Clock, SessionManager, ValidatedSession } from '@sessionkit/core';
import { parseInput, systemClock } from '@sessionkit/core';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { CookieOptions } from './cookies.js';
import { cookieSettings } from './cookies.js';
import { noStore } from './no-store.js';
import { presentedToken } from './presented-token.js';
import type { RequestContextOptions } from './request-id.js';
import type { MiddlewareSettings } from './request-state.js';
import { RequestSessionKit, RequestState } from './request-state.js';
import type { ValidationTier } from './session-kit-request.js';
import { accepted, rejected } from './validation-outcome.js';

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
  const contextOptions = options.context ?? {};
  const settings: MiddlewareSettings = {
    manager,
    cookies: cookieSettings(options.cookie),
    clock: options.clock ?? systemClock,
    requestIdHeader: contextOptions.requestIdHeader ?? 'x-request-id',
  };
  const { cookies } = settings;
  const echoHeader = contextOptions.echoRequestId
    ? contextOptions.requestIdHeader || 'x-request-id'
    : undefined;
  // Core's local caches answer the fast tier only; a full-tier request goes straight to `validate`.
  const probeCache = tier === 'fast';
  return (req, res, next) => {
    // What is answered behind the middleware may depend on who asks, or carry a token (login, refresh): no
    // cache may keep it. A route serving something public sets its own Cache-Control over this one.
    noStore(res);
    const presented = presentedToken(req, bearer, cookies);
    const { token } = presented;
    const state = new RequestState(settings, req, token);
    if (echoHeader !== undefined) res.setHeader(echoHeader, state.requestId);
    const kit = new RequestSessionKit(state);
    if (presented.transport !== undefined) kit.transport = presented.transport;
    if (presented.error) kit.error = presented.error;
    req.sessionkit = kit;
    if (token === undefined) return next();
    if (probeCache) {
      let cached: ValidatedSession | undefined;
      try {
        cached = manager.validateFromCache(token, { tier });
      } catch (error) {
        return rejected(kit, cookies, res, error) ? next() : next(error);
      }
      if (cached) {
        accepted(kit, token, cached);
        return next();
      }
    }
    // The same as `validateRequest`, one promise shorter: this is every full-tier request's path. A probed
    // miss goes on without probing the cache again.
    const options = { tier, context: kit.context };
    (probeCache ? manager.validateUncached(token, options) : manager.validate(token, options)).then(
      (session) => {
        accepted(kit, token, session);
        next();
      },
      (error: unknown) => (rejected(kit, cookies, res, error) ? next() : next(error)),
    );
  };
}
