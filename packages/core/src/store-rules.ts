import { boundJkt } from './dpop-binding.js';
import type { SessionRecord } from './session-record.js';
import { isLive } from './session-record.js';
import type { RotateRefreshInput, RotateRefreshResult } from './store.js';
import { REUSE_REVOKE_REASON } from './store.js';

/*
 * The store contract's decisions as pure functions. A store that can lock a user's rows or a session
 * (the in-memory store, SQL under FOR UPDATE) applies these; a store that must decide server-side (Redis Lua)
 * re-states them, and the conformance suite holds both to the same behaviour.
 */

export function revokedCopy(record: SessionRecord, reason: string, now: number): SessionRecord {
  if (record.state === 'revoked') return record;
  return { ...record, state: 'revoked', revokedAt: now, revokeReason: reason, version: record.version + 1 };
}

/**
 * Which live sessions to evict so that `incoming` fits under `maxSessions`: the oldest first. `existing` are the
 * user's records; only those of the incoming session's tenant count (`tenantId` undefined: those without one).
 */
export function chooseEvictions(
  existing: readonly SessionRecord[],
  maxSessions: number,
  now: number,
  tenantId?: string,
): SessionRecord[] {
  const live = existing.filter((record) => record.tenantId === tenantId && isLive(record, now));
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

/**
 * Current hash: rotate. Previous hash inside the grace window: the same successor again (a lost response, a
 * racing tab). Previous hash after it, or a verified generation below the stored one: a token the session
 * replaced, so theft; revoke. Anything else is unknown and changes nothing. A token the session knows, on a
 * session bound to another key than `presentedJkt`, is a key mismatch, decided before the state and the reuse
 * rule: a keyless thief learns nothing of the session's state and changes nothing.
 */
export function decideRotation(
  record: SessionRecord | undefined,
  input: RotateRefreshInput,
): RotationDecision {
  if (!record?.refresh) return { result: { outcome: 'unknown' } };
  const { refresh } = record;
  const isCurrent = refresh.currentHash === input.presentedHash;
  const isPrevious = !isCurrent && refresh.previousHash === input.presentedHash;
  const inGrace = isPrevious && input.now - (refresh.rotatedAt ?? 0) <= input.graceMs;
  const isReplaced =
    !isCurrent &&
    !inGrace &&
    (isPrevious ||
      (input.presentedGeneration !== undefined && input.presentedGeneration < refresh.generation));
  if (!isCurrent && !inGrace && !isReplaced) return { result: { outcome: 'unknown' } };
  const bound = boundJkt(record);
  if (bound !== undefined && bound !== input.presentedJkt) {
    return { result: { outcome: 'key-mismatch', session: record } };
  }
  if (!isLive(record, input.now)) return { result: { outcome: 'inactive', session: record } };
  if (isReplaced) {
    const revoked = revokedCopy(record, REUSE_REVOKE_REASON, input.now);
    return { result: { outcome: 'reused', session: revoked }, write: revoked };
  }
  if (inGrace) return { result: { outcome: 'grace', session: record } };
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
    },
    version: record.version + 1,
  };
  return { result: { outcome: 'rotated', session: rotated }, write: rotated };
}
