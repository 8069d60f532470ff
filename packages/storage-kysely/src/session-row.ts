import type { SessionRecord } from '@sessionkit/core';
import { StoreCorruptError } from '@sessionkit/core';
import { parseStoredSession } from '@sessionkit/core/store';
import type { Insertable, Selectable } from 'kysely';
import type { SessionsTable } from './database.js';

export type SessionRow = Selectable<SessionsTable>;
export type NewSessionRow = Insertable<SessionsTable>;

type TimeColumn =
  | 'created_at'
  | 'last_seen_at'
  | 'idle_expires_at'
  | 'absolute_expires_at'
  | 'authenticated_at'
  | 'refresh_rotated_at'
  | 'revoked_at'
  | 'transfer_expires_at';

/** A row as `row_to_json` writes it (the store's `get`): the same columns, times as ISO 8601 text with an offset. */
export type JsonSessionRow = Omit<SessionRow, TimeColumn | 'expires_at'> & {
  [K in TimeColumn]: null extends SessionRow[K] ? string | null : string;
};

export function jsonToRecord(text: string): SessionRecord {
  let row: JsonSessionRow;
  try {
    row = JSON.parse(text) as JsonSessionRow;
  } catch (cause) {
    throw new StoreCorruptError('A stored session row could not be read', { cause });
  }
  return rowToRecord(row);
}

/** Epoch ms <-> timestamptz: PostgreSQL keeps microseconds, so whole milliseconds survive exactly. */
function date(ms: number): Date;
function date(ms: number | undefined): Date | null;
function date(ms: number | undefined): Date | null {
  return ms === undefined ? null : new Date(ms);
}

function millis(value: Date | string | null): number | undefined {
  if (value === null) return undefined;
  return typeof value === 'string' ? Date.parse(value) : value.getTime();
}

export function recordToRow(record: SessionRecord): NewSessionRow {
  const { refresh, transfer } = record;
  return {
    id: record.id,
    user_id: record.userId,
    tenant_id: record.tenantId ?? null,
    state: record.state,
    created_at: date(record.createdAt),
    last_seen_at: date(record.lastSeenAt),
    idle_expires_at: date(record.idleExpiresAt),
    absolute_expires_at: date(record.absoluteExpiresAt),
    aal: record.aal,
    authenticated_at: date(record.authenticatedAt),
    secret_hash: record.secretHash,
    refresh_family_id: refresh?.familyId ?? null,
    refresh_generation: refresh?.generation ?? null,
    refresh_current_hash: refresh?.currentHash ?? null,
    refresh_previous_hash: refresh?.previousHash ?? null,
    refresh_rotated_at: date(refresh?.rotatedAt),
    refresh_sealed_successor: refresh?.sealedSuccessor ?? null,
    device: JSON.stringify(record.device),
    parent_id: record.parentId ?? null,
    revoked_at: date(record.revokedAt),
    revoke_reason: record.revokeReason ?? null,
    transfer_code_hash: transfer?.codeHash ?? null,
    transfer_expires_at: date(transfer?.expiresAt),
    transfer_mode: transfer?.mode ?? null,
    version: record.version,
    metadata: JSON.stringify(record.metadata),
  };
}

/**
 * The row as the JSON text `create_session` reads with `jsonb_populate_record`: the same columns, times as ISO
 * strings (to the millisecond), and `device`/`metadata` as JSON objects rather than the strings pg binds.
 */
export function recordToJson(record: SessionRecord): string {
  return JSON.stringify({ ...recordToRow(record), device: record.device, metadata: record.metadata });
}

/**
 * Rebuilds the record, leaving out (rather than setting to undefined) what the row does not hold, then
 * validates it with core's schema: whatever the row contains, the caller gets a valid record or `store.corrupt`.
 */
export function rowToRecord(row: SessionRow | JsonSessionRow): SessionRecord {
  return parseStoredSession({
    id: row.id,
    userId: row.user_id,
    ...(row.tenant_id !== null && { tenantId: row.tenant_id }),
    state: row.state,
    createdAt: millis(row.created_at),
    lastSeenAt: millis(row.last_seen_at),
    idleExpiresAt: millis(row.idle_expires_at),
    absoluteExpiresAt: millis(row.absolute_expires_at),
    aal: row.aal,
    authenticatedAt: millis(row.authenticated_at),
    secretHash: row.secret_hash,
    ...(row.refresh_family_id !== null && {
      refresh: {
        familyId: row.refresh_family_id,
        generation: row.refresh_generation,
        currentHash: row.refresh_current_hash,
        ...(row.refresh_previous_hash !== null && { previousHash: row.refresh_previous_hash }),
        ...(row.refresh_rotated_at !== null && { rotatedAt: millis(row.refresh_rotated_at) }),
        ...(row.refresh_sealed_successor !== null && { sealedSuccessor: row.refresh_sealed_successor }),
      },
    }),
    device: row.device,
    ...(row.parent_id !== null && { parentId: row.parent_id }),
    ...(row.revoked_at !== null && { revokedAt: millis(row.revoked_at) }),
    ...(row.revoke_reason !== null && { revokeReason: row.revoke_reason }),
    ...(row.transfer_code_hash !== null && {
      transfer: {
        codeHash: row.transfer_code_hash,
        expiresAt: millis(row.transfer_expires_at),
        mode: row.transfer_mode,
      },
    }),
    version: row.version,
    metadata: row.metadata,
  });
}
