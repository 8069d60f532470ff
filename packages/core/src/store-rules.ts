import type { SessionRecord } from './session-record.js';
import { isLive } from './session-record.js';
import type { RotateRefreshInput, RotateRefreshResult } from './store.js';
import { RETIRED_HASHES_KEPT, REUSE_REVOKE_REASON } from './store.js';

/*
 * The store contract's decisions as pure functions. A store that can lock a user's rows or a session
 * (the in-memory store, SQL under FOR UPDATE) applies these; a store that must decide server-side (Redis Lua)
 * re-states them, and the conformance suite holds both to the same behaviour.
 */

export function revokedCopy(record: SessionRecord, reason: string, now: number): SessionRecord {
  if (record.state === 'revoked') return record;
  return { ...record, state: 'revoked', revokedAt: now, revokeReason: reason, version: record.version + 1 };
}

/** Which live sessions to evict so that `incoming` fits under `maxSessions`: the oldest first. */
export function chooseEvictions(
  existing: readonly SessionRecord[],
  maxSessions: number,
  now: number,
): SessionRecord[] {
  const live = existing.filter((record) => isLive(record, now));
  const excess = live.length + 1 - maxSessions;
  if (excess <= 0) return [];
  // Ties on createdAt go by id in code-unit order: what Redis' sorted sets and SQL's "C" collation give, and
  // unlike localeCompare it does not depend on the process's locale, so every store evicts the same session.
  return [...live]
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, excess);
}

export type RotationDecision =
  | { result: RotateRefreshResult; write?: SessionRecord }
  | { result: { outcome: 'unknown' }; write?: undefined };

export function decideRotation(
  record: SessionRecord | undefined,
  input: RotateRefreshInput,
): RotationDecision {
  if (!record?.refresh) return { result: { outcome: 'unknown' } };
  const { refresh } = record;
  const isCurrent = refresh.currentHash === input.presentedHash;
  const isPrevious = refresh.previousHash === input.presentedHash;
  const isRetired =
    refresh.retiredHashes?.includes(truncateHash(input.presentedHash)) === true ||
    (isPrevious && input.now - (refresh.rotatedAt ?? 0) > input.graceMs);
  if (!isCurrent && !isPrevious && !isRetired) return { result: { outcome: 'unknown' } };
  if (!isLive(record, input.now)) return { result: { outcome: 'inactive', session: record } };
  if (isRetired) {
    const revoked = revokedCopy(record, REUSE_REVOKE_REASON, input.now);
    return { result: { outcome: 'reused', session: revoked }, write: revoked };
  }
  if (isPrevious) return { result: { outcome: 'grace', session: record } };
  const retired = refresh.previousHash
    ? [truncateHash(refresh.previousHash), ...(refresh.retiredHashes ?? [])].slice(0, RETIRED_HASHES_KEPT)
    : (refresh.retiredHashes ?? []);
  const rotated: SessionRecord = {
    ...record,
    lastSeenAt: input.now,
    idleExpiresAt: Math.min(input.idleExpiresAt, record.absoluteExpiresAt),
    refresh: {
      familyId: refresh.familyId,
      generation: refresh.generation + 1,
      currentHash: input.successorHash,
      previousHash: input.presentedHash,
      rotatedAt: input.now,
      sealedSuccessor: input.sealedSuccessor,
      retiredHashes: retired,
    },
    version: record.version + 1,
  };
  return { result: { outcome: 'rotated', session: rotated }, write: rotated };
}

/** The first 22 base64url characters (132 bits) of a hash: plenty to recognise a replayed token. */
export function truncateHash(hash: string): string {
  return hash.slice(0, 22);
}
