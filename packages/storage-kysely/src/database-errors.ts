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

/** invalid_schema_name, undefined_table, undefined_function: the schema or what migrations create is absent. */
const MISSING_SCHEMA_STATES = new Set(['3F000', '42P01', '42883']);

/** The driver's own words, for the message: the operator reading the log needs them, clients never see them. */
export function causeText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Anything the database throws that is not already one of ours means the store could not answer: refused or
 * dropped connections, timeouts, a server shutting down, a missing table. Failing closed as
 * `store.unavailable` (the driver error kept as `cause`, its message quoted) is the only safe reading of all of
 * them; a missing schema, table or function is named with the schema and what to run.
 */
export function toStoreError(error: unknown, schema?: string): SessionKitError {
  if (error instanceof SessionKitError) return error;
  const state = sqlState(error);
  const missing = schema !== undefined && state !== undefined && MISSING_SCHEMA_STATES.has(state);
  const message = missing
    ? `Session store schema "${schema}" is missing or not migrated; run migrateToLatest(db, { schema: '${schema}' })`
    : 'Session store is unavailable';
  return new StoreUnavailableError(`${message}: ${causeText(error)}`, {
    cause: error,
    ...(state !== undefined && { details: missing ? { driverCode: state, schema } : { driverCode: state } }),
  });
}
