import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SessionManager } from '@sessionkit/core';
import { sampleRecord } from '@sessionkit/core/store';
import type { OtelSdk, ReadableSpan } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../src/index.js';
import { pgliteStores, postgresStores, uniqueSchema } from './databases.js';

const EMAIL = 'alice.liddell@example.com';
const IP = '203.0.113.77';
const SECRET = 'kysely-otel-test-secret-'.padEnd(40, 'x');
const config = { secret: SECRET };

let sdk: OtelSdk;
const stores = postgresStores(uniqueSchema('sk_otel'));
const opened: KyselyStore[] = [];

async function connect(): Promise<KyselyStore> {
  const store = await stores.connect();
  opened.push(store);
  return store;
}

beforeAll(async () => {
  sdk = await startOtelSdk();
});

afterAll(async () => {
  for (const store of opened) await store.close();
  await stores.dropSchema();
  await sdk.shutdown();
});

function childrenOf(parent: ReadableSpan | undefined): ReadableSpan[] {
  const id = parent?.spanContext().spanId;
  return sdk.spans().filter((span) => id !== undefined && span.parentSpanContext?.spanId === id);
}

describe('KyselyStore on PostgreSQL under OpenTelemetry, with the real SDK', () => {
  it('puts each SQL statement in a client span under its store call, and exports no secret', async () => {
    const manager = new SessionManager({ store: await connect(), config });
    const context = { ip: IP, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };
    const sensitive = [EMAIL, IP, SECRET];
    const keep = (...tokens: (string | undefined)[]) => {
      // The whole `<id>.<secret>` token, and its secret half on its own.
      for (const token of tokens) if (token) sensitive.push(token, token.split('.').at(-1) ?? token);
    };
    await trace.getTracer('test').startActiveSpan('POST /login', async (root) => {
      const login = await manager.create({ userId: EMAIL, tenantId: 'acme', context });
      keep(login.token, login.refreshToken);
      await manager.validate(login.token, { tier: 'full', context });
      const refreshed = await manager.refresh(login.refreshToken, { context });
      keep(refreshed.refreshToken);
      const stepped = await manager.stepUp(login.session.id, { aal: 2, context });
      keep(stepped.token, stepped.refreshToken);
      await manager.revokeAllForUser(EMAIL, { context });
      root.end();
    });

    const storeCall = (name: string) => sdk.spans().find((span) => span.name === `sessionkit.store.${name}`);
    const [read] = childrenOf(storeCall('get'));
    expect(read?.name).toBe('SELECT');
    expect(read?.kind).toBe(SpanKind.CLIENT);
    expect(read?.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT' });
    expect(read?.attributes['db.query.text']).toMatch(/row_to_json.* where id = \$1$/);
    expect(childrenOf(storeCall('create')).map((span) => span.name)).toEqual(['SELECT']);
    // The transaction's statements, under the call that opened it: the user's lock, then the update.
    const revokeUser = childrenOf(storeCall('revokeUser'));
    expect(revokeUser.map((span) => span.attributes['db.operation.name'])).toEqual(['SELECT', 'UPDATE']);
    expect(revokeUser[0]?.attributes['db.query.text']).toContain('pg_advisory_xact_lock($1');

    const exported = sdk
      .spans()
      .flatMap((span) => [
        span.name,
        ...Object.entries(span.attributes).flatMap(([key, value]) => [key, String(value)]),
      ]);
    expect(
      sdk.spans().filter((span) => span.attributes['db.query.text'] !== undefined).length,
    ).toBeGreaterThan(5);
    for (const value of sensitive) {
      const leaks = exported.filter((candidate) => candidate.includes(value));
      expect(leaks, `exported telemetry contains ${value.slice(0, 12)}...`).toEqual([]);
    }
  });

  it('marks a failed statement with status ERROR and its SQLSTATE, never the database message', async () => {
    const store = await connect();
    const session = sampleRecord();
    const create = () => store.create({ session, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    await create();
    await expect(create()).rejects.toMatchObject({ code: 'input.invalid' });
    const failed = sdk.spans().find((span) => span.attributes['db.response.status_code'] !== undefined);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.status.message).toBeUndefined();
    expect(failed?.attributes['db.response.status_code']).toBe('23505');
    expect(failed?.events).toEqual([]);
  });

  it('records the invalidation-feed lag on the instance that receives what another published (NOTIFY)', async () => {
    // Only the receiver subscribes: every lag point is its receipt of the publisher's message.
    const publisher = new SessionManager({ store: await connect(), config });
    const receiver = new SessionManager({ store: await connect(), config });
    await receiver.start();
    const issued = await publisher.create({ userId: 'bob' });
    await publisher.stepUp(issued.session.id, { aal: 2 });
    await publisher.revoke(issued.session.id);
    const kinds = async () =>
      (await sdk.histogram('sessionkit.invalidation.lag')).map((point) => [
        point.attributes['sessionkit.invalidation.kind'],
        point.value.count,
      ]);
    await expect.poll(kinds).toEqual(
      expect.arrayContaining([
        ['changed', 1],
        ['revoked', 1],
      ]),
    );
    for (const point of await sdk.histogram('sessionkit.invalidation.lag')) {
      expect(point.value.min).toBeGreaterThanOrEqual(0);
      // Generous for a loaded machine, yet far below what a missing sentAt would read (decades).
      expect(point.value.max).toBeLessThan(60);
    }
    await receiver.close();
  });
});

describe('KyselyStore on PGlite under OpenTelemetry, with the real SDK', () => {
  const embedded = pgliteStores();

  afterAll(() => embedded.close());

  it('records the invalidation-feed lag through the PGlite feed too', async () => {
    const before = (await sdk.histogram('sessionkit.invalidation.lag')).reduce(
      (n, p) => n + p.value.count,
      0,
    );
    const publisherStore = await embedded.connect();
    const receiverStore = await embedded.connect();
    const publisher = new SessionManager({ store: publisherStore, config });
    const receiver = new SessionManager({ store: receiverStore, config });
    await receiver.start();
    const issued = await publisher.create({ userId: 'carol' });
    await publisher.revoke(issued.session.id);
    const total = async () =>
      (await sdk.histogram('sessionkit.invalidation.lag')).reduce((n, p) => n + p.value.count, 0);
    await expect.poll(total).toBe(before + 1);
    await receiver.close();
    await publisherStore.close();
    await receiverStore.close();
  });
});
