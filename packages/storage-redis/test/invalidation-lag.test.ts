import { SessionManager } from '@sessionkit/core';
import type { DataPoint, Histogram, OtelSdk } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { deleteKeys, runPrefix } from './prefix-cleanup.js';

const prefix = runPrefix();
let sdk: OtelSdk;
const clients: Redis[] = [];

function connectClient(): Redis {
  const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  sdk = await startOtelSdk();
});

afterAll(async () => {
  const admin = new Redis({ host: '127.0.0.1', port: 6379 });
  await deleteKeys(admin, prefix);
  admin.disconnect();
  for (const client of clients) {
    client.on('error', () => {});
    client.disconnect();
  }
  await sdk.shutdown();
});

function lagPoints(): Promise<DataPoint<Histogram>[]> {
  return sdk.histogram('sessionkit.invalidation.lag');
}

describe('invalidation-feed lag over Redis pub/sub, with the real OTel SDK', () => {
  it('records the lag on the instance that receives what another instance published', async () => {
    const config = { secret: 'lag-redis-test-secret'.padEnd(40, '-') };
    // Two instances, each on its own connection: only the receiver subscribes, so every point is its own.
    const publisherStore = new RedisStore({ client: connectClient(), prefix });
    const publisher = new SessionManager({ store: publisherStore, config });
    const receiverStore = new RedisStore({ client: connectClient(), prefix });
    const receiver = new SessionManager({ store: receiverStore, config });
    await receiver.start();
    try {
      const issued = await publisher.create({ userId: 'alice' });
      await publisher.stepUp(issued.session.id, { aal: 2 });
      await publisher.revoke(issued.session.id);
      const kinds = async () =>
        (await lagPoints()).map((point) => [
          point.attributes['sessionkit.invalidation.kind'],
          point.value.count,
        ]);
      await expect.poll(kinds, { timeout: 10_000 }).toEqual(
        expect.arrayContaining([
          ['changed', 1],
          ['revoked', 1],
        ]),
      );
      for (const point of await lagPoints()) {
        expect(point.value.min).toBeGreaterThanOrEqual(0);
        // Generous: a loaded machine, yet far below the unset-sentAt reading (the epoch, 56 years).
        expect(point.value.max).toBeLessThan(60);
      }
    } finally {
      await receiver.close();
      await receiverStore.close();
      await publisherStore.close();
    }
  });
});
