/**
 * Failures that belong to the HTTP layer and have no code in core's `ErrorCode` union. They carry a stable
 * `code` and a status of their own so the problem handler treats them exactly like core's errors.
 */
export type AdapterErrorCode = 'auth.required' | 'csrf.rejected' | 'access.denied';

const STATUS: Record<AdapterErrorCode, number> = {
  'auth.required': 401,
  'csrf.rejected': 403,
  'access.denied': 403,
};

export class AdapterError extends Error {
  readonly code: AdapterErrorCode;
  readonly status: number;

  constructor(code: AdapterErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = STATUS[code];
  }
}

/** No session token was presented on a route that needs one. */
export class AuthenticationRequiredError extends AdapterError {
  constructor(message = 'A session is required') {
    super('auth.required', message);
  }
}

export class CsrfRejectedError extends AdapterError {
  constructor(message = 'Cross-site request rejected') {
    super('csrf.rejected', message);
  }
}

/** The session is valid but the caller's own authorization rule said no. */
export class AccessDeniedError extends AdapterError {
  constructor(message = 'Access denied') {
    super('access.denied', message);
  }
}
