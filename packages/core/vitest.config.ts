import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@sessionkit/source'] },
  test: {
    name: '@sessionkit/core',
    include: ['test/**/*.test.ts'],
  },
});
