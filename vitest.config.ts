import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Vitest's default (one worker per core, less one) runs this suite serially on two cores, yet its tests spend
    // most of their time waiting on Redis, PostgreSQL, PGlite and browsers: two files at a time overlap that wait.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      'packages/*/vitest.config.ts',
      'packages/storage-redis/vitest.ioredis6.config.ts',
      'packages/security/vitest.ioredis6.config.ts',
      'packages/audit/vitest.ioredis6.config.ts',
      'apps/*/vitest.config.ts',
    ],
  },
});
