import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/memory-store.js';
import { sampleRecord } from '../src/store-kit/sample-record.js';
import { describeStoreConformance } from '../src/store-kit/store-conformance.js';

// Every handle of one run must see the same data, as two app instances sharing a backend would.
const shared = new MemoryStore();
describeStoreConformance('MemoryStore', { connect: async () => shared });

describe('MemoryStore bounds', () => {
  it('refuses to grow past maxEntries once nothing expired can be dropped', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    const create = (userId: string) =>
      store.create({
        session: sampleRecord({ userId }),
        maxSessions: 10,
        onLimit: 'reject',
        now: Date.now(),
      });
    await create('a');
    await create('b');
    await expect(create('c')).rejects.toMatchObject({ code: 'store.unavailable' });
    expect(store.size).toBe(2);
    await store.close();
  });

  it('makes room by sweeping expired records first', async () => {
    const store = new MemoryStore({ maxEntries: 1 });
    const now = Date.now();
    await store.create({
      session: sampleRecord({ idleExpiresAt: now + 20 }),
      maxSessions: 10,
      onLimit: 'reject',
      now,
    });
    await new Promise((resolve) => setTimeout(resolve, 40));
    await store.create({ session: sampleRecord(), maxSessions: 10, onLimit: 'reject', now: Date.now() });
    expect(store.size).toBe(1);
    await store.close();
  });

  it('fails with store.unavailable once closed', async () => {
    const store = new MemoryStore();
    await store.close();
    await expect(store.get('x')).rejects.toMatchObject({ code: 'store.unavailable' });
  });
});
