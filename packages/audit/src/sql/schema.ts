import { parseInput } from '@sessionkit/core';
import type { ColumnType, Generated, Kysely } from 'kysely';
import { z } from 'zod';

/** int8 comes back as a string from pg and as a number from PGlite; we always write numbers. */
type Int8 = ColumnType<string | number | bigint, number, number>;

export type AuditRecordsTable = {
  /** Insertion order across chains: the tie-breaker that makes activity pagination stable. */
  pos: Generated<string | number | bigint>;
  chain: string;
  seq: Int8;
  id: string;
  v: number;
  at: Int8;
  action: string;
  category: string;
  severity: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  user_id: string | null;
  session_id: string | null;
  tenant_id: string | null;
  request_id: string | null;
  reason: string | null;
  ip_hash: string | null;
  ip_key_id: string | null;
  ip_source: string | null;
  ip_prefix: string | null;
  device_key: string | null;
  device_browser: string | null;
  device_os: string | null;
  device_type: string | null;
  device_label: string | null;
  details: ColumnType<unknown, string, string>;
  prev_hash: string;
  hash_key_id: string;
  hash: string;
};

export type AuditChainHeadsTable = {
  chain: string;
  seq: Int8;
  hash: string;
  updated_at: Int8;
};

export type AuditCheckpointsTable = {
  chain: string;
  seq: Int8;
  prev_hash: string;
  at: Int8;
  deleted: Int8;
  key_id: string;
  signature: string;
};

/** Per-user data keys of `PersonalDataVault`; deleting a row is erasing that user's personal details. */
export type AuditSubjectKeysTable = {
  user_id: string;
  key: Buffer;
  created_at: Int8;
};

export type AuditDatabase = {
  audit_records: AuditRecordsTable;
  audit_chain_heads: AuditChainHeadsTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_subject_keys: AuditSubjectKeysTable;
};

const schemaNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier')
  .optional();

export interface AuditSchemaOptions {
  /** PostgreSQL schema holding the audit tables; the connection's search path when absent. */
  schema?: string;
}

/** The application's Kysely instance seen as ours, in our schema. */
export function auditDb<DB>(db: Kysely<DB>, options: AuditSchemaOptions = {}): Kysely<AuditDatabase> {
  const schema = parseInput(schemaNameSchema, options.schema, 'audit schema name');
  const typed = db.withTables<AuditDatabase>() as unknown as Kysely<AuditDatabase>;
  return schema === undefined ? typed : typed.withSchema(schema);
}

/**
 * Creates the audit tables and indexes if they do not exist. Explicit: call it from your migration step; the
 * audit package never changes a schema on its own.
 */
export async function migrateAuditSchema<DB>(
  db: Kysely<DB>,
  options: AuditSchemaOptions = {},
): Promise<void> {
  const schema = parseInput(schemaNameSchema, options.schema, 'audit schema name');
  const base = db as unknown as Kysely<AuditDatabase>;
  if (schema !== undefined) await base.schema.createSchema(schema).ifNotExists().execute();
  const builder = schema === undefined ? base.schema : base.schema.withSchema(schema);

  await builder
    .createTable('audit_records')
    .ifNotExists()
    .addColumn('pos', 'bigserial', (column) => column.notNull())
    .addColumn('chain', 'text', (column) => column.notNull())
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('id', 'text', (column) => column.notNull())
    .addColumn('v', 'smallint', (column) => column.notNull())
    .addColumn('at', 'bigint', (column) => column.notNull())
    .addColumn('action', 'text', (column) => column.notNull())
    .addColumn('category', 'text', (column) => column.notNull())
    .addColumn('severity', 'text', (column) => column.notNull())
    .addColumn('outcome', 'text', (column) => column.notNull())
    .addColumn('actor_type', 'text', (column) => column.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('session_id', 'text')
    .addColumn('tenant_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('ip_hash', 'text')
    .addColumn('ip_key_id', 'text')
    .addColumn('ip_source', 'text')
    .addColumn('ip_prefix', 'text')
    .addColumn('device_key', 'text')
    .addColumn('device_browser', 'text')
    .addColumn('device_os', 'text')
    .addColumn('device_type', 'text')
    .addColumn('device_label', 'text')
    .addColumn('details', 'jsonb', (column) => column.notNull())
    .addColumn('prev_hash', 'text', (column) => column.notNull())
    .addColumn('hash_key_id', 'text', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('audit_records_pkey', ['chain', 'seq'])
    .execute();

  await builder
    .createTable('audit_chain_heads')
    .ifNotExists()
    .addColumn('chain', 'text', (column) => column.primaryKey())
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();

  await builder
    .createTable('audit_checkpoints')
    .ifNotExists()
    .addColumn('chain', 'text', (column) => column.primaryKey())
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('prev_hash', 'text', (column) => column.notNull())
    .addColumn('at', 'bigint', (column) => column.notNull())
    .addColumn('deleted', 'bigint', (column) => column.notNull())
    .addColumn('key_id', 'text', (column) => column.notNull())
    .addColumn('signature', 'text', (column) => column.notNull())
    .execute();

  await builder
    .createTable('audit_subject_keys')
    .ifNotExists()
    .addColumn('user_id', 'text', (column) => column.primaryKey())
    .addColumn('key', 'bytea', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();

  // A user's timeline (newest first, optionally one session or device) and a tenant's: every statistic is
  // scoped to one of the two. Each index costs every insert, so there are no others.
  await builder
    .createIndex('audit_records_user_idx')
    .ifNotExists()
    .on('audit_records')
    .columns(['user_id', 'at desc', 'pos desc'])
    .execute();
  await builder
    .createIndex('audit_records_tenant_idx')
    .ifNotExists()
    .on('audit_records')
    .columns(['tenant_id', 'at desc'])
    .execute();
}
