import type { SessionRecord, SessionStore } from '@sessionkit/core';
import {
  InvalidInputError,
  LimitExceededError,
  parseInput,
  SessionNotFoundError,
  SessionRevokedError,
  StoreUnavailableError,
  VersionConflictError,
} from '@sessionkit/core';
import type {
  CreateSessionInput,
  CreateSessionResult,
  InvalidationFeed,
  ListOptions,
  RevokeOptions,
  RevokeUserOptions,
  RotateRefreshInput,
  RotateRefreshResult,
  SessionPage,
  SessionQuery,
  StatsQuery,
  StoreStats,
} from '@sessionkit/core/store';
import { DecodedRecordCache, decideRotation, sessionRecordSchema } from '@sessionkit/core/store';
import type { CompiledQuery, Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import { CREATE_SESSION_FUNCTION, USER_LOCK_NAMESPACE } from './create-session-function.js';
import type { Database } from './database.js';
import { isLimitExceeded, isUniqueViolation, toStoreError } from './database-errors.js';
import { DEFAULT_SCHEMA } from './migrations.js';
import { countSessions, deleteUserRows, listSessionPage } from './session-listing.js';
import type { SessionRow } from './session-row.js';
import { jsonToRecord, recordToJson, recordToRow, rowToRecord } from './session-row.js';
import { traceStatements } from './statement-tracing.js';

/** A feed the store may shut down with itself. */
export type StoreFeed = InvalidationFeed & { close?(): Promise<void> };

export interface KyselyStoreOptions {
  /** The store owns it: `close()` destroys it (for pg, that ends the pool). */
  db: Kysely<Database>;
  /** PgInvalidationFeed in production, PGliteInvalidationFeed embedded; closed with the store if it can be. */
  feed: StoreFeed;
  /**
   * The schema `migrateToLatest` created the tables in. Defaults to `sessionkit`. Give the feed the same
   * `schema`: its channel follows it, and a feed for another schema is refused.
   */
  schema?: string;
  /**
   * Records kept with the exact row text they were decoded from, so a read of an unchanged session (most reads:
   * touches are throttled) skips decoding and validation. Default 10,000; 0 decodes every read.
   */
  decodedCacheSize?: number;
}

const EVICT_REASON = 'limit.evicted';
const decodedCacheSizeSchema = z.number().int().nonnegative().max(1_000_000).default(10_000);

/**
 * The SessionStore on PostgreSQL (pg) or PGlite through kysely. Every atomic point of the contract is one
 * statement or one transaction, correct under READ COMMITTED with any number of connections, and no lock is
 * held while the client waits for a round trip on the hot paths:
 * - create: one call of the `create_session` function (migration 0002), which takes the per-user advisory lock,
 *   inserts, and evicts or rejects past the limit, all in one statement;
 * - update: a single UPDATE conditioned on id, version, user and state (compare-and-set);
 * - rotateRefresh: read, core's decideRotation, then one UPDATE conditioned on the version read; another
 *   writer in between means decide again on what it wrote.
 */
export class KyselyStore implements SessionStore {
  /** rotateRefresh applies core's decideRotation, which checks a bound session's DPoP key. */
  readonly checksRotationKey = true;
  readonly feed: StoreFeed;
  readonly #root: Kysely<Database>;
  /** Each statement in a span of its own under the store call's (statement-tracing.ts). */
  readonly #db: Kysely<Database>;
  /** Untraced: opens transactions (whose handle is then traced) and answers health probes. */
  readonly #plain: Kysely<Database>;
  /**
   * get() is the validate path: compiled once, so each call only binds the id (kysely's build costs ~8 µs). It
   * reads the row as one JSON text rather than 27 columns: pg's per-column work in the client (a parser per
   * field, a Date per timestamp) cost about 30 µs a read, `row_to_json` costs the server about 3.5 µs more than
   * sending the columns, and one unchanged text lets the decoded-record cache skip decoding and validation.
   */
  readonly #getById: CompiledQuery<{ record: string }>;
  readonly #decoded: DecodedRecordCache;
  /** Binds: the session as JSON, maxSessions, reject?, now, the eviction reason. */
  readonly #createSession: CompiledQuery<SessionRow>;
  readonly #schema: string;
  #closed = false;

  constructor(options: KyselyStoreOptions) {
    this.#schema = options.schema ?? DEFAULT_SCHEMA;
    assertFeedSchema(options.feed, this.#schema);
    this.#root = options.db;
    this.#plain = options.db.withSchema(options.schema ?? DEFAULT_SCHEMA);
    this.#db = traceStatements(this.#plain);
    this.feed = options.feed;
    const sessions = sql.table(`${options.schema ?? DEFAULT_SCHEMA}.sessions`);
    this.#getById = sql<{
      record: string;
    }>`select row_to_json(sessions)::text as record from ${sessions} as sessions where id = ${''}`.compile(
      this.#db,
    );
    this.#decoded = new DecodedRecordCache(
      parseInput(decodedCacheSizeSchema, options.decodedCacheSize, 'decodedCacheSize'),
    );
    const fn = sql.id(options.schema ?? DEFAULT_SCHEMA, CREATE_SESSION_FUNCTION);
    this.#createSession =
      sql<SessionRow>`select * from ${fn}(${''}::jsonb, ${0}::integer, ${false}, ${new Date(0)}::timestamptz, ${''})`.compile(
        this.#db,
      );
  }

  async create(input: CreateSessionInput): Promise<CreateSessionResult> {
    const session = parseInput(sessionRecordSchema, input.session, 'session record');
    const { maxSessions, onLimit, now } = input;
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new InvalidInputError('maxSessions must be a positive integer');
    }
    return this.#run(async () => {
      try {
        const { rows } = await this.#db.executeQuery<SessionRow>({
          ...this.#createSession,
          parameters: [recordToJson(session), maxSessions, onLimit === 'reject', new Date(now), EVICT_REASON],
        });
        return { session, evicted: rows.map(rowToRecord) };
      } catch (error) {
        if (isUniqueViolation(error)) throw new InvalidInputError('Session id already exists');
        if (isLimitExceeded(error)) throw new LimitExceededError(maxSessions);
        throw error;
      }
    });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.#run(() => this.#read(id));
  }

  async listByUser(userId: string, options: ListOptions = {}): Promise<SessionRecord[]> {
    return this.#run(async () => {
      let query = this.#db.selectFrom('sessions').selectAll().where('user_id', '=', userId);
      if (options.tenantId !== undefined) query = query.where('tenant_id', '=', options.tenantId);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(rowToRecord);
    });
  }

  async update(next: SessionRecord, expectedVersion: number): Promise<SessionRecord> {
    const written = parseInput(
      sessionRecordSchema,
      { ...next, version: expectedVersion + 1 },
      'session record',
    );
    return this.#run(async () => {
      const { id, user_id, ...changes } = recordToRow(written);
      const updated = await this.#db
        .updateTable('sessions')
        .set(changes)
        .where('id', '=', id)
        .where('user_id', '=', user_id)
        .where('version', '=', expectedVersion)
        .where('state', '<>', 'revoked')
        .returning('id')
        .executeTakeFirst();
      if (updated) return written;
      // Nothing written: say why, in the order the contract ranks the reasons.
      const current = await this.#db
        .selectFrom('sessions')
        .select(['user_id', 'state'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!current) throw new SessionNotFoundError();
      if (current.user_id !== user_id) throw new InvalidInputError('A session cannot change its user');
      if (current.state === 'revoked') throw new SessionRevokedError();
      throw new VersionConflictError();
    });
  }

  async rotateRefresh(input: RotateRefreshInput): Promise<RotateRefreshResult> {
    return this.#run(async () => {
      // Optimistic: nothing is locked between the read and the write, the write only lands on the version read.
      // A miss means another writer got in between (a racing rotation, a touch, a revoke): decide again on
      // what it wrote. Each miss is someone else's success, so this ends; 50 racing rotations with one token
      // leave one 'rotated' and 49 'grace', as under a row lock.
      for (;;) {
        const record = await this.#read(input.sessionId);
        const attempt = decideRotation(record, input);
        if (!record || !attempt.write || attempt.result.outcome === 'unknown') return attempt.result;
        const written = parseInput(sessionRecordSchema, attempt.write, 'rotated session record');
        if (await this.#compareAndSet(written, record.version)) {
          return { outcome: attempt.result.outcome, session: written };
        }
      }
    });
  }

  async revoke(id: string, options: RevokeOptions): Promise<SessionRecord | undefined> {
    return this.#run(async () => {
      const row = await this.#db
        .updateTable('sessions')
        .set(revokedColumns(options))
        .where('id', '=', id)
        .where('state', '<>', 'revoked')
        .returningAll()
        .executeTakeFirst();
      if (row) return rowToRecord(row);
      // Already revoked (returned unchanged) or absent.
      const current = await this.#db
        .selectFrom('sessions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return current && rowToRecord(current);
    });
  }

  async revokeUser(userId: string, options: RevokeUserOptions): Promise<SessionRecord[]> {
    return this.#run(() =>
      // Under the user's lock, so a create racing "log out everywhere" is either revoked here or sees it.
      this.#plain
        .transaction()
        .execute(async (transaction) => {
          const trx = traceStatements<Database>(transaction);
          // Its own statement: a READ COMMITTED snapshot taken after the lock sees every session created before.
          await sql`select pg_advisory_xact_lock(${USER_LOCK_NAMESPACE}::int, hashtext(${userId}))`.execute(
            trx,
          );
          let query = trx
            .updateTable('sessions')
            .set(revokedColumns(options))
            .where('user_id', '=', userId)
            .where('state', '<>', 'revoked');
          if (options.exceptId !== undefined) query = query.where('id', '<>', options.exceptId);
          if (options.tenantId !== undefined) query = query.where('tenant_id', '=', options.tenantId);
          const rows = await query.returningAll().execute();
          return rows.map(rowToRecord);
        }),
    );
  }

  async revokeTree(rootId: string, options: RevokeOptions): Promise<SessionRecord[]> {
    return this.#run(async () => {
      // UNION (not UNION ALL) stops at ids already found, so even a corrupted cycle of parents terminates.
      const rows = await this.#db
        .withRecursive('tree(id)', (db) =>
          db
            .selectFrom('sessions')
            .select('id')
            .where('id', '=', rootId)
            .union(
              db
                .selectFrom('sessions')
                .innerJoin('tree', 'tree.id', 'sessions.parent_id')
                .select('sessions.id'),
            ),
        )
        .updateTable('sessions')
        .set(revokedColumns(options))
        .where('id', 'in', (db) => db.selectFrom('tree').select('tree.id'))
        .where('state', '<>', 'revoked')
        .returningAll()
        .execute();
      return rows.map(rowToRecord);
    });
  }

  async deleteExpired(options: { now: number; batchSize: number }): Promise<number> {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new InvalidInputError('batchSize must be a positive integer');
    }
    return this.#run(async () => {
      // SKIP LOCKED lets several instances clean at once without queueing on each other's batches.
      const result = await this.#db
        .deleteFrom('sessions')
        .where('id', 'in', (db) =>
          db
            .selectFrom('sessions')
            .select('id')
            .where('expires_at', '<=', new Date(options.now))
            .orderBy('expires_at')
            .limit(options.batchSize)
            .forUpdate()
            .skipLocked(),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  async listSessions(query: SessionQuery): Promise<SessionPage> {
    return this.#run(() => listSessionPage(this.#db, query));
  }

  async sessionStats(query: StatsQuery): Promise<StoreStats> {
    return this.#run(() => countSessions(this.#db, query));
  }

  async deleteUser(userId: string): Promise<number> {
    return this.#run(() => deleteUserRows(this.#db, userId));
  }

  async health(): Promise<void> {
    // Probes run many times a minute and tell nothing about sessions: no span for them.
    await this.#run(() => sql`select 1`.execute(this.#plain));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.feed.close?.();
    await this.#root.destroy();
  }

  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('Session store is closed');
    try {
      return await operation();
    } catch (error) {
      throw toStoreError(error, this.#schema);
    }
  }

  async #read(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.#db.executeQuery<{ record: string }>({ ...this.#getById, parameters: [id] });
    const text = rows[0]?.record;
    if (text === undefined) {
      this.#decoded.forget(id);
      return undefined;
    }
    return this.#decoded.get(id, text) ?? this.#decoded.remember(id, text, jsonToRecord(text));
  }

  /** Writes `record` if the row still has `expectedVersion`; answers whether it wrote. */
  async #compareAndSet(record: SessionRecord, expectedVersion: number): Promise<boolean> {
    const { id, user_id: _userId, ...changes } = recordToRow(record);
    const written = await this.#db
      .updateTable('sessions')
      .set(changes)
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .returning('id')
      .executeTakeFirst();
    return written !== undefined;
  }
}

function revokedColumns(options: RevokeOptions) {
  return {
    state: 'revoked',
    revoked_at: new Date(options.now),
    revoke_reason: options.reason,
    version: sql<number>`version + 1`,
  };
}

/**
 * The feeds of this package say which schema's channel they carry; one for another schema would deliver this
 * store's invalidations to the other store's instances and none of its own.
 */
function assertFeedSchema(feed: StoreFeed, schema: string): void {
  const feedSchema = (feed as { schema?: unknown }).schema;
  if (typeof feedSchema === 'string' && feedSchema !== schema) {
    throw new InvalidInputError(
      `The feed carries schema "${feedSchema}" but the store uses schema "${schema}": pass { schema: '${schema}' } to the feed too`,
    );
  }
}
