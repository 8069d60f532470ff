import { randomToken } from '@sessionkit/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor, MemoryLedger, verifyChain } from '../src/index.js';
import { RECORD_FIELD, RedisAuditStreamReader, redisStreamSink } from '../src/redis/index.js';
import { integrityKeys, ipKeys } from './support/keys.js';

const prefix = `sk-audit-test:${randomToken(6)}:`;
let redis: Redis;
let readerConnection: Redis;

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false });
  readerConnection = new Redis({ host: '127.0.0.1', port: 6379 });
});

afterAll(async () => {
  await redis.del(`${prefix}stream`, `${prefix}capped`);
  redis.disconnect();
  readerConnection.disconnect();
});

describe('Redis Streams sink', () => {
  it('appends records with XADD, verifiable from the stream, and is read by a consumer group with ack', async () => {
    const key = `${prefix}stream`;
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys, scope: 'node-a' }),
      sinks: [redisStreamSink(redis, { key })],
      ip: { keys: ipKeys },
    });
    for (let index = 0; index < 12; index += 1) {
      auditor.record('auth.login_failed', {
        userId: 'alice',
        ip: '203.0.113.7',
        details: { failures: index },
      });
    }
    expect(await auditor.close()).toBe(true);
    expect(await redis.xlen(key)).toBe(12);

    const first = new RedisAuditStreamReader(readerConnection, { key, group: 'siem', consumer: 'worker-1' });
    const second = new RedisAuditStreamReader(redis, { key, group: 'siem', consumer: 'worker-2' });
    await first.ensureGroup();
    await first.ensureGroup();
    const batchOne = await first.read({ count: 5 });
    const batchTwo = await second.read({ count: 100 });
    // Each entry goes to exactly one consumer of the group.
    expect(batchOne.records).toHaveLength(5);
    expect(batchTwo.records).toHaveLength(7);
    const all = [...batchOne.records, ...batchTwo.records].map((entry) => entry.record);
    expect(await verifyChain(all, { chain: 'node-a/global', keys: integrityKeys })).toMatchObject({
      ok: true,
      checked: 12,
    });

    // Unacknowledged entries stay pending for their consumer and come back after a crash; acked ones do not.
    expect(await first.ack(batchOne.records.slice(0, 3).map((entry) => entry.id))).toBe(3);
    const pending = await first.read({ pending: true });
    expect(pending.records.map((entry) => entry.record.seq)).toEqual([4, 5]);
    const summary = (await redis.xpending(key, 'siem')) as [number, ...unknown[]];
    expect(summary[0]).toBe(9);
    expect((await first.read({ blockMs: 50 })).records).toEqual([]);
  });

  it('caps the stream with MAXLEN and rejects entries that are not audit records', async () => {
    const key = `${prefix}capped`;
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys }),
      sinks: [redisStreamSink(redis, { key, maxLength: 10, approximate: false })],
      ip: { keys: ipKeys },
    });
    for (let index = 0; index < 25; index += 1) auditor.record('auth.logout', { userId: 'bob' });
    await auditor.close();
    expect(await redis.xlen(key)).toBe(10);

    await redis.xadd(key, '*', RECORD_FIELD, '{"not":"a record"}');
    const reader = new RedisAuditStreamReader(redis, { key, group: 'g', consumer: 'c' });
    await reader.ensureGroup();
    const batch = await reader.read({ count: 100 });
    expect(batch.records.map((entry) => entry.record.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(batch.rejected).toEqual([
      { id: expect.any(String), reason: 'record does not match the audit record schema' },
    ]);
  });
});
