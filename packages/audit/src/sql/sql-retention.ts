import type { Clock } from '@sessionkit/core';
import { parseInput, systemClock } from '@sessionkit/core';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { ChainLocks } from '../chain-locks.js';
import { chainLocksFor } from '../chain-locks.js';
import type { ChainCheckpoint } from '../checkpoint.js';
import { signCheckpoint } from '../checkpoint.js';
import type { Keyring } from '../keyring.js';
import type { AuditDatabase } from './schema.js';
import { auditDb } from './schema.js';
import type { SqlAuditOptions } from './sql-ledger.js';

const retentionSchema = z.object({
  /** Records older than this are deleted. */
  olderThanMs: z.number().int().positive(),
  /** Rows deleted per transaction: keeps each lock on a chain's head short. */
  batchSize: z.number().int().positive().max(10_000).default(500),
  /** Upper bound on transactions per chain in one run; the next run carries on. */
  maxBatches: z.number().int().positive().default(100),
});
export type RetentionOptions = z.input<typeof retentionSchema>;

export interface RetentionResult {
  deleted: number;
  chains: { chain: string; deleted: number; checkpoint?: ChainCheckpoint }[];
}

/**
 * Deletes old records from the start of each chain in bounded batches. Each batch moves a signed checkpoint
 * to the first retained record (its sequence number and `prevHash`) in the same transaction, so the remaining
 * chain still verifies and a deletion beyond the checkpoint is still caught.
 */
export class SqlAuditRetention {
  readonly #db: Kysely<AuditDatabase>;
  readonly #keys: Keyring;
  readonly #clock: Clock;
  readonly #locks: ChainLocks;

  constructor(db: Kysely<unknown> | Kysely<AuditDatabase>, options: SqlAuditOptions) {
    this.#db = auditDb(db as Kysely<AuditDatabase>, options);
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
    this.#locks = chainLocksFor(db);
  }

  async apply(options: RetentionOptions): Promise<RetentionResult> {
    const config = parseInput(retentionSchema, options, 'retention options');
    const cutoff = this.#clock.now() - config.olderThanMs;
    const heads = await this.#db.selectFrom('audit_chain_heads').select('chain').orderBy('chain').execute();
    const result: RetentionResult = { deleted: 0, chains: [] };
    for (const { chain } of heads) {
      let deleted = 0;
      let checkpoint: ChainCheckpoint | undefined;
      for (let batch = 0; batch < config.maxBatches; batch += 1) {
        const step = await this.#deleteBatch(chain, cutoff, config.batchSize);
        deleted += step.deleted;
        checkpoint = step.checkpoint ?? checkpoint;
        if (step.deleted < config.batchSize) break;
      }
      if (deleted > 0)
        result.chains.push({ chain, deleted, ...(checkpoint === undefined ? {} : { checkpoint }) });
      result.deleted += deleted;
    }
    return result;
  }

  async #deleteBatch(chain: string, cutoff: number, batchSize: number) {
    return this.#locks.run([chain], () => this.#deleteBatchLocked(chain, cutoff, batchSize));
  }

  async #deleteBatchLocked(chain: string, cutoff: number, batchSize: number) {
    return this.#db.transaction().execute(async (tx) => {
      // The head's row lock is the chain lock appends take: no append interleaves with moving the checkpoint.
      const head = await tx
        .selectFrom('audit_chain_heads')
        .select(['seq', 'hash'])
        .where('chain', '=', chain)
        .forUpdate()
        .executeTakeFirst();
      if (!head) return { deleted: 0 };
      const rows = await tx
        .selectFrom('audit_records')
        .select(['seq', 'at', 'prev_hash'])
        .where('chain', '=', chain)
        .orderBy('seq')
        .limit(batchSize + 1)
        .execute();
      // Only a prefix can go: a chain with a hole in the middle could not be told from a tampered one.
      let old = 0;
      while (old < rows.length && old < batchSize && Number(rows[old]?.at) < cutoff) old += 1;
      if (old === 0) return { deleted: 0 };
      const firstKept = rows[old];
      const start = firstKept
        ? { seq: Number(firstKept.seq), prevHash: firstKept.prev_hash }
        : { seq: Number(head.seq) + 1, prevHash: head.hash };
      const removed = await tx
        .deleteFrom('audit_records')
        .where('chain', '=', chain)
        .where('seq', '<', start.seq)
        .returning('seq')
        .execute();
      const previous = await tx
        .selectFrom('audit_checkpoints')
        .select('deleted')
        .where('chain', '=', chain)
        .executeTakeFirst();
      // Counted from RETURNING: not every driver reports affected rows (PGlite's Kysely dialect does not).
      const deleted = removed.length;
      const checkpoint = signCheckpoint(
        { chain, ...start, at: this.#clock.now(), deleted: Number(previous?.deleted ?? 0) + deleted },
        this.#keys,
      );
      const row = {
        seq: checkpoint.seq,
        prev_hash: checkpoint.prevHash,
        at: checkpoint.at,
        deleted: checkpoint.deleted,
        key_id: checkpoint.keyId,
        signature: checkpoint.signature,
      };
      await tx
        .insertInto('audit_checkpoints')
        .values({ chain, ...row })
        .onConflict((conflict) => conflict.column('chain').doUpdateSet(row))
        .execute();
      return { deleted, checkpoint };
    });
  }
}
