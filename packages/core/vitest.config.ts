import { defineProject } from 'vitest/config';

// Vitest runs Node tests through Vite's SSR resolver, which reads `ssr.resolve.conditions`.
const conditions = ['@sessionkit/source'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: '@sessionkit/core',
    include: ['test/**/*.test.ts'],
  },
});
