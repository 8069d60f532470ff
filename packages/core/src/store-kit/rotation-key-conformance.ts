import { describe, expect, it } from 'vitest';
import { DPOP_METADATA_KEY } from '../dpop-binding.js';
import { hashSecret, newSecret } from '../opaque-token.js';
import type { SessionRecord } from '../session-record.js';
import type { CreateSessionResult, RotateRefreshResult, SessionStore } from '../store.js';
import { randomToken } from '../token-crypto.js';
import { rotation } from './refresh-conformance.js';
import { sampleRecord } from './sample-record.js';

export interface RotationKeyConformanceOptions {
  store: () => SessionStore;
  create: (record: SessionRecord) => Promise<CreateSessionResult>;
}

/** A random RFC 7638 thumbprint's shape: 32 bytes, base64url. */
const newJkt = () => randomToken(32);

function boundRecord(jkt: string): SessionRecord {
  const record = sampleRecord();
  return { ...record, metadata: { ...record.metadata, [DPOP_METADATA_KEY]: jkt } };
}

function sessionOf(result: RotateRefreshResult): SessionRecord {
  if (result.outcome === 'unknown') throw new Error('expected a session in the result, got unknown');
  return result.session;
}

/**
 * `checksRotationKey`: a session bound to a DPoP key rotates only for that key's `presentedJkt`. A mismatch is
 * decided before anything is written, so a thief without the key neither burns the holder's token nor revokes
 * the session through reuse detection, and the holder's next rotation works.
 */
export function describeRotationKey({ store, create }: RotationKeyConformanceOptions): void {
  describe('refresh rotation of a session bound to a DPoP key', () => {
    it('declares checksRotationKey', () => {
      expect(store().checksRotationKey).toBe(true);
    });

    it('rotates with the bound key, keeping the binding', async () => {
      const jkt = newJkt();
      const record = boundRecord(jkt);
      await create(record);
      const result = await store().rotateRefresh(
        rotation(record, record.refresh?.currentHash ?? '', { presentedJkt: jkt }),
      );
      expect(result.outcome).toBe('rotated');
      expect(sessionOf(result).metadata[DPOP_METADATA_KEY]).toBe(jkt);
      expect((await store().get(record.id))?.refresh?.generation).toBe(1);
    });

    it.each([
      ['no key', undefined],
      ['another key', newJkt()],
    ])('answers key-mismatch with %s, writing nothing; the holder rotates afterwards', async (_, presentedJkt) => {
      const jkt = newJkt();
      const record = boundRecord(jkt);
      await create(record);
      const current = record.refresh?.currentHash ?? '';
      const before = await store().get(record.id);
      const refused = await store().rotateRefresh(
        rotation(record, current, presentedJkt === undefined ? {} : { presentedJkt }),
      );
      expect(refused.outcome).toBe('key-mismatch');
      expect(sessionOf(refused)).toEqual(before);
      const after = await store().get(record.id);
      expect(after).toEqual(before);
      expect(after?.version).toBe(record.version);
      expect(after?.refresh?.currentHash).toBe(current);
      expect((await store().rotateRefresh(rotation(record, current, { presentedJkt: jkt }))).outcome).toBe(
        'rotated',
      );
    });

    it('answers key-mismatch before the grace and reuse rules: no successor served, nothing revoked', async () => {
      const jkt = newJkt();
      const record = boundRecord(jkt);
      await create(record);
      const t0 = record.refresh?.currentHash ?? '';
      const first = rotation(record, t0, { presentedJkt: jkt });
      await store().rotateRefresh(first);
      const rotated = await store().get(record.id);
      // Inside the grace window: the previous token would recover the successor.
      expect((await store().rotateRefresh(rotation(record, t0))).outcome).toBe('key-mismatch');
      // After it, and as a verified older generation: the previous token would be reuse and revoke the session.
      const late = rotation(record, t0, { now: Date.now() + 60_000, presentedJkt: newJkt() });
      expect((await store().rotateRefresh(late)).outcome).toBe('key-mismatch');
      const old = rotation(record, hashSecret(newSecret()), { presentedGeneration: 0 });
      expect((await store().rotateRefresh(old)).outcome).toBe('key-mismatch');
      expect(await store().get(record.id)).toEqual(rotated);
      const next = rotation(record, first.successorHash, { presentedJkt: jkt });
      expect((await store().rotateRefresh(next)).outcome).toBe('rotated');
    });

    it('answers key-mismatch rather than inactive for a revoked bound session, and unknown for a forged token', async () => {
      const jkt = newJkt();
      const record = boundRecord(jkt);
      await create(record);
      const current = record.refresh?.currentHash ?? '';
      // Unknown hashes stay unknown whatever the key: a key mismatch is only said of a token the session knows.
      const forged = rotation(record, hashSecret(newSecret()), { presentedGeneration: 0 });
      expect((await store().rotateRefresh(forged)).outcome).toBe('unknown');
      const revoked = await store().revoke(record.id, { reason: 'logout', now: Date.now() });
      expect((await store().rotateRefresh(rotation(record, current))).outcome).toBe('key-mismatch');
      expect((await store().rotateRefresh(rotation(record, current, { presentedJkt: jkt }))).outcome).toBe(
        'inactive',
      );
      expect(await store().get(record.id)).toEqual(revoked);
    });

    it('rotates an unbound session whatever key is presented, as before', async () => {
      // The key's name elsewhere in the record (a value, a nested object's key) binds nothing.
      const sample = sampleRecord();
      const named = { note: DPOP_METADATA_KEY, nested: { [DPOP_METADATA_KEY]: newJkt() } };
      const record = { ...sample, metadata: { ...sample.metadata, ...named } };
      await create(record);
      const current = record.refresh?.currentHash ?? '';
      const withKey = rotation(record, current, { presentedJkt: newJkt() });
      expect((await store().rotateRefresh(withKey)).outcome).toBe('rotated');
      const next = rotation(record, withKey.successorHash);
      expect((await store().rotateRefresh(next)).outcome).toBe('rotated');
      expect((await store().get(record.id))?.refresh?.generation).toBe(2);
    });
  });
}
