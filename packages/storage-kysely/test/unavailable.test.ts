import { SessionKitError } from '@sessionkit/core';
import { sampleRecord } from '@sessionkit/core/store';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/index.js';
import { KyselyStore } from '../src/index.js';
import { createPgPool, PgInvalidationFeed } from '../src/pg/index.js';
import { POSTGRES_URL, postgresStores, uniqueSchema } from './databases.js';

async function timed(operation: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = performance.now();
  const code = await operation.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
  return { code, ms: performance.now() - started };
}

describe('a database that cannot answer', () => {
  it('is store.unavailable at once when nothing listens on the port', async () => {
    // Port 1 on loopback: connection refused.
    const pool = createPgPool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', timeoutMs: 500 });
    const store = new KyselyStore({
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      feed: new PgInvalidationFeed({ pool }),
    });
    expect(await timed(store.get('x'))).toMatchObject({ code: 'store.unavailable' });
    expect(await timed(store.health())).toMatchObject({ code: 'store.unavailable' });
    expect(await timed(store.feed.subscribe(() => {}))).toMatchObject({ code: 'store.unavailable' });
    expect(
      await timed(store.feed.publish({ sessionId: 'x', kind: 'revoked', expiresAt: Date.now() })),
    ).toMatchObject({ code: 'store.unavailable' });
    await store.close();
    expect(await timed(store.get('x'))).toMatchObject({ code: 'store.unavailable' });
  });

  describe('a statement stuck behind a lock', () => {
    const schema = uniqueSchema('sk_unavailable');
    const stores = postgresStores(schema);
    /** The deadline under test: long enough that a loaded machine's healthy statements never reach it. */
    const TIMEOUT_MS = 1000;
    let patient: KyselyStore;
    let store: KyselyStore;
    const blocker = new pg.Client({ connectionString: POSTGRES_URL });

    beforeAll(async () => {
      patient = await stores.connect();
      store = await stores.connect({ timeoutMs: TIMEOUT_MS });
      await blocker.connect();
    });

    afterAll(async () => {
      await blocker.end();
      await store.close();
      await patient.close();
      await stores.dropSchema();
    });

    it('fails with store.unavailable after the configured timeout, and the pool keeps working', async () => {
      const record = sampleRecord();
      await patient.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() });
      await blocker.query('begin');
      await blocker.query(`select id from ${schema}.sessions where id = $1 for update`, [record.id]);
      const result = await timed(store.revoke(record.id, { reason: 'logout', now: Date.now() }));
      expect(result.code).toBe('store.unavailable');
      expect(result.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      // The lock is held until the rollback below: the bound only tells the deadline from a hang.
      expect(result.ms).toBeLessThan(TIMEOUT_MS * 10);
      await blocker.query('rollback');
      expect((await store.revoke(record.id, { reason: 'logout', now: Date.now() }))?.state).toBe('revoked');
    });
  });
});
