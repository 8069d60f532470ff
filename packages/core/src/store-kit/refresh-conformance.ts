import { describe, expect, it } from 'vitest';
import { hashSecret, newSecret } from '../opaque-token.js';
import type { SessionRecord } from '../session-record.js';
import type { CreateSessionResult, RotateRefreshInput, SessionStore } from '../store.js';
import { REUSE_REVOKE_REASON } from '../store.js';
import { randomToken } from '../token-crypto.js';
import { sampleRecord } from './sample-record.js';

const HOUR = 3_600_000;

export interface RefreshConformanceOptions {
  /** The store under test, once the suite has connected it. */
  store: () => SessionStore;
  create: (record: SessionRecord) => Promise<CreateSessionResult>;
}

/** A rotation of `record`'s refresh token presenting `presentedHash`, with a fresh successor. */
export function rotation(
  record: SessionRecord,
  presentedHash: string,
  overrides: Partial<RotateRefreshInput> = {},
) {
  return {
    sessionId: record.id,
    presentedHash,
    successorHash: hashSecret(newSecret()),
    sealedSuccessor: randomToken(60),
    now: Date.now(),
    graceMs: 10_000,
    idleExpiresAt: Date.now() + HOUR,
    ...overrides,
  } satisfies RotateRefreshInput;
}

/**
 * The refresh-rotation part of the store contract. `presentedGeneration` stands for what core passes once a
 * token's MAC verified: the stores decide on it, core alone checks the MAC (test/refresh-reuse.test.ts).
 */
export function describeRefreshRotation({ store, create }: RefreshConformanceOptions): void {
  describe('refresh rotation', () => {
    it('rotates the current token, then serves the previous one inside the grace window', async () => {
      const record = sampleRecord();
      await create(record);
      const current = record.refresh?.currentHash ?? '';
      const first = rotation(record, current);
      const rotated = await store().rotateRefresh(first);
      expect(rotated.outcome).toBe('rotated');
      if (rotated.outcome === 'unknown') throw new Error('unreachable');
      expect(rotated.session.refresh).toMatchObject({
        generation: 1,
        currentHash: first.successorHash,
        previousHash: current,
        sealedSuccessor: first.sealedSuccessor,
        familyId: record.refresh?.familyId,
      });
      expect(rotated.session.version).toBe(2);
      const again = await store().rotateRefresh(rotation(record, current));
      expect(again.outcome).toBe('grace');
      if (again.outcome === 'unknown') throw new Error('unreachable');
      expect(again.session.refresh?.currentHash).toBe(first.successorHash);
      expect(await store().get(record.id)).toEqual(rotated.session);
    });

    it('caps the new idle deadline at the absolute deadline', async () => {
      const now = Date.now();
      const record = sampleRecord({ absoluteExpiresAt: now + 60_000, idleExpiresAt: now + 30_000 });
      await create(record);
      const result = await store().rotateRefresh(
        rotation(record, record.refresh?.currentHash ?? '', { idleExpiresAt: now + HOUR }),
      );
      if (result.outcome !== 'rotated') throw new Error(`expected rotated, got ${result.outcome}`);
      expect(result.session.idleExpiresAt).toBe(now + 60_000);
    });

    it('treats the previous token after the grace window as reuse and revokes the session', async () => {
      const record = sampleRecord();
      await create(record);
      const current = record.refresh?.currentHash ?? '';
      await store().rotateRefresh(rotation(record, current));
      const late = await store().rotateRefresh(rotation(record, current, { now: Date.now() + 60_000 }));
      expect(late.outcome).toBe('reused');
      if (late.outcome === 'unknown') throw new Error('unreachable');
      expect(late.session.state).toBe('revoked');
      expect(late.session.revokeReason).toBe(REUSE_REVOKE_REASON);
      expect((await store().get(record.id))?.state).toBe('revoked');
    });

    it('treats any older token as reuse, even inside the grace window', async () => {
      const record = sampleRecord();
      await create(record);
      const t0 = record.refresh?.currentHash ?? '';
      const r1 = rotation(record, t0);
      await store().rotateRefresh(r1);
      await store().rotateRefresh(rotation(record, r1.successorHash));
      const replay = await store().rotateRefresh(rotation(record, t0, { presentedGeneration: 0 }));
      expect(replay.outcome).toBe('reused');
      expect((await store().get(record.id))?.state).toBe('revoked');
    });

    it('answers unknown, revoking nothing, for a hash the session never issued', async () => {
      const record = sampleRecord();
      await create(record);
      const forged = await store().rotateRefresh(rotation(record, hashSecret(newSecret())));
      expect(forged.outcome).toBe('unknown');
      expect((await store().get(record.id))?.state).toBe('active');
      const missing = await store().rotateRefresh(rotation(sampleRecord(), hashSecret(newSecret())));
      expect(missing.outcome).toBe('unknown');
    });

    it('answers inactive for a revoked session', async () => {
      const record = sampleRecord();
      await create(record);
      await store().revoke(record.id, { reason: 'logout', now: Date.now() });
      const result = await store().rotateRefresh(rotation(record, record.refresh?.currentHash ?? ''));
      expect(result.outcome).toBe('inactive');
    });

    it('50 concurrent refreshes with one token produce exactly one successor', async () => {
      const record = sampleRecord();
      await create(record);
      const current = record.refresh?.currentHash ?? '';
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store().rotateRefresh(rotation(record, current))),
      );
      const outcomes = results.map((result) => result.outcome);
      expect(outcomes.filter((outcome) => outcome === 'rotated')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'grace')).toHaveLength(49);
      const successors = new Set(
        results.map((result) => (result.outcome === 'unknown' ? '' : result.session.refresh?.currentHash)),
      );
      expect(successors.size).toBe(1);
      const stored = await store().get(record.id);
      expect(stored?.refresh?.generation).toBe(1);
      expect(successors.has(stored?.refresh?.currentHash)).toBe(true);
      expect(stored?.state).toBe('active');
    });

    it('serves the previous token inside the grace window even when its generation is verified', async () => {
      const record = sampleRecord();
      await create(record);
      const t0 = record.refresh?.currentHash ?? '';
      const first = rotation(record, t0, { presentedGeneration: 0 });
      await store().rotateRefresh(first);
      const again = await store().rotateRefresh(rotation(record, t0, { presentedGeneration: 0 }));
      expect(again.outcome).toBe('grace');
      expect((await store().get(record.id))?.refresh?.currentHash).toBe(first.successorHash);
    });

    it('treats a token of any verified earlier generation as reuse, 25 rotations later', async () => {
      const record = sampleRecord();
      await create(record);
      const hashes = [record.refresh?.currentHash ?? ''];
      for (let generation = 0; generation < 25; generation += 1) {
        const step = rotation(record, hashes[generation] ?? '', { presentedGeneration: generation });
        expect((await store().rotateRefresh(step)).outcome).toBe('rotated');
        hashes.push(step.successorHash);
      }
      // Nothing about older tokens is kept: the record holds the current and the previous one, and a count.
      expect((await store().get(record.id))?.refresh).toEqual({
        familyId: record.refresh?.familyId,
        generation: 25,
        currentHash: hashes[25],
        previousHash: hashes[24],
        rotatedAt: expect.any(Number),
        sealedSuccessor: expect.any(String),
      });
      const replay = await store().rotateRefresh(
        rotation(record, hashes[2] ?? '', { presentedGeneration: 2 }),
      );
      expect(replay.outcome).toBe('reused');
      if (replay.outcome === 'unknown') throw new Error('unreachable');
      expect(replay.session.revokeReason).toBe(REUSE_REVOKE_REASON);
      expect(await store().get(record.id)).toMatchObject({
        state: 'revoked',
        revokeReason: REUSE_REVOKE_REASON,
      });
    });

    it('revokes nothing for an unknown hash unless a generation below the current one was verified', async () => {
      const record = sampleRecord();
      await create(record);
      let current = record.refresh?.currentHash ?? '';
      for (let generation = 0; generation < 3; generation += 1) {
        const step = rotation(record, current);
        await store().rotateRefresh(step);
        current = step.successorHash;
      }
      const forged = hashSecret(newSecret());
      // A forged token (bad MAC, or one minted under another key) comes without a generation: only unknown.
      expect((await store().rotateRefresh(rotation(record, forged))).outcome).toBe('unknown');
      // A verified generation that was never replaced (e.g. a store restored from a backup) is not theft either.
      for (const presentedGeneration of [3, 7]) {
        const attempt = rotation(record, forged, { presentedGeneration });
        expect((await store().rotateRefresh(attempt)).outcome).toBe('unknown');
      }
      expect((await store().get(record.id))?.state).toBe('active');
      expect((await store().rotateRefresh(rotation(record, current))).outcome).toBe('rotated');
    });

    it('answers inactive, revoking nothing more, for an old generation of a revoked session', async () => {
      const record = sampleRecord();
      await create(record);
      await store().rotateRefresh(rotation(record, record.refresh?.currentHash ?? ''));
      const revoked = await store().revoke(record.id, { reason: 'logout', now: Date.now() });
      const old = rotation(record, hashSecret(newSecret()), { presentedGeneration: 0 });
      expect((await store().rotateRefresh(old)).outcome).toBe('inactive');
      expect(await store().get(record.id)).toEqual(revoked);
    });
  });
}
