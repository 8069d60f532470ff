import type { Clock, RateLimiter } from '@sessionkit/core';
import { parseInput, systemClock } from '@sessionkit/core';
import type { Redis } from 'ioredis';
import type { DegradedListener } from './degraded.js';
import { withDeadline } from './degraded.js';
import { emissionIntervalUs } from './gcra.js';
import type { RateLimitRule, RateLimitRuleInput, RuleRateLimitResult } from './rate-limit-rule.js';
import { parseRateLimitRule, rateLimitKeySchema } from './rate-limit-rule.js';

/**
 * gcra.ts in Lua: one EVALSHA per check, atomic on the server, so any number of app instances share one
 * exact budget. KEYS[1] holds the TAT in µs, KEYS[2] the block marker; both share a hash tag (Cluster-safe).
 * Returns {allowed, remaining, resetInMs, retryAfterMs, blocked}.
 */
const GCRA_LUA = `
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

const COMMAND = 'sessionkitGcra';

type GcraReply = [number, number, number, number, number];
interface GcraCommand {
  [COMMAND](
    tatKey: string,
    blockKey: string,
    nowMs: number,
    intervalUs: number,
    limit: number,
    blockMs: number,
  ): Promise<GcraReply>;
}

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
  readonly #redis: Redis & GcraCommand;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #failClosedRetryMs: number;
  readonly #onDegraded: DegradedListener;
  readonly #intervalUs: number;

  constructor(options: RedisRateLimiterOptions) {
    this.rule = parseRateLimitRule(options.rule);
    this.#prefix = `${options.prefix ?? 'sk:'}rl:${this.rule.name}:`;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = options.timeoutMs ?? 250;
    this.#failClosedRetryMs = options.failClosedRetryMs ?? 1000;
    this.#onDegraded = options.onDegraded ?? (() => {});
    this.#intervalUs = emissionIntervalUs(this.rule);
    // defineCommand sends EVALSHA and falls back to EVAL once after a NOSCRIPT (script cache flushed).
    options.redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: GCRA_LUA });
    this.#redis = options.redis as Redis & GcraCommand;
  }

  async consume(key: string): Promise<RuleRateLimitResult> {
    parseInput(rateLimitKeySchema, key, 'rate limit key');
    const now = this.#clock.now();
    const tagged = `${this.#prefix}{${key}}`;
    let reply: GcraReply;
    try {
      reply = await withDeadline(
        this.#redis[COMMAND](
          tagged,
          `${tagged}:b`,
          now,
          this.#intervalUs,
          this.rule.limit,
          this.rule.blockMs,
        ),
        this.#timeoutMs,
        'rate limit store',
      );
    } catch (error) {
      return this.#degraded(error, now);
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
    await withDeadline(this.#redis.del(tagged, `${tagged}:b`), this.#timeoutMs, 'rate limit store');
  }

  #degraded(error: unknown, now: number): RuleRateLimitResult {
    const mode = this.rule.onStoreDown;
    try {
      this.#onDegraded({ component: 'rate-limit', name: this.rule.name, mode, at: now, error });
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
