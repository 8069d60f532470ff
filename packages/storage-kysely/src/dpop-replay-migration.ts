import type { Kysely, Migration } from 'kysely';

/** The DPoP replay cache's table: one row per proof `jti` (hashed with its key), until the proof expires. */
export function dpopReplayMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .withSchema(schema)
        .createTable('dpop_replay')
        .addColumn('key', 'text', (col) => col.primaryKey())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .execute();
      // The sweep deletes by age.
      await db.schema
        .withSchema(schema)
        .createIndex('dpop_replay_by_expiry')
        .on('dpop_replay')
        .column('expires_at')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.withSchema(schema).dropTable('dpop_replay').execute();
    },
  };
}
