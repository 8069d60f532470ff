/**
 * The HTTP benchmark of the proof issue: every variant serves the same route on the same Redis, one at a time, its
 * server pinned to CPU 0 and autocannon to CPU 1. Variants run in interleaved rounds and the median round counts,
 * so a burst of load from elsewhere cannot favour one of them. Writes results/http.json and prints the table.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ROUTE } from './payload.js';
import { firstJsonLine, startPinned, stop } from './process-runner.js';
import { VARIANTS } from './variants.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ONLY = process.env.BENCH_VARIANTS?.split(',');

interface LoadResult {
  requestsPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  total: number;
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
      login?: { path: string };
    }>(server, 30_000);
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
    const load = startPinned(loadCpu, 'src/load.ts', [
      `${base}${ROUTE}`,
      JSON.stringify(headers),
      String(SECONDS),
      String(CONNECTIONS),
    ]);
    const result = await firstJsonLine<LoadResult>(load, (SECONDS + 30) * 1000);
    await stop(load);
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
      `round ${round + 1}: ${key} ${Math.round(result.requestsPerSec)} req/s p99 ${result.p99} ms`,
    );
  }
}

const results = Object.fromEntries(
  keys.map((key) => [key, { name: VARIANTS[key]?.name, ...median(runs[key] ?? []) }]),
);
const rps = (key: string) => results[key]?.requestsPerSec;
const ratio = (a: string, b: string) => {
  const top = rps(a);
  const bottom = rps(b);
  return top === undefined || bottom === undefined ? undefined : top / bottom;
};
const targets = [
  { label: 'b / a (express-session vs bare)', value: ratio('b', 'a'), target: undefined },
  { label: 'f / a (one raw Redis GET vs bare)', value: ratio('f', 'a'), target: undefined },
  { label: 'c / f (SessionKit on Redis vs its physical limit)', value: ratio('c', 'f'), target: 0.97 },
  { label: 'c / b (SessionKit on Redis vs express-session)', value: ratio('c', 'b'), target: 1.15 },
  { label: 'd / a (JWT fast tier vs bare)', value: ratio('d', 'a'), target: 0.95 },
  { label: 'e / b (SessionKit on PostgreSQL vs express-session)', value: ratio('e', 'b'), target: 1.0 },
  { label: 'g / a (Redis + local validation cache vs bare)', value: ratio('g', 'a'), target: 0.95 },
  { label: 'h / a (one raw pg SELECT vs bare)', value: ratio('h', 'a'), target: undefined },
  {
    label: 'e / h (SessionKit on PostgreSQL vs its physical limit)',
    value: ratio('e', 'h'),
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
console.log('| variant | req/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |');
for (const key of keys) {
  const row = results[key];
  if (row)
    console.log(
      `| ${row.name} | ${Math.round(row.requestsPerSec).toLocaleString('en-US')} | ${row.p50} | ${row.p99} |`,
    );
}
console.log('\n| ratio | measured | target | verdict |\n| --- | ---: | ---: | --- |');
for (const row of targets) {
  const verdict = row.target === undefined ? '' : (row.value ?? 0) >= row.target ? 'PASS' : 'FAIL';
  console.log(
    `| ${row.label} | ${(row.value ?? 0).toFixed(2)} | ${row.target === undefined ? '' : `>= ${row.target}`} | ${verdict} |`,
  );
}
