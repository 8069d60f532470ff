/**
 * What a transport needs from a rate limiter. @sessionkit/security implements it (Redis and in-memory);
 * adapters depend only on this shape, so the security package stays optional.
 */
export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the window (or block) resets. */
  resetAt: number;
  /** 0 when allowed; otherwise how long to wait before trying again. */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Counts one attempt against `key` and says whether it is allowed. */
  consume(key: string): Promise<RateLimitResult>;
}
