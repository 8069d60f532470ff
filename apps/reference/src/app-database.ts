import type { Generated, Kysely, Migration } from 'kysely';
import { Migrator, sql } from 'kysely';
import { sealedContext } from './sealed-context.js';
import type { SecretVault } from './secret-vault.js';

/** The app's own tables, beside those the SessionKit packages migrate for themselves. */
export interface UsersTable {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  /** Sealed (`sk1.` envelope, see secret-vault.ts) under the row's user id. */
  totp_secret: string | null;
  /** Highest TOTP time step ever accepted: a code is never accepted twice (replay protection). */
  last_totp_step: string | null;
  disabled: Generated<boolean>;
}

export interface SigningKeysTable {
  kid: string;
  /** The private JWK, sealed under the row's kid. */
  private_jwk: string;
  /** 1, 2, ...: unique, so of instances racing to add the next key only one succeeds. */
  generation: number;
  /** When the key became the signing key: the next one is due a rotation period later. */
  activates_at: Date;
  /** Set once a newer key signs: this one verifies until then and is deleted after. */
  retires_at: Date | null;
  created_at: Generated<Date>;
}

/** Keys the app generates once and every instance sharing the database reuses (IP hash key, ...), sealed. */
export interface SecretsTable {
  name: string;
  value: string;
}

/** Data keys (AES-256), each wrapped under the key-encryption key, which is not in the database. */
export interface DataKeysTable {
  generation: number;
  wrapped_key: string;
  created_at: Generated<Date>;
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
  data_keys: DataKeysTable;
}

export const APP_MIGRATIONS: Record<string, Migration> = {
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
  // Values already stored stay in clear here; the first start with a key-encryption key seals them in place.
  '2026-12-03-secrets-at-rest': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('data_keys')
        .addColumn('generation', 'integer', (column) => column.primaryKey())
        .addColumn('wrapped_key', 'text', (column) => column.notNull())
        .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      const signingKeys = sql.table(`${APP_SCHEMA}.signing_keys`);
      await sql`alter table ${signingKeys} alter column private_jwk type text using private_jwk::text`.execute(
        db,
      );
      await db.schema
        .alterTable('signing_keys')
        .addColumn('generation', 'integer')
        .addColumn('activates_at', 'timestamptz')
        .addColumn('retires_at', 'timestamptz')
        .execute();
      await sql`update ${signingKeys} as keys set generation = ordered.n, activates_at = keys.created_at
        from (select kid, row_number() over (order by created_at, kid) as n from ${signingKeys}) as ordered
        where keys.kid = ordered.kid`.execute(db);
      await db.schema
        .alterTable('signing_keys')
        .alterColumn('generation', (column) => column.setNotNull())
        .alterColumn('activates_at', (column) => column.setNotNull())
        .execute();
      await db.schema
        .alterTable('signing_keys')
        .addUniqueConstraint('signing_keys_generation_unique', ['generation'])
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
    provider: { getMigrations: async () => APP_MIGRATIONS },
    migrationTableSchema: APP_SCHEMA,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/** The named secret, created on first use; racing instances all end up with the first one written. */
export async function sharedSecret(
  db: Kysely<AppDatabase>,
  vault: SecretVault,
  name: string,
  create: () => string,
): Promise<string> {
  const secrets = db.withSchema(APP_SCHEMA);
  const context = sealedContext.secret(name);
  await secrets
    .insertInto('secrets')
    .values({ name, value: vault.seal(create(), context) })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  const row = await secrets
    .selectFrom('secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return vault.unseal(row.value, context);
}
