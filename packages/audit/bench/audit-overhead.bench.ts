/**
 * Audit overhead on the request path: a create+validate loop on core's SessionManager and MemoryStore,
 * without audit, with audit into the no-op sink, and with audit into the SQL ledger on real PostgreSQL
 * (127.0.0.1:5432, db `test`, a schema of its own, dropped at the end). Variants are interleaved over rounds
 * and the median is reported, so drift on this shared 2-core machine hits all of them alike.
 *
 *   npx tsx --conditions=@sessionkit/source packages/audit/bench/audit-overhead.bench.ts
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { MemoryStore, randomToken, SessionManager } from '@sessionkit/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { Auditor, Keyring, MemoryLedger, noopSink } from '../src/index.js';
import { migrateAuditSchema, SqlAuditLedger } from '../src/sql/index.js';

// Long enough that the one flush left at the end of a run (10-25 ms with nothing to overlap it, a cost a
// running server never pays per request) is a small part of the wall time; at 4,000 it was 6-8 %.
const ITERATIONS = Number(process.env.ITERATIONS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const keys = new Keyring({
  currentKeyId: 'bench',
  keys: { bench: 'bench-integrity-key-0123456789abcdef0123' },
});
const ip = { keys: { currentKeyId: 'ip', keys: { ip: 'bench-ip-key-0123456789abcdef0123456789ab' } } };
const context = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  requestId: 'bench',
};

const APP = 'sessionkit-audit-bench';
const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const pool = new pg.Pool({ ...connection, max: 4, application_name: APP });
pool.on('error', () => {});
const monitor = new pg.Client({ ...connection, application_name: `${APP}-monitor` });

/**
 * CPU µs used so far by this benchmark's PostgreSQL backends, read from /proc (PostgreSQL runs on this
 * machine); undefined where that is not readable. What the inserts cost the server, beside the app's CPU.
 */
const backendCpu = new Map<number, number>();
async function postgresCpuDelta(): Promise<number | undefined> {
  const { rows } = await monitor.query<{ pid: number }>(
    'select pid from pg_stat_activity where application_name = $1',
    [APP],
  );
  let delta = 0;
  try {
    for (const { pid } of rows) {
      const now = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
      delta += now - (backendCpu.get(pid) ?? 0);
      backendCpu.set(pid, now);
    }
  } catch {
    return undefined;
  }
  return delta;
}
/**
 * Main-thread GC pause time so far, in ms. V8's young-generation GC runs on helper threads too: where PostgreSQL
 * shares the machine, it competes with them, and a pause lasts longer for the same work.
 */
let gcPauseMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauseMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
const schema = `audit_bench_${randomToken(6)
  .replace(/[^A-Za-z0-9]/g, 'x')
  .toLowerCase()}`;

type Variant = { name: string; auditor: () => Auditor | undefined };
const variants: Variant[] = [
  { name: 'no audit', auditor: () => undefined },
  {
    name: 'audit -> no-op sink',
    auditor: () => new Auditor({ ledger: new MemoryLedger({ keys }), sinks: [noopSink()], ip }),
  },
  {
    name: 'audit -> SQL (PostgreSQL)',
    auditor: () =>
      new Auditor({
        ledger: new SqlAuditLedger(db, { schema, keys }),
        ip,
        buffer: {
          flushIntervalMs: Number(process.env.FLUSH ?? 50),
          batchSize: Number(process.env.BATCH ?? 1000),
        },
      }),
  },
];

interface Sample {
  /** Wall-clock µs per iteration: includes PostgreSQL's own CPU, which here shares the same 2 cores. */
  wall: number;
  /** The part of `wall` spent after the loop, writing what was still buffered. */
  drain: number;
  /** This process's CPU µs per iteration: what audit costs the application itself. */
  cpu: number;
  /** PostgreSQL's CPU µs per iteration (its backends serving this benchmark), when readable. */
  pg: number | undefined;
  /** GC pause µs per iteration, part of `wall`. */
  gc: number;
}

/** One run: ITERATIONS requests, each yielding to the event loop once as a server does between requests. */
async function run(variant: Variant): Promise<Sample> {
  const manager = new SessionManager({ store: new MemoryStore(), config: { maxSessionsPerUser: 1000 } });
  const auditor = variant.auditor();
  if (auditor) auditor.attach(manager.events);
  await postgresCpuDelta();
  const gcBefore = gcPauseMs;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < ITERATIONS; index += 1) {
    const issued = await manager.create({ userId: `user-${index % 500}`, tenantId: 'bench', context });
    await manager.validate(issued.token, { context });
    await new Promise((resolve) => setImmediate(resolve));
  }
  const loopDone = performance.now();
  // Whatever is still buffered is part of the cost.
  if (auditor && !(await auditor.close(30_000))) throw new Error(`${variant.name}: audit did not drain`);
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const pgCpu = await postgresCpuDelta();
  // GC entries are delivered after the pause, on a later turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  const gcPause = gcPauseMs - gcBefore;
  if (auditor && auditor.stats.dropped > 0)
    throw new Error(`${variant.name}: dropped ${auditor.stats.dropped}`);
  return {
    wall: (elapsed * 1000) / ITERATIONS,
    drain: ((started + elapsed - loopDone) * 1000) / ITERATIONS,
    cpu: (cpu.user + cpu.system) / ITERATIONS,
    pg: pgCpu === undefined ? undefined : pgCpu / ITERATIONS,
    gc: (gcPause * 1000) / ITERATIONS,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}x`;

try {
  await monitor.connect();
  await migrateAuditSchema(db, { schema });
  for (const variant of variants) await run(variant);
  const samples = new Map<string, Sample[]>(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const variant of variants) samples.get(variant.name)?.push(await run(variant));
  }
  const written = await sql<{
    n: string;
  }>`select count(*) as n from ${sql.table(`${schema}.audit_records`)}`.execute(db);
  const results = variants.map((variant) => {
    const runs = samples.get(variant.name) ?? [];
    return {
      name: variant.name,
      wall: median(runs.map((run) => run.wall)),
      drain: median(runs.map((run) => run.drain)),
      cpu: median(runs.map((run) => run.cpu)),
      pg: runs.some((run) => run.pg === undefined) ? undefined : median(runs.map((run) => run.pg ?? 0)),
      gc: median(runs.map((run) => run.gc)),
    };
  });
  const [none, noop] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(`create+validate, ${ITERATIONS} iterations x ${ROUNDS} rounds, medians per iteration`);
  console.table(
    results.map((result) => ({
      variant: result.name,
      'wall µs': result.wall.toFixed(1),
      'wall vs no-op sink': ratio(result.wall, noop.wall),
      'wall vs no audit': ratio(result.wall, none.wall),
      'of which final flush µs': result.drain.toFixed(2),
      'app CPU µs': result.cpu.toFixed(1),
      'app CPU vs no-op sink': ratio(result.cpu, noop.cpu),
      'PostgreSQL CPU µs': result.pg === undefined ? 'n/a' : result.pg.toFixed(1),
      'GC pause µs': result.gc.toFixed(1),
    })),
  );
  console.log(`rows written to PostgreSQL: ${written.rows[0]?.n}; target: SQL sink <= 1.15x the no-op sink`);
} finally {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
  await db.destroy();
  await monitor.end();
}
