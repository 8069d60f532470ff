import { describe, expect, it } from 'vitest';
import { SecretRequiredError } from '../src/errors.js';
import { MemoryStore } from '../src/memory-store.js';
import { SessionManager } from '../src/session-manager.js';
import type { SessionStore } from '../src/store.js';

const SECRET = 'shared-store-test-secret-0123456789';

/** A store as a third party might write it: every member of the contract, and nothing said about `shared`. */
function silentStore(inner: MemoryStore): SessionStore {
  return {
    feed: inner.feed,
    get: (id) => inner.get(id),
    create: (input) => inner.create(input),
    listByUser: (userId, options) => inner.listByUser(userId, options),
    update: (next, version) => inner.update(next, version),
    rotateRefresh: (input) => inner.rotateRefresh(input),
    revoke: (id, options) => inner.revoke(id, options),
    revokeUser: (userId, options) => inner.revokeUser(userId, options),
    revokeTree: (id, options) => inner.revokeTree(id, options),
    health: () => inner.health(),
    close: () => inner.close(),
  };
}

describe('a store shared across processes needs a server secret', () => {
  it('keeps the memory store zero-config', async () => {
    const manager = new SessionManager({ store: new MemoryStore() });
    await manager.start();
    const issued = await manager.create({ userId: 'alice', context: { ip: '203.0.113.7' } });
    expect((await manager.validate(issued.token)).userId).toBe('alice');
    await manager.close();
  });

  it('refuses to start on a store that does not say it is unshared, naming what to set', () => {
    const inner = new MemoryStore();
    const attempt = () => new SessionManager({ store: silentStore(inner) });
    expect(attempt).toThrow(SecretRequiredError);
    expect(attempt).toThrow(/config\.secret.*config\.ipHashKey/s);
    expect(() => new SessionManager({ store: { ...silentStore(inner), shared: true } })).toThrow(
      expect.objectContaining({ code: 'config.secret_required' }),
    );
  });

  it('starts on a shared store with `secret` or with `ipHashKey`, and two instances hash IPs alike', async () => {
    const inner = new MemoryStore();
    const a = new SessionManager({ store: silentStore(inner), config: { secret: SECRET } });
    const b = new SessionManager({ store: silentStore(inner), config: { secret: SECRET } });
    expect(a.hashIp('203.0.113.7')).toBe(b.hashIp('203.0.113.7'));
    const keyed = new SessionManager({ store: silentStore(inner), config: { ipHashKey: SECRET } });
    expect(keyed.hashIp('203.0.113.7')).toBe(
      new SessionManager({ store: new MemoryStore(), config: { ipHashKey: SECRET } }).hashIp('203.0.113.7'),
    );
  });

  it('lets a store that says `shared: false` keep per-process keys', () => {
    const store = { ...silentStore(new MemoryStore()), shared: false };
    expect(() => new SessionManager({ store })).not.toThrow();
  });
});
