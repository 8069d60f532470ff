import type { Backoff } from './lockout-policy.js';

export interface LockoutState {
  /** Failures (or distinct failing members) inside the window. */
  failures: number;
  /** Epoch ms; 0 or past when not locked. */
  lockedUntil: number;
}

export interface LockoutFailure {
  now: number;
  backoff: Backoff;
  /** Delay multiplier in (0, 1], drawn by the caller so the arithmetic stays deterministic in the store. */
  jitterScale: number;
  /** Count distinct members (IP hashes) instead of attempts. */
  member?: string;
}

/** Where lockout counters live: Redis for many instances, memory for the embedded default. */
export interface LockoutStore {
  read(keys: readonly string[], now: number): Promise<LockoutState[]>;
  /** Atomically counts one failure and extends the lock as the backoff says; never shortens a lock. */
  fail(key: string, failure: LockoutFailure): Promise<LockoutState>;
  clear(keys: readonly string[]): Promise<void>;
}
