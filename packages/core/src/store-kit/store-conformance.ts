import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionKitError } from '../errors.js';
import { hashSecret, newSecret, newSessionId } from '../opaque-token.js';
import type { SessionRecord } from '../session-record.js';
import { isLive } from '../session-record.js';
import type { InvalidationMessage, SessionStore } from '../store.js';
import { randomToken } from '../token-crypto.js';
import { describeInUseRule } from './in-use-conformance.js';
import { describeListingAndTenancy } from './listing-conformance.js';
import { describeRefreshRotation } from './refresh-conformance.js';
import { describeRotationKey } from './rotation-key-conformance.js';
import { sampleRecord } from './sample-record.js';
import { describeSharedCapability } from './shared-conformance.js';

export interface StoreConformanceOptions {
  /**
   * Returns a new handle on the backend under test. Every handle of one run must see the same data, as two app
   * instances would: the suite uses a second handle to test the invalidation feed.
   */
  connect: () => Promise<SessionStore>;
  /** Runs once after the suite, after every handle was closed (drop the schema, stop the server, ...). */
  teardown?: () => Promise<void>;
  /** How long the feed may take to deliver a message to another handle. */
  feedDeliveryMs?: number;
}

const HOUR = 3_600_000;

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The store contract of DESIGN.md section 4, written only against the `SessionStore` interface. Every storage
 * package runs it against its real backend.
 */
export function describeStoreConformance(name: string, options: StoreConformanceOptions): void {
  describe(`${name}: store conformance`, () => {
    const handles: SessionStore[] = [];
    let store: SessionStore;

    beforeAll(async () => {
      store = await options.connect();
      handles.push(store);
    });

    afterAll(async () => {
      for (const handle of handles) await handle.close();
      await options.teardown?.();
    });

    async function create(record: SessionRecord, maxSessions = 100) {
      return store.create({ session: record, maxSessions, onLimit: 'evict-oldest', now: Date.now() });
    }

    describe('records', () => {
      it('round-trips a record with every optional field exactly', async () => {
        const parent = sampleRecord();
        await create(parent);
        const record = sampleRecord({
          userId: parent.userId,
          tenantId: 'tenant-a',
          parentId: parent.id,
          aal: 2,
          refresh: {
            familyId: randomToken(16),
            generation: 3,
            currentHash: hashSecret(newSecret()),
            previousHash: hashSecret(newSecret()),
            rotatedAt: Date.now() - 5,
            sealedSuccessor: randomToken(70),
          },
          device: {
            label: 'Phone',
            userAgent: 'UA',
            fingerprint: { platform: 'Linux', tz: 'Europe/Berlin' },
            firstIpHash: randomToken(32),
            lastIpHash: randomToken(32),
          },
          transfer: { codeHash: hashSecret(newSecret()), expiresAt: Date.now() + 60_000, mode: 'fork' },
          metadata: { unicode: 'Grüße ✓', n: 1.5, empty: {} },
        });
        const { session, evicted } = await create(record);
        expect(session).toEqual(record);
        expect(evicted).toEqual([]);
        expect(await store.get(record.id)).toEqual(record);
      });

      it('answers undefined for an id it never stored', async () => {
        expect(await store.get(newSessionId())).toBeUndefined();
      });

      it('lists a user sessions newest first, in every state, optionally by tenant', async () => {
        const userId = `user-${randomToken(9)}`;
        const now = Date.now();
        const a = sampleRecord({ userId, tenantId: 't1', createdAt: now - 3000 });
        const b = sampleRecord({ userId, tenantId: 't2', createdAt: now - 2000 });
        const c = sampleRecord({ userId, tenantId: 't1', createdAt: now - 1000 });
        for (const record of [a, b, c]) await create(record);
        await store.revoke(b.id, { reason: 'test', now });
        const all = await store.listByUser(userId);
        expect(all.map((record) => record.id)).toEqual([c.id, b.id, a.id]);
        expect(all[1]?.state).toBe('revoked');
        const t1 = await store.listByUser(userId, { tenantId: 't1' });
        expect(t1.map((record) => record.id)).toEqual([c.id, a.id]);
        expect(await store.listByUser(`user-${randomToken(9)}`)).toEqual([]);
      });

      it('refuses a second record with an id already stored', async () => {
        const record = sampleRecord();
        await create(record);
        expect(await codeOf(create({ ...record, userId: record.userId }))).toBe('input.invalid');
        expect(await store.get(record.id)).toEqual(record);
      });
    });

    describe('compare-and-set update', () => {
      it('writes with the expected version and bumps it', async () => {
        const record = sampleRecord();
        await create(record);
        const next = await store.update({ ...record, lastSeenAt: record.lastSeenAt + 10 }, 1);
        expect(next.version).toBe(2);
        expect(next.lastSeenAt).toBe(record.lastSeenAt + 10);
        expect(await store.get(record.id)).toEqual(next);
      });

      it('rejects a stale version and leaves the record as it was', async () => {
        const record = sampleRecord();
        await create(record);
        const next = await store.update({ ...record, aal: 2 }, 1);
        expect(await codeOf(store.update({ ...record, aal: 3 }, 1))).toBe('session.conflict');
        expect(await store.get(record.id)).toEqual(next);
      });

      it('never recreates a missing record nor resurrects a revoked one', async () => {
        const missing = sampleRecord();
        expect(await codeOf(store.update(missing, 1))).toBe('session.not_found');
        expect(await store.get(missing.id)).toBeUndefined();
        const record = sampleRecord();
        await create(record);
        const revoked = await store.revoke(record.id, { reason: 'logout', now: Date.now() });
        expect(revoked?.state).toBe('revoked');
        const attempt = { ...record, state: 'active' as const };
        expect(await codeOf(store.update(attempt, revoked?.version ?? 0))).toBe('session.revoked');
        expect((await store.get(record.id))?.state).toBe('revoked');
      });

      it('refuses to move a session to another user', async () => {
        const record = sampleRecord();
        await create(record);
        expect(await codeOf(store.update({ ...record, userId: 'someone-else' }, 1))).toBe('input.invalid');
        expect(await store.get(record.id)).toEqual(record);
      });

      it('a touch racing a revoke never brings the session back (express-session #632)', async () => {
        for (let round = 0; round < 25; round += 1) {
          const record = sampleRecord();
          await create(record);
          const touch = store.update({ ...record, lastSeenAt: record.lastSeenAt + 1 }, record.version);
          const revoke = store.revoke(record.id, { reason: 'logout', now: Date.now() });
          await Promise.allSettled([touch, revoke]);
          const late = await codeOf(store.update({ ...record, lastSeenAt: record.lastSeenAt + 2 }, 2));
          expect(['session.revoked', 'session.conflict']).toContain(late);
          expect((await store.get(record.id))?.state).toBe('revoked');
        }
      });
    });

    describe('per-user limit', () => {
      it('evicts the oldest live sessions and returns them revoked', async () => {
        const userId = `user-${randomToken(9)}`;
        const now = Date.now();
        const records = [0, 1, 2].map((i) => sampleRecord({ userId, createdAt: now - 10_000 + i }));
        for (const record of records) await create(record, 3);
        const newest = sampleRecord({ userId, createdAt: now });
        const { evicted } = await create(newest, 3);
        expect(evicted.map((record) => record.id)).toEqual([records[0]?.id]);
        expect(evicted[0]?.state).toBe('revoked');
        expect(evicted[0]?.revokeReason).toBe('limit.evicted');
        expect((await store.get(records[0]?.id ?? ''))?.state).toBe('revoked');
        const live = (await store.listByUser(userId)).filter((record) => isLive(record, Date.now()));
        expect(live.map((record) => record.id).sort()).toEqual(
          [records[1]?.id, records[2]?.id, newest.id].sort(),
        );
      });

      it('rejects past the limit under `reject`, storing nothing', async () => {
        const userId = `user-${randomToken(9)}`;
        for (let i = 0; i < 2; i += 1) {
          await store.create({
            session: sampleRecord({ userId }),
            maxSessions: 2,
            onLimit: 'reject',
            now: Date.now(),
          });
        }
        const extra = sampleRecord({ userId });
        const code = await codeOf(
          store.create({ session: extra, maxSessions: 2, onLimit: 'reject', now: Date.now() }),
        );
        expect(code).toBe('limit.exceeded');
        expect(await store.get(extra.id)).toBeUndefined();
      });

      it('does not count revoked or expired sessions', async () => {
        const userId = `user-${randomToken(9)}`;
        const now = Date.now();
        const revoked = sampleRecord({ userId });
        await create(revoked, 2);
        await store.revoke(revoked.id, { reason: 'logout', now });
        const expired = sampleRecord({ userId, idleExpiresAt: now + 150, createdAt: now - 5000 });
        await create(expired, 2);
        await sleep(200);
        const a = sampleRecord({ userId });
        const b = sampleRecord({ userId });
        expect(
          (await store.create({ session: a, maxSessions: 2, onLimit: 'reject', now: Date.now() })).evicted,
        ).toEqual([]);
        expect(
          (await store.create({ session: b, maxSessions: 2, onLimit: 'reject', now: Date.now() })).evicted,
        ).toEqual([]);
      });

      it('200 concurrent creates for one user with limit 5 leave exactly 5 live sessions', async () => {
        const userId = `user-${randomToken(9)}`;
        const now = Date.now();
        const results = await Promise.allSettled(
          Array.from({ length: 200 }, (_, i) =>
            store.create({
              session: sampleRecord({ userId, createdAt: now + i }),
              maxSessions: 5,
              onLimit: 'evict-oldest',
              now: Date.now(),
            }),
          ),
        );
        expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
        const live = (await store.listByUser(userId)).filter((record) => isLive(record, Date.now()));
        expect(live).toHaveLength(5);
      });

      it('200 concurrent creates under `reject` admit exactly 5', async () => {
        const userId = `user-${randomToken(9)}`;
        const codes = await Promise.all(
          Array.from({ length: 200 }, () =>
            codeOf(
              store.create({
                session: sampleRecord({ userId }),
                maxSessions: 5,
                onLimit: 'reject',
                now: Date.now(),
              }),
            ),
          ),
        );
        expect(codes.filter((code) => code === 'resolved')).toHaveLength(5);
        expect(codes.filter((code) => code === 'limit.exceeded')).toHaveLength(195);
      });
    });

    describeRefreshRotation({ store: () => store, create });
    describeRotationKey({ store: () => store, create });
    describeInUseRule({ store: () => store, create });
    describeSharedCapability(() => store);
    describeListingAndTenancy({ store: () => store, create });

    describe('revocation', () => {
      it('revokes one session, idempotently', async () => {
        const record = sampleRecord();
        await create(record);
        const now = Date.now();
        const revoked = await store.revoke(record.id, { reason: 'logout', now });
        expect(revoked).toMatchObject({
          state: 'revoked',
          revokedAt: now,
          revokeReason: 'logout',
          version: 2,
        });
        const again = await store.revoke(record.id, { reason: 'other', now: now + 5 });
        expect(again).toEqual(revoked);
        expect(await store.get(record.id)).toEqual(revoked);
        expect(await store.revoke(newSessionId(), { reason: 'x', now })).toBeUndefined();
      });

      it('revoke-all-except keeps exactly the excepted session, optionally within one tenant', async () => {
        const userId = `user-${randomToken(9)}`;
        const records = Array.from({ length: 4 }, (_, i) =>
          sampleRecord({ userId, tenantId: i < 3 ? 'a' : 'b' }),
        );
        for (const record of records) await create(record);
        const keep = records[1]?.id ?? '';
        const revoked = await store.revokeUser(userId, {
          reason: 'password.changed',
          now: Date.now(),
          exceptId: keep,
          tenantId: 'a',
        });
        expect(revoked.map((record) => record.id).sort()).toEqual([records[0]?.id, records[2]?.id].sort());
        expect(revoked.every((record) => record.state === 'revoked')).toBe(true);
        const live = (await store.listByUser(userId)).filter((record) => isLive(record, Date.now()));
        expect(live.map((record) => record.id).sort()).toEqual([keep, records[3]?.id].sort());
        const rest = await store.revokeUser(userId, { reason: 'all', now: Date.now(), exceptId: keep });
        expect(rest.map((record) => record.id)).toEqual([records[3]?.id]);
        const after = (await store.listByUser(userId)).filter((record) => isLive(record, Date.now()));
        expect(after.map((record) => record.id)).toEqual([keep]);
      });

      it('revokes a subtree, across users, and nothing beside it', async () => {
        const root = sampleRecord();
        await create(root);
        const child = sampleRecord({ userId: root.userId, parentId: root.id });
        const impersonation = sampleRecord({ parentId: root.id });
        await create(child);
        await create(impersonation);
        const grandchild = sampleRecord({ userId: root.userId, parentId: child.id });
        await create(grandchild);
        const sibling = sampleRecord({ userId: root.userId });
        await create(sibling);
        const revoked = await store.revokeTree(root.id, { reason: 'logout', now: Date.now() });
        expect(revoked.map((record) => record.id).sort()).toEqual(
          [root.id, child.id, impersonation.id, grandchild.id].sort(),
        );
        for (const record of [root, child, impersonation, grandchild]) {
          expect((await store.get(record.id))?.state).toBe('revoked');
        }
        expect((await store.get(sibling.id))?.state).toBe('active');
        expect(await store.revokeTree(root.id, { reason: 'again', now: Date.now() })).toEqual([]);
      });
    });

    describe('expiry', () => {
      it('deletes expired records in bounded batches (or its backend does) and keeps live ones', async () => {
        const userId = `user-${randomToken(9)}`;
        const now = Date.now();
        const expiring = Array.from({ length: 5 }, () => sampleRecord({ userId, idleExpiresAt: now + 200 }));
        const live = sampleRecord({ userId });
        for (const record of [...expiring, live]) await create(record);
        await sleep(300);
        // A store without deleteExpired has its backend expire records at their deadline: they must be gone too.
        const deleteExpired = store.deleteExpired?.bind(store);
        for (let round = 0; deleteExpired && round < 10_000; round += 1) {
          const deleted = await deleteExpired({ now: Date.now(), batchSize: 2 });
          expect(deleted).toBeLessThanOrEqual(2);
          if (deleted < 2) break;
        }
        for (const record of expiring) expect(await store.get(record.id)).toBeUndefined();
        expect((await store.listByUser(userId)).map((record) => record.id)).toEqual([live.id]);
        expect(await store.get(live.id)).toEqual(live);
      });
    });

    describe('invalidation feed and health', () => {
      it('delivers messages published on one handle, intact, to a subscriber on another', async () => {
        const other = await options.connect();
        handles.push(other);
        const received: InvalidationMessage[] = [];
        const unsubscribe = await store.feed.subscribe((message) => received.push(message));
        // Without `sentAt`, as an instance of an earlier version sends it during a rolling upgrade.
        const message: InvalidationMessage = {
          sessionId: newSessionId(),
          kind: 'revoked',
          expiresAt: Date.now() + HOUR,
        };
        // A step-up's `changed` carries the new authenticatedAt, which other instances' fast tier depends on, and
        // `sentAt`, from which receivers measure the feed's lag.
        const steppedUp: InvalidationMessage = {
          sessionId: newSessionId(),
          kind: 'changed',
          expiresAt: Date.now() + HOUR,
          authenticatedAt: Date.now(),
          sentAt: Date.now(),
        };
        await other.feed.publish(message);
        await other.feed.publish(steppedUp);
        const deadline = Date.now() + (options.feedDeliveryMs ?? 2000);
        const arrived = (sent: InvalidationMessage) => received.some((m) => m.sessionId === sent.sessionId);
        while (!(arrived(message) && arrived(steppedUp)) && Date.now() < deadline) await sleep(10);
        expect(received).toContainEqual(message);
        expect(received.find((m) => m.sessionId === message.sessionId)?.sentAt).toBeUndefined();
        expect(received).toContainEqual(steppedUp);
        await unsubscribe();
        const after: InvalidationMessage = { ...message, sessionId: newSessionId() };
        await other.feed.publish(after);
        await sleep(100);
        expect(received.some((m) => m.sessionId === after.sessionId)).toBe(false);
      });

      it('reports healthy while the backend answers', async () => {
        await expect(store.health()).resolves.toBeUndefined();
      });
    });
  });
}
