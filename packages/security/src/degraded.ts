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

/**
 * Bounds a store call. The Redis client's own `commandTimeout` should be set too, but a check must never hang
 * on a client that was configured without one (connect-redis #373), so every call carries its own deadline.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`${what} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Any failure of the backing store, typed: what the caller sees is always `store.unavailable`. */
export function asStoreUnavailable(error: unknown, what: string): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  return new StoreUnavailableError(`${what} is unavailable`, { cause: error });
}
