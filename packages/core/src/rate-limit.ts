/**
 * What a transport needs from a rate limiter. @sessionkit/security implements it (Redis and in-memory);
 * adapters depend only on this shape, so any limiter fits.
 */
export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the window (or block) resets. */
  resetAt: number;
  /** 0 when allowed; otherwise how long to wait before trying again. */
  retryAfterMs: number;
  /**
   * Why, when a limiter says more than allowed/refused: `store.unavailable` means its backing store could not
   * answer (a fail-closed refusal is then an outage, not the client's fault; a fail-open allowance is degraded).
   */
  outcome?: 'allowed' | 'limited' | 'blocked' | 'store.unavailable';
}

export interface RateLimiter {
  /** Counts one attempt against `key` and says whether it is allowed. */
  consume(key: string): Promise<RateLimitResult>;
}
