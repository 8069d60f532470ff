import type { SessionStore } from '@sessionkit/core';
import { SessionKitError, SessionManager } from '@sessionkit/core';
import { formatRefreshToken, newSecret, sampleRecord, serverKeys } from '@sessionkit/core/store';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { encodeRecord } from '../src/record-encoding.js';
import { deleteKeys, runPrefix } from './prefix-cleanup.js';

const prefix = runPrefix();
const SECRET = 'redis-test-server-secret-0123456789';

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
}

async function rotate(manager: SessionManager, first: string, count: number): Promise<string[]> {
  const tokens = [first];
  for (let i = 0; i < count; i += 1) tokens.push((await manager.refresh(tokens[i])).refreshToken);
  return tokens;
}

describe('RedisStore on 127.0.0.1:6379: refresh-token reuse', () => {
  const clients: Redis[] = [];
  const stores: SessionStore[] = [];
  let admin: Redis;
  let a: SessionManager;
  let b: SessionManager;

  function store(): RedisStore {
    const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
    clients.push(client);
    const created = new RedisStore({ client, prefix });
    stores.push(created);
    return created;
  }

  beforeAll(() => {
    admin = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
    clients.push(admin);
    // Two instances, each with its own connection, sharing the server secret as a deployment must.
    a = new SessionManager({ store: store(), config: { secret: SECRET } });
    b = new SessionManager({ store: store(), config: { secret: SECRET } });
  });

  afterAll(async () => {
    for (const handle of stores) await handle.close();
    await deleteKeys(admin, prefix);
    for (const client of clients) {
      client.on('error', () => {});
      client.disconnect();
    }
  });

  it('revokes the session when a token 25 rotations old is replayed on another instance', async () => {
    const issued = await a.create({ userId: `user-${newSecret().slice(0, 8)}` });
    const tokens = await rotate(a, issued.refreshToken ?? '', 25);
    expect(await codeOf(b.refresh(tokens[1]))).toBe('token.reuse_detected');
    expect(await codeOf(a.validate(issued.token))).toBe('session.revoked');
    expect(await codeOf(b.refresh(tokens[25]))).toBe('session.revoked');
    const raw = await admin.get(`${prefix}:{${issued.session.userId}}:s:${issued.session.id}`);
    expect(raw).toMatch(/^=revoked\|/);
  });

  it('revokes nothing for a well-formed token of an old generation that we never issued', async () => {
    const issued = await a.create({ userId: `user-${newSecret().slice(0, 8)}` });
    const tokens = await rotate(b, issued.refreshToken ?? '', 5);
    const foreignKey = serverKeys({ secret: 'another-deployment-secret-0123456789' }).refreshMac;
    const forged = formatRefreshToken(foreignKey, issued.session.id, 1, newSecret());
    expect(await codeOf(a.refresh(forged))).toBe('token.invalid');
    await expect(a.validate(issued.token)).resolves.toMatchObject({ sessionId: issued.session.id });
    await expect(b.refresh(tokens[5])).resolves.toBeDefined();
  });

  it('keeps a session rotated 50 times within 1 KiB: MEMORY USAGE of its record and owner pointer', async () => {
    const issued = await a.create({
      userId: `user-${newSecret().slice(0, 8)}`,
      deviceLabel: 'Firefox on Linux',
      context: {
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
      },
    });
    const { id, userId } = issued.session;
    const keys = [`${prefix}:{${userId}}:s:${id}`, `${prefix}:o:{${id}}`];
    const usage = async () => {
      const bytes = await Promise.all(keys.map((key) => admin.memory('USAGE', key, 'SAMPLES', '0')));
      return bytes.reduce<number>((sum, value) => sum + Number(value), 0);
    };
    const tokens = await rotate(a, issued.refreshToken ?? '', 1);
    const afterOne = await usage();
    await rotate(a, tokens[1] ?? '', 49);
    // Whatever the number of rotations, the record holds two hashes, a time, a count and one sealed successor.
    expect(await usage()).toBe(afterOne);
    expect(afterOne).toBeLessThanOrEqual(1024);
  });

  it('reads a record that still holds retired hashes (the layout before generations) and drops them on rotation', async () => {
    const legacyStore = store();
    const record = sampleRecord();
    await legacyStore.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    const key = `${prefix}:{${record.userId}}:s:${record.id}`;
    const retired = Array.from({ length: 8 }, () => newSecret().slice(0, 22)).join(',');
    // The `fr` slot is the last header field, right before the JSON body.
    const legacy = encodeRecord(record).replace(/\|\{/, `=${retired}|{`);
    expect(legacy).toContain(retired);
    await admin.set(key, legacy, 'KEEPTTL');
    expect(await legacyStore.get(record.id)).toEqual(record);
    const now = Date.now();
    const rotated = await legacyStore.rotateRefresh({
      sessionId: record.id,
      presentedHash: record.refresh?.currentHash ?? '',
      successorHash: record.secretHash,
      sealedSuccessor: 'sealed',
      now,
      graceMs: 10_000,
      idleExpiresAt: now + 60_000,
    });
    expect(rotated.outcome).toBe('rotated');
    expect(await admin.get(key)).not.toContain(retired);
  });
});
