import type { RequestContext, SessionKitError, ValidatedSession } from '@sessionkit/core';

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
