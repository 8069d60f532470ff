import type { AuditEntry, AuditRecord } from './audit-record.js';
import { canonicalJson } from './canonical-json.js';
import type { Keyring } from './keyring.js';

/** The `prevHash` of the first record of a chain that was never truncated. */
export const GENESIS_HASH = 'genesis';

export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/**
 * The hash is an HMAC over every field but itself, the sequence number and the previous hash included: editing
 * any field, renumbering or relinking a record breaks it, and without the key nobody can forge a new one.
 */
export function sealInput(record: Omit<AuditRecord, 'hash'>): string {
  const { hash: _hash, ...body } = record as AuditRecord;
  return canonicalJson(body);
}

export function linkEntry(entry: AuditEntry, previous: ChainHead, keys: Keyring): AuditRecord {
  const body = { ...entry, seq: previous.seq + 1, prevHash: previous.hash, hashKeyId: keys.currentKeyId };
  return { ...body, hash: keys.signCurrent(sealInput(body)) };
}

/** The hash a record should carry, or `undefined` when its key is not in the ring. */
export function expectedHash(record: AuditRecord, keys: Keyring): string | undefined {
  return keys.sign(sealInput(record), record.hashKeyId);
}
