import { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import type { RedisClient } from './redis-client.js';

export const redisStoreOptionsSchema = z.object({
  /** Your ioredis client (standalone, Sentinel or Cluster). The store never closes it. */
  client: z.custom<RedisClient>(
    (value) => value instanceof Redis || value instanceof Cluster,
    'must be an ioredis Redis or Cluster instance',
  ),
  /** First segment of every key and of the feed channel; braces would break the hash-tag layout. */
  prefix: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[^{}\s]+$/, 'must not contain braces or whitespace')
    .default('sk'),
  /** Each command answers or fails with `store.unavailable` within this many milliseconds. */
  commandTimeoutMs: z.number().int().min(10).max(60_000).default(500),
  /** Session id → user id entries remembered in process; 0 turns the cache off (two reads per `get`). */
  ownerCacheSize: z.number().int().nonnegative().max(10_000_000).default(100_000),
  /**
   * Records kept with the exact value they were decoded from, so an unchanged session (most reads: touches are
   * throttled) skips decoding and schema validation; about 2 KiB each. 0 decodes every read.
   */
  decodedCacheSize: z.number().int().nonnegative().max(1_000_000).default(10_000),
  /** Receives connection errors and malformed feed messages; without it they are dropped (never thrown). */
  onError: z.custom<(error: Error) => void>((value) => typeof value === 'function').optional(),
});

export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;
