import { RateLimitedError, StoreUnavailableError } from '@sessionkit/core';
import type {
  RateLimitRule,
  RateLimitScope,
  RateLimitSubject,
  RuleRateLimitResult,
} from './rate-limit-rule.js';
import { rateLimitKey } from './rate-limit-rule.js';
import { tracedRateLimit } from './security-telemetry.js';

/** A limiter bound to one rule: what `RedisRateLimiter` and `MemoryRateLimiter` both are. */
export interface RuleLimiter {
  readonly rule: RateLimitRule;
  consume(key: string): Promise<RuleRateLimitResult>;
  reset(key: string): Promise<void>;
}

/**
 * Several rules checked together for one request (e.g. login: per IP, per user, per user+IP). Every rule
 * that applies counts the attempt, and the most restrictive answer wins, so `Retry-After` is the longest wait.
 */
export class RequestRateLimits {
  readonly #limiters: readonly RuleLimiter[];

  constructor(limiters: readonly RuleLimiter[]) {
    this.#limiters = limiters;
  }

  /** Undefined when no rule applies to the subject. */
  check(subject: RateLimitSubject): Promise<RuleRateLimitResult | undefined> {
    return tracedRateLimit(() => this.#check(subject));
  }

  async #check(subject: RateLimitSubject): Promise<RuleRateLimitResult | undefined> {
    const results = await Promise.all(
      this.#limiters.map((limiter) => {
        const key = rateLimitKey(limiter.rule.scope, subject);
        return key === undefined ? undefined : limiter.consume(key);
      }),
    );
    let verdict: RuleRateLimitResult | undefined;
    for (const result of results) {
      if (result === undefined) continue;
      if (verdict === undefined || moreRestrictive(result, verdict)) verdict = result;
    }
    return verdict;
  }

  /**
   * As `check`, but a refusal throws: `rate.limited` carrying `retryAfterMs` (the adapter's 429), or
   * `store.unavailable` (503) when a fail-closed rule refused because its store could not answer — an outage
   * is reported as one, never as the client's fault.
   */
  async enforce(subject: RateLimitSubject): Promise<RuleRateLimitResult | undefined> {
    const verdict = await this.check(subject);
    if (verdict && !verdict.allowed) {
      if (verdict.outcome === 'store.unavailable') {
        throw new StoreUnavailableError('Rate limiter unavailable; try again later', {
          details: { retryAfterMs: verdict.retryAfterMs },
        });
      }
      throw new RateLimitedError(verdict.retryAfterMs, 'Too many requests');
    }
    return verdict;
  }

  /**
   * Forgets the subject's count under every rule of the given scopes. After a successful login, reset
   * `user-ip` (the consecutive-failures pattern): the budget is for guesses, and a user who signs in often
   * must not lock themselves out. Never reset `ip` there: a sprayer's own login must not wash its count.
   */
  async reset(subject: RateLimitSubject, scopes: readonly RateLimitScope[]): Promise<void> {
    await Promise.all(
      this.#limiters
        .filter((limiter) => scopes.includes(limiter.rule.scope))
        .map((limiter) => {
          const key = rateLimitKey(limiter.rule.scope, subject);
          return key === undefined ? undefined : limiter.reset(key);
        }),
    );
  }
}

function moreRestrictive(a: RuleRateLimitResult, b: RuleRateLimitResult): boolean {
  if (a.allowed !== b.allowed) return !a.allowed;
  if (!a.allowed) return a.retryAfterMs > b.retryAfterMs;
  return a.remaining < b.remaining;
}
