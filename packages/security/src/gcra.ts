import type { RateLimitRule } from './rate-limit-rule.js';

/**
 * GCRA (generic cell rate algorithm) in integer microseconds. The state is one number, the theoretical
 * arrival time (TAT): each allowed attempt pushes it one emission interval `limit / windowMs` further,
 * and an attempt is allowed while the TAT stays within one window of now. It is exact (no fixed-window
 * edge doubling), needs one key per subject, and the Redis script (redis-rate-limiter.ts) is this same
 * arithmetic, so the embedded and distributed limiters agree.
 */
export interface GcraState {
  tatUs: number;
  blockedUntilMs: number;
}

export interface GcraDecision {
  allowed: boolean;
  blocked: boolean;
  remaining: number;
  /** Ms until the bucket is full again (allowed) or until the block ends. */
  resetInMs: number;
  retryAfterMs: number;
  next: GcraState;
}

export function emissionIntervalUs(rule: Pick<RateLimitRule, 'limit' | 'windowMs'>): number {
  return Math.max(1, Math.round((rule.windowMs * 1000) / rule.limit));
}

export function gcraDecide(rule: RateLimitRule, state: GcraState | undefined, nowMs: number): GcraDecision {
  const nowUs = nowMs * 1000;
  const interval = emissionIntervalUs(rule);
  const burst = interval * rule.limit;
  const current = state ?? { tatUs: nowUs, blockedUntilMs: 0 };
  if (current.blockedUntilMs > nowMs) {
    const wait = current.blockedUntilMs - nowMs;
    return {
      allowed: false,
      blocked: true,
      remaining: 0,
      resetInMs: wait,
      retryAfterMs: wait,
      next: current,
    };
  }
  const tat = Math.max(current.tatUs, nowUs);
  const nextTat = tat + interval;
  if (nextTat - nowUs > burst) {
    if (rule.blockMs > 0) {
      // The block replaces the TAT (as in Redis, where one key holds either): after it, a full burst.
      const next = { tatUs: 0, blockedUntilMs: nowMs + rule.blockMs };
      return {
        allowed: false,
        blocked: true,
        remaining: 0,
        resetInMs: rule.blockMs,
        retryAfterMs: rule.blockMs,
        next,
      };
    }
    return {
      allowed: false,
      blocked: false,
      remaining: 0,
      resetInMs: Math.ceil((tat - nowUs) / 1000),
      retryAfterMs: Math.ceil((nextTat - burst - nowUs) / 1000),
      next: { tatUs: tat, blockedUntilMs: 0 },
    };
  }
  return {
    allowed: true,
    blocked: false,
    remaining: Math.floor((burst - (nextTat - nowUs)) / interval),
    resetInMs: Math.ceil((nextTat - nowUs) / 1000),
    retryAfterMs: 0,
    next: { tatUs: nextTat, blockedUntilMs: 0 },
  };
}
