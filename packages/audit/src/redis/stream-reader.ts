import { parseInput } from '@sessionkit/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { AuditRecord } from '../audit-record.js';
import { auditRecordSchema } from '../audit-record.js';
import { RECORD_FIELD } from './stream-sink.js';

const optionsSchema = z.object({
  key: z.string().min(1).max(512),
  group: z.string().min(1).max(200),
  consumer: z.string().min(1).max(200),
});
export type RedisStreamReaderOptions = z.input<typeof optionsSchema>;

const readOptionsSchema = z.object({
  count: z.number().int().positive().max(10_000).default(100),
  /** Wait up to this long for new entries; 0 returns at once. */
  blockMs: z.number().int().nonnegative().default(0),
  /** Re-read this consumer's delivered but unacknowledged entries (after a crash) instead of new ones. */
  pending: z.boolean().default(false),
});
export type ReadOptions = z.input<typeof readOptionsSchema>;

/** XREADGROUP's reply: per stream, its entries as [id, [field, value, ...]]; null when nothing came. */
const replySchema = z
  .array(z.tuple([z.string(), z.array(z.tuple([z.string(), z.array(z.string()).nullable()]))]))
  .nullable();

export interface StreamBatch {
  records: { id: string; record: AuditRecord }[];
  /** Entries that are not audit records; acknowledge them (or move them aside) or they stay pending. */
  rejected: { id: string; reason: string }[];
}

/**
 * Reads an audit stream as a consumer group: each entry goes to one consumer of the group and stays pending
 * until acknowledged. Blocking reads hold the connection, so give the reader a connection of its own.
 */
export class RedisAuditStreamReader {
  readonly #redis: Redis;
  readonly #options: z.output<typeof optionsSchema>;

  constructor(redis: Redis, options: RedisStreamReaderOptions) {
    this.#redis = redis;
    this.#options = parseInput(optionsSchema, options, 'Redis stream reader options');
  }

  /** Creates the group (and the stream) if missing; `startId` `0` reads the stream from its start. */
  async ensureGroup(startId: '0' | '$' = '0'): Promise<void> {
    try {
      await this.#redis.xgroup('CREATE', this.#options.key, this.#options.group, startId, 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    }
  }

  async read(options: ReadOptions = {}): Promise<StreamBatch> {
    const input = parseInput(readOptionsSchema, options, 'stream read options');
    const { key, group, consumer } = this.#options;
    const raw = input.pending
      ? await this.#redis.xreadgroup('GROUP', group, consumer, 'COUNT', input.count, 'STREAMS', key, '0')
      : input.blockMs > 0
        ? await this.#redis.xreadgroup(
            'GROUP',
            group,
            consumer,
            'COUNT',
            input.count,
            'BLOCK',
            input.blockMs,
            'STREAMS',
            key,
            '>',
          )
        : await this.#redis.xreadgroup('GROUP', group, consumer, 'COUNT', input.count, 'STREAMS', key, '>');
    const reply = replySchema.parse(raw);
    const batch: StreamBatch = { records: [], rejected: [] };
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        const parsed = parseEntry(fields);
        if (parsed.success) batch.records.push({ id, record: parsed.record });
        else batch.rejected.push({ id, reason: parsed.reason });
      }
    }
    return batch;
  }

  async ack(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.#redis.xack(this.#options.key, this.#options.group, ...ids);
  }
}

function parseEntry(
  fields: string[] | null,
): { success: true; record: AuditRecord } | { success: false; reason: string } {
  // A trimmed-away entry that was still pending comes back with null fields.
  if (fields === null) return { success: false, reason: 'entry was trimmed from the stream' };
  const index = fields.indexOf(RECORD_FIELD);
  const text = index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined;
  if (text === undefined) return { success: false, reason: `no ${RECORD_FIELD} field` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { success: false, reason: 'record is not JSON' };
  }
  const parsed = auditRecordSchema.safeParse(value);
  return parsed.success
    ? { success: true, record: parsed.data }
    : { success: false, reason: 'record does not match the audit record schema' };
}
