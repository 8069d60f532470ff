import { SessionKitError } from '@sessionkit/core';
import type { InvalidationMessage } from '@sessionkit/core/store';
import { newSessionId, sampleRecord } from '@sessionkit/core/store';
import { PrivatePostgres } from '@sessionkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../src/index.js';
import { postgresStores } from './databases.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('a PostgreSQL server restart mid-test (private server, never the shared one)', () => {
  let server: PrivatePostgres;
  let stores: ReturnType<typeof postgresStores>;
  let listener: KyselyStore;
  let publisher: KyselyStore;
  let reconnects = 0;
  let gaps = 0;
  const received: InvalidationMessage[] = [];

  beforeAll(async () => {
    server = await PrivatePostgres.onFreePort();
    server.start();
    stores = postgresStores('sessionkit', server.url);
    listener = await stores.connect({
      timeoutMs: 10_000,
      onReconnect: () => {
        reconnects += 1;
      },
    });
    publisher = await stores.connect({ timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await listener?.close();
    await publisher?.close();
    server?.destroy();
  });

  it('fails typed while the server is down, then the pool and the LISTEN feed recover by themselves', async () => {
    const record = sampleRecord();
    await listener.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    await listener.feed.subscribe((message) => received.push(message), {
      onGap: () => {
        gaps += 1;
      },
    });

    // Keep requests flowing across the restart: every failure must be a typed store.unavailable.
    const failures = new Set<string>();
    let traffic = true;
    const load = (async () => {
      while (traffic) {
        await listener.get(record.id).catch((error: unknown) => {
          failures.add(error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`);
        });
        await sleep(5);
      }
    })();

    server.stop('fast');
    const down = await listener.get(record.id).then(
      () => 'resolved',
      (error: unknown) => (error instanceof SessionKitError ? error.code : 'untyped'),
    );
    expect(down).toBe('store.unavailable');
    server.start();

    await eventually(async () => (await listener.get(record.id))?.id === record.id);
    await eventually(async () => reconnects > 0 && gaps > 0);
    traffic = false;
    await load;
    expect([...failures]).toEqual(['store.unavailable']);

    const message: InvalidationMessage = {
      sessionId: newSessionId(),
      kind: 'revoked',
      expiresAt: Date.now() + 60_000,
    };
    await eventually(async () => {
      await publisher.feed.publish(message);
      await sleep(50);
      return received.some((m) => m.sessionId === message.sessionId);
    });
    expect(received).toContainEqual(message);
    expect(await listener.get(record.id)).toEqual(record);
    await expect(publisher.health()).resolves.toBeUndefined();
    // Two waits of up to a minute each on a loaded machine.
  }, 180_000);
});
