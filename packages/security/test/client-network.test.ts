import { randomBytes } from 'node:crypto';
import { hmacSha256, ManualClock } from '@sessionkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClientNetworkOptions, LockoutStore, RuleLimiter } from '../src/index.js';
import {
  BruteForceGuard,
  clientNetwork,
  MemoryLockoutStore,
  MemoryRateLimiter,
  parseClientNetworkOptions,
  RedisLockoutStore,
  RedisRateLimiter,
  RequestRateLimits,
} from '../src/index.js';
import { redisFixture } from './redis-fixture.js';

const redis = redisFixture();
afterAll(() => redis.cleanup());

const ipHashKey = randomBytes(32).toString('base64url');
/** What an app keys limits and lockout by: the keyed hash of the client's network, as `hashIp` makes it. */
const networkHash = (ip: string, options?: ClientNetworkOptions) =>
  hmacSha256(ipHashKey, clientNetwork(ip, parseClientNetworkOptions(options)));

/** 2^bits addresses of one /64, spread over its interface-identifier half as a rotating client would. */
function addressesIn(prefix: string, bits: number): string[] {
  return Array.from({ length: 2 ** bits }, (_, i) => {
    const groups = [i * 4099, i * 257 + 1, i * 31 + 7, i + 1].map((n) => (n % 65_536).toString(16));
    return `${prefix}:${groups.join(':')}`;
  });
}

describe('clientNetwork', () => {
  it('keeps an IPv4 address and groups IPv6 by /64, in one canonical spelling', () => {
    expect(clientNetwork('203.0.113.77')).toBe('203.0.113.77/32');
    expect(clientNetwork('::ffff:203.0.113.77')).toBe('203.0.113.77/32');
    expect(clientNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(clientNetwork('2001:0db8:0001:0002::1')).toBe(clientNetwork('2001:db8:1:2:ffff::'));
    expect(clientNetwork('2001:db8:1:3::1')).not.toBe(clientNetwork('2001:db8:1:2::1'));
    expect(clientNetwork('unknown')).toBe('unknown');
  });

  it('takes the prefix lengths from its options, validated', () => {
    const wide = parseClientNetworkOptions({ ipv4PrefixBits: 24, ipv6PrefixBits: 56 });
    expect(clientNetwork('203.0.113.77', wide)).toBe('203.0.113.0/24');
    expect(clientNetwork('2001:db8:1:2ff::1', wide)).toBe('2001:db8:1:200:0:0:0:0/56');
    const exact = parseClientNetworkOptions({ ipv6PrefixBits: 128 });
    expect(clientNetwork('2001:db8::1', exact)).not.toBe(clientNetwork('2001:db8::2', exact));
    for (const bad of [{ ipv6PrefixBits: 129 }, { ipv6PrefixBits: 8 }, { ipv4PrefixBits: 33 }, { v6: 64 }]) {
      expect(() => parseClientNetworkOptions(bad)).toThrow(
        expect.objectContaining({ code: 'input.invalid' }),
      );
    }
  });
});

const limiters: [
  string,
  (rule: ConstructorParameters<typeof MemoryRateLimiter>[0]['rule']) => RuleLimiter,
][] = [
  [
    'redis',
    (rule) =>
      new RedisRateLimiter({
        redis: redis.connect(),
        rule,
        prefix: `${redis.prefix}${randomBytes(4).toString('hex')}:`,
        clock: new ManualClock(),
      }),
  ],
  ['memory', (rule) => new MemoryRateLimiter({ rule, clock: new ManualClock() })],
];

describe.each(limiters)('login limits on %s', (_name, makeLimiter) => {
  it('2^8 addresses of one IPv6 /64 share one budget; the next /64 has its own', async () => {
    const limits = new RequestRateLimits([
      makeLimiter({ name: 'login-ip', scope: 'ip', limit: 30, windowMs: 60_000 }),
    ]);
    const outcomes = [];
    for (const ip of addressesIn('2001:db8:42:7', 8)) {
      outcomes.push((await limits.check({ ipHash: networkHash(ip) }))?.allowed);
    }
    expect(outcomes.filter(Boolean)).toHaveLength(30);
    expect(outcomes.slice(30).every((allowed) => allowed === false)).toBe(true);
    expect((await limits.check({ ipHash: networkHash('2001:db8:42:8::1') }))?.allowed).toBe(true);
  });

  it('with a configured /48, a client rotating /64s inside its /48 still shares one budget', async () => {
    const limits = new RequestRateLimits([
      makeLimiter({ name: 'login-ip', scope: 'ip', limit: 3, windowMs: 60_000 }),
    ]);
    const wide = { ipv6PrefixBits: 48 };
    const allowed = [];
    for (let subnet = 0; subnet < 8; subnet += 1) {
      allowed.push((await limits.check({ ipHash: networkHash(`2001:db8:42:${subnet}::1`, wide) }))?.allowed);
    }
    expect(allowed).toEqual([true, true, true, false, false, false, false, false]);
  });

  it('a successful login resets the account+IP budget, never the per-IP one', async () => {
    const limits = new RequestRateLimits([
      makeLimiter({ name: 'login-ip', scope: 'ip', limit: 100, windowMs: 60_000 }),
      makeLimiter({ name: 'login-user-ip', scope: 'user-ip', limit: 10, windowMs: 60_000, blockMs: 300_000 }),
    ]);
    const subject = { ipHash: networkHash('2001:db8:42:9::5'), userId: 'alice' };
    for (let login = 0; login < 25; login += 1) {
      await limits.enforce(subject);
      await limits.reset(subject, ['user-ip']);
    }
    const verdict = await limits.check(subject);
    expect(verdict).toMatchObject({ allowed: true, rule: 'login-user-ip', remaining: 9 });
    // The per-IP rule kept counting all 27 attempts.
    expect(await limits.check({ ipHash: subject.ipHash })).toMatchObject({ rule: 'login-ip', remaining: 73 });
    for (let guess = 0; guess < 10; guess += 1) await limits.enforce({ ...subject, userId: 'bob' });
    await expect(limits.enforce({ ...subject, userId: 'bob' })).rejects.toMatchObject({
      code: 'rate.limited',
    });
  });
});

const lockoutStores: [string, () => LockoutStore][] = [
  [
    'redis',
    () =>
      new RedisLockoutStore({
        redis: redis.connect(),
        prefix: `${redis.prefix}${randomBytes(4).toString('hex')}:`,
      }),
  ],
  ['memory', () => new MemoryLockoutStore()],
];

describe.each(lockoutStores)('lockout on %s', (_name, makeStore) => {
  it('2^6 addresses of one /64 count once towards the account-wide lock: the owner is not locked out', async () => {
    const guard = new BruteForceGuard({ store: makeStore(), clock: new ManualClock(), random: () => 0 });
    for (const ip of addressesIn('2001:db8:66:1', 6)) {
      await guard.recordFailure({ userId: 'victim', ipHash: networkHash(ip) });
    }
    // The attacker's /64 locked itself; the victim, from their own network, is not locked out.
    expect(await guard.check({ userId: 'victim', ipHash: networkHash('2001:db8:66:1::77') })).toMatchObject({
      allowed: false,
      lockedBy: ['accountIp', 'ip'],
    });
    expect(await guard.check({ userId: 'victim', ipHash: networkHash('2001:db8:99:1::1') })).toMatchObject({
      allowed: true,
    });
  });

  it('eleven distinct /64s trip the account-wide lock, which a known device passes', async () => {
    const guard = new BruteForceGuard({ store: makeStore(), clock: new ManualClock(), random: () => 0 });
    for (let network = 0; network < 11; network += 1) {
      await guard.recordFailure({ userId: 'victim', ipHash: networkHash(`2001:db8:77:${network}::1`) });
    }
    const owner = { userId: 'victim', ipHash: networkHash('2001:db8:99:1::1') };
    expect(await guard.check(owner)).toMatchObject({ allowed: false, lockedBy: ['account'] });
    expect(await guard.check({ ...owner, knownDevice: true })).toMatchObject({ allowed: true });
  });
});
