import type { Histogram, OtelSdk } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalInvalidationFeed, MemoryStore } from '../src/memory-store.js';
import { SessionManager } from '../src/session-manager.js';
import type { InvalidationFeed, InvalidationMessage, InvalidationSubscribeOptions } from '../src/store.js';
import { harness } from './helpers.js';

let sdk: OtelSdk;
beforeEach(async () => {
  sdk = await startOtelSdk();
});
afterEach(() => sdk.shutdown());

function lagOf(kind: string): Histogram | undefined {
  return sdk.points('sessionkit.invalidation.lag', { 'sessionkit.invalidation.kind': kind })[0]
    ?.value as Histogram;
}

describe('invalidation-feed telemetry, with the real SDK', () => {
  it('stamps what one instance publishes with sentAt, and the other records the lag in seconds', async () => {
    const a = await harness();
    const b = await harness({}, { store: a.store, clock: a.clock });
    const received: InvalidationMessage[] = [];
    await a.store.feed.subscribe((message) => received.push(message));
    const issued = await a.manager.create({ userId: 'alice' });
    const before = Date.now();
    await a.manager.stepUp(issued.session.id, { aal: 2 });
    await a.manager.revoke(issued.session.id);
    await sdk.collect();

    // Wall-clock stamps, though both managers run on a manual clock set to another day.
    for (const message of received) expect(message.sentAt).toBeGreaterThanOrEqual(before);
    expect(received.map((message) => message.kind)).toEqual(['changed', 'revoked']);
    // Both instances hear each message: the publisher's own subscription too.
    expect(lagOf('revoked')?.count).toBe(2);
    expect(lagOf('changed')?.count).toBe(2);
    expect(lagOf('revoked')?.min).toBeGreaterThanOrEqual(0);
    expect(sdk.metric('sessionkit.invalidation.lag')?.descriptor.unit).toBe('s');
    await b.manager.close();
  });

  it('reads a sentAt ahead of the receiver (clock skew) as no lag, and one without sentAt as none recorded', async () => {
    const { store } = await harness();
    const expiresAt = Date.now() + 60_000;
    await store.feed.publish({
      sessionId: 'skewed',
      kind: 'revoked',
      expiresAt,
      sentAt: Date.now() + 30_000,
    });
    await store.feed.publish({ sessionId: 'old-instance', kind: 'changed', expiresAt });
    await sdk.collect();
    expect(lagOf('revoked')).toMatchObject({ count: 1, min: 0, max: 0 });
    expect(lagOf('changed')).toBeUndefined();
    const messages = sdk.points('sessionkit.invalidation.messages').map((point) => point.value);
    expect(messages).toEqual([1, 1]);
  });

  it('counts a gap the feed reports', async () => {
    const local = new LocalInvalidationFeed();
    let reportGap: (() => void) | undefined;
    const feed: InvalidationFeed = {
      publish: (message) => local.publish(message),
      subscribe: async (listener, options?: InvalidationSubscribeOptions) => {
        reportGap = options?.onGap;
        return local.subscribe(listener);
      },
    };
    const manager = new SessionManager({ store: new MemoryStore({}, feed) });
    await manager.start();
    reportGap?.();
    reportGap?.();
    await sdk.collect();
    expect(sdk.points('sessionkit.invalidation.gaps').map((point) => point.value)).toEqual([2]);
    await manager.close();
  });
});
