// Type-only: kysely is an optional peer, so importing this package must not load it.
import type { Kysely } from 'kysely';
import { asStoreUnavailable } from './degraded.js';
import type { ProfileStore, VersionedProfile } from './profile-store.js';
import { parseProfile } from './redis-profile-store.js';
import type { SecurityProfile } from './security-profile.js';

export const PROFILE_TABLE = 'sessionkit_security_profiles';

export interface SecurityProfileTable {
  user_id: string;
  version: number;
  /** The profile as JSON text: parsed through the zod schema on every read. */
  profile: string;
  updated_at: string | number | bigint;
}

export interface SecurityDatabase {
  [PROFILE_TABLE]: SecurityProfileTable;
}

export interface KyselyProfileStoreOptions {
  /** Any Kysely instance whose dialect speaks PostgreSQL: `pg` for servers, PGlite for the embedded default. */
  db: Kysely<SecurityDatabase>;
  /** A PostgreSQL schema to keep the table in (default: the connection's search path). */
  schema?: string;
}

/** Creates the profile table if missing; idempotent, safe to run at every start-up. */
export async function migrateSecurityProfiles(db: Kysely<SecurityDatabase>, schema?: string): Promise<void> {
  const builder = schema === undefined ? db.schema : db.schema.withSchema(schema);
  if (schema !== undefined) await db.schema.createSchema(schema).ifNotExists().execute();
  await builder
    .createTable(PROFILE_TABLE)
    .ifNotExists()
    .addColumn('user_id', 'text', (column) => column.primaryKey())
    .addColumn('version', 'integer', (column) => column.notNull())
    .addColumn('profile', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();
}

/**
 * Profiles in SQL for deployments whose shared state is PostgreSQL (or PGlite when embedded). Compare-and-set
 * is one statement: an insert that does nothing on conflict, or an update guarded by the version.
 */
export class KyselyProfileStore implements ProfileStore {
  readonly #db: Kysely<SecurityDatabase>;

  constructor(options: KyselyProfileStoreOptions) {
    this.#db = options.schema === undefined ? options.db : options.db.withSchema(options.schema);
  }

  async get(userId: string): Promise<VersionedProfile | undefined> {
    let row: { version: number; profile: string } | undefined;
    try {
      row = await this.#db
        .selectFrom(PROFILE_TABLE)
        .select(['version', 'profile'])
        .where('user_id', '=', userId)
        .executeTakeFirst();
    } catch (error) {
      throw asStoreUnavailable(error, 'security profile store');
    }
    return row && { version: Number(row.version), profile: parseProfile(row.profile) };
  }

  async put(userId: string, profile: SecurityProfile, expectedVersion: number): Promise<boolean> {
    const json = JSON.stringify(profile);
    const now = Date.now();
    try {
      const written =
        expectedVersion === 0
          ? await this.#db
              .insertInto(PROFILE_TABLE)
              .values({ user_id: userId, version: 1, profile: json, updated_at: now })
              .onConflict((conflict) => conflict.column('user_id').doNothing())
              .returning('user_id')
              .executeTakeFirst()
          : await this.#db
              .updateTable(PROFILE_TABLE)
              .set((eb) => ({ version: eb('version', '+', 1), profile: json, updated_at: now }))
              .where('user_id', '=', userId)
              .where('version', '=', expectedVersion)
              .returning('user_id')
              .executeTakeFirst();
      return written !== undefined;
    } catch (error) {
      throw asStoreUnavailable(error, 'security profile store');
    }
  }
}
