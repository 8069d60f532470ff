import type { ColumnType, GeneratedAlways } from 'kysely';

/**
 * The tables as the database holds them. Column types say what the driver returns, not what a record is:
 * every row read back goes through core's schema (`parseStoredSession`), so a corrupted row is `store.corrupt`.
 */
export interface SessionsTable {
  id: string;
  user_id: string;
  tenant_id: string | null;
  state: string;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
  /** least(idle, absolute): the one instant cleanup looks at, kept by PostgreSQL so it cannot drift. */
  expires_at: GeneratedAlways<Date>;
  aal: number;
  authenticated_at: Date;
  secret_hash: string;
  refresh_family_id: string | null;
  refresh_generation: number | null;
  refresh_current_hash: string | null;
  refresh_previous_hash: string | null;
  refresh_rotated_at: Date | null;
  refresh_sealed_successor: string | null;
  /** jsonb: read back as parsed JSON, written as JSON text. */
  device: ColumnType<unknown, string, string>;
  parent_id: string | null;
  revoked_at: Date | null;
  revoke_reason: string | null;
  transfer_code_hash: string | null;
  transfer_expires_at: Date | null;
  transfer_mode: string | null;
  version: number;
  metadata: ColumnType<unknown, string, string>;
}

export interface Database {
  sessions: SessionsTable;
}
