import { defineProject } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The same tests on ioredis 6 (the `ioredis6` alias devDependency): the peer range accepts both majors, so both
 * run on every test run. Only the bare `ioredis` import is redirected, in the tests and in the store's sources.
 */
export default defineProject({
  ...base,
  resolve: { ...base.resolve, alias: [{ find: /^ioredis$/, replacement: 'ioredis6' }] },
  test: { ...base.test, name: '@sessionkit/storage-redis (ioredis 6)', env: { SK_IOREDIS_MAJOR: '6' } },
});
