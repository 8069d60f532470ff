import { randomBytes } from 'node:crypto';
import { ManualClock, MemoryStore, SessionManager } from '@sessionkit/core';
import { freePort } from '@sessionkit/test-support';
import { Kysely, PostgresDialect } from 'kysely';
import { KyselyPGlite } from 'kysely-pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { SecurityDatabase } from '../src/index.js';
import {
  deviceFingerprint,
  emptyProfile,
  KyselyProfileStore,
  migrateSecurityProfiles,
  RiskEngine,
} from '../src/index.js';

const schema = `sk_sec_${randomBytes(4).toString('hex')}`;
const networkHashKey = randomBytes(32).toString('base64url');
const pools: pg.Pool[] = [];
const databases: Kysely<SecurityDatabase>[] = [];

function postgres(): Kysely<SecurityDatabase> {
  const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 });
  pools.push(pool);
  const db = new Kysely<SecurityDatabase>({ dialect: new PostgresDialect({ pool }) });
  databases.push(db);
  return db;
}

afterAll(async () => {
  const admin = postgres();
  await admin.schema.dropSchema(schema).ifExists().cascade().execute();
  for (const db of databases) await db.destroy();
});

const laptop = deviceFingerprint({
  userAgent:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  timezone: 'Europe/Berlin',
  clientId: 'laptop-client-id-0001',
});
const phone = deviceFingerprint({
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  timezone: 'America/Sao_Paulo',
  clientId: 'attacker-phone-0042',
});

describe('KyselyProfileStore on PostgreSQL', () => {
  it('compare-and-set: a stale version never overwrites', async () => {
    const db = postgres();
    await migrateSecurityProfiles(db, schema);
    await migrateSecurityProfiles(db, schema);
    const store = new KyselyProfileStore({ db, schema });
    expect(await store.get('nobody')).toBeUndefined();
    const profile = { ...emptyProfile(), tokenReuseAt: 5 };
    expect(await store.put('alice', profile, 0)).toBe(true);
    expect(await store.put('alice', profile, 0)).toBe(false);
    expect(await store.get('alice')).toEqual({ version: 1, profile });
    expect(await store.put('alice', { ...profile, tokenReuseAt: 6 }, 1)).toBe(true);
    expect(await store.put('alice', { ...profile, tokenReuseAt: 7 }, 1)).toBe(false);
    expect((await store.get('alice'))?.profile.tokenReuseAt).toBe(6);
  });

  it('two app instances on two connection pools reach the same decision, and learn without losing updates', async () => {
    const one = new RiskEngine({
      profiles: new KyselyProfileStore({ db: postgres(), schema }),
      networkHashKey,
    });
    const two = new RiskEngine({
      profiles: new KyselyProfileStore({ db: postgres(), schema }),
      networkHashKey,
    });
    const clock = new ManualClock();
    const manager = new SessionManager({
      store: new MemoryStore({ now: () => clock.now() }),
      clock,
      assessors: [one],
    });
    const legit = { ip: '203.0.113.10', fingerprint: laptop };
    const issued = await manager.create({ userId: 'bob', context: legit });
    const session = (await manager.store.get(issued.session.id))!;
    await one.trust('bob', legit, clock.now());
    const stolen = { ip: '198.51.100.77', fingerprint: phone };
    const [a, b] = await Promise.all([
      one.evaluate(session, stolen, clock.now()),
      two.evaluate(session, stolen, clock.now()),
    ]);
    expect(a).toEqual(b);
    expect(a.reasons).toEqual(['device.changed', 'network.new']);
    expect(await two.evaluate(session, legit, clock.now())).toMatchObject({ action: 'allow', score: 0 });
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? one : two).trust('bob', { ip: `10.${i}.0.1` }, clock.now()),
      ),
    );
    const stored = await new KyselyProfileStore({ db: postgres(), schema }).get('bob');
    expect(stored?.profile.networks).toHaveLength(7);
  });

  it('reports an unreachable database as store.unavailable', async () => {
    const pool = new pg.Pool({
      host: '127.0.0.1',
      // A port that was just free: nothing listens there.
      port: await freePort(),
      user: 'postgres',
      connectionTimeoutMillis: 200,
    });
    const db = new Kysely<SecurityDatabase>({ dialect: new PostgresDialect({ pool }) });
    databases.push(db);
    await expect(new KyselyProfileStore({ db }).get('x')).rejects.toMatchObject({
      code: 'store.unavailable',
    });
  });
});

describe('KyselyProfileStore on PGlite (embedded default)', () => {
  // PGlite boots a WebAssembly PostgreSQL: seconds on a busy machine, hence the longer timeout.
  it('stores, guards versions and rejects a corrupt row with store.corrupt', async () => {
    const { dialect } = await KyselyPGlite.create();
    const db = new Kysely<SecurityDatabase>({ dialect });
    databases.push(db);
    await migrateSecurityProfiles(db);
    const store = new KyselyProfileStore({ db });
    const engine = new RiskEngine({ profiles: store, networkHashKey });
    await engine.recordFailure('carol', 1000);
    await engine.recordFailure('carol', 2000);
    expect(await store.get('carol')).toMatchObject({ version: 2, profile: { failures: [1000, 2000] } });
    await db
      .insertInto('sessionkit_security_profiles')
      .values({ user_id: 'mallory', version: 1, profile: '{"devices":"nope"}', updated_at: 0 })
      .execute();
    await expect(store.get('mallory')).rejects.toMatchObject({ code: 'store.corrupt' });
  }, 60_000);
});
