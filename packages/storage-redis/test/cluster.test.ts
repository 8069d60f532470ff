import { sampleRecord } from '@sessionkit/core/store';
import { describeStoreConformance } from '@sessionkit/core/store/testing';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { RedisClusterProcess } from './redis-cluster-process.js';

const cluster = await RedisClusterProcess.onFreePorts(3);
const clients: Cluster[] = [];

function connectClient(): Cluster {
  const client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0] }], { enableOfflineQueue: false });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  await cluster.start();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await cluster.stop();
});

describeStoreConformance('RedisStore on a three-master Redis Cluster', {
  connect: async () => new RedisStore({ client: connectClient(), prefix: 'sk' }),
  feedDeliveryMs: 3000,
});

describe('RedisStore on a three-master Redis Cluster: slots', () => {
  it('keeps every key of a user in one slot while users spread over all masters', async () => {
    const store = new RedisStore({ client: connectClient(), prefix: 'sk' });
    const records = Array.from({ length: 30 }, () => sampleRecord());
    for (const record of records) {
      await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    }
    const first = records[0];
    if (!first) throw new Error('unreachable');
    const userKeys = [
      `sk:{${first.userId}}:s:${first.id}`,
      `sk:{${first.userId}}:all`,
      `sk:{${first.userId}}:live`,
    ];
    const slots = await Promise.all(
      userKeys.map((key) => cluster.cli(cluster.ports[0] ?? 0, 'cluster', 'keyslot', key)),
    );
    expect(new Set(slots).size).toBe(1);
    const perNode = await Promise.all(cluster.ports.map((port) => cluster.cli(port, 'dbsize')));
    expect(perNode.every((count) => Number(count) > 0)).toBe(true);
    for (const record of records) expect(await store.get(record.id)).toEqual(record);
    await store.close();
  });
});
