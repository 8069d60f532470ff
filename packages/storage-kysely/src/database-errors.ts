import { SessionKitError, StoreUnavailableError } from '@sessionkit/core';
import { LIMIT_EXCEEDED_SQLSTATE } from './create-session-function.js';

/** The SQLSTATE of a driver error (pg and PGlite both expose it as `code`), if it has one. */
function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** `create_session` refused the session under `reject`: the user is at the limit. */
export function isLimitExceeded(error: unknown): boolean {
  return sqlState(error) === LIMIT_EXCEEDED_SQLSTATE;
}

/**
 * Anything the database throws that is not already one of ours means the store could not answer: refused or
 * dropped connections, timeouts, a server shutting down, a missing table. Failing closed as
 * `store.unavailable` (the driver error kept as `cause`) is the only safe reading of all of them.
 */
export function toStoreError(error: unknown): SessionKitError {
  if (error instanceof SessionKitError) return error;
  const state = sqlState(error);
  return new StoreUnavailableError('Session store is unavailable', {
    cause: error,
    ...(state !== undefined && { details: { driverCode: state } }),
  });
}
