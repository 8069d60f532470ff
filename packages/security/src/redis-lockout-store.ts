import type { Redis } from 'ioredis';
import { DeadlineWatch } from './deadline-watch.js';
import type { LockoutFailure, LockoutState, LockoutStore } from './lockout-store.js';

/**
 * lockout-policy.ts `backoffDelayMs` in Lua, with the count: one atomic call per failure. KEYS[1] is a hash
 * {f: failures, u: lockedUntil}; KEYS[2] a sorted set of distinct members (IP hashes) by last failure.
 */
const FAIL_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local n
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[2], now, ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  n = redis.call('ZCARD', KEYS[2])
  redis.call('HSET', KEYS[1], 'f', n)
else
  n = redis.call('HINCRBY', KEYS[1], 'f', 1)
end
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
local free = tonumber(ARGV[3])
if n > free then
  local raw = math.min(tonumber(ARGV[5]), tonumber(ARGV[4]) * 2 ^ (n - free - 1))
  local candidate = now + math.floor(raw * tonumber(ARGV[6]))
  if candidate > lockedUntil then
    lockedUntil = candidate
    redis.call('HSET', KEYS[1], 'u', string.format('%d', lockedUntil))
  end
end
local ttl = math.max(window, lockedUntil - now)
redis.call('PEXPIRE', KEYS[1], ttl)
if ARGV[7] ~= '' then redis.call('PEXPIRE', KEYS[2], ttl) end
return {n, lockedUntil}
`;

const COMMAND = 'sessionkitLockoutFail';

interface FailCommand {
  [COMMAND](
    stateKey: string,
    membersKey: string,
    now: number,
    windowMs: number,
    freeAttempts: number,
    baseDelayMs: number,
    maxDelayMs: number,
    jitterScale: number,
    member: string,
  ): Promise<[number, number]>;
}

export interface RedisLockoutStoreOptions {
  redis: Redis;
  prefix?: string;
  timeoutMs?: number;
}

export class RedisLockoutStore implements LockoutStore {
  readonly #redis: Redis & FailCommand;
  readonly #prefix: string;
  readonly #deadlines: DeadlineWatch;

  constructor(options: RedisLockoutStoreOptions) {
    options.redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: FAIL_LUA });
    this.#redis = options.redis as Redis & FailCommand;
    this.#prefix = `${options.prefix ?? 'sk:'}lo:`;
    this.#deadlines = new DeadlineWatch(options.timeoutMs ?? 250, 'lockout store');
  }

  async read(keys: readonly string[], _now: number): Promise<LockoutState[]> {
    const pipeline = this.#redis.pipeline();
    for (const key of keys) pipeline.hmget(this.#stateKey(key), 'f', 'u');
    const replies = await this.#deadlines.track(pipeline.exec());
    return (replies ?? []).map(([error, value]) => {
      if (error) throw error;
      const [failures, lockedUntil] = value as [string | null, string | null];
      return { failures: Number(failures ?? 0), lockedUntil: Number(lockedUntil ?? 0) };
    });
  }

  async fail(key: string, failure: LockoutFailure): Promise<LockoutState> {
    const { backoff } = failure;
    const stateKey = this.#stateKey(key);
    const [failures, lockedUntil] = await this.#deadlines.track(
      this.#redis[COMMAND](
        stateKey,
        `${stateKey}:m`,
        failure.now,
        backoff.windowMs,
        backoff.freeAttempts,
        backoff.baseDelayMs,
        backoff.maxDelayMs,
        failure.jitterScale,
        failure.member ?? '',
      ),
    );
    return { failures, lockedUntil };
  }

  async clear(keys: readonly string[]): Promise<void> {
    const all = keys.flatMap((key) => [this.#stateKey(key), `${this.#stateKey(key)}:m`]);
    // One DEL per subject: the keys of different subjects live in different Cluster slots.
    await this.#deadlines.track(Promise.all(all.map((key) => this.#redis.del(key))));
  }

  #stateKey(key: string): string {
    return `${this.#prefix}{${key}}`;
  }
}
