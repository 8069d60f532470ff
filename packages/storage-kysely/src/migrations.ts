import { StoreUnavailableError } from '@sessionkit/core';
import type { Kysely, Migration, MigrationProvider, MigrationResultSet } from 'kysely';
import { Migrator, NO_MIGRATIONS, sql } from 'kysely';
import { COLUMNS_0001, createSessionMigration, defineCreateSession } from './create-session-function.js';
import { causeText } from './database-errors.js';
import { dpopReplayMigration } from './dpop-replay-migration.js';

/** Our own schema and migration table, so neither clashes with an application's `sessions` table or migrations. */
export const DEFAULT_SCHEMA = 'sessionkit';
const MIGRATION_TABLE = 'sessionkit_migration';
const MIGRATION_LOCK_TABLE = 'sessionkit_migration_lock';
const SCHEMA_LOCK_NAMESPACE = 0x5e56;

export interface MigrateOptions {
  /** PostgreSQL schema holding the tables; created if missing. Defaults to `sessionkit`. */
  schema?: string;
}

/** The schema as code, one object per step, so the package ships no SQL files to locate at run time. */
export function sessionMigrations(schema: string): Record<string, Migration> {
  return {
    '0001_sessions': {
      async up(db: Kysely<unknown>) {
        const builder = db.schema.withSchema(schema);
        await builder
          .createTable('sessions')
          .addColumn('id', 'text', (col) => col.primaryKey())
          .addColumn('user_id', 'text', (col) => col.notNull())
          .addColumn('tenant_id', 'text')
          .addColumn('state', 'text', (col) =>
            col.notNull().check(sql`state in ('active', 'suspended', 'revoked', 'expired')`),
          )
          .addColumn('created_at', 'timestamptz', (col) => col.notNull())
          .addColumn('last_seen_at', 'timestamptz', (col) => col.notNull())
          .addColumn('idle_expires_at', 'timestamptz', (col) => col.notNull())
          .addColumn('absolute_expires_at', 'timestamptz', (col) => col.notNull())
          .addColumn('expires_at', 'timestamptz', (col) =>
            col.notNull().generatedAlwaysAs(sql`least(idle_expires_at, absolute_expires_at)`).stored(),
          )
          .addColumn('aal', 'smallint', (col) => col.notNull())
          .addColumn('authenticated_at', 'timestamptz', (col) => col.notNull())
          .addColumn('secret_hash', 'text', (col) => col.notNull())
          .addColumn('refresh_family_id', 'text')
          .addColumn('refresh_generation', 'integer')
          .addColumn('refresh_current_hash', 'text')
          .addColumn('refresh_previous_hash', 'text')
          .addColumn('refresh_rotated_at', 'timestamptz')
          .addColumn('refresh_sealed_successor', 'text')
          .addColumn('refresh_retired_hashes', sql`text[]`)
          .addColumn('device', 'jsonb', (col) => col.notNull())
          .addColumn('parent_id', 'text')
          .addColumn('revoked_at', 'timestamptz')
          .addColumn('revoke_reason', 'text')
          .addColumn('transfer_code_hash', 'text')
          .addColumn('transfer_expires_at', 'timestamptz')
          .addColumn('transfer_mode', 'text')
          .addColumn('version', 'integer', (col) => col.notNull())
          .addColumn('metadata', 'jsonb', (col) => col.notNull())
          .execute();
        // Listing a user's devices, newest first.
        await builder
          .createIndex('sessions_by_user')
          .on('sessions')
          .columns(['user_id', 'created_at desc'])
          .execute();
        // The per-user limit and revoke-all read only live rows: a partial index keeps revoked ones out of the way.
        // The states are core's IN_USE_STATES, spelled out: a migration must not change when a constant does.
        await builder
          .createIndex('sessions_live_by_user')
          .on('sessions')
          .columns(['user_id', 'created_at'])
          .where(sql.ref('state'), 'in', ['active', 'suspended'])
          .execute();
        await builder.createIndex('sessions_by_expiry').on('sessions').column('expires_at').execute();
        await builder
          .createIndex('sessions_by_tenant')
          .on('sessions')
          .columns(['tenant_id', 'created_at desc'])
          .where(sql.ref('tenant_id'), 'is not', null)
          .execute();
        // revokeTree walks parent -> children.
        await builder
          .createIndex('sessions_by_parent')
          .on('sessions')
          .column('parent_id')
          .where(sql.ref('parent_id'), 'is not', null)
          .execute();
        await createRefreshHistory(db, schema);
      },
      async down(db: Kysely<unknown>) {
        await db.schema.withSchema(schema).dropTable('refresh_history').execute();
        await db.schema.withSchema(schema).dropTable('sessions').execute();
      },
    },
    '0002_create_session': createSessionMigration(schema),
    '0003_refresh_generations': {
      // Refresh tokens carry a MAC-verified generation, so no old token needs remembering: the history table
      // and the column of the 8 newest retired hashes go, and create_session stops inserting that column.
      async up(db: Kysely<unknown>) {
        await db.schema.withSchema(schema).dropTable('refresh_history').execute();
        await db.schema
          .withSchema(schema)
          .alterTable('sessions')
          .dropColumn('refresh_retired_hashes')
          .execute();
        await defineCreateSession(db, schema, COLUMNS_0003);
      },
      async down(db: Kysely<unknown>) {
        await db.schema
          .withSchema(schema)
          .alterTable('sessions')
          .addColumn('refresh_retired_hashes', sql`text[]`)
          .execute();
        await createRefreshHistory(db, schema);
        await defineCreateSession(db, schema, COLUMNS_0001);
      },
    },
    '0004_admin_listing': adminListingMigration(schema),
    '0005_dpop_replay': dpopReplayMigration(schema),
  };
}

/**
 * Listing across users pages by (created_at, id) descending, ids in code-unit order (collation "C", as core's
 * `newestFirst`), globally and per tenant; statistics count revocations in a window. The per-user limit counts
 * one tenant only from here on.
 */
function adminListingMigration(schema: string): Migration {
  const sessions = sql.id(schema, 'sessions');
  return {
    async up(db: Kysely<unknown>) {
      await sql`create index sessions_by_created on ${sessions} (created_at desc, (id collate "C") desc)`.execute(
        db,
      );
      await sql`create index sessions_by_tenant_created on ${sessions}
        (tenant_id, created_at desc, (id collate "C") desc) where tenant_id is not null`.execute(db);
      await sql`create index sessions_by_revoked on ${sessions} (revoked_at) where revoked_at is not null`.execute(
        db,
      );
      await db.schema.withSchema(schema).dropIndex('sessions_by_tenant').execute();
      await defineCreateSession(db, schema, COLUMNS_0003, { perTenant: true });
    },
    async down(db: Kysely<unknown>) {
      await defineCreateSession(db, schema, COLUMNS_0003);
      await db.schema
        .withSchema(schema)
        .createIndex('sessions_by_tenant')
        .on('sessions')
        .columns(['tenant_id', 'created_at desc'])
        .where(sql.ref('tenant_id'), 'is not', null)
        .execute();
      for (const index of ['sessions_by_revoked', 'sessions_by_tenant_created', 'sessions_by_created']) {
        await db.schema.withSchema(schema).dropIndex(index).execute();
      }
    },
  };
}

const COLUMNS_0003 = COLUMNS_0001.filter((column) => column !== 'refresh_retired_hashes');

/** Until migration 0003: every refresh token a session rotated away (truncated hash), beyond the 8 it kept. */
async function createRefreshHistory(db: Kysely<unknown>, schema: string): Promise<void> {
  await db.schema
    .withSchema(schema)
    .createTable('refresh_history')
    .addColumn('session_id', 'text', (col) => col.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('hash', 'text', (col) => col.notNull())
    .addColumn('retired_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('refresh_history_pk', ['session_id', 'hash'])
    .execute();
}

function migrator<DB>(db: Kysely<DB>, schema: string): Migrator {
  const migrations = sessionMigrations(schema);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  return new Migrator({
    db,
    provider,
    migrationTableSchema: schema,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
}

/**
 * Brings the schema up to date. Explicit by design: call it from a deploy step or at start-up, never on import.
 * Safe to run concurrently from several instances (kysely holds an advisory lock) and a no-op when up to date.
 * Returns the names of the migrations it applied.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  // The migration table lives in the schema, so the schema must exist before kysely looks for its table.
  // CREATE SCHEMA IF NOT EXISTS is not safe against itself: instances starting together take turns.
  try {
    await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${SCHEMA_LOCK_NAMESPACE}::int, hashtext(${schema}))`.execute(
        trx,
      );
      await trx.schema.createSchema(schema).ifNotExists().execute();
    });
  } catch (cause) {
    throw new StoreUnavailableError(`Cannot create schema ${schema}: ${causeText(cause)}`, { cause });
  }
  return applied(await migrator(db, schema).migrateToLatest());
}

/** Reverts every migration (drops the tables, keeps the schema): for tests and uninstalling. */
export async function migrateDown<DB>(db: Kysely<DB>, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  return applied(await migrator(db, schema).migrateTo(NO_MIGRATIONS));
}

function applied({ error, results }: MigrationResultSet): string[] {
  if (error !== undefined)
    throw new StoreUnavailableError(`Session store migration failed: ${causeText(error)}`, { cause: error });
  return (results ?? []).map((result) => result.migrationName);
}
