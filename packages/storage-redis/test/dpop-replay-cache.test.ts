import { describeDpopReplayCacheConformance } from '@sessionkit/core/store/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisDpopReplayCache } from '../src/index.js';
import { deleteKeys, runPrefix } from './prefix-cleanup.js';

const prefix = runPrefix();
const clients: Redis[] = [];

function connectClient(): Redis {
  const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
  clients.push(client);
  return client;
}

afterAll(async () => {
  const admin = new Redis({ host: '127.0.0.1', port: 6379 });
  await deleteKeys(admin, prefix);
  admin.disconnect();
  for (const client of clients) client.disconnect();
});

describeDpopReplayCacheConformance('RedisDpopReplayCache on 127.0.0.1:6379', async () => {
  return new RedisDpopReplayCache({ client: connectClient(), prefix: `${prefix}:` });
});

describe('RedisDpopReplayCache: memory stays bounded', () => {
  it('gives every claimed key a TTL no longer than the proof has left', async () => {
    const client = connectClient();
    const cache = new RedisDpopReplayCache({ client, prefix: `${prefix}:` });
    const now = Date.now();
    await cache.claimOnce('bounded-key', now + 65_000, now);
    const ttl = await client.pttl(`${prefix}:dpop:bounded-key`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(65_000);
  });
});
