/*
 * The operator's listing and statistics on PostgreSQL at scale: size of the indexes migration 0004 adds, page
 * latency at the top and deep in the list, filtered pages, statistics per tenant and over everything.
 *
 *   npx tsx --conditions=@sessionkit/source packages/storage-kysely/bench/admin-listing.bench.ts
 *
 * Uses the local PostgreSQL (127.0.0.1:5432, database `test`) in a schema of its own, dropped at the end.
 * BENCH_SESSIONS (default 1,000,000) rows are inserted by one INSERT ... SELECT (the same shape the store
 * writes): 100 tenants (`t0` holds 10 %), two sessions per user, 1 % suspended, 2 % on mobile. BENCH_ROUNDS
 * rounds (default 5) interleave the variants; each figure is the median over rounds, with the spread, this
 * process's CPU and PostgreSQL's (its backend's, from /proc) per page.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SessionQuery } from '@sessionkit/core/store';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../src/index.js';
import { KyselyStore, migrateToLatest } from '../src/index.js';
import { createPgPool, PgInvalidationFeed } from '../src/pg/index.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PAGES_PER_ROUND = 20;
const HOUR = 3_600_000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

/** CPU seconds of one PostgreSQL backend so far, from /proc (utime + stime, in clock ticks of 1/100 s). */
function backendCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main() {
  const schema = `sk_bench_${randomBytes(4).toString('hex')}`;
  // One connection: every query of the benchmark runs on the backend whose CPU is read.
  const pool = createPgPool({ connectionString: URL, max: 1, timeoutMs: 600_000 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db, { schema });
  const store = new KyselyStore({ db, feed: new PgInvalidationFeed({ pool, channel: schema }), schema });
  const table = sql.table(`${schema}.sessions`);
  try {
    const base = Date.now() - SESSIONS - 1000;
    const t0 = performance.now();
    await sql`
      insert into ${table} (id, user_id, tenant_id, state, created_at, last_seen_at, idle_expires_at,
        absolute_expires_at, aal, authenticated_at, secret_hash, device, version, metadata)
      select substr(md5(i::text) || md5('x' || i), 1, 22), 'u' || (i / 2),
        case when i % 10 = 0 then 't0' else 't' || (1 + i % 99) end,
        case when i % 100 = 1 then 'suspended' else 'active' end,
        to_timestamp((${base}::bigint + i) / 1000.0), to_timestamp((${base}::bigint + i) / 1000.0),
        to_timestamp((${base}::bigint + i + ${6 * HOUR}) / 1000.0),
        to_timestamp((${base}::bigint + i + ${12 * HOUR}) / 1000.0), 1,
        to_timestamp((${base}::bigint + i) / 1000.0), substr(md5('s' || i) || md5('t' || i), 1, 43),
        jsonb_build_object('userAgent', 'Mozilla/5.0 Firefox/132.0', 'fingerprint',
          jsonb_build_object('browser', 'Firefox', 'os', 'Linux',
            'deviceType', case when i % 50 = 0 then 'mobile' else 'desktop' end)),
        1, '{}'::jsonb
      from generate_series(0, ${SESSIONS - 1}) as i`.execute(db);
    await sql`analyze ${table}`.execute(db);
    console.log(`loaded ${SESSIONS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const sizes = await sql<{ name: string; bytes: string }>`
      select c.relname as name, pg_relation_size(c.oid)::text as bytes from pg_class c
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${schema} and c.relkind in ('r', 'i')
      order by 1`.execute(db);
    console.log('relation | MiB | bytes per session');
    for (const { name, bytes } of sizes.rows) {
      console.log(
        `${name} | ${(Number(bytes) / 2 ** 20).toFixed(1)} | ${(Number(bytes) / SESSIONS).toFixed(0)}`,
      );
    }
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
    const pid = rows[0]?.pid ?? 0;

    const now = Date.now();
    const deepCursor = async (query: Omit<SessionQuery, 'now' | 'limit'>, depth: number) => {
      let cursor: string | undefined;
      for (let read = 0; read < depth; read += 500) {
        const page = await store.listSessions({ ...query, limit: 500, now, ...(cursor ? { cursor } : {}) });
        cursor = page.nextCursor;
      }
      return cursor;
    };
    const deepGlobal = await deepCursor({}, Math.floor(SESSIONS / 2));
    const deepTenant = await deepCursor({ tenantId: 't0' }, Math.floor(SESSIONS / 20));
    const variants: [string, Omit<SessionQuery, 'now'>][] = [
      ['global, first page of 50', { limit: 50 }],
      ['global, page of 50 halfway down', { limit: 50, ...(deepGlobal ? { cursor: deepGlobal } : {}) }],
      ['tenant t0 (10 %), first page of 50', { tenantId: 't0', limit: 50 }],
      [
        'tenant t0, page of 50 halfway down',
        { tenantId: 't0', limit: 50, ...(deepTenant ? { cursor: deepTenant } : {}) },
      ],
      ['tenant t5 (1 %), suspended only', { tenantId: 't5', state: 'suspended', limit: 50 }],
      ['global, mobile only (2 %)', { deviceType: 'mobile', limit: 50 }],
      ['one user', { userId: 'u1234', limit: 50 }],
    ];
    const wall = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const pgCpu = new Map<string, number[]>();
    const found = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, query] of variants) {
        const c0 = process.cpuUsage();
        const p0 = backendCpu(pid);
        const w0 = performance.now();
        let page = await store.listSessions({ ...query, now });
        for (let i = 1; i < PAGES_PER_ROUND; i += 1) page = await store.listSessions({ ...query, now });
        const w = (performance.now() - w0) / PAGES_PER_ROUND;
        const c = process.cpuUsage(c0);
        found.set(name, page.sessions.length);
        wall.set(name, [...(wall.get(name) ?? []), w]);
        cpu.set(name, [...(cpu.get(name) ?? []), (c.user + c.system) / 1000 / PAGES_PER_ROUND]);
        pgCpu.set(name, [...(pgCpu.get(name) ?? []), ((backendCpu(pid) - p0) * 1000) / PAGES_PER_ROUND]);
      }
    }
    console.log(`\npage latency, median of ${ROUNDS} interleaved rounds of ${PAGES_PER_ROUND} pages`);
    console.log('variant | sessions on page | wall ms (spread) | client CPU ms | PostgreSQL CPU ms');
    for (const [name] of variants) {
      const w = wall.get(name) ?? [];
      console.log(
        `${name} | ${found.get(name)} | ${median(w).toFixed(2)} (${spread(w)}) | ` +
          `${median(cpu.get(name) ?? []).toFixed(2)} | ${median(pgCpu.get(name) ?? []).toFixed(1)}`,
      );
    }

    for (const tenantId of ['t5', 't0', undefined]) {
      const s0 = performance.now();
      const p0 = backendCpu(pid);
      const stats = await store.sessionStats({
        ...(tenantId === undefined ? {} : { tenantId }),
        from: now - HOUR,
        to: now,
        now,
      });
      console.log(
        `stats ${tenantId ?? 'global'}: ${((performance.now() - s0) / 1000).toFixed(2)} s wall, ` +
          `${(backendCpu(pid) - p0).toFixed(2)} s PostgreSQL CPU, ${JSON.stringify(stats)}`,
      );
    }
  } finally {
    await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
    await store.close();
  }
}

await main();
