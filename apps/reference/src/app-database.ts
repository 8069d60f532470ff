import type { Generated, Kysely, Migration } from 'kysely';
import { Migrator, sql } from 'kysely';

/** The app's own tables, beside those the SessionKit packages migrate for themselves. */
export interface UsersTable {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  totp_secret: string | null;
  /** Highest TOTP time step ever accepted: a code is never accepted twice (replay protection). */
  last_totp_step: string | null;
  disabled: Generated<boolean>;
}

export interface SigningKeysTable {
  kid: string;
  private_jwk: unknown;
  created_at: Generated<Date>;
}

/** Keys the app generates once and every instance sharing the database reuses (IP hash key, ...). */
export interface SecretsTable {
  name: string;
  value: string;
}

/** Which local user an identity provider's subject signed in as: back-channel logout names only `sub`/`sid`. */
export interface IdpLinksTable {
  issuer: string;
  subject: string;
  user_id: string;
}

/** Who signed in under a provider session: a logout token may name only the `sid`. */
export interface IdpSessionsTable {
  issuer: string;
  sid: string;
  user_id: string;
  created_at: Date;
}

/** Provider sign-ins waiting for the local account's second factor (see idp-pending-mfa.ts). */
export interface IdpPendingMfaTable {
  /** SHA-256 of the random value in the browser's cookie; the value itself is never stored. */
  id_hash: string;
  /** Who is signing in and the provider's tokens, sealed with the upstream vault keys. */
  sealed: string;
  expires_at: Date;
}

export interface AppDatabase {
  users: UsersTable;
  signing_keys: SigningKeysTable;
  secrets: SecretsTable;
  idp_links: IdpLinksTable;
  idp_sessions: IdpSessionsTable;
  idp_pending_mfa: IdpPendingMfaTable;
}

const migrations: Record<string, Migration> = {
  '2026-11-24-users-and-keys': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('email', 'text', (column) => column.notNull().unique())
        .addColumn('display_name', 'text', (column) => column.notNull())
        .addColumn('password_hash', 'text', (column) => column.notNull())
        .addColumn('totp_secret', 'text')
        .addColumn('last_totp_step', 'bigint')
        .addColumn('disabled', 'boolean', (column) => column.notNull().defaultTo(false))
        .execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (column) => column.primaryKey())
        .addColumn('private_jwk', 'jsonb', (column) => column.notNull())
        .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('secrets')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('value', 'text', (column) => column.notNull())
        .execute();
    },
  },
  '2026-11-24-idp-links': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('idp_links')
        .addColumn('issuer', 'text', (column) => column.notNull())
        .addColumn('subject', 'text', (column) => column.notNull())
        .addColumn('user_id', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('idp_links_pk', ['issuer', 'subject'])
        .execute();
    },
  },
  '2026-12-02-idp-sessions-and-pending-mfa': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('idp_sessions')
        .addColumn('issuer', 'text', (column) => column.notNull())
        .addColumn('sid', 'text', (column) => column.notNull())
        .addColumn('user_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'timestamptz', (column) => column.notNull())
        .addPrimaryKeyConstraint('idp_sessions_pk', ['issuer', 'sid'])
        .execute();
      await db.schema
        .createTable('idp_pending_mfa')
        .addColumn('id_hash', 'text', (column) => column.primaryKey())
        .addColumn('sealed', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
        .execute();
    },
  },
};

export const APP_SCHEMA = 'reference';

/** Explicit, idempotent, and serialised by kysely's migration lock, so concurrent instances are safe. */
export async function migrateAppSchema(db: Kysely<unknown>): Promise<void> {
  await db.schema.createSchema(APP_SCHEMA).ifNotExists().execute();
  const migrator = new Migrator({
    db: db.withSchema(APP_SCHEMA),
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: APP_SCHEMA,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/** The named secret, created on first use; racing instances all end up with the first one written. */
export async function sharedSecret(
  db: Kysely<AppDatabase>,
  name: string,
  create: () => string,
): Promise<string> {
  const secrets = db.withSchema(APP_SCHEMA);
  await secrets
    .insertInto('secrets')
    .values({ name, value: create() })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  const row = await secrets
    .selectFrom('secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}
