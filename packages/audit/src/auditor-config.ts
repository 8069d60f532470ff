import { z } from 'zod';
import { ipPrivacySchema } from './ip-hasher.js';

const count = z.number().int().positive();

export const auditorConfigSchema = z.object({
  /** One chain per tenant (records without a tenant go to `global`), or one chain for everything. */
  chainBy: z.enum(['tenant', 'global']).default('tenant'),
  ip: ipPrivacySchema,
  /** The buffer between the request path and the ledger. */
  buffer: z
    .object({
      maxRecords: count.default(10_000),
      /** Up to this many records per ledger write: one transaction, one parameter, however many rows. */
      batchSize: count.max(5000).default(1000),
      flushIntervalMs: count.default(50),
    })
    .prefault({}),
  /** Each sink's own buffer behind the ledger. */
  sinkBuffer: z
    .object({
      maxRecords: count.default(10_000),
      batchSize: count.max(1000).default(250),
      maxAttempts: count.max(10).default(3),
      retryDelayMs: count.default(100),
      writeTimeoutMs: count.default(10_000),
    })
    .prefault({}),
  /** Backoff while the ledger fails; the batch in hand is kept and retried, new records queue behind it. */
  ledgerRetry: z.object({ initialDelayMs: count.default(100), maxDelayMs: count.default(5000) }).prefault({}),
  /** At most one `audit.records_dropped` record per stage per interval, however many drops it sums up. */
  dropReportIntervalMs: z.number().int().nonnegative().default(10_000),
});
export type AuditorConfigInput = z.input<typeof auditorConfigSchema>;
