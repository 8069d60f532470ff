import { SessionKitError } from '@sessionkit/core';

/** Failures that belong to the HTTP layer; like every SessionKit error they carry a stable `code`. */
type AdapterErrorCode = 'auth.required' | 'csrf.rejected' | 'access.denied';

class AdapterError extends SessionKitError {
  declare readonly code: AdapterErrorCode;

  // Not redundant: it narrows the codes an adapter error may carry to the adapter's own.
  constructor(code: AdapterErrorCode, message: string) {
    super(code, message);
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
