import { AccessTokenKeyRing, ManualClock, SessionKitError, SessionManager } from '@sessionkit/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { deleteKeys, runPrefix } from './prefix-cleanup.js';

const prefix = runPrefix();
const clients: Redis[] = [];
const managers: SessionManager[] = [];

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
}

/** Every instance sharing a store shares the server secret: it proves earlier refresh tokens as ours. */
const secret = 'step-up-test-server-secret-0123456789abcdef';

/** One app instance: its own Redis connection, store and feed subscription; keys, secret and clock are shared. */
async function instance(keys: AccessTokenKeyRing, clock: ManualClock): Promise<SessionManager> {
  const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
  clients.push(client);
  const manager = new SessionManager({
    store: new RedisStore({ client, prefix }),
    clock,
    accessTokens: keys,
    config: { secret },
  });
  managers.push(manager);
  await manager.start();
  return manager;
}

afterAll(async () => {
  for (const manager of managers) {
    await manager.close();
    await manager.store.close();
  }
  const admin = new Redis({ host: '127.0.0.1', port: 6379 });
  await deleteKeys(admin, prefix);
  admin.disconnect();
  for (const client of clients) client.disconnect();
});

describe('step-up across two instances on Redis 127.0.0.1:6379', () => {
  it('instance B refuses the credentials issued before a step-up on A, and accepts the re-issued ones', async () => {
    const clock = new ManualClock(Date.now());
    const keys = await AccessTokenKeyRing.generate({ issuer: 'i', audience: 'a', ttlMs: 300_000, clock });
    const a = await instance(keys, clock);
    const b = await instance(keys, clock);
    const login = await a.create({ userId: `user-${prefix}` });
    await b.validate(login.accessToken, { tier: 'fast' });
    expect(b.validateFromCache(login.accessToken, { tier: 'fast' })).toBeDefined();

    clock.advance(1000);
    const stepped = await a.stepUp(login.session.id, { aal: 2 });
    // The feed is asynchronous: B's fast tier stops answering once A's `changed` message has arrived.
    const deadline = Date.now() + 30_000;
    while (b.validateFromCache(login.accessToken, { tier: 'fast' }) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(b.validateFromCache(login.accessToken, { tier: 'fast' })).toBeUndefined();
    expect(await codeOf(b.validate(login.accessToken, { tier: 'fast' }))).toBe('token.invalid');
    expect(await codeOf(b.validate(login.accessToken, { tier: 'full' }))).toBe('token.invalid');

    const sensitive = { requiredAal: 2, maxAuthAgeMs: 15 * 60_000 } as const;
    await expect(b.validate(stepped.accessToken, { tier: 'fast', ...sensitive })).resolves.toMatchObject({
      aal: 2,
    });
    const renewed = await b.refresh(stepped.refreshToken);
    await expect(b.validate(renewed.accessToken, { tier: 'full', ...sensitive })).resolves.toMatchObject({
      aal: 2,
    });
    expect(await codeOf(b.refresh(login.refreshToken))).toBe('token.reuse_detected');
    expect(await codeOf(a.validate(renewed.accessToken, { tier: 'full' }))).toBe('session.revoked');
  });
});
