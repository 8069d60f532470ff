import { defineProject } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The Redis tests again on ioredis 6 (the `ioredis6` alias devDependency), since the optional peer range accepts
 * both majors. Only the bare `ioredis` import is redirected, in the tests and in the package's sources.
 */
export default defineProject({
  ...base,
  resolve: { ...base.resolve, alias: [{ find: /^ioredis$/, replacement: 'ioredis6' }] },
  test: {
    ...base.test,
    name: '@sessionkit/audit (ioredis 6)',
    include: ['test/redis.test.ts', 'test/resilience.test.ts'],
  },
});
