import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@sessionkit/source'] },
  test: {
    name: '@sessionkit/storage-kysely',
    include: ['test/**/*.test.ts'],
  },
});
