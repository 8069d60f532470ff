/**
 * Every error SessionKit throws extends SessionKitError and carries a stable `code`.
 * Adapters map codes to transport statuses; callers branch on `code`, never on message text.
 */
export type ErrorCode =
  | 'session.not_found'
  | 'session.expired'
  | 'session.revoked'
  | 'session.suspended'
  | 'session.conflict'
  | 'token.invalid'
  | 'token.expired'
  | 'token.reuse_detected'
  | 'limit.exceeded'
  | 'aal.insufficient'
  | 'auth.stale'
  | 'context.rejected'
  | 'rate.limited'
  | 'store.unavailable'
  | 'store.corrupt'
  | 'upstream.unavailable'
  | 'input.invalid'
  | 'transfer.invalid'
  | 'config.secret_required'
  | 'tenant.mismatch'
  // Raised by transport adapters (e.g. @sessionkit/express): no session presented, CSRF, the app's own rule.
  | 'auth.required'
  | 'csrf.rejected'
  | 'access.denied'
  // Sender-constrained sessions (DPoP, RFC 9449; Device Bound Session Credentials): see binding-errors.ts.
  | 'binding.required'
  | 'dpop.invalid_proof'
  | 'dpop.replay'
  | 'dpop.nonce_required';

export interface SessionKitErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class SessionKitError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SessionKitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

export class SessionNotFoundError extends SessionKitError {
  constructor(message = 'Session not found') {
    super('session.not_found', message);
  }
}

export class SessionExpiredError extends SessionKitError {
  constructor(message = 'Session has expired') {
    super('session.expired', message);
  }
}

export class SessionRevokedError extends SessionKitError {
  constructor(message = 'Session has been revoked') {
    super('session.revoked', message);
  }
}

export class SessionSuspendedError extends SessionKitError {
  constructor(message = 'Session is suspended') {
    super('session.suspended', message);
  }
}

/** A compare-and-set write lost against a concurrent writer. */
export class VersionConflictError extends SessionKitError {
  constructor(message = 'Session was modified concurrently') {
    super('session.conflict', message);
  }
}

export class InvalidTokenError extends SessionKitError {
  constructor(message = 'Token is invalid') {
    super('token.invalid', message);
  }
}

export class TokenExpiredError extends SessionKitError {
  constructor(message = 'Token has expired') {
    super('token.expired', message);
  }
}

export class TokenReuseDetectedError extends SessionKitError {
  constructor(message = 'Refresh token was reused; the token family has been revoked') {
    super('token.reuse_detected', message);
  }
}

export class LimitExceededError extends SessionKitError {
  constructor(limit: number) {
    super('limit.exceeded', `User already has the maximum of ${limit} live sessions`, { details: { limit } });
  }
}

export class AalInsufficientError extends SessionKitError {
  constructor(required: number, actual: number) {
    super('aal.insufficient', `Authentication assurance level ${required} required, session has ${actual}`, {
      details: { required, actual },
    });
  }
}

export class AuthStaleError extends SessionKitError {
  constructor(maxAgeMs: number) {
    super('auth.stale', `Authentication is older than ${maxAgeMs} ms; re-authenticate`, {
      details: { maxAgeMs },
    });
  }
}

export class ContextRejectedError extends SessionKitError {
  constructor(reasons: readonly string[]) {
    super('context.rejected', 'Request context is not accepted for this session', { details: { reasons } });
  }
}

export class RateLimitedError extends SessionKitError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = 'Too many requests') {
    super('rate.limited', message, { details: { retryAfterMs } });
    this.retryAfterMs = retryAfterMs;
  }
}

export class StoreUnavailableError extends SessionKitError {
  constructor(message = 'Session store is unavailable', options: SessionKitErrorOptions = {}) {
    super('store.unavailable', message, options);
  }
}

/** A stored value failed schema validation: foreign or corrupted data, never silently accepted. */
export class StoreCorruptError extends SessionKitError {
  constructor(message = 'Stored session record is corrupt', options: SessionKitErrorOptions = {}) {
    super('store.corrupt', message, options);
  }
}

export class InvalidInputError extends SessionKitError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(message: string, issues: readonly { path: string; message: string }[] = []) {
    super('input.invalid', message, { details: { issues } });
    this.issues = issues;
  }
}

export class TransferInvalidError extends SessionKitError {
  constructor(message = 'Transfer code is invalid, expired or already used') {
    super('transfer.invalid', message);
  }
}

/**
 * The store is shared across processes but the config has neither `secret` nor `ipHashKey`: each process would
 * key IP hashes (and refresh-token MACs) at random, so another instance or a restart would see every session's
 * IP as changed. Thrown by the SessionManager constructor, before anything is served.
 */
export class SecretRequiredError extends SessionKitError {
  constructor() {
    super(
      'config.secret_required',
      'This session store is shared across processes, so every instance needs the same server secret: set ' +
        '`config.secret` (at least 32 characters, e.g. from process.env.SESSIONKIT_SECRET), or at least ' +
        '`config.ipHashKey`. Without one each process would use its own random key, and another instance or a ' +
        "restart would see every session's IP as changed.",
    );
  }
}

/** A session presented for a tenant it does not belong to. */
export class TenantMismatchError extends SessionKitError {
  constructor(message = 'Session does not belong to this tenant') {
    super('tenant.mismatch', message);
  }
}
