import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'packages/storage-redis/vitest.ioredis6.config.ts',
      'packages/security/vitest.ioredis6.config.ts',
      'packages/audit/vitest.ioredis6.config.ts',
      'apps/*/vitest.config.ts',
    ],
  },
});
