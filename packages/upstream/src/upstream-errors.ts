import type { SessionKitErrorOptions } from '@sessionkit/core';
import { SessionKitError } from '@sessionkit/core';

/** The identity provider could not be reached or answered 5xx; adapters map it to 503 like any backend outage. */
export class UpstreamUnavailableError extends SessionKitError {
  readonly retryable = true;
  constructor(message = 'Identity provider is unavailable', options: SessionKitErrorOptions = {}) {
    super('upstream.unavailable', message, { ...options, details: { upstream: true, ...options.details } });
  }
}

/**
 * The identity provider refused a request with an OAuth error (`invalid_grant`, `invalid_client`, ...).
 * Only `oauthError` and `status` are kept: provider descriptions can echo request parameters.
 */
export class UpstreamRejectedError extends SessionKitError {
  readonly oauthError: string;
  readonly status: number;
  constructor(oauthError: string, status: number) {
    super('token.invalid', `Identity provider rejected the request: ${oauthError}`, {
      details: { upstream: true, oauthError, status },
    });
    this.oauthError = oauthError;
    this.status = status;
  }
}
