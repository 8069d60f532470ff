import type { SessionStore } from '@sessionkit/core';
import { parseInput } from '@sessionkit/core';
import { z } from 'zod';

const cleanupOptionsSchema = z.object({
  /** Mean time between runs. */
  intervalMs: z.number().int().positive().default(60_000),
  /** Each wait is intervalMs × (1 ± jitter), so instances started together do not clean in step. */
  jitter: z.number().min(0).max(1).default(0.2),
  batchSize: z.number().int().positive().default(500),
  /** Upper bound on the batches of one run, so a backlog is worked off over several runs, not in one burst. */
  maxBatchesPerRun: z.number().int().positive().default(20),
});

export type CleanupOptions = z.input<typeof cleanupOptionsSchema> & {
  now?: () => number;
  /** Told about a failed run (the next run is still scheduled). */
  onError?: (error: unknown) => void;
  /** Told how many records each run deleted. */
  onRun?: (deleted: number) => void;
};

export interface Cleanup {
  /** Cancels the next run and waits for a run in progress to finish its current batch. */
  stop(): Promise<void>;
}

/** Runs `deleteExpired` in bounded batches on a jittered interval; the timer never keeps the process alive. */
export function startCleanup(
  store: Required<Pick<SessionStore, 'deleteExpired'>>,
  options: CleanupOptions = {},
): Cleanup {
  const { intervalMs, jitter, batchSize, maxBatchesPerRun } = parseInput(
    cleanupOptionsSchema,
    {
      intervalMs: options.intervalMs,
      jitter: options.jitter,
      batchSize: options.batchSize,
      maxBatchesPerRun: options.maxBatchesPerRun,
    },
    'cleanup options',
  );
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const onRun = options.onRun ?? (() => {});
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function run(): Promise<void> {
    let deleted = 0;
    try {
      for (let batch = 0; batch < maxBatchesPerRun && !stopped; batch += 1) {
        const count = await store.deleteExpired({ now: now(), batchSize });
        deleted += count;
        if (count < batchSize) break;
      }
      onRun(deleted);
    } catch (error) {
      onError(error);
    }
  }

  function schedule(): void {
    if (stopped) return;
    const delay = intervalMs * (1 - jitter + Math.random() * 2 * jitter);
    timer = setTimeout(() => {
      running = run().finally(() => {
        running = undefined;
        schedule();
      });
    }, delay);
    timer.unref();
  }

  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
