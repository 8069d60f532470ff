import { startOtelSdk } from '@sessionkit/test-support/otel';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/memory-store.js';
import { telemetryOn } from '../src/telemetry.js';
import { tracedStore } from '../src/traced-store.js';
import { harness } from './helpers.js';

// @opentelemetry/api's registry of globals: absent until something registers (telemetry.ts reads it first).
const REGISTERED = Symbol.for('opentelemetry.js.api.1');
const INSPECTED = Symbol('inspected');

class InspectedStore extends MemoryStore {
  readonly #closed: string[] = [];
  marker = 'first';
  get closedTimes(): number {
    return this.#closed.length;
  }
  override async close(): Promise<void> {
    this.#closed.push('closed');
    await super.close();
  }
  [INSPECTED](): string {
    return this.marker;
  }
}

describe('tracedStore', () => {
  it('is the store to its callers: instanceof, methods, fields, accessors and absent capabilities', async () => {
    const store = new InspectedStore();
    const traced = tracedStore(store) as InspectedStore;
    expect(traced).toBeInstanceOf(InspectedStore);
    expect(traced.checksRotationKey).toBe(true);
    expect('listSessions' in traced).toBe(true);
    expect('noSuchCapability' in traced).toBe(false);
    store.marker = 'second';
    expect(traced.marker).toBe('second');
    expect(traced[INSPECTED]()).toBe('second');
    await traced.close();
    expect(store.closedTimes).toBe(1);
    expect(traced.closedTimes).toBe(1);
  });

  it('calls straight through before any SDK is registered, and traces once one is', async () => {
    // This file never registered anything before this test: the path of an application with the API, no SDK.
    expect((globalThis as Record<symbol, unknown>)[REGISTERED]).toBeUndefined();
    expect(telemetryOn()).toBe(false);
    const { manager } = await harness();
    const issued = await manager.create({ userId: 'alice' });
    await expect(manager.validate(issued.token, { tier: 'full' })).resolves.toMatchObject({
      userId: 'alice',
    });

    const sdk = await startOtelSdk();
    try {
      expect(telemetryOn()).toBe(true);
      await manager.validate(issued.token, { tier: 'full' });
      const names = sdk.spans().map((span) => span.name);
      expect(names).toContain('sessionkit.session.validate');
      expect(names).toContain('sessionkit.store.get');
    } finally {
      await sdk.shutdown();
    }
    expect(telemetryOn()).toBe(false);
  });
});
