import { hmacSha256 } from '@sessionkit/core';

/**
 * The CSRF token of a session token: an HMAC keyed by the token itself. Only a holder of the HttpOnly
 * cookie's value (our own server) can compute it, it needs no server-side key or storage, works across
 * instances, and changes whenever the session token is re-issued (login, step-up).
 */
export function csrfTokenFor(sessionToken: string): string {
  return hmacSha256(sessionToken, 'sessionkit/csrf/v1');
}
