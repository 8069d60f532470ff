import { createHash } from 'node:crypto';
import type { Clock, RateLimiter } from '@sessionkit/core';
import { InvalidInputError, StoreUnavailableError, systemClock } from '@sessionkit/core';
import type { Redis } from 'ioredis';
import { DeadlineWatch } from './deadline-watch.js';
import type { DegradedListener } from './degraded.js';
import { asStoreUnavailable } from './degraded.js';
import { emissionIntervalUs } from './gcra.js';
import type { RateLimitRule, RateLimitRuleInput, RuleRateLimitResult } from './rate-limit-rule.js';
import { parseRateLimitRule } from './rate-limit-rule.js';

/**
 * gcra.ts in Lua: one EVALSHA per check, atomic on the server, so any number of app instances share one
 * exact budget. KEYS[1] holds the TAT in µs, KEYS[2] the block marker; both share a hash tag (Cluster-safe).
 * Returns {allowed, remaining, resetInMs, retryAfterMs, blocked}.
 */
export const GCRA_LUA = `
local blockedMs = redis.call('PTTL', KEYS[2])
if blockedMs > 0 then return {0, 0, blockedMs, blockedMs, 1} end
local nowUs = tonumber(ARGV[1]) * 1000
local interval = tonumber(ARGV[2])
local burst = interval * tonumber(ARGV[3])
local blockMs = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or nowUs)
if tat < nowUs then tat = nowUs end
local nextTat = tat + interval
if nextTat - nowUs > burst then
  if blockMs > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', blockMs)
    return {0, 0, blockMs, blockMs, 1}
  end
  return {0, 0, math.ceil((tat - nowUs) / 1000), math.ceil((nextTat - burst - nowUs) / 1000), 0}
end
local resetInMs = math.ceil((nextTat - nowUs) / 1000)
redis.call('SET', KEYS[1], string.format('%d', nextTat), 'PX', resetInMs)
return {1, math.floor((burst - (nextTat - nowUs)) / interval), resetInMs, 0, 0}
`;

const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex');

type GcraReply = [number, number, number, number, number];

export interface RedisRateLimiterOptions {
  redis: Redis;
  rule: RateLimitRuleInput;
  /** Namespace of every key; give each app (and each test run) its own. */
  prefix?: string;
  clock?: Clock;
  /** Deadline of one check; past it the rule's `onStoreDown` mode decides. */
  timeoutMs?: number;
  /** How long a fail-closed refusal tells the client to wait. */
  failClosedRetryMs?: number;
  onDegraded?: DegradedListener;
}

export class RedisRateLimiter implements RateLimiter {
  readonly rule: RateLimitRule;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #clock: Clock;
  /** Undefined when the client's own `commandTimeout` already bounds every call as tightly. */
  readonly #deadlines: DeadlineWatch | undefined;
  readonly #failClosedRetryMs: number;
  readonly #onDegraded: DegradedListener;
  readonly #intervalUs: number;

  constructor(options: RedisRateLimiterOptions) {
    this.rule = parseRateLimitRule(options.rule);
    this.#prefix = `${options.prefix ?? 'sk:'}rl:${this.rule.name}:`;
    this.#clock = options.clock ?? systemClock;
    const timeoutMs = options.timeoutMs ?? 250;
    const clientTimeout = options.redis.options.commandTimeout;
    this.#deadlines =
      clientTimeout !== undefined && clientTimeout <= timeoutMs
        ? undefined
        : new DeadlineWatch(timeoutMs, 'rate limit store');
    this.#failClosedRetryMs = options.failClosedRetryMs ?? 1000;
    this.#onDegraded = options.onDegraded ?? (() => {});
    this.#intervalUs = emissionIntervalUs(this.rule);
    this.#redis = options.redis;
  }

  async consume(key: string): Promise<RuleRateLimitResult> {
    assertKey(key);
    const now = this.#clock.now();
    const tagged = `${this.#prefix}{${key}}`;
    const args = [tagged, `${tagged}:b`, now, this.#intervalUs, this.rule.limit, this.rule.blockMs] as const;
    let reply: GcraReply;
    try {
      reply = await this.#bounded(this.#redis.evalsha(GCRA_SHA, 2, ...args) as Promise<GcraReply>);
    } catch (error) {
      if (!isNoScript(error)) return this.#degraded(error, now);
      // The script cache was flushed (or this is a fresh server): EVAL runs it and caches it again. Handled
      // here rather than by defineCommand, which costs an extra promise on every successful call.
      try {
        reply = await this.#bounded(this.#redis.eval(GCRA_LUA, 2, ...args) as Promise<GcraReply>);
      } catch (retryError) {
        return this.#degraded(retryError, now);
      }
    }
    const [allowed, remaining, resetInMs, retryAfterMs, blocked] = reply;
    return {
      allowed: allowed === 1,
      limit: this.rule.limit,
      remaining,
      resetAt: now + resetInMs,
      retryAfterMs,
      rule: this.rule.name,
      outcome: allowed === 1 ? 'allowed' : blocked === 1 ? 'blocked' : 'limited',
    };
  }

  async reset(key: string): Promise<void> {
    const tagged = `${this.#prefix}{${key}}`;
    await this.#bounded(this.#redis.del(tagged, `${tagged}:b`));
  }

  #bounded<T>(call: Promise<T>): Promise<T> {
    return this.#deadlines ? this.#deadlines.track(call) : call;
  }

  #degraded(error: unknown, now: number): RuleRateLimitResult {
    const mode = this.rule.onStoreDown;
    try {
      this.#onDegraded({
        component: 'rate-limit',
        name: this.rule.name,
        mode,
        at: now,
        error: asStoreUnavailable(error, 'rate limit store'),
      });
    } catch {
      // An alerting hook that throws must not turn a limiter decision into an exception.
    }
    const allowed = mode === 'fail-open';
    const retryAfterMs = allowed ? 0 : this.#failClosedRetryMs;
    return {
      allowed,
      limit: this.rule.limit,
      remaining: 0,
      resetAt: now + retryAfterMs,
      retryAfterMs,
      rule: this.rule.name,
      outcome: 'store.unavailable',
    };
  }
}

function isNoScript(error: unknown): boolean {
  const driverError = error instanceof StoreUnavailableError ? error.cause : error;
  return driverError instanceof Error && driverError.message.startsWith('NOSCRIPT');
}

/** The key check on the hot path: the same bounds as `rateLimitKeySchema`, without a schema parse per call. */
function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
    throw new InvalidInputError('Invalid rate limit key: a string of 1 to 512 characters', [
      { path: '(root)', message: 'must be a string of 1 to 512 characters' },
    ]);
  }
}
