import { createHash } from 'node:crypto';
import type { Clock, RateLimiter } from '@sessionkit/core';
import { InvalidInputError, StoreUnavailableError, systemClock } from '@sessionkit/core';
import type { Redis } from 'ioredis';
import { DeadlineWatch } from './deadline-watch.js';
import type { DegradedListener } from './degraded.js';
import { emissionIntervalUs } from './gcra.js';
import type { RateLimitRule, RateLimitRuleInput, RuleRateLimitResult } from './rate-limit-rule.js';
import { parseRateLimitRule } from './rate-limit-rule.js';

/**
 * gcra.ts in Lua: one EVALSHA per check, atomic on the server, so any number of app instances share one
 * exact budget. One key per subject: it holds the TAT in µs, or `b<until ms>` while the subject is blocked
 * (one lookup per check instead of two). The rule's constants are written into the script, so a check sends
 * only the key and the time: one script (and one cached SHA) per rule, of which there are few.
 * Returns {allowed, remaining, resetInMs, retryAfterMs, blocked}.
 */
export function gcraLua(rule: Pick<RateLimitRule, 'limit' | 'windowMs' | 'blockMs'>): string {
  const interval = emissionIntervalUs(rule);
  return `
local nowMs = tonumber(ARGV[1])
local stored = redis.call('GET', KEYS[1])
if stored and string.byte(stored, 1) == 98 then
  local left = tonumber(string.sub(stored, 2)) - nowMs
  if left > 0 then return {0, 0, left, left, 1} end
  stored = false
end
local nowUs = nowMs * 1000
local interval = ${interval}
local burst = ${interval * rule.limit}
local blockMs = ${rule.blockMs}
local tat = tonumber(stored or nowUs)
if tat < nowUs then tat = nowUs end
local nextTat = tat + interval
if nextTat - nowUs > burst then
  if blockMs > 0 then
    redis.call('SET', KEYS[1], 'b' .. string.format('%d', nowMs + blockMs), 'PX', blockMs)
    return {0, 0, blockMs, blockMs, 1}
  end
  return {0, 0, math.ceil((tat - nowUs) / 1000), math.ceil((nextTat - burst - nowUs) / 1000), 0}
end
local resetInMs = math.ceil((nextTat - nowUs) / 1000)
redis.call('SET', KEYS[1], string.format('%d', nextTat), 'PX', resetInMs)
return {1, math.floor((burst - (nextTat - nowUs)) / interval), resetInMs, 0, 0}
`;
}

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
  readonly #deadlines: DeadlineWatch;
  readonly #failClosedRetryMs: number;
  readonly #onDegraded: DegradedListener;
  readonly #lua: string;
  readonly #sha: string;

  constructor(options: RedisRateLimiterOptions) {
    this.rule = parseRateLimitRule(options.rule);
    this.#prefix = `${options.prefix ?? 'sk:'}rl:${this.rule.name}:`;
    this.#clock = options.clock ?? systemClock;
    // Own deadlines, whatever the client's config: a check must never hang while Redis reconnects
    // (connect-redis #373). Cheaper than ioredis' commandTimeout, which arms a timer per command.
    this.#deadlines = new DeadlineWatch(options.timeoutMs ?? 250, 'rate limit store');
    this.#failClosedRetryMs = options.failClosedRetryMs ?? 1000;
    this.#onDegraded = options.onDegraded ?? (() => {});
    this.#lua = gcraLua(this.rule);
    this.#sha = createHash('sha1').update(this.#lua).digest('hex');
    this.#redis = options.redis;
  }

  consume(key: string): Promise<RuleRateLimitResult> {
    if (!isValidKey(key)) return Promise.reject(invalidKey());
    const now = this.#clock.now();
    const subject = this.#prefix + key;
    // A plain promise chain, not an async function: this is the hot path, and each await is a tick.
    return this.#deadlines.settle(
      this.#redis.evalsha(this.#sha, 1, subject, now),
      (reply) => this.#result(reply as GcraReply, now),
      (error) => {
        if (!isNoScript(error)) return this.#degraded(error, now);
        // The script cache was flushed (or the server is new): EVAL runs the script and caches it again.
        return this.#deadlines.settle(
          this.#redis.eval(this.#lua, 1, subject, now),
          (reply) => this.#result(reply as GcraReply, now),
          (retryError) => this.#degraded(retryError, now),
        );
      },
    );
  }

  #result(reply: GcraReply, now: number): RuleRateLimitResult {
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
    await this.#bounded(this.#redis.del(this.#prefix + key));
  }

  #bounded<T>(call: Promise<T>): Promise<T> {
    return this.#deadlines.track(call);
  }

  #degraded(error: StoreUnavailableError, now: number): RuleRateLimitResult {
    const mode = this.rule.onStoreDown;
    try {
      this.#onDegraded({
        component: 'rate-limit',
        name: this.rule.name,
        mode,
        at: now,
        error,
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
function isValidKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= 512;
}

function invalidKey(): InvalidInputError {
  return new InvalidInputError('Invalid rate limit key: a string of 1 to 512 characters', [
    { path: '(root)', message: 'must be a string of 1 to 512 characters' },
  ]);
}
