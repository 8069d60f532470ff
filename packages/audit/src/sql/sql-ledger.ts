import type { Clock } from '@sessionkit/core';
import { StoreUnavailableError, systemClock } from '@sessionkit/core';
import type { Kysely } from 'kysely';
import type { AuditEntry, AuditRecord } from '../audit-record.js';
import { auditRecordSchema } from '../audit-record.js';
import type { ChainHead } from '../chain.js';
import { GENESIS_HASH, linkEntry } from '../chain.js';
import type { ChainLocks } from '../chain-locks.js';
import { chainLocksFor } from '../chain-locks.js';
import type { ChainCheckpoint } from '../checkpoint.js';
import { checkpointSchema } from '../checkpoint.js';
import type { Keyring } from '../keyring.js';
import type { AuditLedger } from '../ledger.js';
import type { ChainVerification } from '../verify-chain.js';
import { ChainVerifier } from '../verify-chain.js';
import { recordToRow, rowToRecord } from './rows.js';
import type { AuditDatabase, AuditSchemaOptions } from './schema.js';
import { auditDb } from './schema.js';

export interface SqlAuditOptions extends AuditSchemaOptions {
  /** Integrity keys: record hashes and retention checkpoints are HMACs under them. */
  keys: Keyring;
  clock?: Clock;
}

// 29 columns a row; PostgreSQL takes at most 65535 parameters per statement.
const ROWS_PER_INSERT = 1000;
const VERIFY_PAGE = 1000;

/**
 * The SQL table as the chain authority. Appends lock the heads of their chains (`SELECT ... FOR UPDATE`, in
 * chain order so two writers never deadlock), link under the lock and commit records and heads together: two
 * instances appending to one chain queue up instead of forking it.
 */
export class SqlAuditLedger implements AuditLedger {
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

  async append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    const chains = [...new Set(entries.map((entry) => entry.chain))].sort();
    // In-process first: the transaction would serialise us too, but holding a pooled connection to wait is waste.
    return this.#locks.run(chains, async () => {
      try {
        return await this.#db.transaction().execute(async (tx) => {
          const now = this.#clock.now();
          await tx
            .insertInto('audit_chain_heads')
            .values(chains.map((chain) => ({ chain, seq: 0, hash: GENESIS_HASH, updated_at: now })))
            .onConflict((conflict) => conflict.column('chain').doNothing())
            .execute();
          const rows = await tx
            .selectFrom('audit_chain_heads')
            .select(['chain', 'seq', 'hash'])
            .where('chain', 'in', chains)
            .orderBy('chain')
            .forUpdate()
            .execute();
          const heads = new Map<string, ChainHead>(
            rows.map((row) => [row.chain, { seq: Number(row.seq), hash: row.hash }]),
          );
          // A retry after an ambiguous commit (connection lost before the reply) must not link the same entries
          // twice: whatever is already stored is returned as stored.
          const stored = await tx
            .selectFrom('audit_records')
            .selectAll()
            .where(
              'id',
              'in',
              entries.map((entry) => entry.id),
            )
            .execute();
          const already = new Map(stored.map((row) => [row.id, auditRecordSchema.parse(rowToRecord(row))]));
          const linked: AuditRecord[] = [];
          const records = entries.map((entry) => {
            const existing = already.get(entry.id);
            if (existing) return existing;
            const record = linkEntry(entry, heads.get(entry.chain) as ChainHead, this.#keys);
            heads.set(entry.chain, { seq: record.seq, hash: record.hash });
            linked.push(record);
            return record;
          });
          for (let start = 0; start < linked.length; start += ROWS_PER_INSERT) {
            await tx
              .insertInto('audit_records')
              .values(linked.slice(start, start + ROWS_PER_INSERT).map(recordToRow))
              .execute();
          }
          for (const chain of chains) {
            const head = heads.get(chain) as ChainHead;
            await tx
              .updateTable('audit_chain_heads')
              .set({ seq: head.seq, hash: head.hash, updated_at: now })
              .where('chain', '=', chain)
              .execute();
          }
          return records;
        });
      } catch (cause) {
        throw new StoreUnavailableError('Audit ledger could not append', { cause });
      }
    });
  }

  async chains(): Promise<string[]> {
    const rows = await this.#db.selectFrom('audit_chain_heads').select('chain').orderBy('chain').execute();
    return rows.map((row) => row.chain);
  }

  async head(chain: string): Promise<ChainHead | undefined> {
    const row = await this.#db
      .selectFrom('audit_chain_heads')
      .select(['seq', 'hash'])
      .where('chain', '=', chain)
      .executeTakeFirst();
    return row && { seq: Number(row.seq), hash: row.hash };
  }

  /** The retention checkpoint, unchecked: `verifyChain` checks its signature. */
  async checkpoint(chain: string): Promise<unknown> {
    const row = await this.#db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .where('chain', '=', chain)
      .executeTakeFirst();
    return (
      row && {
        chain: row.chain,
        seq: Number(row.seq),
        prevHash: row.prev_hash,
        at: Number(row.at),
        deleted: Number(row.deleted),
        keyId: row.key_id,
        signature: row.signature,
      }
    );
  }

  /** Reads one chain in sequence order, page by page, and names the first record that does not hold up. */
  async verifyChain(chain: string): Promise<ChainVerification> {
    const storedCheckpoint = await this.checkpoint(chain);
    const parsed = storedCheckpoint === undefined ? undefined : checkpointSchema.safeParse(storedCheckpoint);
    if (parsed && !parsed.success) {
      return {
        chain,
        ok: false,
        checked: 0,
        firstBad: {
          fault: 'checkpoint_invalid',
          expectedSeq: 1,
          message: 'The retention checkpoint is malformed',
        },
      };
    }
    const checkpoint: ChainCheckpoint | undefined = parsed?.data;
    const head = await this.head(chain);
    const verifier = new ChainVerifier({
      chain,
      keys: this.#keys,
      ...(checkpoint === undefined ? {} : { checkpoint }),
      ...(head === undefined ? {} : { head }),
    });
    let after = 0;
    while (!verifier.broken) {
      const rows = await this.#db
        .selectFrom('audit_records')
        .selectAll()
        .where('chain', '=', chain)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(VERIFY_PAGE)
        .execute();
      for (const row of rows) if (!verifier.push(rowToRecord(row))) break;
      if (rows.length < VERIFY_PAGE) break;
      after = Number(rows[rows.length - 1]?.seq);
    }
    return verifier.finish();
  }

  async verifyAll(): Promise<ChainVerification[]> {
    const results: ChainVerification[] = [];
    for (const chain of await this.chains()) results.push(await this.verifyChain(chain));
    return results;
  }
}
