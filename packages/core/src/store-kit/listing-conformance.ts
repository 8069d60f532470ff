import { describe, expect, it } from 'vitest';
import { SessionKitError } from '../errors.js';
import { newestFirst } from '../session-query.js';
import type { SessionRecord } from '../session-record.js';
import type { CreateSessionResult, SessionQuery, SessionStore } from '../store.js';
import { randomToken } from '../token-crypto.js';
import { sampleRecord } from './sample-record.js';

export interface ListingConformanceOptions {
  store: () => SessionStore;
  create: (record: SessionRecord, maxSessions?: number) => Promise<CreateSessionResult>;
}

function uniqueTenant(): string {
  return `tenant-${randomToken(9)}`;
}

function capability<K extends 'listSessions' | 'sessionStats' | 'deleteUser'>(
  store: SessionStore,
  name: K,
): NonNullable<SessionStore[K]> {
  const method = store[name];
  if (!method) throw new Error(`the store under test has no ${name}`);
  return method.bind(store) as NonNullable<SessionStore[K]>;
}

/** Every page of a query, following cursors to the end; the pages may be short. */
async function allPages(store: SessionStore, query: Omit<SessionQuery, 'now'>): Promise<SessionRecord[]> {
  const list = capability(store, 'listSessions');
  const seen: SessionRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const result = await list({ ...query, now: Date.now(), ...(cursor === undefined ? {} : { cursor }) });
    expect(result.sessions.length).toBeLessThanOrEqual(query.limit);
    seen.push(...result.sessions);
    cursor = result.nextCursor;
    if (cursor === undefined) return seen;
  }
  throw new Error('listing never ended');
}

/**
 * The operator's capabilities (`listSessions`, `sessionStats`, `deleteUser`) and tenant isolation of the
 * per-user limit. Every test works in a tenant or user of its own, so stores shared with other runs answer alike.
 */
export function describeListingAndTenancy({ store, create }: ListingConformanceOptions): void {
  describe('listing across users', () => {
    it('pages a tenant newest first by creation time then id, with stable cursors', async () => {
      const tenantId = uniqueTenant();
      const base = Date.now() - 60_000;
      const records = [0, 1, 2, 3, 3, 4, 5].map((step) =>
        sampleRecord({ tenantId, createdAt: base + step * 1000, lastSeenAt: base + step * 1000 }),
      );
      for (const record of records) await create(record);
      const expected = [...records].sort(newestFirst).map((record) => record.id);

      const list = capability(store(), 'listSessions');
      const first = await list({ tenantId, limit: 3, now: Date.now() });
      // A session created after the first page is newer than its cursor: later pages neither show nor skip for it.
      await create(sampleRecord({ tenantId }));
      const rest =
        first.nextCursor === undefined
          ? []
          : await allPages(store(), { tenantId, limit: 3, cursor: first.nextCursor });
      expect([...first.sessions, ...rest].map((record) => record.id)).toEqual(expected);
    });

    it('filters by user, effective state, creation range and device type', async () => {
      const tenantId = uniqueTenant();
      const now = Date.now();
      const userId = `user-${randomToken(9)}`;
      const phone = { label: 'Phone', fingerprint: { deviceType: 'mobile', browser: 'Safari' } };
      const old = sampleRecord({ tenantId, userId, createdAt: now - 50_000 });
      const mobile = sampleRecord({ tenantId, userId, createdAt: now - 40_000, device: phone });
      const suspended = sampleRecord({ tenantId, createdAt: now - 30_000 });
      const revoked = sampleRecord({ tenantId, createdAt: now - 20_000 });
      const expired = sampleRecord({ tenantId, createdAt: now - 10_000 });
      for (const record of [old, mobile, suspended, revoked, expired]) await create(record);
      await store().update({ ...suspended, state: 'suspended' }, suspended.version);
      await store().revoke(revoked.id, { reason: 'test', now });
      await store().update({ ...expired, state: 'expired' }, expired.version);

      const ids = async (query: Omit<SessionQuery, 'now' | 'limit' | 'tenantId'>) =>
        (await allPages(store(), { tenantId, limit: 2, ...query })).map((record) => record.id);
      expect(await ids({ userId })).toEqual([mobile.id, old.id]);
      expect(await ids({ state: 'active' })).toEqual([mobile.id, old.id]);
      expect(await ids({ state: 'suspended' })).toEqual([suspended.id]);
      expect(await ids({ state: 'revoked' })).toEqual([revoked.id]);
      expect(await ids({ state: 'expired' })).toEqual([expired.id]);
      expect(await ids({ createdFrom: now - 40_000, createdTo: now - 20_000 })).toEqual([
        suspended.id,
        mobile.id,
      ]);
      expect(await ids({ deviceType: 'mobile' })).toEqual([mobile.id]);
      expect(await ids({ deviceType: 'tablet' })).toEqual([]);
    });

    it('lists across tenants without a tenant filter', async () => {
      const userId = `user-${randomToken(9)}`;
      const a = sampleRecord({ userId, tenantId: uniqueTenant() });
      const b = sampleRecord({ userId, createdAt: a.createdAt + 1 });
      for (const record of [a, b]) await create(record);
      const found = await allPages(store(), { userId, limit: 10 });
      expect(found.map((record) => record.id)).toEqual([b.id, a.id]);
    });

    it('refuses a cursor it did not mint with input.invalid', async () => {
      const list = capability(store(), 'listSessions');
      for (const cursor of ['not-a-cursor', Buffer.from('[1,"x"]').toString('base64url')]) {
        const outcome = await list({ limit: 5, cursor, now: Date.now() }).then(
          () => 'resolved',
          (error: unknown) => (error instanceof SessionKitError ? error.code : String(error)),
        );
        expect(outcome).toBe('input.invalid');
      }
    });

    it('counts live, expired, created and revoked sessions of a tenant and globally', async () => {
      const tenantId = uniqueTenant();
      const now = Date.now();
      const records = [0, 1, 2, 3].map((i) => sampleRecord({ tenantId, createdAt: now - 10_000 + i }));
      const older = sampleRecord({ tenantId, createdAt: now - 7_200_000 });
      for (const record of [...records, older]) await create(record);
      const [, revoked, expired] = records as [SessionRecord, SessionRecord, SessionRecord];
      await store().revoke(revoked.id, { reason: 'test', now });
      await store().update({ ...expired, state: 'expired' }, expired.version);

      const stats = capability(store(), 'sessionStats');
      const window = { from: now - 3_600_000, to: now + 1000, now: Date.now() };
      expect(await stats({ ...window, tenantId })).toEqual({ live: 3, expired: 1, created: 4, revoked: 1 });
      const global = await stats(window);
      expect(global.live).toBeGreaterThanOrEqual(3);
      expect(global.created).toBeGreaterThanOrEqual(4);
      expect(await stats({ ...window, tenantId: uniqueTenant() })).toEqual({
        live: 0,
        expired: 0,
        created: 0,
        revoked: 0,
      });
    });

    it('deletes a user outright and nobody else', async () => {
      const userId = `user-${randomToken(9)}`;
      const mine = [sampleRecord({ userId }), sampleRecord({ userId, tenantId: uniqueTenant() })];
      const other = sampleRecord();
      for (const record of [...mine, other]) await create(record);
      expect(await capability(store(), 'deleteUser')(userId)).toBe(2);
      for (const record of mine) expect(await store().get(record.id)).toBeUndefined();
      expect(await store().listByUser(userId)).toEqual([]);
      expect(await allPages(store(), { userId, limit: 10 })).toEqual([]);
      expect(await store().get(other.id)).toEqual(other);
    });
  });

  describe('tenant isolation', () => {
    it('counts the per-user limit within the new session tenant only', async () => {
      const userId = `user-${randomToken(9)}`;
      const now = Date.now();
      const inA = [0, 1].map((i) => sampleRecord({ userId, tenantId: 'a', createdAt: now - 5000 + i }));
      const untenanted = sampleRecord({ userId, createdAt: now - 4000 });
      for (const record of [...inA, untenanted]) await create(record, 10);
      // Two live in tenant a and one without a tenant: a first session in tenant b fits under a limit of 2.
      expect((await create(sampleRecord({ userId, tenantId: 'b' }), 2)).evicted).toEqual([]);
      const third = await create(sampleRecord({ userId, tenantId: 'a', createdAt: now }), 2);
      expect(third.evicted.map((record) => record.id)).toEqual([inA[0]?.id]);
      expect((await create(sampleRecord({ userId, createdAt: now }), 2)).evicted).toEqual([]);
      expect((await store().get(untenanted.id))?.state).toBe('active');
    });

    it('revokes a user in one tenant and leaves the others', async () => {
      const userId = `user-${randomToken(9)}`;
      const inA = sampleRecord({ userId, tenantId: 'a' });
      const inB = sampleRecord({ userId, tenantId: 'b' });
      for (const record of [inA, inB]) await create(record);
      const revoked = await store().revokeUser(userId, { reason: 'tenant', now: Date.now(), tenantId: 'a' });
      expect(revoked.map((record) => record.id)).toEqual([inA.id]);
      expect((await store().get(inB.id))?.state).toBe('active');
    });
  });
}
