import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { boundJkt } from '../src/dpop-binding.js';
import type { SessionEvent } from '../src/events.js';
import { MemoryStore } from '../src/memory-store.js';
import { SessionManager } from '../src/session-manager.js';
import type { SessionStore } from '../src/store.js';
import { randomToken } from '../src/token-crypto.js';
import { tracedStore } from '../src/traced-store.js';
import { codeOf } from './helpers.js';

interface Counted {
  store: SessionStore;
  reads: () => number;
}

/**
 * The memory store behind a wrapper that counts reads. `legacy` plays a store written before `checksRotationKey`:
 * it says nothing about the capability and its rotation ignores the session's key.
 */
function wrapped(inner: MemoryStore, legacy: boolean): Counted {
  let reads = 0;
  const store: SessionStore = {
    shared: inner.shared,
    ...(legacy ? {} : { checksRotationKey: inner.checksRotationKey }),
    feed: inner.feed,
    get: (id) => {
      reads += 1;
      return inner.get(id);
    },
    create: (input) => inner.create(input),
    listByUser: (userId, options) => inner.listByUser(userId, options),
    update: (next, version) => inner.update(next, version),
    rotateRefresh: async (input) => {
      if (!legacy) return inner.rotateRefresh(input);
      // Decides as a store unaware of the binding would: as if whatever key was presented were the bound one.
      const record = await inner.get(input.sessionId);
      const bound = record && boundJkt(record);
      return inner.rotateRefresh(bound === undefined ? input : { ...input, presentedJkt: bound });
    },
    revoke: (id, options) => inner.revoke(id, options),
    revokeUser: (userId, options) => inner.revokeUser(userId, options),
    revokeTree: (id, options) => inner.revokeTree(id, options),
    health: () => inner.health(),
    close: () => inner.close(),
  };
  return { store, reads: () => reads };
}

async function managerOn(legacy: boolean) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const counted = wrapped(new MemoryStore({ now: () => clock.now() }), legacy);
  const manager = new SessionManager({ store: counted.store, clock, config: { refresh: { enabled: true } } });
  const rejected: string[] = [];
  manager.events.subscribe((event: SessionEvent) => {
    if (event.type === 'token.rejected') rejected.push(event.reason);
  });
  await manager.start();
  return { manager, reads: counted.reads, rejected };
}

describe('the DPoP key check of a refresh', () => {
  it.each([
    ['checks it in the rotation, with no store read, on a store declaring checksRotationKey', false, 0],
    ['reads the session first on a store without the capability', true, 3],
  ])('%s', async (_, legacy, expectedReads) => {
    const { manager, reads, rejected } = await managerOn(legacy);
    const jkt = randomToken(32);
    const issued = await manager.create({ userId: 'alice', dpopJkt: jkt });
    const before = reads();
    expect(await codeOf(manager.refresh(issued.refreshToken))).toBe('binding.required');
    const thief = manager.refresh(issued.refreshToken, { dpopJkt: randomToken(32) });
    expect(await codeOf(thief)).toBe('dpop.invalid_proof');
    // Neither refusal burnt the holder's token nor counted as reuse.
    const rotated = await manager.refresh(issued.refreshToken, { dpopJkt: jkt });
    expect(rotated.session.state).toBe('active');
    expect(reads() - before).toBe(expectedReads);
    expect(rejected).toEqual(['binding.required', 'dpop.invalid_proof']);
    await manager.close();
  });

  it('rotates an unbound session with or without a proof, reading nothing on a capable store', async () => {
    const { manager, reads } = await managerOn(false);
    const issued = await manager.create({ userId: 'bob' });
    const before = reads();
    const first = await manager.refresh(issued.refreshToken, { dpopJkt: randomToken(32) });
    await manager.refresh(first.refreshToken);
    expect(reads()).toBe(before);
    await manager.close();
  });

  it('keeps the capability detectable through the traced store', () => {
    expect(tracedStore(new MemoryStore()).checksRotationKey).toBe(true);
    expect(tracedStore(wrapped(new MemoryStore(), true).store).checksRotationKey).toBeUndefined();
  });
});
