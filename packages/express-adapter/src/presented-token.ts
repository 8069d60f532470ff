import type { SessionKitError } from '@sessionkit/core';
import { InvalidTokenError } from '@sessionkit/core';
import type { Request } from 'express';
import type { CookieSettings } from './cookies.js';
import { readSessionCookie } from './cookies.js';

interface PresentedToken {
  token?: string;
  transport?: 'cookie' | 'bearer';
  error?: SessionKitError;
}

// A JWT access token is a few hundred bytes; anything this long is not one of ours and is not worth parsing.
const MAX_BEARER_LENGTH = 4096;
const BEARER = /^(?:Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The session or access token of the request: `Authorization: Bearer` (or `DPoP`) first (when accepted), else the session
 * cookie. A bearer header that is ours but malformed is an error, never a fall-back to the cookie.
 */
export function presentedToken(req: Request, acceptBearer: boolean, cookies: CookieSettings): PresentedToken {
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
  // `DPoP` (RFC 9449 §7.1) carries the token the same way; the binding guard checks the proof that comes with it.
  if (authorization !== undefined && /^(bearer|dpop)(\s|$)/i.test(authorization)) {
    const match = authorization.length <= MAX_BEARER_LENGTH ? BEARER.exec(authorization) : null;
    if (!match?.[1]) return { transport: 'bearer', error: new InvalidTokenError('Malformed bearer token') };
    return { token: match[1], transport: 'bearer' };
  }
  const fromCookie = readSessionCookie(req, cookies);
  return fromCookie === undefined ? {} : { token: fromCookie, transport: 'cookie' };
}
