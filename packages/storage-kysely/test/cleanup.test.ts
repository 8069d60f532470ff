import { sampleRecord } from '@sessionkit/core/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../src/index.js';
import { startCleanup } from '../src/index.js';
import { pgliteStores } from './databases.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startCleanup on a PGlite store', () => {
  const stores = pgliteStores();
  let store: KyselyStore;

  beforeAll(async () => {
    store = await stores.connect();
  });

  afterAll(async () => {
    await store.close();
    await stores.close();
  });

  it('deletes expired sessions in bounded batches on its interval, then stops cleanly', async () => {
    const now = Date.now();
    const userId = 'cleanup-user';
    const expired = Array.from({ length: 7 }, () => sampleRecord({ userId, idleExpiresAt: now - 1 }));
    const live = sampleRecord({ userId });
    for (const record of [...expired, live]) {
      await store.create({ session: record, maxSessions: 100, onLimit: 'reject', now });
    }
    const runs: number[] = [];
    const errors: unknown[] = [];
    const cleanup = startCleanup(store, {
      intervalMs: 20,
      jitter: 0.5,
      batchSize: 2,
      maxBatchesPerRun: 2,
      onRun: (deleted) => runs.push(deleted),
      onError: (error) => errors.push(error),
    });
    const deadline = Date.now() + 30_000;
    while (runs.reduce((sum, n) => sum + n, 0) < 7 && Date.now() < deadline) await sleep(10);
    await cleanup.stop();
    expect(errors).toEqual([]);
    // At most batchSize x maxBatchesPerRun per run: the backlog of 7 takes two runs at least.
    expect(runs.every((deleted) => deleted <= 4)).toBe(true);
    expect(runs.reduce((sum, n) => sum + n, 0)).toBe(7);
    expect((await store.listByUser(userId)).map((record) => record.id)).toEqual([live.id]);
    const settled = runs.length;
    await sleep(100);
    expect(runs.length).toBe(settled);
  });

  it('reports a failed run and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const failing = {
      async deleteExpired(options: { now: number; batchSize: number }) {
        calls += 1;
        if (calls === 1) throw new Error('first run fails');
        return store.deleteExpired(options);
      },
    };
    const cleanup = startCleanup(failing, { intervalMs: 10, onError: (error) => errors.push(error) });
    while (calls < 3) await sleep(5);
    await cleanup.stop();
    expect(errors).toHaveLength(1);
  });

  it('refuses invalid options with input.invalid', () => {
    expect(() => startCleanup(store, { jitter: 2 })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
  });
});
