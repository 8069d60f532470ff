import type { DpopReplayCache } from '@sessionkit/core';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { toStoreError } from './database-errors.js';
import { DEFAULT_SCHEMA } from './migrations.js';

export interface KyselyDpopReplayCacheOptions<DB> {
  db: Kysely<DB>;
  /** The schema `migrateToLatest` created the tables in. Defaults to `sessionkit`. */
  schema?: string;
  /** How often this instance deletes expired rows (in batches of 1000). Default 60 s. */
  sweepIntervalMs?: number;
}

const SWEEP_BATCH = 1000;

/**
 * DPoP `jti` replay cache in PostgreSQL (or PGlite), shared by every instance on the database. A claim is one
 * `INSERT … ON CONFLICT` that only takes over a row whose proof has expired, so the first use wins atomically.
 * Expired rows are deleted in batches at most once per `sweepIntervalMs` per instance: the table holds about
 * the proofs of the last `maxAgeMs` plus one sweep interval.
 */
export class KyselyDpopReplayCache<DB> implements DpopReplayCache {
  readonly #db: Kysely<DB>;
  readonly #table: string;
  readonly #sweepIntervalMs: number;
  #lastSweep = 0;

  constructor(options: KyselyDpopReplayCacheOptions<DB>) {
    this.#db = options.db;
    this.#table = `${options.schema ?? DEFAULT_SCHEMA}.dpop_replay`;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  async claimOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    if (now - this.#lastSweep >= this.#sweepIntervalMs) this.#sweep(now);
    const table = sql.table(this.#table);
    try {
      const { rows } = await sql<{ key: string }>`
        insert into ${table} (key, expires_at) values (${key}, ${expiresAt})
        on conflict (key) do update set expires_at = excluded.expires_at
          where ${sql.ref('dpop_replay.expires_at')} <= ${now}
        returning key`.execute(this.#db);
      return rows.length === 1;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** In the background: a failed sweep is tried again on the next claim, and no claim waits for one. */
  #sweep(now: number): void {
    const previous = this.#lastSweep;
    this.#lastSweep = now;
    const table = sql.table(this.#table);
    sql`delete from ${table} where key in (
          select key from ${table} where expires_at <= ${now} limit ${SWEEP_BATCH})`
      .execute(this.#db)
      .catch(() => {
        this.#lastSweep = previous;
      });
  }
}
