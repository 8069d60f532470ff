import { StoreUnavailableError } from '@sessionkit/core';
import type { StoreDownMode } from './rate-limit-rule.js';

/** Raised whenever a check was decided without its store, so operators hear about a fail-open pass. */
export interface DegradedEvent {
  component: 'rate-limit' | 'lockout' | 'profile';
  /** Rule name, or the lockout subject kind. */
  name: string;
  mode: StoreDownMode;
  at: number;
  error: unknown;
}

export type DegradedListener = (event: DegradedEvent) => void;

/** Any failure of the backing store, typed: what the caller sees is always `store.unavailable`. */
export function asStoreUnavailable(error: unknown, what: string): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  return new StoreUnavailableError(`${what} is unavailable`, { cause: error });
}
