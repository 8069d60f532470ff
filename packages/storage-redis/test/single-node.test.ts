import { SessionKitError, SessionManager } from '@sessionkit/core';
import { hashSecret, newSecret, sampleRecord } from '@sessionkit/core/store';
import { describeStoreConformance } from '@sessionkit/core/store/testing';
import { freePort } from '@sessionkit/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { deleteKeys, runPrefix } from './prefix-cleanup.js';

const prefix = runPrefix();
const clients: Redis[] = [];

function connectClient(): Redis {
  const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
  clients.push(client);
  return client;
}

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
}

describeStoreConformance('RedisStore on 127.0.0.1:6379', {
  connect: async () => new RedisStore({ client: connectClient(), prefix }),
  feedDeliveryMs: 2000,
});

describe('RedisStore on 127.0.0.1:6379: storage details', () => {
  let admin: Redis;
  let store: RedisStore;

  beforeAll(() => {
    admin = connectClient();
    store = new RedisStore({ client: connectClient(), prefix, ownerCacheSize: 0 });
  });

  afterAll(async () => {
    await store.close();
    await deleteKeys(admin, prefix);
    // The stores are closed and have detached their error listeners; the clients are the test's to silence.
    for (const client of clients) {
      client.on('error', () => {});
      client.disconnect();
    }
  });

  it('stores a record as one string in the user slot, an owner pointer, and two index entries', async () => {
    const record = sampleRecord();
    await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    const recordKey = `${prefix}:{${record.userId}}:s:${record.id}`;
    expect(await admin.type(recordKey)).toBe('string');
    expect(await admin.get(recordKey)).toMatch(/^=active\|=1\|/);
    expect(await admin.get(`${prefix}:o:{${record.id}}`)).toBe(record.userId);
    expect(await admin.zscore(`${prefix}:{${record.userId}}:all`, record.id)).toBe(
      String(record.idleExpiresAt),
    );
    expect(await admin.zscore(`${prefix}:{${record.userId}}:live`, record.id)).toBe(String(record.createdAt));
    expect(await admin.pexpiretime(recordKey)).toBe(record.idleExpiresAt);
    expect(await admin.pexpiretime(`${prefix}:o:{${record.id}}`)).toBe(record.absoluteExpiresAt);
  });

  it('sets the key TTL to the earlier deadline, and a touch extends it only up to the absolute deadline', async () => {
    const now = Date.now();
    const record = sampleRecord({ idleExpiresAt: now + 10_000, absoluteExpiresAt: now + 60_000 });
    await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now });
    const recordKey = `${prefix}:{${record.userId}}:s:${record.id}`;
    expect(await admin.pexpiretime(recordKey)).toBe(now + 10_000);
    const touched = await store.update({ ...record, lastSeenAt: now + 5, idleExpiresAt: now + 30_000 }, 1);
    expect(await admin.pexpiretime(recordKey)).toBe(now + 30_000);
    await store.update({ ...touched, idleExpiresAt: now + 3_600_000 }, touched.version);
    expect(await admin.pexpiretime(recordKey)).toBe(now + 60_000);
  });

  it('prunes an expired id from the user index on the next operation on that user', async () => {
    const now = Date.now();
    const userId = `user-${newSecret().slice(0, 8)}`;
    const short = sampleRecord({ userId, idleExpiresAt: now + 100 });
    const long = sampleRecord({ userId });
    for (const record of [short, long]) {
      await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await admin.exists(`${prefix}:{${userId}}:s:${short.id}`)).toBe(0);
    expect(await admin.zrange(`${prefix}:{${userId}}:all`, 0, -1)).toHaveLength(2);
    await store.listByUser(userId);
    expect(await admin.zrange(`${prefix}:{${userId}}:all`, 0, -1)).toEqual([long.id]);
    expect(await admin.zrange(`${prefix}:{${userId}}:live`, 0, -1)).toEqual([long.id]);
  });

  it('reads garbage written to a record key as store.corrupt, on every path, and never as a session', async () => {
    const garbage = [
      (value: string) => value.replace('=active', '=hacked'),
      (value: string) => value.replace(/\|\{.*$/, '|{not json'),
      (value: string) => value.replace(/^=active\|=1\|/, '=active||'),
      () => 'garbage',
    ];
    for (const corrupt of garbage) {
      const record = sampleRecord();
      await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
      const key = `${prefix}:{${record.userId}}:s:${record.id}`;
      await admin.set(key, corrupt((await admin.get(key)) ?? ''), 'KEEPTTL');
      expect(await codeOf(store.get(record.id))).toBe('store.corrupt');
      expect(await codeOf(store.listByUser(record.userId))).toBe('store.corrupt');
      // Revoking may overwrite a bad state with 'revoked' (the safe direction); it never yields a live session.
      const revoked = await store.revoke(record.id, { reason: 'x', now: Date.now() }).then(
        (result) => result?.state,
        (error: unknown) => (error instanceof SessionKitError ? error.code : String(error)),
      );
      expect(['store.corrupt', 'revoked']).toContain(revoked);
    }
    // Distinct creation times: eviction order among equal times falls to the random ids.
    const record = sampleRecord({ createdAt: Date.now() - 2000 });
    await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    const key = `${prefix}:{${record.userId}}:s:${record.id}`;
    await admin.del(key);
    await admin.hset(key, 'st', 'active');
    expect(await codeOf(store.get(record.id))).toBe('store.corrupt');
    // Create counts a user's sessions from the indexes and reads only the records it evicts: the foreign value
    // holds its place until eviction reaches it, and that read is store.corrupt, writing nothing.
    const next = sampleRecord({ userId: record.userId, createdAt: Date.now() - 1000 });
    await store.create({ session: next, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    expect(await codeOf(store.listByUser(record.userId))).toBe('store.corrupt');
    const crowded = sampleRecord({ userId: record.userId });
    expect(
      await codeOf(
        store.create({ session: crowded, maxSessions: 2, onLimit: 'evict-oldest', now: Date.now() }),
      ),
    ).toBe('store.corrupt');
    expect(await store.get(crowded.id)).toBeUndefined();
    expect(await admin.exists(`${prefix}:o:{${crowded.id}}`)).toBe(0);
    expect((await store.get(next.id))?.state).toBe('active');
  });

  it('reuses a validated record only for the very same bytes, and never lets one caller change it for another', async () => {
    const record = sampleRecord();
    await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    const first = await store.get(record.id);
    const again = await store.get(record.id);
    expect(again).toEqual(record);
    expect(Object.isFrozen(again) && Object.isFrozen(again?.device)).toBe(true);
    expect(() => {
      (again as { state: string }).state = 'revoked';
    }).toThrow(TypeError);
    expect(first).toEqual(again);
    const key = `${prefix}:{${record.userId}}:s:${record.id}`;
    const stored = (await admin.get(key)) ?? '';
    await admin.set(key, stored.replace('=active', '=hacked'), 'KEEPTTL');
    expect(await codeOf(store.get(record.id))).toBe('store.corrupt');
    await admin.set(key, stored.replace('=active', '=suspended'), 'KEEPTTL');
    expect((await store.get(record.id))?.state).toBe('suspended');
    await admin.del(key);
    expect(await store.get(record.id)).toBeUndefined();
  });

  it('rejects malformed input with input.invalid and writes nothing', async () => {
    const record = sampleRecord();
    expect(
      await codeOf(
        store.create({ session: { ...record, secretHash: 'x' }, maxSessions: 5, onLimit: 'reject', now: 1 }),
      ),
    ).toBe('input.invalid');
    expect(await admin.exists(`${prefix}:o:{${record.id}}`)).toBe(0);
    await store.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    expect(await codeOf(store.update({ ...record, userId: 'someone-else' }, 1))).toBe('input.invalid');
    const rotation = {
      sessionId: record.id,
      presentedHash: 'short',
      successorHash: hashSecret(newSecret()),
      sealedSuccessor: 'abc',
      now: Date.now(),
      graceMs: 1000,
      idleExpiresAt: Date.now() + 1000,
    };
    expect(await codeOf(store.rotateRefresh(rotation))).toBe('input.invalid');
    expect(await store.get(record.id)).toEqual(record);
  });

  it('answers undefined without a Redis read for an id that is not a session id', async () => {
    expect(await store.get('../../etc')).toBeUndefined();
    expect(await store.revoke('{x}', { reason: 'test', now: Date.now() })).toBeUndefined();
  });

  it('reloads its scripts after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const record = sampleRecord();
    await admin.script('FLUSH');
    await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    expect((await store.revoke(record.id, { reason: 'logout', now: Date.now() }))?.state).toBe('revoked');
  });

  it('attaches an error listener, so a client that cannot connect never crashes the process', async () => {
    // A port that was just free: nothing listens there.
    const client = new Redis({
      host: '127.0.0.1',
      port: await freePort(),
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    });
    clients.push(client);
    const errors: Error[] = [];
    const offline = new RedisStore({
      client,
      prefix,
      commandTimeoutMs: 100,
      onError: (error) => errors.push(error),
    });
    expect(client.listenerCount('error')).toBe(1);
    expect(await codeOf(offline.health())).toBe('store.unavailable');
    expect(errors.length).toBeGreaterThan(0);
    await offline.close();
    expect(client.listenerCount('error')).toBe(0);
    client.on('error', () => {});
    client.disconnect();
  });

  it('leaves expiry to Redis: no deleteExpired, and SessionManager.cleanup() answers 0', async () => {
    expect('deleteExpired' in store).toBe(false);
    const record = sampleRecord({ idleExpiresAt: Date.now() + 200 });
    await store.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await new SessionManager({ store, config: { secret: 's'.repeat(32) } }).cleanup()).toBe(0);
    expect(await store.get(record.id)).toBeUndefined();
    expect(await admin.exists(`${prefix}:{${record.userId}}:s:${record.id}`)).toBe(0);
  });

  it('refuses to work once closed', async () => {
    const closed = new RedisStore({ client: connectClient(), prefix });
    await closed.close();
    expect(await codeOf(closed.get(sampleRecord().id))).toBe('store.unavailable');
  });
});
