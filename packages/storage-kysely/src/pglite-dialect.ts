import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  Driver,
  Kysely,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';

/**
 * A kysely dialect for PGlite that keeps transactions isolated. PGlite is one PostgreSQL session, so a
 * transaction must own it until COMMIT: we run each kysely transaction inside `pglite.transaction()`, whose
 * lock every other query on the instance (ours, the feed's LISTEN/NOTIFY, the application's) waits for.
 * Destroying the Kysely instance leaves the PGlite instance open: it belongs to the caller.
 */
export class PGliteDialect implements Dialect {
  readonly #pglite: PGliteInterface;

  constructor(pglite: PGliteInterface) {
    this.#pglite = pglite;
  }

  createAdapter() {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#pglite);
  }

  createIntrospector<DB>(db: Kysely<DB>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteDriver implements Driver {
  readonly #pglite: PGliteInterface;

  constructor(pglite: PGliteInterface) {
    this.#pglite = pglite;
  }

  async init(): Promise<void> {
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new PGliteConnection(this.#pglite);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PGliteConnection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PGliteConnection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PGliteConnection).rollback();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}
}

/** Thrown into `pglite.transaction()`'s callback so that PGlite itself rolls the transaction back. */
const ROLLBACK = Symbol('rollback');

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGliteInterface;
  #tx: Transaction | undefined;
  #finish: { commit: () => void; rollback: (reason: unknown) => void } | undefined;
  #settled: Promise<void> | undefined;

  constructor(pglite: PGliteInterface) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const target = this.#tx ?? this.#pglite;
    const result = await target.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    return result.affectedRows === undefined
      ? { rows: result.rows }
      : { rows: result.rows, numAffectedRows: BigInt(result.affectedRows) };
  }

  /** PGlite has no cursors: the whole result arrives at once, so it is yielded as one chunk. */
  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(compiledQuery);
  }

  async begin(settings: TransactionSettings): Promise<void> {
    this.#tx = await new Promise<Transaction>((started, failed) => {
      this.#settled = this.#pglite.transaction(
        (tx) =>
          new Promise<void>((commit, rollback) => {
            this.#finish = { commit, rollback };
            started(tx);
          }),
      );
      // Only a failed BEGIN lands here before `started`; later outcomes are awaited by commit() or rollback().
      this.#settled.catch(failed);
    });
    if (settings.isolationLevel)
      await this.#tx.query(`set transaction isolation level ${settings.isolationLevel}`);
    if (settings.accessMode) await this.#tx.query(`set transaction ${settings.accessMode}`);
  }

  async commit(): Promise<void> {
    this.#finish?.commit();
    await this.#end();
  }

  async rollback(): Promise<void> {
    this.#finish?.rollback(ROLLBACK);
    await this.#end().catch((error: unknown) => {
      if (error !== ROLLBACK) throw error;
    });
  }

  async #end(): Promise<void> {
    try {
      await this.#settled;
    } finally {
      this.#tx = undefined;
      this.#finish = undefined;
      this.#settled = undefined;
    }
  }
}
