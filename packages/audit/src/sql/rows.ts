import type { Selectable } from 'kysely';
import type { AuditRecordsTable } from './schema.js';

/**
 * The columns a record is written to, in insert order, each with the SQL that reads it from a sealed row
 * (`row`): `sealInput(record)`, the JSON array the record's hash was computed over, with the hash appended.
 * Positions follow `sealInput`'s fixed layout: 1 v, 2 id, 3 at, 4 chain, 5 seq, 6 prevHash, 7 hashKeyId,
 * 8 action, 9 category, 10 severity, 11 outcome, 12-13 actor, 14 userId, 15 sessionId, 16 tenantId,
 * 17 requestId, 18 reason, 19 ip (array or null), 20 device (array or null), 21 canonical details (a string),
 * and 22 the hash. A column read from the wrong place fails `verifyChain`, so the tests hold the two together.
 */
export const RECORD_COLUMNS = [
  ['chain', 'row ->> 4'],
  ['seq', '(row ->> 5)::bigint'],
  ['id', 'row ->> 2'],
  ['v', '(row ->> 1)::smallint'],
  ['at', '(row ->> 3)::bigint'],
  ['action', 'row ->> 8'],
  ['category', 'row ->> 9'],
  ['severity', 'row ->> 10'],
  ['outcome', 'row ->> 11'],
  ['actor_type', 'row ->> 12'],
  ['actor_id', 'row ->> 13'],
  ['user_id', 'row ->> 14'],
  ['session_id', 'row ->> 15'],
  ['tenant_id', 'row ->> 16'],
  ['request_id', 'row ->> 17'],
  ['reason', 'row ->> 18'],
  ['ip_hash', 'row -> 19 ->> 0'],
  ['ip_key_id', 'row -> 19 ->> 1'],
  ['ip_source', 'row -> 19 ->> 2'],
  ['ip_prefix', 'row -> 19 ->> 3'],
  ['device_key', 'row -> 20 ->> 0'],
  ['device_browser', 'row -> 20 ->> 1'],
  ['device_os', 'row -> 20 ->> 2'],
  ['device_type', 'row -> 20 ->> 3'],
  ['device_label', 'row -> 20 ->> 4'],
  ['details', '(row ->> 21)::jsonb'],
  ['prev_hash', 'row ->> 6'],
  ['hash_key_id', 'row ->> 7'],
  ['hash', 'row ->> 22'],
] as const;

/**
 * A linked record as a JSON array for `RECORD_COLUMNS`: its sealed input with the hash appended. A batch goes
 * to PostgreSQL as one jsonb parameter of such rows, whatever its size, and no record is serialised twice.
 */
export function sealedRow(sealed: string, hash: string): string {
  return `${sealed.slice(0, -1)},${JSON.stringify(hash)}]`;
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
