import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { InvalidationMessage } from '@sessionkit/core/store';
import { sampleRecord } from '@sessionkit/core/store';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database, StoreFeed } from '../src/index.js';
import { KyselyStore, migrateToLatest } from '../src/index.js';
import { createPgPool, PgInvalidationFeed } from '../src/pg/index.js';
import { openPGlite, PGliteDialect, PGliteInvalidationFeed } from '../src/pglite/index.js';
import { POSTGRES_URL, postgresDb, uniqueSchema } from './databases.js';

function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/**
 * Publishes on A, waits until A's own listener has it, then publishes a marker on B and waits for that: NOTIFY
 * delivers in commit order, so anything of A's that B's channel carried would have reached B before the marker.
 */
async function crossTalk(a: StoreFeed, b: StoreFeed): Promise<{ heardByA: string[]; heardByB: string[] }> {
  const heardByA: string[] = [];
  const heardByB: string[] = [];
  const stopA = await a.subscribe((message) => heardByA.push(message.sessionId));
  const stopB = await b.subscribe((message) => heardByB.push(message.sessionId));
  const message = (sessionId: string): InvalidationMessage => ({
    sessionId,
    kind: 'revoked',
    expiresAt: Date.now() + 60_000,
  });
  await a.publish(message('from-a'));
  await expect.poll(() => heardByA, { timeout: 120_000 }).toContain('from-a');
  await b.publish(message('marker-b'));
  await expect.poll(() => heardByB, { timeout: 120_000 }).toContain('marker-b');
  await stopA();
  await stopB();
  return { heardByA, heardByB };
}

describe('two schemas in one PostgreSQL database', () => {
  const schemas = [uniqueSchema('sk_scope_a'), uniqueSchema('sk_scope_b')];
  const pools = schemas.map(() =>
    createPgPool({ connectionString: POSTGRES_URL, max: 4, timeoutMs: 60_000 }),
  );

  afterAll(async () => {
    const db = postgresDb();
    for (const schema of schemas) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
    await db.destroy();
    for (const pool of pools) if (!pool.ended) await pool.end();
  });

  it('do not cross-notify: each feed listens on its own schema channel', async () => {
    const stores = await Promise.all(
      schemas.map(async (schema, i) => {
        const pool = pools[i]!;
        const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
        await migrateToLatest(db, { schema });
        return new KyselyStore({ db, schema, feed: new PgInvalidationFeed({ pool, schema }) });
      }),
    );
    const [a, b] = stores as [KyselyStore, KyselyStore];
    const { heardByA, heardByB } = await crossTalk(a.feed, b.feed);
    expect(heardByA).toEqual(['from-a']);
    expect(heardByB).toEqual(['marker-b']);
    for (const store of stores) await store.close();
  });

  it('refuses a feed made for another schema, naming both', () => {
    const pool = createPgPool({ connectionString: POSTGRES_URL, max: 1, timeoutMs: 60_000 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const attempt = () => new KyselyStore({ db, schema: 'tenant_a', feed: new PgInvalidationFeed({ pool }) });
    expect(attempt).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    expect(attempt).toThrow(/"sessionkit".*"tenant_a"/);
    return pool.end();
  });

  it('answers a missing schema with store.unavailable naming it, the driver error as cause', async () => {
    const schema = uniqueSchema('sk_scope_missing');
    const pool = createPgPool({ connectionString: POSTGRES_URL, max: 1, timeoutMs: 60_000 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const store = new KyselyStore({ db, schema, feed: new PgInvalidationFeed({ pool, schema }) });
    const error = await caught(store.get(sampleRecord().id));
    expect(error).toMatchObject({ code: 'store.unavailable', details: { schema, driverCode: '42P01' } });
    expect((error as Error).message).toContain(`schema "${schema}" is missing or not migrated`);
    expect((error as Error).message).toContain('does not exist');
    expect((error as Error).cause).toBeInstanceOf(Error);
    await store.close();
  });
});

// PGlite starts slowly on a loaded machine (WebAssembly, initdb): generous bounds, as everywhere in this suite.
describe('two schemas in one PGlite database', { timeout: 240_000 }, () => {
  it('do not cross-notify', async () => {
    const pglite = new PGlite();
    const stores = await Promise.all(
      ['tenant_a', 'tenant_b'].map(async (schema) => {
        const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
        await migrateToLatest(db, { schema });
        return new KyselyStore({ db, schema, feed: new PGliteInvalidationFeed(pglite, { schema }) });
      }),
    );
    const [a, b] = stores as [KyselyStore, KyselyStore];
    const { heardByA, heardByB } = await crossTalk(a.feed, b.feed);
    expect(heardByA).toEqual(['from-a']);
    expect(heardByB).toEqual(['marker-b']);
    for (const store of stores) await store.close();
    await pglite.close();
  });
});

describe('opening PGlite on disk', { timeout: 240_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'sk-pglite-open-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing data directory and its parents, and the store works there', async () => {
    const pglite = await openPGlite(join(root, 'data', 'nested', 'sessions'));
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    expect(await migrateToLatest(db)).toContain('0001_sessions');
    const store = new KyselyStore({ db, feed: new PGliteInvalidationFeed(pglite) });
    const record = sampleRecord();
    await store.create({ session: record, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
    expect((await store.get(record.id))?.id).toBe(record.id);
    await store.close();
    await pglite.close();
  });

  it('names the directory and quotes PGlite when it cannot open one, keeping the cause', async () => {
    const blocked = join(root, 'not-a-directory');
    // A path under a regular file can never be created.
    writeFileSync(blocked, 'x');
    const error = await caught(openPGlite(join(blocked, 'sessions')));
    expect(error).toMatchObject({ code: 'store.unavailable' });
    expect((error as Error).message).toContain(blocked);
    expect((error as Error).cause).toBeDefined();
  });

  it('quotes the cause when migrations cannot create the schema', async () => {
    const pglite = new PGlite();
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    await pglite.close();
    const error = await caught(migrateToLatest(db, { schema: 'tenant_closed' }));
    expect(error).toMatchObject({ code: 'store.unavailable' });
    expect((error as Error).message).toMatch(/^Cannot create schema tenant_closed: .+/);
    expect((error as Error).cause).toBeDefined();
  });
});
