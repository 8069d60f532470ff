import type { Clock, RateLimiter } from '@sessionkit/core';
import { parseInput, systemClock } from '@sessionkit/core';
import { ExpiringCache } from '@sessionkit/core/store';
import type { GcraState } from './gcra.js';
import { gcraDecide } from './gcra.js';
import type { RateLimitRule, RateLimitRuleInput, RuleRateLimitResult } from './rate-limit-rule.js';
import { parseRateLimitRule, rateLimitKeySchema } from './rate-limit-rule.js';

export interface MemoryRateLimiterOptions {
  rule: RateLimitRuleInput;
  clock?: Clock;
  /** Bound on tracked keys; the least recently used key is forgotten first. */
  maxKeys?: number;
}

/**
 * The embedded default: one process, no Redis. Same GCRA arithmetic as the Redis limiter; entries expire
 * when their bucket is full again, so an idle key costs nothing.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly rule: RateLimitRule;
  readonly #clock: Clock;
  readonly #state: ExpiringCache<GcraState>;

  constructor(options: MemoryRateLimiterOptions) {
    this.rule = parseRateLimitRule(options.rule);
    this.#clock = options.clock ?? systemClock;
    this.#state = new ExpiringCache(options.maxKeys ?? 100_000);
  }

  async consume(key: string): Promise<RuleRateLimitResult> {
    parseInput(rateLimitKeySchema, key, 'rate limit key');
    const now = this.#clock.now();
    const decision = gcraDecide(this.rule, this.#state.get(key, now), now);
    const keepUntil = Math.max(decision.next.tatUs / 1000, decision.next.blockedUntilMs);
    if (keepUntil > now) this.#state.set(key, decision.next, keepUntil);
    return {
      allowed: decision.allowed,
      limit: this.rule.limit,
      remaining: decision.remaining,
      resetAt: now + decision.resetInMs,
      retryAfterMs: decision.retryAfterMs,
      rule: this.rule.name,
      outcome: decision.allowed ? 'allowed' : decision.blocked ? 'blocked' : 'limited',
    };
  }

  async reset(key: string): Promise<void> {
    this.#state.delete(key);
  }
}
