import type { Clock } from '@sessionkit/core';
import { StoreCorruptError, StoreUnavailableError, systemClock } from '@sessionkit/core';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { AuditEntry, AuditRecord } from '../audit-record.js';
import { auditRecordSchema } from '../audit-record.js';
import type { ChainHead } from '../chain.js';
import { GENESIS_HASH, linkSealed } from '../chain.js';
import type { ChainLocks } from '../chain-locks.js';
import { chainLocksFor } from '../chain-locks.js';
import type { ChainCheckpoint } from '../checkpoint.js';
import { checkpointSchema } from '../checkpoint.js';
import type { Keyring } from '../keyring.js';
import type { AppendOptions, AuditLedger } from '../ledger.js';
import type { ChainVerification } from '../verify-chain.js';
import { ChainVerifier } from '../verify-chain.js';
import { RECORD_COLUMNS, rowToRecord, sealedRow } from './rows.js';
import type { AuditDatabase, AuditSchemaOptions } from './schema.js';
import { auditDb } from './schema.js';

export interface SqlAuditOptions extends AuditSchemaOptions {
  /** Integrity keys: record hashes and retention checkpoints are HMACs under them. */
  keys: Keyring;
  clock?: Clock;
}

const COLUMN_LIST = sql.raw(RECORD_COLUMNS.map(([name]) => name).join(', '));
const ROW_VALUES = sql.raw(RECORD_COLUMNS.map(([, expression]) => expression).join(', '));
const VERIFY_PAGE = 1000;

/** A batch linked in memory, ready to write: its records, their rows as one JSON array, the new heads. */
interface LinkedBatch {
  records: AuditRecord[];
  rows: string;
  heads: Map<string, ChainHead>;
}

/**
 * The SQL table as the chain authority. Appends lock the heads of their chains (`SELECT ... FOR UPDATE`, in
 * chain order so two writers never deadlock), link under the lock and commit records and heads together: two
 * instances appending to one chain queue up instead of forking it.
 *
 * The heads this ledger committed last are kept as a guess. A batch is linked on them and written in one
 * statement that locks the heads, checks they are still the guessed ones and only then inserts the records
 * and moves the heads; if another writer moved a head meanwhile, nothing is written and the batch goes the
 * long way (lock, read, link, insert, update in one transaction).
 */
export class SqlAuditLedger implements AuditLedger {
  readonly #db: Kysely<AuditDatabase>;
  readonly #keys: Keyring;
  readonly #clock: Clock;
  readonly #locks: ChainLocks;
  readonly #records: ReturnType<typeof sql.table>;
  readonly #headsTable: ReturnType<typeof sql.table>;
  readonly #knownChains = new Set<string>();
  /** The heads of our last commit per chain: a guess, checked under the head's row lock before use. */
  readonly #lastHeads = new Map<string, ChainHead>();

  constructor(db: Kysely<unknown> | Kysely<AuditDatabase>, options: SqlAuditOptions) {
    this.#db = auditDb(db as Kysely<AuditDatabase>, options);
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
    this.#locks = chainLocksFor(db);
    const qualified = (table: string) =>
      sql.table(options.schema === undefined ? table : `${options.schema}.${table}`);
    this.#records = qualified('audit_records');
    this.#headsTable = qualified('audit_chain_heads');
  }

  async append(entries: readonly AuditEntry[], options: AppendOptions = {}): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    const chains = [...new Set(entries.map((entry) => entry.chain))].sort();
    // In-process first: the transaction would serialise us too, but holding a pooled connection to wait is waste.
    return this.#locks.run(chains, async () => {
      try {
        const written =
          (options.retry ? undefined : await this.#appendOnLastHeads(entries, chains)) ??
          (await this.#appendLocked(entries, chains, options));
        for (const chain of chains) this.#lastHeads.set(chain, written.heads.get(chain) as ChainHead);
        return written.records;
      } catch (cause) {
        // Committed or not, we cannot tell: the long way finds out next time.
        for (const chain of chains) this.#lastHeads.delete(chain);
        throw new StoreUnavailableError('Audit ledger could not append', { cause });
      }
    });
  }

  /** One statement, one round trip: link on the last known heads, write if they still hold. */
  async #appendOnLastHeads(
    entries: readonly AuditEntry[],
    chains: readonly string[],
  ): Promise<LinkedBatch | undefined> {
    if (!chains.every((chain) => this.#lastHeads.has(chain))) return undefined;
    const expected = chains.map((chain) => this.#lastHeads.get(chain) as ChainHead);
    const batch = this.#link(
      entries,
      new Map(chains.map((chain, index) => [chain, expected[index] as ChainHead])),
    );
    const next = chains.map((chain) => batch.heads.get(chain) as ChainHead);
    const now = this.#clock.now();
    // Every CTE runs, in one snapshot; `verdict` reads the locked (newest) head rows, and the update and the
    // insert both wait on it, so either all of the batch is written and every head moved, or nothing is.
    const result = await sql<{ ok: boolean }>`
      with expected (chain, seq, hash, next_seq, next_hash) as (
        select * from unnest(${chains}::text[], ${expected.map((head) => head.seq)}::bigint[],
          ${expected.map((head) => head.hash)}::text[], ${next.map((head) => head.seq)}::bigint[],
          ${next.map((head) => head.hash)}::text[])
      ), locked as (
        select heads.seq = expected.seq and heads.hash = expected.hash as same
        from ${this.#headsTable} as heads join expected on expected.chain = heads.chain
        order by heads.chain for update of heads
      ), verdict as (
        select count(*) filter (where same) = ${chains.length} as ok from locked
      ), moved as (
        update ${this.#headsTable} as heads
        set seq = expected.next_seq, hash = expected.next_hash, updated_at = ${now}
        from expected, verdict where verdict.ok and heads.chain = expected.chain
      ), inserted as (
        insert into ${this.#records} (${COLUMN_LIST})
        select ${ROW_VALUES} from jsonb_array_elements(${batch.rows}::jsonb) as rows(row), verdict where verdict.ok
      )
      select ok from verdict`.execute(this.#db);
    return result.rows[0]?.ok === true ? batch : undefined;
  }

  async #appendLocked(
    entries: readonly AuditEntry[],
    chains: readonly string[],
    options: AppendOptions,
  ): Promise<LinkedBatch> {
    const appended = await this.#db.transaction().execute(async (tx) => {
      const now = this.#clock.now();
      // Head rows are never deleted, so a chain seen once needs no insert again.
      const fresh = chains.filter((chain) => !this.#knownChains.has(chain));
      if (fresh.length > 0) {
        await tx
          .insertInto('audit_chain_heads')
          .values(fresh.map((chain) => ({ chain, seq: 0, hash: GENESIS_HASH, updated_at: now })))
          .onConflict((conflict) => conflict.column('chain').doNothing())
          .execute();
      }
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
      if (options.retry) {
        const replayed = await this.#alreadyAppended(tx, entries, heads);
        if (replayed) return { records: replayed, rows: '', heads };
      }
      const batch = this.#link(entries, heads);
      await sql`insert into ${this.#records} (${COLUMN_LIST}) select ${ROW_VALUES} from jsonb_array_elements(${batch.rows}::jsonb) as rows(row)`.execute(
        tx,
      );
      for (const chain of chains) {
        const head = heads.get(chain) as ChainHead;
        await tx
          .updateTable('audit_chain_heads')
          .set({ seq: head.seq, hash: head.hash, updated_at: now })
          .where('chain', '=', chain)
          .execute();
      }
      return batch;
    });
    for (const chain of chains) this.#knownChains.add(chain);
    return appended;
  }

  /** Links the entries onto `heads`, which it moves along. */
  #link(entries: readonly AuditEntry[], heads: Map<string, ChainHead>): LinkedBatch {
    const records: AuditRecord[] = [];
    const rows: string[] = [];
    for (const entry of entries) {
      const { record, sealed } = linkSealed(entry, heads.get(entry.chain) as ChainHead, this.#keys);
      heads.set(entry.chain, { seq: record.seq, hash: record.hash });
      records.push(record);
      rows.push(sealedRow(sealed, record.hash));
    }
    return { records, rows: `[${rows.join(',')}]`, heads };
  }

  /**
   * A batch retried after an ambiguous commit (the connection dropped before the reply) must not be linked
   * twice. Batches commit whole, so if the first entry is among the newest records of its chain, all are: they
   * are read back as stored. One primary-key range probe per batch; no index on record ids needed.
   */
  async #alreadyAppended(
    tx: Transaction<AuditDatabase>,
    entries: readonly AuditEntry[],
    heads: ReadonlyMap<string, ChainHead>,
  ): Promise<AuditRecord[] | undefined> {
    const counts = new Map<string, number>();
    for (const entry of entries) counts.set(entry.chain, (counts.get(entry.chain) ?? 0) + 1);
    const tail = (chain: string) => (heads.get(chain)?.seq ?? 0) - (counts.get(chain) ?? 0);
    const first = entries[0] as AuditEntry;
    const probe = await tx
      .selectFrom('audit_records')
      .select('seq')
      .where('chain', '=', first.chain)
      .where('seq', '>', tail(first.chain))
      .where('id', '=', first.id)
      .executeTakeFirst();
    if (!probe) return undefined;
    const stored = await tx
      .selectFrom('audit_records')
      .selectAll()
      .where((eb) =>
        eb.or(
          [...counts.keys()].map((chain) => eb.and([eb('chain', '=', chain), eb('seq', '>', tail(chain))])),
        ),
      )
      .execute();
    const byId = new Map(stored.map((row) => [row.id, auditRecordSchema.parse(rowToRecord(row))]));
    return entries.map((entry) => {
      const record = byId.get(entry.id);
      if (!record) throw new StoreCorruptError('A retried audit batch was only partly stored');
      return record;
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
