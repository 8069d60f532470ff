import type { SessionRecord, SessionState } from '@sessionkit/core';
import { SessionKitError } from '@sessionkit/core';
import { chooseEvictions, newSessionId, revokedCopy, sampleRecord } from '@sessionkit/core/store';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../src/index.js';
import { recordToRow } from '../src/session-row.js';
import { pgliteBackend, postgresBackend } from './databases.js';

/*
 * create_session (PL/pgSQL) restates core's chooseEvictions. This holds the two to the same answer on random
 * users built to hit every edge: ties on createdAt broken by ids that differ only in case or in '-' / '_',
 * deadlines exactly at `now`, revoked and expired sessions, suspended ones, limits below and above the count.
 */

const HOUR = 3_600_000;
const SCENARIOS = 150;

/** A small seeded generator (mulberry32), so a failing scenario can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ids equal but for one character, where a locale's order and code-unit order disagree. */
function idFamily(): string[] {
  const tail = newSessionId().slice(1);
  return ['a', 'A', 'b', 'B', '-', '_', '0', 'z'].map((first) => first + tail);
}

interface Scenario {
  userId: string;
  now: number;
  existing: SessionRecord[];
  incoming: SessionRecord;
  maxSessions: number;
  onLimit: 'evict-oldest' | 'reject';
}

function scenario(seed: number): Scenario {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const now = Date.now();
  const userId = `rules-${seed}-${newSessionId()}`;
  const ids = idFamily();
  const count = Math.floor(next() * 8);
  const existing = Array.from({ length: count }, (_, i): SessionRecord => {
    const state = pick<SessionState>(['active', 'active', 'active', 'suspended', 'revoked', 'expired']);
    return sampleRecord({
      id: next() < 0.6 ? (ids[i] as string) : newSessionId(),
      userId,
      state,
      // Few distinct instants, so ties are common.
      createdAt: now - pick([3000, 2000, 2000, 1000]),
      idleExpiresAt: now + pick([-1, 0, 1, HOUR, HOUR]),
      absoluteExpiresAt: now + pick([0, 1, 12 * HOUR, 12 * HOUR]),
      ...(state === 'revoked' && { revokedAt: now - 10, revokeReason: 'logout' }),
    });
  });
  return {
    userId,
    now,
    existing,
    incoming: sampleRecord({ userId, createdAt: now }),
    maxSessions: 1 + Math.floor(next() * 6),
    onLimit: next() < 0.3 ? 'reject' : 'evict-oldest',
  };
}

function outcomeOf(promise: Promise<{ evicted: SessionRecord[] }>): Promise<SessionRecord[] | string> {
  return promise.then(
    ({ evicted }) => evicted,
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
}

describe.each([
  { name: 'PostgreSQL', open: () => postgresBackend('sk_rules') },
  { name: 'PGlite', open: pgliteBackend },
])('create_session on $name agrees with core chooseEvictions', ({ open }) => {
  const backend = open();
  let store: KyselyStore;

  beforeAll(async () => {
    store = await backend.connect();
  });

  afterAll(async () => {
    await store.close();
    await backend.close();
  });

  it('orders ids in code-unit order, as core and Redis do ("C" collation)', async () => {
    const ids = [...idFamily(), ...idFamily(), ...Array.from({ length: 200 }, newSessionId)];
    const { rows } = await sql<{ id: string }>`
      select id from unnest(${ids}::text[]) as id order by id collate "C"`.execute(backend.raw);
    expect(rows.map((row) => row.id)).toEqual([...ids].sort());
  });

  it(`evicts or rejects exactly as chooseEvictions decides, over ${SCENARIOS} random users`, async () => {
    const db = backend.raw.withSchema(backend.schema);
    for (let seed = 1; seed <= SCENARIOS; seed += 1) {
      const { userId, now, existing, incoming, maxSessions, onLimit } = scenario(seed);
      // Written directly: the scenario may hold more live sessions than any limit would have let in.
      if (existing.length > 0) await db.insertInto('sessions').values(existing.map(recordToRow)).execute();
      const victims = chooseEvictions(existing, maxSessions, now);
      const expected =
        victims.length > 0 && onLimit === 'reject'
          ? 'limit.exceeded'
          : victims.map((victim) => revokedCopy(victim, 'limit.evicted', now));
      const actual = await outcomeOf(store.create({ session: incoming, maxSessions, onLimit, now }));
      expect({ seed, outcome: actual }).toEqual({ seed, outcome: expected });
      const stored = await store.listByUser(userId);
      expect(stored.some((record) => record.id === incoming.id)).toBe(expected !== 'limit.exceeded');
    }
  });
});
