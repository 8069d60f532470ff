import { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { describe, expect, it } from 'vitest';

describe('the ioredis this project runs on', () => {
  it('is the major the project names: 5 by default, 6 where `ioredis` is redirected to the ioredis6 alias', () => {
    expect(Object.is(Redis, Redis6) ? '6' : '5').toBe(process.env.SK_IOREDIS_MAJOR);
  });
});
