import { describe, expect, it } from 'vitest';
import { AccessTokenKeyRing } from '../src/access-token.js';
import { ManualClock } from '../src/clock.js';
import { MemoryStore } from '../src/memory-store.js';
import { SessionManager } from '../src/session-manager.js';
import type { SessionRecord } from '../src/session-record.js';
import type { InvalidationFeed, InvalidationSubscribeOptions, SessionStore } from '../src/store.js';
import { codeOf } from './helpers.js';

/** Counts store reads, to show which validations skip the store. */
function countingReads(inner: MemoryStore): { store: SessionStore; reads: () => number } {
  let reads = 0;
  const store: SessionStore = {
    shared: inner.shared,
    feed: inner.feed,
    get: (id) => {
      reads += 1;
      return inner.get(id);
    },
    create: (input) => inner.create(input),
    listByUser: (userId, options) => inner.listByUser(userId, options),
    update: (next, version) => inner.update(next, version),
    rotateRefresh: (input) => inner.rotateRefresh(input),
    revoke: (id, options) => inner.revoke(id, options),
    revokeUser: (userId, options) => inner.revokeUser(userId, options),
    revokeTree: (id, options) => inner.revokeTree(id, options),
    deleteExpired: (options) => inner.deleteExpired(options),
    health: () => inner.health(),
    close: () => inner.close(),
  };
  return { store, reads: () => reads };
}

/** Two app instances sharing one store and one invalidation feed, with one signing key ring. */
async function twoInstances(validationCache = false) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const shared = new MemoryStore({ now: () => clock.now() });
  const keys = await AccessTokenKeyRing.generate({ issuer: 'i', audience: 'a', ttlMs: 300_000, clock });
  const make = () => {
    const counted = countingReads(shared);
    const manager = new SessionManager({
      store: counted.store,
      clock,
      accessTokens: keys,
      config: { validationCache: { enabled: validationCache, maxAgeMs: 1000 } },
    });
    return { manager, reads: counted.reads };
  };
  const a = make();
  const b = make();
  await a.manager.start();
  await b.manager.start();
  return { clock, a, b, keys };
}

describe('fast tier: access tokens', () => {
  it('verifies a repeated access token once, with no store read', async () => {
    const { a } = await twoInstances();
    const issued = await a.manager.create({ userId: 'alice' });
    const before = a.reads();
    for (let i = 0; i < 20; i += 1) {
      const result = await a.manager.validate(issued.accessToken, { tier: 'fast' });
      expect(result).toMatchObject({ source: 'access-token', userId: 'alice', sessionId: issued.session.id });
    }
    expect(a.reads()).toBe(before);
  });

  it("never answers a payload swapped under a verified token's signature from the cache", async () => {
    const { a } = await twoInstances();
    const alice = await a.manager.create({ userId: 'alice' });
    const mallory = await a.manager.create({ userId: 'mallory' });
    await a.manager.validate(alice.accessToken, { tier: 'fast' });
    const [, , signature] = (alice.accessToken ?? '').split('.');
    const [header, payload] = (mallory.accessToken ?? '').split('.');
    const forged = `${header}.${payload}.${signature}`;
    expect(a.manager.validateFromCache(forged, { tier: 'fast' })).toBeUndefined();
    expect(await codeOf(a.manager.validate(forged, { tier: 'fast' }))).toBe('token.invalid');
    expect((await a.manager.validate(alice.accessToken, { tier: 'fast' })).userId).toBe('alice');
  });

  it('rejects an access token on instance B once instance A revoked its session', async () => {
    const { a, b } = await twoInstances();
    const issued = await a.manager.create({ userId: 'alice' });
    await expect(b.manager.validate(issued.accessToken, { tier: 'fast' })).resolves.toBeDefined();
    await a.manager.revoke(issued.session.id);
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('session.revoked');
  });

  it('full tier on an access token also checks the stored session', async () => {
    const { a, b } = await twoInstances();
    const issued = await a.manager.create({ userId: 'alice' });
    await b.manager.close();
    await a.manager.revoke(issued.session.id);
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('resolved');
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'full' }))).toBe('session.revoked');
  });

  it('rejects access tokens when none are configured, and garbage JWTs', async () => {
    const { a } = await twoInstances();
    const plain = new SessionManager({ store: new MemoryStore() });
    const issued = await a.manager.create({ userId: 'alice' });
    expect(await codeOf(plain.validate(issued.accessToken))).toBe('token.invalid');
    expect(await codeOf(a.manager.validate('aaa.bbb.ccc'))).toBe('token.invalid');
  });

  it('carries refreshed access tokens with the session AAL', async () => {
    const { a } = await twoInstances();
    const issued = await a.manager.create({ userId: 'alice', aal: 2 });
    const refreshed = await a.manager.refresh(issued.refreshToken);
    const result = await a.manager.validate(refreshed.accessToken, { requiredAal: 2 });
    expect(result.aal).toBe(2);
  });
});

describe('fast tier: local validation cache for opaque tokens', () => {
  it('serves repeated validations within maxAge without a store read', async () => {
    const { a, clock } = await twoInstances(true);
    const issued = await a.manager.create({ userId: 'alice' });
    await a.manager.validate(issued.token, { tier: 'fast' });
    const reads = a.reads();
    for (let i = 0; i < 10; i += 1) {
      expect((await a.manager.validate(issued.token, { tier: 'fast' })).source).toBe('cache');
    }
    expect(a.reads()).toBe(reads);
    clock.advance(1001);
    expect((await a.manager.validate(issued.token, { tier: 'fast' })).source).toBe('store');
  });

  it('validateUncached skips only the cache probe: a cached token is read from the store, then cached again', async () => {
    const { a } = await twoInstances(true);
    const issued = await a.manager.create({ userId: 'alice' });
    await a.manager.validate(issued.token, { tier: 'fast' });
    expect(a.manager.validateFromCache(issued.token, { tier: 'fast' })?.source).toBe('cache');
    const reads = a.reads();
    const fresh = await a.manager.validateUncached(issued.token, { tier: 'fast' });
    expect(fresh).toMatchObject({ source: 'store', userId: 'alice', sessionId: issued.session.id });
    expect(a.reads()).toBe(reads + 1);
    expect((await a.manager.validate(issued.token, { tier: 'fast' })).source).toBe('cache');
    const forged = `${issued.session.id}.${'A'.repeat(43)}`;
    expect(await codeOf(a.manager.validateUncached(forged, { tier: 'fast' }))).toBe('token.invalid');
  });

  it('never serves a wrong secret from the cache', async () => {
    const { a } = await twoInstances(true);
    const issued = await a.manager.create({ userId: 'alice' });
    await a.manager.validate(issued.token, { tier: 'fast' });
    const forged = `${issued.session.id}.${'A'.repeat(43)}`;
    expect(await codeOf(a.manager.validate(forged, { tier: 'fast' }))).toBe('token.invalid');
  });

  it('drops a cached session at once when another instance revokes it (feed), and within maxAge without the feed', async () => {
    const { a, b, clock } = await twoInstances(true);
    const issued = await a.manager.create({ userId: 'alice' });
    await b.manager.validate(issued.token, { tier: 'fast' });
    await a.manager.revoke(issued.session.id);
    expect(await codeOf(b.manager.validate(issued.token, { tier: 'fast' }))).toBe('session.revoked');

    const second = await a.manager.create({ userId: 'alice' });
    await b.manager.validate(second.token, { tier: 'fast' });
    await b.manager.close();
    await a.manager.revoke(second.session.id);
    // Without the feed the stale copy may serve until maxAgeMs, and not a millisecond longer.
    expect(await codeOf(b.manager.validate(second.token, { tier: 'fast' }))).toBe('resolved');
    clock.advance(1000);
    expect(await codeOf(b.manager.validate(second.token, { tier: 'fast' }))).toBe('session.revoked');
  });

  it('invalidates the cache when step-up replaces the token', async () => {
    const { a, b } = await twoInstances(true);
    const issued = await a.manager.create({ userId: 'alice' });
    await b.manager.validate(issued.token, { tier: 'fast' });
    await a.manager.stepUp(issued.session.id, { aal: 2 });
    expect(await codeOf(b.manager.validate(issued.token, { tier: 'fast' }))).toBe('token.invalid');
  });
});

describe('invalidation feed gaps', () => {
  it('drops every locally cached session when the feed reports it may have missed messages', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const store = new MemoryStore({ now: () => clock.now() });
    let reportGap: (() => void) | undefined;
    const feed: InvalidationFeed = {
      publish: (message) => store.feed.publish(message),
      subscribe: async (listener, options?: InvalidationSubscribeOptions) => {
        reportGap = options?.onGap;
        return store.feed.subscribe(listener);
      },
    };
    const counted = countingReads(store);
    const manager = new SessionManager({
      store: { ...counted.store, feed },
      clock,
      config: { validationCache: { enabled: true, maxAgeMs: 5000 } },
    });
    await manager.start();
    const issued = await manager.create({ userId: 'alice' });
    await manager.validate(issued.token, { tier: 'fast' });
    expect((await manager.validate(issued.token, { tier: 'fast' })).source).toBe('cache');
    reportGap?.();
    expect((await manager.validate(issued.token, { tier: 'fast' })).source).toBe('store');
  });
});

describe('fast tier: synchronous answers from local state', () => {
  it('answers a seen access token without a promise, and leaves first sight and the full tier to validate', async () => {
    const { a } = await twoInstances();
    const issued = await a.manager.create({ userId: 'alice', aal: 2 });
    expect(a.manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toBeUndefined();
    const validated = await a.manager.validate(issued.accessToken, { tier: 'fast' });
    expect(a.manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toEqual(validated);
    expect(a.manager.validateFromCache(issued.accessToken, { tier: 'full' })).toBeUndefined();
    expect(a.manager.validateFromCache(issued.accessToken)).toBeUndefined();
    expect(() => a.manager.validateFromCache(issued.accessToken, { tier: 'fast', requiredAal: 3 })).toThrow(
      expect.objectContaining({ code: 'aal.insufficient' }),
    );
  });

  it('stops answering once the session is revoked on another instance', async () => {
    const { a, b } = await twoInstances();
    const issued = await a.manager.create({ userId: 'alice' });
    await b.manager.validate(issued.accessToken, { tier: 'fast' });
    await a.manager.revoke(issued.session.id);
    expect(b.manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toBeUndefined();
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('session.revoked');
  });

  it('answers an opaque token from the validation cache only with its own secret', async () => {
    const { a, clock } = await twoInstances(true);
    const issued = await a.manager.create({ userId: 'alice' });
    expect(a.manager.validateFromCache(issued.token, { tier: 'fast' })).toBeUndefined();
    await a.manager.validate(issued.token, { tier: 'full' });
    expect(a.manager.validateFromCache(issued.token, { tier: 'fast' })).toMatchObject({
      source: 'cache',
      session: { id: issued.session.id },
    });
    const forged = `${issued.session.id}.${'A'.repeat(43)}`;
    expect(a.manager.validateFromCache(forged, { tier: 'fast' })).toBeUndefined();
    clock.advance(1001);
    expect(a.manager.validateFromCache(issued.token, { tier: 'fast' })).toBeUndefined();
  });

  it('never throws for a value that is not a token: validate gives the typed error', async () => {
    const { a } = await twoInstances(true);
    for (const value of [undefined, 42, '', 'a.b', 'x'.repeat(5000), 'a.b.c', `${'A'.repeat(22)}.`]) {
      expect(a.manager.validateFromCache(value, { tier: 'fast' })).toBeUndefined();
    }
  });
});

describe('shared answers', () => {
  it('answers a token seen before with one deeply frozen object, and a revoked one not at all', async () => {
    const { a } = await twoInstances();
    const issued = await a.manager.create({ userId: 'alice' });
    const seen = await a.manager.validate(issued.accessToken, { tier: 'fast' });
    const first = await a.manager.validate(issued.accessToken, { tier: 'fast' });
    const again = a.manager.validateFromCache(issued.accessToken, { tier: 'fast' });
    expect(again).toBe(first);
    expect(seen).toEqual(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.warnings)).toBe(true);
    expect(() => (first.warnings as string[]).push('x')).toThrow(TypeError);
    await a.manager.revoke(issued.session.id);
    expect(a.manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toBeUndefined();
  });

  it('shares the answer for a frozen stored record, and answers a changed or warned record afresh', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const inner = new MemoryStore({ now: () => clock.now() });
    // A store that hands out one frozen object per stored version, as the Redis and SQL stores do.
    const frozen = new Map<string, SessionRecord>();
    const store: SessionStore = {
      ...countingReads(inner).store,
      get: async (id: string) => {
        const record = await inner.get(id);
        if (!record) return undefined;
        const key = `${id}:${record.version}`;
        if (!frozen.has(key)) frozen.set(key, Object.freeze(record));
        return frozen.get(key);
      },
    };
    const manager = new SessionManager({ store, clock });
    const issued = await manager.create({
      userId: 'alice',
      context: { ip: '203.0.113.7', userAgent: 'UA 1' },
    });
    const context = { ip: '203.0.113.7', userAgent: 'UA 1' };
    const first = await manager.validate(issued.token, { context });
    expect(await manager.validate(issued.token, { context })).toBe(first);
    expect(Object.isFrozen(first.session)).toBe(true);
    const warned = await manager.validate(issued.token, { context: { ...context, userAgent: 'UA 2' } });
    expect(warned).not.toBe(first);
    expect(warned.warnings.length).toBeGreaterThan(0);
    clock.advance(120_000);
    const touched = await manager.validate(issued.token, { context });
    expect(touched).not.toBe(first);
    expect(touched.session?.lastSeenAt).toBe(clock.now());
  });
});
