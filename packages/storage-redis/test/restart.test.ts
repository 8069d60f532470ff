import { SessionKitError } from '@sessionkit/core';
import type { InvalidationMessage } from '@sessionkit/core/store';
import { sampleRecord } from '@sessionkit/core/store';
import { freePort, PrivateRedis, sleep } from '@sessionkit/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';

const TIMEOUT_MS = 1000;
/** Far beyond the store's deadline and far short of a hang (commands queued until Redis returns). */
const NO_HANG_MS = 10_000;
const server = new PrivateRedis(await freePort(), { args: ['--save', ''] });
const clients: Redis[] = [];
const stores: RedisStore[] = [];

function connectStore(clientOptions: { enableOfflineQueue: boolean }): RedisStore {
  const client = new Redis({ host: '127.0.0.1', port: server.port, ...clientOptions });
  clients.push(client);
  const store = new RedisStore({ client, prefix: 'sk', commandTimeoutMs: TIMEOUT_MS });
  stores.push(store);
  return store;
}

async function timedCode(promise: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = performance.now();
  const code = await promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
  return { code, ms: performance.now() - started };
}

async function waitFor(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(50);
  }
  return false;
}

afterAll(async () => {
  for (const store of stores) await store.close();
  for (const client of clients) client.disconnect();
  await server.destroy();
});

describe('RedisStore across a Redis restart (own redis-server on a free port)', () => {
  it('fails fast with store.unavailable while Redis is down, then recovers the store and the feed', async () => {
    await server.start();
    const subscriberSide = connectStore({ enableOfflineQueue: false });
    const publisherSide = connectStore({ enableOfflineQueue: false });
    // ioredis' default client queues offline commands without limit; the store must still fail in time.
    const defaultClientSide = connectStore({ enableOfflineQueue: true });
    // Connecting can outlast the 1 s deadline on a loaded machine; this test is about what follows.
    for (const store of [subscriberSide, publisherSide, defaultClientSide]) {
      expect(await waitFor(async () => (await timedCode(store.health())).code === 'resolved', 30_000)).toBe(
        true,
      );
    }
    const received: InvalidationMessage[] = [];
    let gaps = 0;
    await subscriberSide.feed.subscribe((message) => received.push(message), {
      onGap: () => {
        gaps += 1;
      },
    });
    const before = sampleRecord();
    await subscriberSide.create({
      session: before,
      maxSessions: 5,
      onLimit: 'evict-oldest',
      now: Date.now(),
    });
    expect(await defaultClientSide.get(before.id)).toEqual(before);

    await server.stop();
    for (const store of [subscriberSide, defaultClientSide]) {
      for (const call of [
        () => store.get(before.id),
        () => store.health(),
        () =>
          store.create({ session: sampleRecord(), maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() }),
        () => store.feed.publish({ sessionId: before.id, kind: 'revoked', expiresAt: Date.now() + 60_000 }),
      ]) {
        const { code, ms } = await timedCode(call());
        expect(code).toBe('store.unavailable');
        expect(ms).toBeLessThan(NO_HANG_MS);
      }
    }

    await server.start();
    // Each client reconnects on its own schedule; on a loaded machine one can lag the others by seconds.
    for (const store of [subscriberSide, publisherSide, defaultClientSide]) {
      const healthy = async () => (await timedCode(store.health())).code === 'resolved';
      expect(await waitFor(healthy, 30_000)).toBe(true);
    }
    const after = sampleRecord();
    await defaultClientSide.create({
      session: after,
      maxSessions: 5,
      onLimit: 'evict-oldest',
      now: Date.now(),
    });
    expect(await subscriberSide.get(after.id)).toEqual(after);

    const message: InvalidationMessage = {
      sessionId: after.id,
      kind: 'revoked',
      expiresAt: Date.now() + 60_000,
    };
    const delivered = async () => {
      await publisherSide.feed.publish(message);
      return received.some((entry) => entry.sessionId === after.id);
    };
    expect(await waitFor(delivered, 30_000)).toBe(true);
    // Messages published while the subscriber was away are lost, and subscribers are told so.
    expect(gaps).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
