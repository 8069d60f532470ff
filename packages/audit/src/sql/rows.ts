import type { JsonValue } from '@sessionkit/core';
import type { Selectable } from 'kysely';
import type { AuditRecord } from '../audit-record.js';
import type { AuditRecordsTable } from './schema.js';

/** The columns a record is written to, with their SQL types, in insert order. */
export const RECORD_COLUMNS = [
  ['chain', 'text'],
  ['seq', 'bigint'],
  ['id', 'text'],
  ['v', 'smallint'],
  ['at', 'bigint'],
  ['action', 'text'],
  ['category', 'text'],
  ['severity', 'text'],
  ['outcome', 'text'],
  ['actor_type', 'text'],
  ['actor_id', 'text'],
  ['user_id', 'text'],
  ['session_id', 'text'],
  ['tenant_id', 'text'],
  ['request_id', 'text'],
  ['reason', 'text'],
  ['ip_hash', 'text'],
  ['ip_key_id', 'text'],
  ['ip_source', 'text'],
  ['ip_prefix', 'text'],
  ['device_key', 'text'],
  ['device_browser', 'text'],
  ['device_os', 'text'],
  ['device_type', 'text'],
  ['device_label', 'text'],
  ['details', 'jsonb'],
  ['prev_hash', 'text'],
  ['hash_key_id', 'text'],
  ['hash', 'text'],
] as const;

type RowValue = string | number | null | { [key: string]: JsonValue };

/**
 * A record as one JSON array in `RECORD_COLUMNS` order: a batch goes to PostgreSQL as a single jsonb
 * parameter of such arrays, whatever its size; arrays instead of objects keep that text small.
 */
export function recordToRow(record: AuditRecord): RowValue[] {
  return [
    record.chain,
    record.seq,
    record.id,
    record.v,
    record.at,
    record.action,
    record.category,
    record.severity,
    record.outcome,
    record.actor.type,
    record.actor.id ?? null,
    record.userId ?? null,
    record.sessionId ?? null,
    record.tenantId ?? null,
    record.requestId ?? null,
    record.reason ?? null,
    record.ip?.hash ?? null,
    record.ip?.keyId ?? null,
    record.ip?.source ?? null,
    record.ip?.prefix ?? null,
    record.device?.key ?? null,
    record.device?.browser ?? null,
    record.device?.os ?? null,
    record.device?.type ?? null,
    record.device?.label ?? null,
    record.details,
    record.prevHash,
    record.hashKeyId,
    record.hash,
  ];
}

function present<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Rebuilds the record as it was hashed. Unchecked on purpose: the chain verifier validates it and reports a
 * malformed row as the first bad record instead of throwing.
 */
export function rowToRecord(row: Selectable<AuditRecordsTable>): unknown {
  const ip =
    row.ip_hash === null
      ? {}
      : {
          ip: {
            hash: row.ip_hash,
            keyId: row.ip_key_id,
            source: row.ip_source,
            ...present('prefix', row.ip_prefix),
          },
        };
  const device =
    row.device_key === null
      ? {}
      : {
          device: {
            key: row.device_key,
            ...present('browser', row.device_browser),
            ...present('os', row.device_os),
            ...present('type', row.device_type),
            ...present('label', row.device_label),
          },
        };
  return {
    v: row.v,
    id: row.id,
    at: Number(row.at),
    chain: row.chain,
    action: row.action,
    category: row.category,
    severity: row.severity,
    outcome: row.outcome,
    actor: { type: row.actor_type, ...present('id', row.actor_id) },
    ...present('userId', row.user_id),
    ...present('sessionId', row.session_id),
    ...present('tenantId', row.tenant_id),
    ...present('requestId', row.request_id),
    ...present('reason', row.reason),
    ...ip,
    ...device,
    details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details,
    seq: Number(row.seq),
    prevHash: row.prev_hash,
    hashKeyId: row.hash_key_id,
    hash: row.hash,
  };
}
