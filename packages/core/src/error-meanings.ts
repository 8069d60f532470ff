import type { ErrorCode } from './errors.js';

/**
 * One line per error code: what it means to the caller. The README tables are generated from it
 * (scripts/error-codes.ts), and `Record<ErrorCode, string>` makes a code without a meaning a type error.
 */
export const ERROR_CODE_MEANINGS: Readonly<Record<ErrorCode, string>> = {
  'session.not_found': 'No such session, or not one the caller may see.',
  'session.expired': 'The session passed its idle or absolute deadline.',
  'session.revoked': 'The session was revoked (logout, admin, reuse, eviction).',
  'session.suspended': 'The session is suspended; it may be resumed.',
  'session.conflict': 'A concurrent write changed the session first; retry.',
  'token.invalid': 'The token is malformed, unknown, superseded or has a wrong secret.',
  'token.expired': 'The access token (or an upstream ID token) is past its lifetime.',
  'token.reuse_detected': 'A refresh token was replayed; its session has been revoked.',
  'limit.exceeded': 'The user already has the maximum of live sessions (`onLimit: reject`).',
  'aal.insufficient': 'The session authenticated at a lower assurance level than required; step up.',
  'auth.stale': 'The authentication is older than the freshness bound; re-authenticate.',
  'context.rejected': 'The request context (IP, device) is refused for this session by policy.',
  'rate.limited': 'Too many attempts; retry after `details.retryAfterMs`.',
  'store.unavailable': 'The session store cannot answer (down, timed out, missing schema); fail closed.',
  'store.corrupt': 'A stored record failed validation; it is never served.',
  'upstream.unavailable': 'The identity provider cannot be reached (@sessionkit/upstream).',
  'input.invalid': 'The input failed validation; `details.issues` names each field.',
  'transfer.invalid': 'The transfer code is invalid, expired or already used.',
  'config.secret_required': 'A manager on a shared store was built without `secret` or `ipHashKey`.',
  'auth.required': 'No session was presented on a route that needs one (@sessionkit/express).',
  'csrf.rejected': 'A cookie-authenticated unsafe request failed the CSRF check (@sessionkit/express).',
  'access.denied': "The session is valid but the app's authorization rule refused it (@sessionkit/express).",
  'tenant.mismatch': 'The session belongs to another tenant than the one the request is for.',
  'binding.required':
    'The session is bound to a key (DPoP or a device) and came without a valid proof of it.',
  'dpop.invalid_proof': 'A DPoP proof failed a check of RFC 9449 section 4.3; the message says which.',
  'dpop.replay': 'The DPoP proof was already used (its jti was seen within its lifetime).',
  'dpop.nonce_required': 'Retry with the nonce from the DPoP-Nonce header (RFC 9449 sections 8 and 9).',
};
