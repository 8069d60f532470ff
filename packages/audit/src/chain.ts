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
 * What the hash covers: every field but the hash itself, the sequence number and the previous hash included,
 * so editing any field, renumbering or relinking a record breaks it, and without the key nobody can forge a
 * new one. A fixed positional layout (absent fields as null, `details` canonicalised) is deterministic
 * whatever order a store gives the fields back in, and far cheaper than canonicalising the whole record.
 */
export function sealInput(record: Omit<AuditRecord, 'hash'>): string {
  const { actor, ip, device } = record;
  return JSON.stringify([
    'sessionkit.audit/v1',
    record.v,
    record.id,
    record.at,
    record.chain,
    record.seq,
    record.prevHash,
    record.hashKeyId,
    record.action,
    record.category,
    record.severity,
    record.outcome,
    actor.type,
    actor.id ?? null,
    record.userId ?? null,
    record.sessionId ?? null,
    record.tenantId ?? null,
    record.requestId ?? null,
    record.reason ?? null,
    ip ? [ip.hash, ip.keyId, ip.source, ip.prefix ?? null] : null,
    device
      ? [device.key, device.browser ?? null, device.os ?? null, device.type ?? null, device.label ?? null]
      : null,
    canonicalJson(record.details),
  ]);
}

export function linkEntry(entry: AuditEntry, previous: ChainHead, keys: Keyring): AuditRecord {
  return linkSealed(entry, previous, keys).record;
}

export interface SealedRecord {
  record: AuditRecord;
  /** `sealInput(record)`: the JSON text the hash was computed over, for writers that can reuse it. */
  sealed: string;
}

/** `linkEntry`, also handing back the sealed input, so a writer need not serialise the record again. */
export function linkSealed(entry: AuditEntry, previous: ChainHead, keys: Keyring): SealedRecord {
  const record = {
    ...entry,
    seq: previous.seq + 1,
    prevHash: previous.hash,
    hashKeyId: keys.currentKeyId,
    hash: '',
  };
  const sealed = sealInput(record);
  record.hash = keys.signCurrent(sealed);
  return { record, sealed };
}

/** The hash a record should carry, or `undefined` when its key is not in the ring. */
export function expectedHash(record: AuditRecord, keys: Keyring): string | undefined {
  return keys.sign(sealInput(record), record.hashKeyId);
}
