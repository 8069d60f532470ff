import type { Insertable, Selectable } from 'kysely';
import type { AuditRecord } from '../audit-record.js';
import type { AuditRecordsTable } from './schema.js';

export function recordToRow(record: AuditRecord): Insertable<AuditRecordsTable> {
  return {
    chain: record.chain,
    seq: record.seq,
    id: record.id,
    v: record.v,
    at: record.at,
    action: record.action,
    category: record.category,
    severity: record.severity,
    outcome: record.outcome,
    actor_type: record.actor.type,
    actor_id: record.actor.id ?? null,
    user_id: record.userId ?? null,
    session_id: record.sessionId ?? null,
    tenant_id: record.tenantId ?? null,
    request_id: record.requestId ?? null,
    reason: record.reason ?? null,
    ip_hash: record.ip?.hash ?? null,
    ip_key_id: record.ip?.keyId ?? null,
    ip_source: record.ip?.source ?? null,
    ip_prefix: record.ip?.prefix ?? null,
    device_key: record.device?.key ?? null,
    device_browser: record.device?.browser ?? null,
    device_os: record.device?.os ?? null,
    device_type: record.device?.type ?? null,
    device_label: record.device?.label ?? null,
    details: JSON.stringify(record.details),
    prev_hash: record.prevHash,
    hash_key_id: record.hashKeyId,
    hash: record.hash,
  };
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
