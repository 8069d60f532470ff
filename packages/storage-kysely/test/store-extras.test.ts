import type { SessionRecord } from '@sessionkit/core';
import { SessionKitError } from '@sessionkit/core';
import { hashSecret, newSecret, sampleRecord } from '@sessionkit/core/store';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyStore } from '../src/index.js';
import { pgliteBackend, postgresBackend } from './databases.js';

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
}

describe.each([
  { name: 'PostgreSQL', open: () => postgresBackend('sk_extras') },
  { name: 'PGlite', open: pgliteBackend },
])('KyselyStore on $name beyond the conformance suite', ({ open }) => {
  const backend = open();
  let store: KyselyStore;
  const sessions = () => sql.table(`${backend.schema}.sessions`);

  beforeAll(async () => {
    store = await backend.connect();
  });

  afterAll(async () => {
    await store.close();
    await backend.close();
  });

  async function create(record: SessionRecord) {
    return store.create({ session: record, maxSessions: 10, onLimit: 'reject', now: Date.now() });
  }

  it('reports a hand-corrupted row as store.corrupt, for get and listByUser', async () => {
    const record = sampleRecord();
    await create(record);
    await sql`update ${sessions()} set secret_hash = 'not a hash' where id = ${record.id}`.execute(
      backend.raw,
    );
    expect(await codeOf(store.get(record.id))).toBe('store.corrupt');
    expect(await codeOf(store.listByUser(record.userId))).toBe('store.corrupt');
    const other = sampleRecord();
    await create(other);
    await sql`update ${sessions()} set metadata = '[1, 2]'::jsonb where id = ${other.id}`.execute(
      backend.raw,
    );
    expect(await codeOf(store.get(other.id))).toBe('store.corrupt');
  });

  it('reuses a validated record only for the very same row, frozen, and decodes an edited row again', async () => {
    const record = sampleRecord({ createdAt: 1_700_000_000_123 });
    await create(record);
    const first = await store.get(record.id);
    expect(first).toEqual(record);
    expect(await store.get(record.id)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first?.device)).toBe(true);
    await sql`update ${sessions()} set state = 'suspended' where id = ${record.id}`.execute(backend.raw);
    const edited = await store.get(record.id);
    expect(edited).toEqual({ ...record, state: 'suspended' });
    await sql`update ${sessions()} set aal = 7 where id = ${record.id}`.execute(backend.raw);
    expect(await codeOf(store.get(record.id))).toBe('store.corrupt');
    await sql`delete from ${sessions()} where id = ${record.id}`.execute(backend.raw);
    expect(await store.get(record.id)).toBeUndefined();
  });

  it('refuses a decoded-record cache size that is not a whole number from 0 to 1,000,000', () => {
    for (const decodedCacheSize of [-1, 1.5, 2_000_000]) {
      const feed = { publish: async () => {}, subscribe: async () => async () => {} };
      expect(() => new KyselyStore({ db: backend.raw, feed, decodedCacheSize })).toThrow(
        expect.objectContaining({ code: 'input.invalid' }),
      );
    }
  });

  it('stores times as timestamptz and JSON as jsonb, to the millisecond', async () => {
    const record = sampleRecord({ createdAt: 1_700_000_000_123, lastSeenAt: 1_700_000_000_999 });
    await create(record);
    const { rows } = await sql<{ created: string; device_type: string; metadata_type: string }>`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as created,
             pg_typeof(device)::text as device_type, pg_typeof(metadata)::text as metadata_type
      from ${sessions()} where id = ${record.id}`.execute(backend.raw);
    expect(rows[0]).toEqual({
      created: '2023-11-14T22:13:20.123',
      device_type: 'jsonb',
      metadata_type: 'jsonb',
    });
    expect(await store.get(record.id)).toEqual(record);
  });

  it('refuses an invalid record with input.invalid and stores nothing', async () => {
    const record = { ...sampleRecord(), secretHash: 'short' };
    expect(await codeOf(create(record))).toBe('input.invalid');
    expect(await store.get(record.id)).toBeUndefined();
    const valid = sampleRecord();
    await create(valid);
    expect(await codeOf(store.update({ ...valid, aal: 7 as 1 }, 1))).toBe('input.invalid');
    expect(await store.get(valid.id)).toEqual(valid);
  });

  it('a rotation racing touches of the same session still rotates once, on the touched record', async () => {
    // rotateRefresh writes only on the version it read: every touch landing in between makes it decide again.
    const record = sampleRecord();
    await create(record);
    const successorHash = hashSecret(newSecret());
    const now = Date.now();
    const touches = Array.from({ length: 20 }, async (_, i) => {
      const current = await store.get(record.id);
      if (!current) throw new Error('session vanished');
      return codeOf(store.update({ ...current, lastSeenAt: now + i }, current.version));
    });
    const rotation = store.rotateRefresh({
      sessionId: record.id,
      presentedHash: record.refresh?.currentHash ?? '',
      successorHash,
      sealedSuccessor: 'sealed',
      now,
      graceMs: 10_000,
      idleExpiresAt: now + 60_000,
    });
    const codes = await Promise.all(touches);
    expect(codes.every((code) => code === 'resolved' || code === 'session.conflict')).toBe(true);
    const result = await rotation;
    expect(result.outcome).toBe('rotated');
    const stored = await store.get(record.id);
    expect(stored?.refresh?.currentHash).toBe(successorHash);
    expect(stored?.refresh?.generation).toBe(1);
    expect(stored?.version).toBe(1 + codes.filter((code) => code === 'resolved').length + 1);
  });
});
