import { parseInput } from '@sessionkit/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { AuditSink } from '../sink.js';

const optionsSchema = z.object({
  /** Stream key; prefix it per deployment (e.g. `myapp:audit`). */
  key: z.string().min(1).max(512),
  /** Upper bound on the stream's length; older entries are trimmed by XADD itself. */
  maxLength: z.number().int().positive().default(100_000),
  /** `~` trimming (whole macro nodes, much cheaper); exact trimming otherwise. */
  approximate: z.boolean().default(true),
  name: z.string().min(1).default('redis-stream'),
});
export type RedisStreamSinkOptions = z.input<typeof optionsSchema>;

/** The field holding the record JSON in each stream entry. */
export const RECORD_FIELD = 'record';

/**
 * Appends each record to a Redis Stream (XADD ... MAXLEN), one pipeline per batch. Give it a client whose
 * `error` event has a listener and whose offline queue is bounded: the auditor times out and retries writes.
 */
export function redisStreamSink(redis: Redis, options: RedisStreamSinkOptions): AuditSink {
  const config = parseInput(optionsSchema, options, 'Redis stream sink options');
  const trim = config.approximate ? '~' : '=';
  return {
    name: config.name,
    async write(records) {
      const pipeline = redis.pipeline();
      for (const record of records) {
        pipeline.xadd(
          config.key,
          'MAXLEN',
          trim,
          config.maxLength,
          '*',
          RECORD_FIELD,
          JSON.stringify(record),
        );
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (!results || failed) throw failed?.[0] ?? new Error('Redis pipeline was discarded');
    },
  };
}
