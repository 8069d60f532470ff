import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@sessionkit/source'] },
  test: {
    name: '@sessionkit/audit',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
