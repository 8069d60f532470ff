import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'packages/storage-redis/vitest.ioredis6.config.ts',
      'apps/*/vitest.config.ts',
    ],
  },
});
