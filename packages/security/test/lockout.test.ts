import { ManualClock } from '@sessionkit/core';
import { freePort } from '@sessionkit/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { DegradedEvent, LockoutStore } from '../src/index.js';
import {
  BruteForceGuard,
  backoffDelayMs,
  MemoryEventLog,
  MemoryLockoutStore,
  parseLockoutPolicy,
  RedisEventLog,
  RedisLockoutStore,
} from '../src/index.js';
import { redisFixture } from './redis-fixture.js';

const redis = redisFixture();
afterAll(() => redis.cleanup());

const SECOND = 1000;
const victim = { userId: 'victim', ipHash: 'victim-ip' };
const attacker = { userId: 'victim', ipHash: 'attacker-ip' };

const stores: [string, () => LockoutStore][] = [
  [
    'redis',
    () => new RedisLockoutStore({ redis: redis.connect(), prefix: `${redis.prefix}${Math.random()}:` }),
  ],
  ['memory', () => new MemoryLockoutStore()],
];

describe.each(stores)('BruteForceGuard on %s', (_name, makeStore) => {
  it('backs off exponentially per account+IP, up to the cap, with an injected clock', async () => {
    const clock = new ManualClock();
    const guard = new BruteForceGuard({
      store: makeStore(),
      clock,
      random: () => 0,
      policy: { accountIp: { freeAttempts: 3, baseDelayMs: SECOND, maxDelayMs: 8 * SECOND } },
    });
    for (let i = 0; i < 3; i += 1) {
      expect(await guard.recordFailure(attacker)).toMatchObject({ allowed: true, retryAfterMs: 0 });
    }
    const waits: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const locked = await guard.recordFailure(attacker);
      expect(locked).toMatchObject({ allowed: false, lockedBy: ['accountIp'], outcome: 'locked' });
      waits.push(locked.retryAfterMs);
      expect((await guard.check(attacker)).retryAfterMs).toBe(locked.retryAfterMs);
      clock.advance(locked.retryAfterMs - 1);
      expect((await guard.check(attacker)).allowed).toBe(false);
      clock.advance(1);
      expect((await guard.check(attacker)).allowed).toBe(true);
    }
    expect(waits).toEqual([1, 2, 4, 8, 8, 8].map((s) => s * SECOND));
  });

  it('applies jitter as a bounded shortening of the delay', async () => {
    const clock = new ManualClock();
    const guard = new BruteForceGuard({
      store: makeStore(),
      clock,
      random: () => 0.5,
      policy: { jitter: 0.2, accountIp: { freeAttempts: 0, baseDelayMs: 10 * SECOND } },
    });
    expect((await guard.recordFailure(attacker)).retryAfterMs).toBe(9 * SECOND);
  });

  it('resets the account on success but keeps the per-IP count', async () => {
    const clock = new ManualClock();
    const guard = new BruteForceGuard({
      store: makeStore(),
      clock,
      random: () => 0,
      policy: { accountIp: { freeAttempts: 2 }, ip: { freeAttempts: 4 } },
    });
    await guard.recordFailure(victim);
    await guard.recordFailure(victim);
    await guard.recordSuccess(victim);
    expect(await guard.recordFailure(victim)).toMatchObject({ allowed: true });
    expect(await guard.recordFailure(victim)).toMatchObject({ allowed: true });
    // The IP has now failed 4 times in total: one more and the per-IP backoff starts.
    expect(await guard.recordFailure(victim)).toMatchObject({
      allowed: false,
      lockedBy: ['accountIp', 'ip'],
    });
  });

  it('one IP hammering an account locks itself out, never the victim on their own IP', async () => {
    const clock = new ManualClock();
    const guard = new BruteForceGuard({ store: makeStore(), clock, random: () => 0 });
    for (let i = 0; i < 200; i += 1) {
      await guard.recordFailure(attacker);
      clock.advance(SECOND);
    }
    const attackerNow = await guard.check(attacker);
    expect(attackerNow.allowed).toBe(false);
    expect(attackerNow.lockedBy).toEqual(['accountIp', 'ip']);
    expect(await guard.check(victim)).toMatchObject({ allowed: true, lockedBy: [] });
  });

  it('many IPs failing trip the account-wide lock, which a known device bypasses and which ends', async () => {
    const clock = new ManualClock();
    const guard = new BruteForceGuard({
      store: makeStore(),
      clock,
      random: () => 0,
      policy: { account: { freeAttempts: 3, baseDelayMs: 60 * SECOND, maxDelayMs: 120 * SECOND } },
    });
    for (let ip = 0; ip < 4; ip += 1) await guard.recordFailure({ userId: 'victim', ipHash: `bot-${ip}` });
    const fromVictim = await guard.check(victim);
    expect(fromVictim).toMatchObject({ allowed: false, lockedBy: ['account'], retryAfterMs: 60 * SECOND });
    expect(await guard.check({ ...victim, knownDevice: true })).toMatchObject({ allowed: true });
    await expect(guard.assertAllowed(victim)).rejects.toMatchObject({
      code: 'rate.limited',
      retryAfterMs: 60_000,
    });
    clock.advance(60 * SECOND);
    expect(await guard.check(victim)).toMatchObject({ allowed: true });
  });
});

describe('BruteForceGuard shared through Redis', () => {
  it('two instances on two connections see one set of counters, and the Lua backoff equals the TypeScript one', async () => {
    const clock = new ManualClock();
    const prefix = `${redis.prefix}shared:`;
    const policy = { accountIp: { freeAttempts: 2, baseDelayMs: 1500, maxDelayMs: 100_000 }, jitter: 0.3 };
    let draw = 0;
    const random = () => [0.1, 0.7, 0.35, 0.9][draw++ % 4] ?? 0;
    const one = new BruteForceGuard({
      store: new RedisLockoutStore({ redis: redis.connect(), prefix }),
      clock,
      random,
      policy,
    });
    const two = new BruteForceGuard({
      store: new RedisLockoutStore({ redis: redis.connect(), prefix }),
      clock,
      random,
      policy,
    });
    await one.recordFailure(attacker);
    await two.recordFailure(attacker);
    draw = 0;
    const third = await one.recordFailure(attacker);
    const parsed = parseLockoutPolicy(policy);
    // recordFailure draws once per subject in order accountIp, ip, account: accountIp got the first draw.
    expect(third.retryAfterMs).toBe(backoffDelayMs(3, parsed.accountIp, 1 - 0.3 * 0.1));
    expect((await two.check(attacker)).retryAfterMs).toBe(third.retryAfterMs);
  });

  it('records lockouts so the user and tenant summaries list the locked account', async () => {
    const clock = new ManualClock();
    for (const events of [
      new MemoryEventLog(),
      new RedisEventLog({ redis: redis.connect(), prefix: redis.prefix }),
    ]) {
      const guard = new BruteForceGuard({
        store: new MemoryLockoutStore(),
        clock,
        random: () => 0,
        events,
        policy: { accountIp: { freeAttempts: 1 } },
      });
      await guard.recordFailure({ ...attacker, tenantId: 'acme' });
      await guard.recordFailure({ ...attacker, tenantId: 'acme' });
      const tenant = await events.summarizeTenant('acme', { now: clock.now() });
      expect(tenant.lockedAccounts).toEqual([
        { userId: 'victim', tenantId: 'acme', subject: 'accountIp', lockedUntil: clock.now() + SECOND },
      ]);
      const user = await events.summarizeUser('victim', { now: clock.now() });
      expect(user.recentEvents).toHaveLength(1);
      expect(user.recentEvents[0]).toMatchObject({ type: 'lockout', ipHash: 'attacker-ip', failures: 2 });
      expect((await events.summarizeUser('victim', { now: clock.now() + SECOND })).lockedAccounts).toEqual(
        [],
      );
    }
  });
});

describe('BruteForceGuard when Redis is unreachable', () => {
  it('fails closed by default and open when configured, without hanging', async () => {
    const client = new Redis({ port: await freePort(), retryStrategy: () => 50 });
    client.on('error', () => {});
    const degraded: DegradedEvent[] = [];
    try {
      const store = new RedisLockoutStore({ redis: client, timeoutMs: 150 });
      const closed = new BruteForceGuard({ store, onDegraded: (e) => degraded.push(e) });
      const started = performance.now();
      expect(await closed.check(victim)).toMatchObject({
        allowed: false,
        outcome: 'store.unavailable',
        retryAfterMs: 1000,
      });
      expect(await closed.recordFailure(victim)).toMatchObject({
        allowed: false,
        outcome: 'store.unavailable',
      });
      await expect(closed.assertAllowed(victim)).rejects.toMatchObject({ code: 'rate.limited' });
      const open = new BruteForceGuard({ store, policy: { onStoreDown: 'fail-open' } });
      expect(await open.check(victim)).toMatchObject({ allowed: true, outcome: 'store.unavailable' });
      // Deadlines of 150 ms each; the bound only tells an answer from a hang, even on a loaded machine.
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(degraded.length).toBeGreaterThanOrEqual(2);
      expect(degraded[0]).toMatchObject({ component: 'lockout', mode: 'fail-closed' });
    } finally {
      client.disconnect();
    }
  });

  it('rejects malformed attempts and policies with input.invalid', async () => {
    const guard = new BruteForceGuard({ store: new MemoryLockoutStore() });
    await expect(guard.check({ userId: '', ipHash: 'x' })).rejects.toMatchObject({ code: 'input.invalid' });
    expect(() => parseLockoutPolicy({ jitter: 2 })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
  });
});
