import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/storage-redis',
    include: ['test/**/*.test.ts'],
    // Cluster start-up and the restart test wait on real servers.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 30_000 } },
    env: { SK_IOREDIS_MAJOR: '5' },
  },
});
