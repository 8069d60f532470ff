import { describe, expect, it } from 'vitest';
import { SessionKitError } from '../errors.js';
import { hashSecret, newSecret } from '../opaque-token.js';
import type { SessionRecord, SessionState } from '../session-record.js';
import { isInUse, sessionStates } from '../session-record.js';
import type { CreateSessionResult, SessionStore } from '../store.js';
import { randomToken } from '../token-crypto.js';
import { sampleRecord } from './sample-record.js';

const HOUR = 3_600_000;

export interface InUseConformanceOptions {
  /** The store under test, once the suite has connected it. */
  store: () => SessionStore;
  create: (record: SessionRecord) => Promise<CreateSessionResult>;
}

/**
 * The "in use" rule (core's `isInUse`: active or suspended) as each store applies it, in TypeScript, Lua or SQL:
 * a session in use, and only one, counts against the per-user limit and may rotate its refresh token.
 */
export function describeInUseRule({ store, create }: InUseConformanceOptions): void {
  /** A fresh user's session, moved to `state` through the contract's own writes. */
  async function sessionIn(state: SessionState): Promise<SessionRecord> {
    const record = sampleRecord();
    await create(record);
    if (state === 'active') return record;
    if (state === 'revoked') {
      const revoked = await store().revoke(record.id, { reason: 'test', now: Date.now() });
      if (!revoked) throw new Error('revoke returned nothing');
      return revoked;
    }
    return store().update({ ...record, state }, record.version);
  }

  describe('the in-use rule', () => {
    it.each(
      sessionStates,
    )('counts a %s session against the limit exactly when it is in use', async (state) => {
      const existing = await sessionIn(state);
      const incoming = sampleRecord({ userId: existing.userId });
      const outcome = await store()
        .create({ session: incoming, maxSessions: 1, onLimit: 'reject', now: Date.now() })
        .then(
          () => 'created',
          (error: unknown) => (error instanceof SessionKitError ? error.code : String(error)),
        );
      expect(outcome).toBe(isInUse(state) ? 'limit.exceeded' : 'created');

      const other = await sessionIn(state);
      const { evicted } = await store().create({
        session: sampleRecord({ userId: other.userId }),
        maxSessions: 1,
        onLimit: 'evict-oldest',
        now: Date.now(),
      });
      expect(evicted.map((record) => record.id)).toEqual(isInUse(state) ? [other.id] : []);
    });

    it.each(
      sessionStates,
    )('rotates the refresh token of a %s session exactly when it is in use', async (state) => {
      const session = await sessionIn(state);
      const result = await store().rotateRefresh({
        sessionId: session.id,
        presentedHash: session.refresh?.currentHash ?? '',
        successorHash: hashSecret(newSecret()),
        sealedSuccessor: randomToken(60),
        now: Date.now(),
        graceMs: 10_000,
        idleExpiresAt: Date.now() + HOUR,
      });
      expect(result.outcome).toBe(isInUse(state) ? 'rotated' : 'inactive');
    });
  });
}
