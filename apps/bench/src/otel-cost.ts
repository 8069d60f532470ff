/**
 * What OpenTelemetry costs the Express middleware, per request: `sessionMiddleware` called directly (no sockets)
 * in three kinds of process, `none` (no @opentelemetry/api, as today), `api` (the API installed, no SDK) and
 * `sdk` (the SDK with 10 % trace sampling). Each round starts one process per mode, in rotating order, pinned to
 * CPU 0; the ratios to `none` are taken within each round (the load of the machine changes between rounds, less
 * within one) and reported as median and min–max. Writes results/otel-cost.json and prints the table.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { assertPackagesBuilt, firstJsonLine, startPinned, stop } from './process-runner.js';
import { writeResult } from './results.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const MODES = ['none', 'api', 'sdk'] as const;
type Mode = (typeof MODES)[number];
const PRELOAD: Record<Mode, string[]> = { none: ['--import', './src/hide-otel-api.ts'], api: [], sdk: [] };
assertPackagesBuilt();

interface Figures {
  cpuMicros: number;
  callsPerSec: number;
}

function pinnable(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const cpu = pinnable() ? 0 : undefined;

async function runMode(mode: Mode): Promise<Record<string, Figures>> {
  const child = startPinned(cpu, 'src/otel-cost-worker.ts', [mode], PRELOAD[mode]);
  try {
    const answer = await firstJsonLine<{ mode: Mode; results: Record<string, Figures> }>(child, 300_000);
    return answer.results;
  } finally {
    await stop(child);
  }
}

const runs: Record<Mode, Array<Record<string, Figures>>> = { none: [], api: [], sdk: [] };
for (let round = 0; round < ROUNDS; round += 1) {
  const order = MODES.map((_, i) => MODES[(i + round) % MODES.length] as Mode);
  for (const mode of order) {
    const results = await runMode(mode);
    runs[mode].push(results);
    const line = Object.entries(results)
      .map(([name, f]) => `${name}: ${f.cpuMicros.toFixed(2)} µs`)
      .join('; ');
    console.error(`round ${round + 1} ${mode}: ${line}`);
  }
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)] ?? Number.NaN;
const spread = (values: number[]) => {
  const s = sorted(values);
  return { median: median(values), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN };
};

const cases = Object.keys(runs.none[0] ?? {});
const table = cases.map((name) => {
  const of = (mode: Mode, key: keyof Figures) => runs[mode].map((run) => run[name]?.[key] ?? Number.NaN);
  const ratio = (mode: Mode) =>
    spread(
      runs[mode].map(
        (run, i) => (run[name]?.cpuMicros ?? Number.NaN) / (runs.none[i]?.[name]?.cpuMicros ?? 1),
      ),
    );
  return {
    case: name,
    cpuMicros: {
      none: spread(of('none', 'cpuMicros')),
      api: spread(of('api', 'cpuMicros')),
      sdk: spread(of('sdk', 'cpuMicros')),
    },
    callsPerSec: {
      none: spread(of('none', 'callsPerSec')),
      api: spread(of('api', 'callsPerSec')),
      sdk: spread(of('sdk', 'callsPerSec')),
    },
    cpuRatioToNone: { api: ratio('api'), sdk: ratio('sdk') },
  };
});

const load = (loadavg()[0] ?? 0).toFixed(1);
const f = (s: { median: number; min: number; max: number }, digits: number) =>
  `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
const pct = (s: { median: number; min: number; max: number }) =>
  `${((s.median - 1) * 100).toFixed(1)} % [${((s.min - 1) * 100).toFixed(1)}–${((s.max - 1) * 100).toFixed(1)}]`;
console.log(
  `\nsessionMiddleware CPU per request by telemetry mode, median [min–max] of ${ROUNDS} interleaved rounds`,
);
console.log(
  `${cpus().length} cores, 1-minute load average ${load}, ${cpu === undefined ? 'unpinned' : 'pinned to CPU 0'}\n`,
);
console.log('| request | mode | CPU µs/request | requests/s (one core) | CPU vs none, paired per round |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const row of table) {
  for (const mode of MODES) {
    const vs = mode === 'none' ? '—' : pct(row.cpuRatioToNone[mode]);
    console.log(
      `| ${row.case} | ${mode} | ${f(row.cpuMicros[mode], 2)} | ${f(row.callsPerSec[mode], 0)} | ${vs} |`,
    );
  }
}
writeResult('otel-cost', { rounds: ROUNDS, cores: cpus().length, loadAverage: Number(load), table });
