/**
 * The HTTP benchmark of the proof issue: every variant serves the same route on the same Redis, one at a time, its
 * server pinned to CPU 0 and autocannon to CPU 1. Variants run in interleaved rounds and the median round counts,
 * so a burst of load from elsewhere cannot favour one of them. Writes results/http.json and prints the table.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ROUTE } from './payload.js';
import { assertPackagesBuilt, firstJsonLine, startPinned, stop } from './process-runner.js';
import { VARIANTS } from './variants.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ONLY = process.env.BENCH_VARIANTS?.split(',');
assertPackagesBuilt();

interface LoadResult {
  requestsPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  total: number;
  /** Server CPU time (user + system) per request served during the load: robust to a shared, noisy machine. */
  cpuMicrosPerRequest?: number;
}

interface ServerStats {
  cpuMicros: number;
  served: number;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const pinned = hasTaskset();
const serverCpu = pinned ? 0 : undefined;
const loadCpu = pinned ? 1 : undefined;

async function runOnce(key: string): Promise<LoadResult> {
  const server = startPinned(serverCpu, 'src/server.ts', [key, '0']);
  try {
    const ready = await firstJsonLine<{
      port: number;
      headers: Record<string, string>;
      statsPort: number;
      login?: { path: string };
    }>(server, 30_000);
    const stats = async () =>
      (await (await fetch(`http://127.0.0.1:${ready.statsPort}/`)).json()) as ServerStats;
    const base = `http://127.0.0.1:${ready.port}`;
    const headers = { ...ready.headers };
    if (ready.login) {
      const response = await fetch(`${base}${ready.login.path}`, { method: 'POST' });
      const cookie = response.headers.get('set-cookie')?.split(';')[0];
      if (!cookie) throw new Error(`${key}: login gave no cookie`);
      headers.cookie = cookie;
    }
    const probe = await fetch(`${base}${ROUTE}`, { headers });
    const body = await probe.text();
    if (probe.status !== 200) throw new Error(`${key}: probe answered ${probe.status} ${body}`);
    const before = await stats();
    const load = startPinned(loadCpu, 'src/load.ts', [
      `${base}${ROUTE}`,
      JSON.stringify(headers),
      String(SECONDS),
      String(CONNECTIONS),
    ]);
    const result = await firstJsonLine<LoadResult>(load, (SECONDS + 30) * 1000);
    const after = await stats();
    await stop(load);
    result.cpuMicrosPerRequest = (after.cpuMicros - before.cpuMicros) / (after.served - before.served);
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${key}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result;
  } finally {
    await stop(server);
  }
}

function median(results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
  return sorted[Math.floor(sorted.length / 2)] as LoadResult;
}

const keys = Object.keys(VARIANTS).filter((key) => !ONLY || ONLY.includes(key));
const runs: Record<string, LoadResult[]> = {};
for (let round = 0; round < ROUNDS; round += 1) {
  const order = round % 2 === 0 ? keys : [...keys].reverse();
  for (const key of order) {
    const result = await runOnce(key);
    runs[key] = [...(runs[key] ?? []), result];
    console.error(
      `round ${round + 1}: ${key} ${Math.round(result.requestsPerSec)} req/s p99 ${result.p99} ms, ${result.cpuMicrosPerRequest?.toFixed(1)} µs CPU/request`,
    );
  }
}

function medianCpu(results: LoadResult[]): number | undefined {
  const values = results.flatMap((result) => result.cpuMicrosPerRequest ?? []).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
}

const results = Object.fromEntries(
  keys.map((key) => [
    key,
    {
      name: VARIANTS[key]?.name,
      ...median(runs[key] ?? []),
      cpuMicrosPerRequest: medianCpu(runs[key] ?? []),
    },
  ]),
);
const rps = (key: string) => results[key]?.requestsPerSec;
const cpu = (key: string) => results[key]?.cpuMicrosPerRequest;
const ratio = (a: string, b: string) => {
  const top = rps(a);
  const bottom = rps(b);
  return top === undefined || bottom === undefined ? undefined : top / bottom;
};
// The same ratio from the server's CPU per request: what the throughput ratio is when the server's core is the
// bottleneck and nothing else competes for it.
const cpuRatio = (a: string, b: string) => {
  const top = cpu(b);
  const bottom = cpu(a);
  return top === undefined || bottom === undefined ? undefined : top / bottom;
};
const targets = [
  {
    label: 'b / a (express-session vs bare)',
    value: ratio('b', 'a'),
    byCpu: cpuRatio('b', 'a'),
    target: undefined,
  },
  {
    label: 'f / a (one raw Redis GET vs bare)',
    value: ratio('f', 'a'),
    byCpu: cpuRatio('f', 'a'),
    target: undefined,
  },
  {
    label: 'c / f (SessionKit on Redis vs its physical limit)',
    value: ratio('c', 'f'),
    byCpu: cpuRatio('c', 'f'),
    target: 0.97,
  },
  {
    label: 'c / b (SessionKit on Redis vs express-session)',
    value: ratio('c', 'b'),
    byCpu: cpuRatio('c', 'b'),
    target: 1.15,
  },
  { label: 'd / a (JWT fast tier vs bare)', value: ratio('d', 'a'), byCpu: cpuRatio('d', 'a'), target: 0.95 },
  {
    label: 'e / b (SessionKit on PostgreSQL vs express-session)',
    value: ratio('e', 'b'),
    byCpu: cpuRatio('e', 'b'),
    target: 1.0,
  },
  {
    label: 'g / a (Redis + local validation cache vs bare)',
    value: ratio('g', 'a'),
    byCpu: cpuRatio('g', 'a'),
    target: 0.95,
  },
  {
    label: 'h / a (one raw pg SELECT vs bare)',
    value: ratio('h', 'a'),
    byCpu: cpuRatio('h', 'a'),
    target: undefined,
  },
  {
    label: 'e / h (SessionKit on PostgreSQL vs its physical limit)',
    value: ratio('e', 'h'),
    byCpu: cpuRatio('e', 'h'),
    target: undefined,
  },
  {
    label: 'i / a (one no-op middleware vs bare)',
    value: ratio('i', 'a'),
    byCpu: cpuRatio('i', 'a'),
    target: undefined,
  },
  {
    label: 'd / i (JWT fast tier vs one no-op middleware)',
    value: ratio('d', 'i'),
    byCpu: cpuRatio('d', 'i'),
    target: undefined,
  },
  {
    label: 'g / i (Redis + local validation cache vs one no-op middleware)',
    value: ratio('g', 'i'),
    byCpu: cpuRatio('g', 'i'),
    target: undefined,
  },
].filter((row) => row.value !== undefined);

const machine = {
  cpus: pinned ? 'server on CPU 0, autocannon on CPU 1 (taskset)' : 'unpinned',
  node: process.version,
};
writeFileSync(
  new URL('../results/http.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, machine, results, ratios: targets }, null, 2)}\n`,
);

console.log(
  `\nHTTP benchmark: ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections, medians; ${machine.cpus}\n`,
);
console.log(
  '| variant | req/s | p50 ms | p99 ms | server CPU µs/request |\n| --- | ---: | ---: | ---: | ---: |',
);
for (const key of keys) {
  const row = results[key];
  if (row)
    console.log(
      `| ${row.name} | ${Math.round(row.requestsPerSec).toLocaleString('en-US')} | ${row.p50} | ${row.p99} | ${row.cpuMicrosPerRequest?.toFixed(1) ?? ''} |`,
    );
}
console.log(
  '\n| ratio | req/s | by server CPU | target | verdict (req/s) |\n| --- | ---: | ---: | ---: | --- |',
);
for (const row of targets) {
  const verdict = row.target === undefined ? '' : (row.value ?? 0) >= row.target ? 'PASS' : 'FAIL';
  console.log(
    `| ${row.label} | ${(row.value ?? 0).toFixed(2)} | ${row.byCpu?.toFixed(2) ?? ''} | ${row.target === undefined ? '' : `>= ${row.target}`} | ${verdict} |`,
  );
}
