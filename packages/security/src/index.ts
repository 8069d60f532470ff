export type { DegradedEvent, DegradedListener } from './degraded.js';
export type { GcraDecision, GcraState } from './gcra.js';
export { emissionIntervalUs, gcraDecide } from './gcra.js';
export type { MemoryRateLimiterOptions } from './memory-rate-limiter.js';
export { MemoryRateLimiter } from './memory-rate-limiter.js';
export type {
  RateLimitOutcome,
  RateLimitRule,
  RateLimitRuleInput,
  RateLimitScope,
  RateLimitSubject,
  RuleRateLimitResult,
  StoreDownMode,
} from './rate-limit-rule.js';
export { parseRateLimitRule, rateLimitKey, rateLimitRuleSchema, rateLimitScopes } from './rate-limit-rule.js';
export type { RedisRateLimiterOptions } from './redis-rate-limiter.js';
export { RedisRateLimiter } from './redis-rate-limiter.js';
export type { RuleLimiter } from './request-rate-limits.js';
export { RequestRateLimits } from './request-rate-limits.js';
