/**
 * Prints the markdown tables of docs/benchmarks.md from the JSON results in apps/bench/results, so the
 * published figures are exactly the recorded ones. Missing results are skipped.
 */
import { existsSync, readFileSync } from 'node:fs';

type Json = Record<string, unknown>;
const read = (name: string): Json | undefined => {
  const file = new URL(`../results/${name}.json`, import.meta.url);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Json) : undefined;
};
const f = (value: unknown, digits = 2) => (typeof value === 'number' ? value.toFixed(digits) : 'n/a');
const int = (value: unknown) =>
  typeof value === 'number' ? Math.round(value).toLocaleString('en-US') : 'n/a';
const out: string[] = [];

const http = read('http') as
  | {
      date: string;
      seconds: number;
      rounds: number;
      connections: number;
      results: Record<
        string,
        { name: string; requestsPerSec: number; p50: number; p99: number; cpuMicrosPerRequest?: number }
      >;
      ratios: { label: string; value: number; byCpu?: number; target?: number }[];
    }
  | undefined;
if (http) {
  out.push(
    `### HTTP (${http.date}; ${http.rounds} interleaved rounds of ${http.seconds} s, ${http.connections} connections, medians)\n`,
  );
  out.push(
    '| variant | req/s | p50 ms | p99 ms | server CPU µs/request |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const row of Object.values(http.results))
    out.push(
      `| ${row.name} | ${int(row.requestsPerSec)} | ${row.p50} | ${row.p99} | ${f(row.cpuMicrosPerRequest, 1)} |`,
    );
  out.push('', '| ratio | req/s | by server CPU | target | verdict |', '| --- | ---: | ---: | ---: | --- |');
  for (const row of http.ratios)
    out.push(
      `| ${row.label} | ${f(row.value)} | ${f(row.byCpu)} | ${row.target === undefined ? '' : `≥ ${row.target}`} | ${row.target === undefined ? '' : row.value >= row.target ? 'PASS' : 'FAIL'} |`,
    );
  out.push('');
}

type Figures = Record<
  string,
  { opsPerSec: number; concurrency: number; p50?: number; p95?: number; p99?: number; errors: number }
>;
const targets: Record<string, string> = {
  create: 'p95 < 50',
  validate: 'p95 < 10',
  'validate, 1 caller': 'p95 < 10; p99 < 1 on Redis',
  refresh: 'p95 < 100',
};
function verdictOf(name: string, row: Figures[string], backend: string): string {
  const p95 = row.p95 ?? Infinity;
  const p99 = row.p99 ?? Infinity;
  if (name === 'create') return p95 < 50 ? 'PASS' : 'FAIL';
  if (name === 'validate') return p95 < 10 ? 'PASS' : 'FAIL';
  if (name === 'validate, 1 caller') return p95 < 10 && (backend !== 'redis' || p99 < 1) ? 'PASS' : 'FAIL';
  if (name === 'refresh') return p95 < 100 ? 'PASS' : 'FAIL';
  return '';
}
function operationRows(title: string, figures: Figures, backend: string) {
  out.push(
    `${title}\n`,
    '| operation | callers | ops/s | p50 ms | p95 ms | p99 ms | errors | target | verdict |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  );
  for (const [name, row] of Object.entries(figures))
    out.push(
      `| ${name} | ${row.concurrency} | ${int(row.opsPerSec)} | ${f(row.p50)} | ${f(row.p95)} | ${f(row.p99)} | ${row.errors} | ${backend === 'redis' ? (targets[name] ?? '') : (targets[name] ?? '').replace('; p99 < 1 on Redis', '')} | ${verdictOf(name, row, backend)} |`,
    );
  out.push('');
}
const operations = read('operations') as
  | { date: string; results: { redis: Figures; postgres: Figures } }
  | undefined;
if (operations) {
  out.push(`### Operations (${operations.date})\n`);
  operationRows('Redis (shared server, own key prefix):', operations.results.redis, 'redis');
  operationRows('PostgreSQL (shared server, fresh schema):', operations.results.postgres, 'postgres');
}

const scale = read('scale') as
  | {
      date: string;
      results: {
        size: number;
        loadSeconds: { redis: number; postgres: number };
        redisBytesPerSession: number;
        redisMemoryUsagePerSession: number;
        redis: Figures;
        postgres: Figures;
      }[];
    }
  | undefined;
if (scale) {
  out.push(`### Scale (${scale.date}; private redis-server and PostgreSQL 15)\n`);
  out.push(
    '| stored sessions | filler load time Redis / PostgreSQL | Redis used_memory growth per session | Redis MEMORY USAGE per session (all its keys) |',
    '| ---: | --- | ---: | ---: |',
  );
  for (const row of scale.results)
    out.push(
      `| ${int(row.size)} | ${f(row.loadSeconds.redis, 1)} s / ${f(row.loadSeconds.postgres, 1)} s | ${int(row.redisBytesPerSession)} B | ${int(row.redisMemoryUsagePerSession)} B |`,
    );
  out.push('');
  for (const row of scale.results) {
    operationRows(`Redis, ${int(row.size)} stored sessions:`, row.redis, 'redis');
    operationRows(`PostgreSQL, ${int(row.size)} stored sessions:`, row.postgres, 'postgres');
  }
}

const multi = read('multi-instance') as
  | {
      date: string;
      samples: number;
      rows: {
        configuration: { label: string };
        delays: { p50?: number; p95?: number; p99?: number; max?: number };
        neverRejected: number;
        staleAccepts: number;
        pass: boolean;
      }[];
    }
  | undefined;
if (multi) {
  out.push(`### Multi-instance revocation (${multi.date}; ${multi.samples} revocations per configuration)\n`);
  out.push(
    '| configuration (A and B alike) | p50 ms | p95 ms | p99 ms | max ms | B never rejected | B answered 200 to a request sent after A acknowledged | p99 < 100 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const row of multi.rows)
    out.push(
      `| ${row.configuration.label} | ${f(row.delays.p50)} | ${f(row.delays.p95)} | ${f(row.delays.p99)} | ${f(row.delays.max)} | ${row.neverRejected} | ${row.staleAccepts} | ${row.pass ? 'PASS' : 'FAIL'} |`,
    );
  out.push('');
}

const outages = read('fault-outages') as
  | { date: string; results: { scenario: string; checks: { name: string; ok: boolean; detail: string }[] }[] }
  | undefined;
const races = read('fault-races') as
  | { date: string; checks: { backend: string; name: string; ok: boolean; detail: string }[] }
  | undefined;
const sigkill = read('fault-sigkill') as
  | {
      date: string;
      kills: number;
      rounds: {
        round: number;
        acknowledgedBeforeKill: number;
        lost: number;
        chains: number;
        brokenChains: number;
        records: number;
      }[];
    }
  | undefined;
const fuzz = read('fuzz') as
  | {
      date: string;
      total: number;
      runs: {
        backend: string;
        seed: number;
        result: {
          sent: number;
          seconds: number;
          statuses: Record<string, number>;
          serverErrorCount: number;
          deliberate503: number;
          timeouts: number;
          alive: boolean;
        };
      }[];
    }
  | undefined;
if (outages || races || sigkill || fuzz) {
  out.push('### Faults\n', '| fault | check | verdict | measured |', '| --- | --- | --- | --- |');
  for (const scenario of outages?.results ?? [])
    for (const check of scenario.checks)
      out.push(
        `| ${scenario.scenario} | ${check.name} | ${check.ok ? 'PASS' : 'FAIL'} | ${check.detail.replaceAll('|', '/')} |`,
      );
  for (const check of races?.checks ?? [])
    out.push(
      `| races, ${check.backend === 'redis' ? 'Redis' : 'PostgreSQL'}, two app processes | ${check.name} | ${check.ok ? 'PASS' : 'FAIL'} | ${check.detail} |`,
    );
  if (sigkill) {
    const last = sigkill.rounds.at(-1);
    const lost = sigkill.rounds.reduce((sum, row) => sum + row.lost, 0);
    const broken = sigkill.rounds.reduce((sum, row) => sum + row.brokenChains, 0);
    out.push(
      `| SIGKILL of the app under load, restart (${sigkill.kills} rounds; PostgreSQL + SQL audit ledger) | no session lost | ${lost === 0 ? 'PASS' : 'FAIL'} | ${last?.acknowledgedBeforeKill} acknowledged sessions re-validated after every restart, ${lost} lost |`,
    );
    out.push(
      `| SIGKILL of the app under load, restart | no audit chain broken (\`verifyChain\` over the ledger) | ${broken === 0 ? 'PASS' : 'FAIL'} | ${last?.records} records in ${last?.chains} chain(s) verified after the last restart, ${broken} broken |`,
    );
  }
  for (const run of fuzz?.runs ?? [])
    out.push(
      `| fuzz, ${run.backend === 'redis' ? 'Redis' : 'PostgreSQL'} (seed ${run.seed}) | zero 5xx other than 503, zero crashes, zero hangs | ${run.result.serverErrorCount === 0 && run.result.alive && run.result.timeouts === 0 ? 'PASS' : 'FAIL'} | ${int(run.result.sent)} requests in ${f(run.result.seconds, 1)} s; statuses ${JSON.stringify(run.result.statuses)} (-1: connection closed without an answer, raw malformed HTTP) |`,
    );
  out.push('');
}

const soak = read('soak') as
  | {
      date: string;
      seconds: number;
      rate: number;
      warmupSeconds: number;
      plateau: number;
      peak: number;
      last: number;
      growth: number;
      sent: number;
      statuses: Record<string, number>;
      p50: number;
      p99: number;
      samples: unknown[];
    }
  | undefined;
if (soak) {
  // The soak script's rule: refreshes of sessions the per-user limit evicted answer 401 legitimately.
  const errors = Object.entries(soak.statuses)
    .filter(([key]) => !key.endsWith(' 200') && key !== 'refresh 401')
    .reduce((sum, [, n]) => sum + n, 0);
  out.push(
    `### Soak (${soak.date})\n`,
    '| duration | rate | requests | failed | latency p50 / p99 | heap plateau (warm-up) | peak after warm-up | last | growth | verdict (≤ 10 %) |',
    '| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
  );
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  out.push(
    `| ${soak.seconds} s | ${soak.rate} req/s | ${int(soak.sent)} | ${errors} | ${f(soak.p50, 1)} / ${f(soak.p99, 1)} ms | ${mib(soak.plateau)} | ${mib(soak.peak)} | ${mib(soak.last)} | ${(soak.growth * 100).toFixed(1)} % | ${soak.growth <= 0.1 && errors === 0 ? 'PASS' : 'FAIL'} |`,
    '',
  );
}
console.log(out.join('\n'));
