import type { ErrorCode } from '@sessionkit/core';
import { SessionKitError } from '@sessionkit/core';
import type { ErrorRequestHandler, Request, Response } from 'express';
import { dpopChallenge } from './dpop-proof.js';

/** Codes for failures of the request itself that neither core nor this adapter raised. */
type HttpErrorCode = 'request.invalid' | 'request.too_large' | 'internal';
type ProblemCode = ErrorCode | HttpErrorCode;

/** What each HTTP-only problem code means, with its status; the README's table is generated from it. */
export const HTTP_PROBLEM_MEANINGS: Readonly<Record<HttpErrorCode, string>> = {
  'request.invalid': 'A 4xx the body parser chose (e.g. 415 for an unsupported content type).',
  'request.too_large': "413: the body is over the parser's limit.",
  internal: '500: an error that is not a SessionKit error; no detail leaves the server.',
};

/** RFC 9457 problem document; `code` is SessionKit's stable error code, the thing clients branch on. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  /** Absent ones are built undefined and dropped when the body is serialised. */
  detail?: string | undefined;
  /** The request id (`X-Request-Id`), so a user's report can be matched with the logs. */
  requestId?: string;
  /** Structured facts for some codes: required/actual AAL, retry delay, invalid fields. */
  details?: Record<string, unknown> | undefined;
}

interface Problem {
  status: number;
  headers: Record<string, string>;
  body: ProblemDocument;
}

/**
 * Every core error code and its HTTP status. `satisfies Record<ErrorCode, ...>` makes a code added to core
 * without a status here a type error.
 */
export const STATUS_BY_CODE = {
  'session.not_found': 404,
  'session.expired': 401,
  'session.revoked': 401,
  'session.suspended': 403,
  'session.conflict': 409,
  'token.invalid': 401,
  'token.expired': 401,
  'token.reuse_detected': 401,
  'limit.exceeded': 409,
  'aal.insufficient': 403,
  'auth.stale': 403,
  'context.rejected': 401,
  'rate.limited': 429,
  'store.unavailable': 503,
  'store.corrupt': 500,
  'upstream.unavailable': 503,
  'input.invalid': 400,
  'transfer.invalid': 400,
  'config.secret_required': 500,
  'tenant.mismatch': 403,
  'auth.required': 401,
  'csrf.rejected': 403,
  'access.denied': 403,
  'binding.required': 401,
  'dpop.invalid_proof': 401,
  'dpop.replay': 401,
  'dpop.nonce_required': 401,
} as const satisfies Record<ErrorCode, number>;

const TITLES: Record<ProblemCode, string> = {
  'session.not_found': 'Session not found',
  'session.expired': 'Session expired',
  'session.revoked': 'Session revoked',
  'session.suspended': 'Session suspended',
  'session.conflict': 'Session changed concurrently',
  'token.invalid': 'Invalid token',
  'token.expired': 'Token expired',
  'token.reuse_detected': 'Refresh token reused',
  'limit.exceeded': 'Too many sessions',
  'aal.insufficient': 'Insufficient authentication level',
  'auth.stale': 'Re-authentication required',
  'context.rejected': 'Request context rejected',
  'rate.limited': 'Too many requests',
  'store.unavailable': 'Service unavailable',
  'store.corrupt': 'Internal server error',
  'upstream.unavailable': 'Identity provider unavailable',
  'input.invalid': 'Invalid input',
  'transfer.invalid': 'Invalid transfer code',
  'config.secret_required': 'Internal server error',
  'tenant.mismatch': 'Wrong tenant',
  'auth.required': 'Authentication required',
  'csrf.rejected': 'Cross-site request rejected',
  'access.denied': 'Access denied',
  'binding.required': 'Proof of the session key required',
  'dpop.invalid_proof': 'Invalid DPoP proof',
  'dpop.replay': 'DPoP proof replayed',
  'dpop.nonce_required': 'DPoP nonce required',
  'request.invalid': 'Bad request',
  'request.too_large': 'Request too large',
  internal: 'Internal server error',
};

/** Only these codes' `details` reach the client; the rest may describe internals (store errors, risk reasons). */
const PUBLIC_DETAILS = new Set<ProblemCode>([
  'aal.insufficient',
  'auth.stale',
  'rate.limited',
  'input.invalid',
  'limit.exceeded',
]);

interface ProblemOptions {
  /** Prefix of the `type` URI; the code is appended. Default `urn:sessionkit:problem:`. */
  typeBase?: string;
}

/** Maps anything thrown to a problem. Unknown errors become a bare 500: no message, no stack. */
function problemFor(error: unknown, options: ProblemOptions = {}): Problem {
  const typeBase = options.typeBase ?? 'urn:sessionkit:problem:';
  const { code, status, detail, details } = classify(error);
  const body: ProblemDocument = {
    type: `${typeBase}${code}`,
    title: TITLES[code],
    status,
    code,
    detail,
    details: PUBLIC_DETAILS.has(code) ? details : undefined,
  };
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json; charset=utf-8',
    'cache-control': 'no-store',
  };
  if (status === 401) {
    // RFC 6750 §3: a 401 names the scheme; invalid_token tells a client its token (not its request) is bad.
    headers['www-authenticate'] =
      dpopChallenge(code) ?? (code === 'auth.required' ? 'Bearer' : 'Bearer error="invalid_token"');
  }
  if (error instanceof SessionKitError && error.code === 'rate.limited') {
    const retryAfterMs = Number(error.details.retryAfterMs);
    headers['retry-after'] = retryAfterHeader(Number.isFinite(retryAfterMs) ? retryAfterMs : 1000);
  }
  return { status, headers, body };
}

/** `Retry-After` in whole seconds, at least one: a client told 0 would retry at once. */
export function retryAfterHeader(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

function sendProblem(res: Response, problem: Problem, req?: Request): void {
  res.status(problem.status);
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  const requestId = req?.sessionkit?.requestId;
  res.send(JSON.stringify(requestId === undefined ? problem.body : { ...problem.body, requestId }));
}

export interface ProblemHandlerOptions extends ProblemOptions {
  /** Sees every error that became a 5xx (log it there: the client gets no detail). */
  onServerError?: (error: unknown, req: Request) => void;
}

/** The last middleware of the app: turns every error into an `application/problem+json` answer. */
export function problemHandler(options: ProblemHandlerOptions = {}): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const problem = problemFor(error, options);
    if (problem.status >= 500) options.onServerError?.(error, req);
    sendProblem(res, problem, req);
  };
}

interface Classified {
  code: ProblemCode;
  status: number;
  detail?: string;
  details?: Record<string, unknown>;
}

function classify(error: unknown): Classified {
  if (error instanceof SessionKitError) {
    const status = STATUS_BY_CODE[error.code];
    // A 5xx message may name hosts or backend errors; the title says enough.
    return status >= 500
      ? { code: error.code, status }
      : { code: error.code, status, detail: error.message, details: error.details };
  }
  const httpStatus = clientErrorStatus(error);
  if (httpStatus === 413) return { code: 'request.too_large', status: 413 };
  if (httpStatus === 400 && errorType(error) === 'entity.parse.failed') {
    return { code: 'input.invalid', status: 400, detail: 'Request body is not well-formed' };
  }
  if (httpStatus !== undefined) return { code: 'request.invalid', status: httpStatus };
  return { code: 'internal', status: 500 };
}

/** The 4xx status of an http-errors style error (body-parser's), when it says it is safe to expose. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode, expose } = error as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
  };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && value >= 400 && value < 500 && expose !== false ? value : undefined;
}

function errorType(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
}
