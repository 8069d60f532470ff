import { ManualClock, RateLimitedError } from '@sessionkit/core';
import { freePort, PrivateRedis } from '@sessionkit/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { DegradedEvent, RuleRateLimitResult } from '../src/index.js';
import { MemoryRateLimiter, RedisRateLimiter, RequestRateLimits, rateLimitKey } from '../src/index.js';
import { redisFixture } from './redis-fixture.js';

const redis = redisFixture();
afterAll(() => redis.cleanup());

describe('RedisRateLimiter', () => {
  it('two instances on two connections enforce one combined limit exactly under 500 concurrent attempts', async () => {
    const rule = { name: 'login', scope: 'user', limit: 100, windowMs: 3_600_000 } as const;
    // One stopped clock for both: on a loaded machine the 500 attempts span seconds, and each remaining count
    // is rounded from the time left, so two could round to the same number on the system clock.
    const clock = new ManualClock();
    const a = new RedisRateLimiter({
      redis: redis.connect(),
      rule,
      prefix: redis.prefix,
      timeoutMs: 20_000,
      clock,
    });
    const b = new RedisRateLimiter({
      redis: redis.connect(),
      rule,
      prefix: redis.prefix,
      timeoutMs: 20_000,
      clock,
    });
    const attempts = Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? a : b).consume('u:alice'));
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    expect(results.filter((r) => r.outcome === 'limited')).toHaveLength(400);
    expect(results.filter((r) => r.outcome === 'store.unavailable')).toHaveLength(0);
    const remaining = results.filter((r) => r.allowed).map((r) => r.remaining);
    expect(new Set(remaining).size).toBe(100);
    expect(Math.min(...remaining)).toBe(0);
  });

  it('reports remaining, reset time and Retry-After, and refills with time', async () => {
    const clock = new ManualClock();
    const limiter = new RedisRateLimiter({
      redis: redis.connect(),
      rule: { name: 'api', scope: 'ip', limit: 3, windowMs: 3000 },
      prefix: redis.prefix,
      clock,
    });
    const start = clock.now();
    const first = await limiter.consume('ip:x');
    expect(first).toMatchObject({
      allowed: true,
      limit: 3,
      remaining: 2,
      resetAt: start + 1000,
      retryAfterMs: 0,
    });
    await limiter.consume('ip:x');
    const third = await limiter.consume('ip:x');
    expect(third).toMatchObject({ allowed: true, remaining: 0, resetAt: start + 3000 });
    const refused = await limiter.consume('ip:x');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 1000, outcome: 'limited' });
    clock.advance(999);
    expect((await limiter.consume('ip:x')).allowed).toBe(false);
    clock.advance(1);
    expect(await limiter.consume('ip:x')).toMatchObject({ allowed: true, remaining: 0 });
    clock.advance(3000);
    expect(await limiter.consume('ip:x')).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('blocks for blockMs once over the limit, however the window refills', async () => {
    const clock = new ManualClock();
    const limiter = new RedisRateLimiter({
      redis: redis.connect(),
      rule: { name: 'otp', scope: 'user', limit: 2, windowMs: 1000, blockMs: 60_000 },
      prefix: redis.prefix,
      clock,
    });
    await limiter.consume('u:bob');
    await limiter.consume('u:bob');
    const blocked = await limiter.consume('u:bob');
    expect(blocked).toMatchObject({ allowed: false, outcome: 'blocked', retryAfterMs: 60_000 });
    clock.advance(30_000);
    const still = await limiter.consume('u:bob');
    expect(still.outcome).toBe('blocked');
    expect(still.retryAfterMs).toBeGreaterThan(0);
    expect(still.retryAfterMs).toBeLessThanOrEqual(60_000);
    await limiter.reset('u:bob');
    expect((await limiter.consume('u:bob')).allowed).toBe(true);
  });

  it('gives the same answers as the in-memory limiter for the same sequence, with and without a block', async () => {
    for (const blockMs of [0, 5000]) {
      const rule = { name: `same-${blockMs}`, scope: 'ip', limit: 5, windowMs: 10_000, blockMs } as const;
      const clock = new ManualClock();
      const onRedis = new RedisRateLimiter({ redis: redis.connect(), rule, prefix: redis.prefix, clock });
      const inMemory = new MemoryRateLimiter({ rule, clock });
      const steps = [0, 0, 100, 0, 1500, 0, 0, 0, 2000, 0, 4000, 0, 1000, 0, 7000, 0, 0, 1, 0];
      for (const step of steps) {
        clock.advance(step);
        const [r, m] = await Promise.all([onRedis.consume('k'), inMemory.consume('k')]);
        expect(r).toEqual(m);
      }
    }
  });

  it('rejects a bad rule or key with input.invalid', async () => {
    expect(
      () => new MemoryRateLimiter({ rule: { name: 'Bad Name', scope: 'ip', limit: 1, windowMs: 1000 } }),
    ).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    expect(
      () => new MemoryRateLimiter({ rule: { name: 'x', scope: 'ip', limit: 0, windowMs: 1000 } }),
    ).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    const limiter = new MemoryRateLimiter({ rule: { name: 'x', scope: 'ip', limit: 1, windowMs: 1000 } });
    await expect(limiter.consume('')).rejects.toMatchObject({ code: 'input.invalid' });
  });
});

describe('MemoryRateLimiter', () => {
  it('stays bounded and forgets a key once its bucket is full again', async () => {
    const clock = new ManualClock();
    const limiter = new MemoryRateLimiter({
      rule: { name: 'm', scope: 'ip', limit: 1, windowMs: 1000 },
      clock,
      maxKeys: 10,
    });
    for (let i = 0; i < 50; i += 1) expect((await limiter.consume(`k${i}`)).allowed).toBe(true);
    // k0 was evicted by the bound (so it is allowed again); k49 is still tracked.
    expect((await limiter.consume('k0')).allowed).toBe(true);
    expect((await limiter.consume('k49')).allowed).toBe(false);
    clock.advance(1000);
    expect((await limiter.consume('k49')).allowed).toBe(true);
  });
});

describe('RequestRateLimits', () => {
  it('counts every applicable rule and answers with the most restrictive', async () => {
    const clock = new ManualClock();
    const limits = new RequestRateLimits([
      new MemoryRateLimiter({ rule: { name: 'per-ip', scope: 'ip', limit: 10, windowMs: 60_000 }, clock }),
      new MemoryRateLimiter({ rule: { name: 'per-user', scope: 'user', limit: 2, windowMs: 60_000 }, clock }),
      new MemoryRateLimiter({
        rule: { name: 'per-route', scope: 'route', limit: 100, windowMs: 60_000 },
        clock,
      }),
    ]);
    const subject = { ipHash: 'h1', userId: 'alice', route: 'POST /api/auth/login' };
    expect(await limits.check(subject)).toMatchObject({ allowed: true, rule: 'per-user', remaining: 1 });
    await limits.check(subject);
    const refused = await limits.check(subject);
    expect(refused).toMatchObject({ allowed: false, rule: 'per-user', retryAfterMs: 30_000 });
    await expect(limits.enforce(subject)).rejects.toBeInstanceOf(RateLimitedError);
    // Another user from the same IP is still let through by the per-user rule.
    expect(await limits.check({ ipHash: 'h1', userId: 'bob' })).toMatchObject({ allowed: true });
    expect(await limits.check({})).toBeUndefined();
    expect(rateLimitKey('user-ip', { userId: 'u', ipHash: 'h' })).toBe('ui:u:h');
  });
});

/** Far beyond every deadline under test, and far short of a hang: a loaded machine stays well inside it. */
const NO_HANG_MS = 20_000;
/** The limiters' deadline against a healthy server: generous, so a loaded machine never trips it. */
const PATIENT_MS = 2000;
// A port that stays closed: nothing listens there.
const CLOSED_PORT = await freePort();

describe('when Redis is unreachable', () => {
  function limiterOn(client: Redis, mode: 'fail-closed' | 'fail-open', events: DegradedEvent[]) {
    return new RedisRateLimiter({
      redis: client,
      rule: { name: `login-${mode}`, scope: 'user', limit: 5, windowMs: 60_000, onStoreDown: mode },
      timeoutMs: PATIENT_MS,
      onDegraded: (event) => events.push(event),
    });
  }

  async function timed(work: Promise<RuleRateLimitResult>) {
    const started = performance.now();
    const result = await work;
    return { result, ms: performance.now() - started };
  }

  it('a server that dies: fail-closed refuses with store.unavailable, fail-open allows and alerts, neither hangs', async () => {
    const server = await PrivateRedis.onFreePort({ args: ['--save', ''] });
    await server.start();
    const client = new Redis({ port: server.port, commandTimeout: PATIENT_MS, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const events: DegradedEvent[] = [];
    const closed = limiterOn(client, 'fail-closed', events);
    const open = limiterOn(client, 'fail-open', events);
    try {
      expect((await closed.consume('u:alice')).outcome).toBe('allowed');
      // This private server's script cache can be flushed safely: the limiter reloads with EVAL.
      await client.script('FLUSH');
      expect(await closed.consume('u:alice')).toMatchObject({ outcome: 'allowed', remaining: 3 });
      // A server that is connected but stuck: once CLIENT PAUSE answers OK, no other client gets an answer
      // for longer than NO_HANG_MS, so an answer before that is the limiter's own deadline.
      const pauser = new Redis({ port: server.port });
      pauser.on('error', () => {});
      const stuckClient = new Redis({ port: server.port });
      stuckClient.on('error', () => {});
      await stuckClient.ping();
      expect(await pauser.client('PAUSE', String(NO_HANG_MS * 2), 'ALL')).toBe('OK');
      const slow = new RedisRateLimiter({
        redis: stuckClient,
        rule: { name: 'stuck', scope: 'user', limit: 5, windowMs: 60_000 },
        timeoutMs: 150,
      });
      const stuck = await timed(slow.consume('u:alice'));
      expect(stuck.result).toMatchObject({ allowed: false, outcome: 'store.unavailable' });
      expect(stuck.ms).toBeGreaterThanOrEqual(140);
      expect(stuck.ms).toBeLessThan(NO_HANG_MS);
      pauser.disconnect();
      stuckClient.disconnect();
      await server.stop();
      const refused = await timed(closed.consume('u:alice'));
      expect(refused.result).toMatchObject({
        allowed: false,
        outcome: 'store.unavailable',
        retryAfterMs: 1000,
      });
      expect(refused.ms).toBeLessThan(NO_HANG_MS);
      const passed = await timed(open.consume('u:alice'));
      expect(passed.result).toMatchObject({ allowed: true, outcome: 'store.unavailable', retryAfterMs: 0 });
      expect(passed.ms).toBeLessThan(NO_HANG_MS);
      expect(events.map((e) => [e.component, e.name, e.mode])).toEqual([
        ['rate-limit', 'login-fail-closed', 'fail-closed'],
        ['rate-limit', 'login-fail-open', 'fail-open'],
      ]);
      // A fail-closed refusal because the store is down is an outage (503), not the client's fault (429).
      await expect(new RequestRateLimits([closed]).enforce({ userId: 'alice' })).rejects.toMatchObject({
        code: 'store.unavailable',
        details: { retryAfterMs: 1000 },
      });
    } finally {
      client.disconnect();
      await server.destroy();
    }
  });

  it('a closed port and a client without commandTimeout: the limiter deadline still answers', async () => {
    const client = new Redis({ port: CLOSED_PORT, retryStrategy: () => 50 });
    client.on('error', () => {});
    const events: DegradedEvent[] = [];
    try {
      const refused = await timed(limiterOn(client, 'fail-closed', events).consume('u:alice'));
      expect(refused.result).toMatchObject({ allowed: false, outcome: 'store.unavailable' });
      expect(refused.ms).toBeLessThan(NO_HANG_MS);
      const passed = await timed(limiterOn(client, 'fail-open', events).consume('u:alice'));
      expect(passed.result.allowed).toBe(true);
      expect(events).toHaveLength(2);
      expect(events[0]?.error).toMatchObject({ code: 'store.unavailable' });
    } finally {
      client.disconnect();
    }
  });
});
