/**
 * KyselyStore on PostgreSQL against raw pg baselines, measured in the same run on the same server:
 *   node --conditions=@sessionkit/source --import tsx packages/storage-kysely/bench/store.bench.ts
 *   env: POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test), PHASE_MS per operation (default 2500)
 * (the condition makes @sessionkit/core resolve to its source, so no build is needed).
 * 32 concurrent callers, each phase time-boxed; run at 10,000 and at 1,000,000 rows, then EXPLAIN of the
 * statements the store actually sent. Works in a schema of its own and drops it at the end.
 */
import { randomBytes } from 'node:crypto';
import type { SessionRecord } from '@sessionkit/core';
import { hashSecret, newSecret, sampleRecord } from '@sessionkit/core/store';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../src/index.js';
import { KyselyStore, migrateToLatest } from '../src/index.js';
import { createPgPool, PgInvalidationFeed } from '../src/pg/index.js';

const URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CALLERS = 32;
const PHASE_MS = Number(process.env.PHASE_MS ?? 2500);
const SIZES = [10_000, 1_000_000];
const schema = `sk_bench_${randomBytes(4).toString('hex')}`;
const HOUR = 3_600_000;

// Bulk loading a million rows takes longer than the store's statement timeout allows: it gets its own pool.
const admin = new Kysely<Database>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: URL, max: 2 }) }),
});
const pool = createPgPool({ connectionString: URL, max: CALLERS, timeoutMs: 10_000 });
const captured: { sql: string; parameters: readonly unknown[] }[] = [];
let capturing = false;
const db = new Kysely<Database>({
  dialect: new PostgresDialect({ pool }),
  log: (event) => {
    if (capturing && event.level === 'query') {
      captured.push({ sql: event.query.sql, parameters: event.query.parameters });
    }
  },
});
const store = new KyselyStore({ db, feed: new PgInvalidationFeed({ pool, schema }), schema });

/** A realistic record for `userId` (core's fixture: every field a store must keep). */
function record(userId: string): SessionRecord {
  return sampleRecord({ userId });
}

interface Figures {
  name: string;
  ops: number;
  p50: number;
  p99: number;
}

interface Operation {
  name: string;
  run: (caller: number) => Promise<unknown>;
  callers?: number;
}

const ROUNDS = 5;

/**
 * Runs the operations round-robin in short slices (`ROUNDS` slices each, `PHASE_MS` in all per operation), so
 * that load from other work on the machine drifts over all of them alike and the ratios stay fair.
 */
async function measure(operations: Operation[]): Promise<Figures[]> {
  const samples = operations.map(() => ({ latencies: [] as number[], seconds: 0 }));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [index, operation] of operations.entries()) {
      const sample = samples[index] as { latencies: number[]; seconds: number };
      const started = performance.now();
      const end = started + PHASE_MS / ROUNDS;
      await Promise.all(
        Array.from({ length: operation.callers ?? CALLERS }, async (_, caller) => {
          while (performance.now() < end) {
            const t0 = performance.now();
            await operation.run(caller);
            sample.latencies.push(performance.now() - t0);
          }
        }),
      );
      sample.seconds += (performance.now() - started) / 1000;
    }
  }
  return operations.map((operation, index) => {
    const { latencies, seconds } = samples[index] as { latencies: number[]; seconds: number };
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    return { name: operation.name, ops: latencies.length / seconds, p50: at(0.5), p99: at(0.99) };
  });
}

const table = sql.table(`${schema}.sessions`);

/** Rows bulk-loaded with generate_series: 5 sessions per user `bulk-<i/5>`, ids derived from i. */
async function bulkLoad(from: number, to: number): Promise<void> {
  await sql`
    insert into ${table} (id, user_id, state, created_at, last_seen_at, idle_expires_at, absolute_expires_at, aal,
      authenticated_at, secret_hash, refresh_family_id, refresh_generation, refresh_current_hash, device, version, metadata)
    select substr(md5('b' || i), 1, 22), 'bulk-' || (i / 5), 'active', now() - make_interval(secs => i), now(),
      now() + interval '1 hour', now() + interval '12 hours', 1, now(),
      substr(md5('s' || i) || md5('t' || i), 1, 43), substr(md5('f' || i), 1, 16), 0,
      substr(md5('r' || i) || md5('q' || i), 1, 43), '{}'::jsonb, 1, '{}'::jsonb
    from generate_series(${from}::int, ${to - 1}::int) as i`.execute(admin);
  await sql`analyze ${table}`.execute(admin);
}

const bulkId = async (i: number) =>
  (await sql<{ id: string }>`select substr(md5(${`b${i}`}), 1, 22) as id`.execute(db)).rows[0]?.id ?? '';

async function runSize(rows: number, loaded: number): Promise<Figures[]> {
  await bulkLoad(loaded, rows);
  // A sample of existing ids and users to read at random.
  const ids = await Promise.all(
    Array.from({ length: 2000 }, (_, k) => bulkId(Math.floor((k * rows) / 2000))),
  );
  const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)] as T;
  const users = Array.from({ length: 2000 }, () => `bulk-${Math.floor((Math.random() * rows) / 5)}`);

  const chains = await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      const session = record(`rotator-${rows}-${caller}`);
      await store.create({ session, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
      return { id: session.id, current: session.refresh?.currentHash ?? '' };
    }),
  );
  const successors = Array.from({ length: 4096 }, () => hashSecret(newSecret()));
  let s = 0;

  const newSession = () =>
    store.create({
      session: record(`bench-user-${Math.floor(Math.random() * 5000)}`),
      maxSessions: 5,
      onLimit: 'evict-oldest',
      now: Date.now(),
    });
  const figures = await measure([
    { name: 'raw SELECT 1 (pg)', run: () => pool.query('select 1') },
    {
      name: 'raw PK SELECT (pg)',
      run: () => pool.query(`select * from ${schema}.sessions where id = $1`, [pick(ids)]),
    },
    { name: 'validate: get(id)', run: () => store.get(pick(ids)) },
    { name: 'create, limit 5 evict-oldest', run: newSession },
    { name: 'create, 1 caller alone', run: newSession, callers: 1 },
    {
      name: 'rotateRefresh',
      run: async (caller) => {
        const chain = chains[caller] as { id: string; current: string };
        const successorHash = successors[s++ % successors.length] as string;
        const now = Date.now();
        const result = await store.rotateRefresh({
          sessionId: chain.id,
          presentedHash: chain.current,
          successorHash,
          sealedSuccessor: 'sealed',
          now,
          graceMs: 10_000,
          idleExpiresAt: now + HOUR,
        });
        if (result.outcome !== 'rotated') throw new Error(`rotation ${result.outcome}`);
        chain.current = successorHash;
      },
    },
    { name: 'listByUser (5 sessions)', run: () => store.listByUser(pick(users)) },
  ]);
  return figures;
}

function print(rows: number, figures: Figures[]): void {
  const pk = figures.find((f) => f.name.startsWith('raw PK'))?.ops ?? 1;
  console.log(
    `\n${rows.toLocaleString('en')} rows, ${CALLERS} concurrent callers, ${PHASE_MS} ms per operation in ${ROUNDS} interleaved slices`,
  );
  console.log('operation                         ops/s    p50 ms   p99 ms   vs raw PK SELECT');
  for (const f of figures) {
    console.log(
      `${f.name.padEnd(30)} ${f.ops.toFixed(0).padStart(8)} ${f.p50.toFixed(2).padStart(9)} ${f.p99.toFixed(2).padStart(8)}   ${(f.ops / pk).toFixed(2)}x`,
    );
  }
}

async function explainStoreQueries(): Promise<void> {
  const user = 'bulk-123';
  const victim = record('explain-user');
  capturing = true;
  await store.get(victim.id);
  await store.listByUser(user);
  await store.create({ session: victim, maxSessions: 5, onLimit: 'evict-oldest', now: Date.now() });
  await store.revokeTree(victim.id, { reason: 'bench', now: Date.now() });
  await store.deleteExpired({ now: Date.now() - 10 * HOUR, batchSize: 100 });
  capturing = false;
  // create is one call of create_session, whose EXPLAIN only says "Function Scan": its inner statements' plans
  // show with auto_explain (log_nested_statements), as the README describes.
  const interesting = captured.filter(
    (q) => /^(select|update|delete|with)/i.test(q.sql) && !q.sql.includes('create_session'),
  );
  for (const query of interesting) {
    const plan = await pool.query(`explain (costs off) ${query.sql}`, [...query.parameters]);
    console.log(`\n${query.sql.slice(0, 160)}${query.sql.length > 160 ? ' ...' : ''}`);
    for (const row of plan.rows as { 'QUERY PLAN': string }[]) console.log(`    ${row['QUERY PLAN']}`);
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  await migrateToLatest(db, { schema });
  try {
    const results: [number, Figures[]][] = [];
    let loaded = 0;
    for (const rows of SIZES) {
      const loadStart = performance.now();
      const figures = await runSize(rows, loaded);
      console.error(
        `(loaded to ${rows} rows and measured in ${((performance.now() - loadStart) / 1000).toFixed(1)} s)`,
      );
      loaded = rows;
      results.push([rows, figures]);
      print(rows, figures);
    }
    const [small, large] = results.map(([, figures]) => figures);
    console.log('\nflat cost: ops/s at 1,000,000 rows / ops/s at 10,000 rows');
    for (const f of large ?? []) {
      const before = small?.find((g) => g.name === f.name);
      if (before)
        console.log(
          `  ${f.name.padEnd(30)} ${(f.ops / before.ops).toFixed(2)}x   p50 ${before.p50.toFixed(2)} -> ${f.p50.toFixed(2)} ms`,
        );
    }
    console.log('\nquery plans at 1,000,000 rows (the statements the store sent):');
    await explainStoreQueries();
  } finally {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
    await store.close();
    await admin.destroy();
    console.error(`(total ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

await main();
