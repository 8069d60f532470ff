/**
 * The OTel cost of `sessionMiddleware` in instructions per request, counted by valgrind's callgrind: a figure the
 * machine's load does not move, where CPU time (otel-cost.ts) moves by more than the 2 % it is meant to show.
 * Each mode (`none`, `api`, `sdk`, as in otel-cost.ts) and case runs otel-cost-worker.ts once under callgrind,
 * which dumps its count at each `os.getPriority()` the worker calls around a measured chunk of 1 000 requests:
 * start-up, warm-up and the untimed cache refills stay out of the figure. Node runs with `--single-threaded`, so
 * that V8 compiles on the main thread, where callgrind counts it, at the same call every time. Writes
 * results/otel-cost-instructions.json and prints the table.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPackagesBuilt, CHILD_NODE_ARGS } from './process-runner.js';
import { writeResult } from './results.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CHUNK = 1000;
const MODES = ['none', 'api', 'sdk'] as const;
type Mode = (typeof MODES)[number];
const PRELOAD: Record<Mode, string[]> = { none: ['--import', './src/hide-otel-api.ts'], api: [], sdk: [] };
/** Measured chunks left out: the first ones after the warm-up still pay for V8 compiling the measuring loop. */
const SETTLING = 10;
const CASES = [
  { name: 'bearer JWT, fast tier', warmup: 50_000, calls: 60_000, env: 'BENCH_SYNC_CALLS' },
  { name: 'cookie, fast tier, validation cache hit', warmup: 50_000, calls: 60_000, env: 'BENCH_SYNC_CALLS' },
  { name: 'cookie, full tier, one store read', warmup: 20_000, calls: 30_000, env: 'BENCH_AWAITED_CALLS' },
] as const;
assertPackagesBuilt();

function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn('valgrind', args, {
    cwd: new URL('..', import.meta.url).pathname,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`valgrind exited ${code}:\n${stderr.slice(-2000)}`)),
    );
  });
}

interface Count {
  /** Every instruction of the measured chunks per request, garbage collection included. */
  mean: number;
  /** The median chunk's: the code path without the occasional collection. */
  median: number;
}

/** Instructions per request over the measured chunks of one worker process. */
async function perRequest(mode: Mode, index: number): Promise<Count> {
  const spec = CASES[index];
  if (!spec) throw new Error(`no case ${index}`);
  const directory = mkdtempSync(join(tmpdir(), 'otel-instructions-'));
  try {
    const args = [
      '--tool=callgrind',
      `--callgrind-out-file=${join(directory, 'cg.out')}`,
      '--dump-before=getpriority',
      '--smc-check=all-non-file',
      process.execPath,
      // Compiles and collects on the main thread, where callgrind counts it, and fixes V8's random seeds.
      '--predictable',
      '--hash-seed=1',
      '--random-seed=1',
      ...CHILD_NODE_ARGS,
      ...PRELOAD[mode],
      'src/otel-cost-worker.ts',
      mode,
    ];
    await run(args, {
      ...process.env,
      BENCH_CASE: String(index),
      BENCH_CHUNK: String(CHUNK),
      BENCH_WARMUP_CALLS: String(spec.warmup),
      BENCH_MARK_CHUNKS: '1',
      [spec.env]: String(spec.calls),
    });
    // Dump k holds what ran since dump k-1: the chunks are the even ones (odd ones are start-up and refills).
    const chunks = readdirSync(directory)
      .map((file) => /^cg\.out\.(\d+)$/.exec(file))
      .flatMap((found) => (found && Number(found[1]) % 2 === 0 ? [Number(found[1])] : []))
      .sort((a, b) => a - b)
      .map((dump) =>
        Number(/^totals: (\d+)/m.exec(readFileSync(join(directory, `cg.out.${dump}`), 'utf8'))?.[1]),
      )
      .slice(spec.warmup / CHUNK + SETTLING);
    if (chunks.length !== spec.calls / CHUNK - SETTLING) {
      throw new Error(`${mode} ${spec.name}: ${chunks.length} chunks counted`);
    }
    const sorted = [...chunks].sort((a, b) => a - b);
    return {
      mean: chunks.reduce((sum, count) => sum + count, 0) / chunks.length / CHUNK,
      median: (sorted[Math.floor(sorted.length / 2)] ?? Number.NaN) / CHUNK,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const figures: Record<Mode, Count[][]> = { none: [], api: [], sdk: [] };
for (const mode of MODES) figures[mode] = CASES.map(() => []);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [index, spec] of CASES.entries()) {
    // Counts do not depend on the machine's load: the modes run at once.
    const counts = await Promise.all(MODES.map((mode) => perRequest(mode, index)));
    for (const [i, mode] of MODES.entries()) {
      const count = counts[i] ?? { mean: Number.NaN, median: Number.NaN };
      figures[mode][index]?.push(count);
      const line = `${count.mean.toFixed(0)} (median chunk ${count.median.toFixed(0)})`;
      console.error(`round ${round + 1} ${spec.name} ${mode}: ${line} instructions/request`);
    }
  }
}

const average = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
const summary = (values: number[]) => ({
  mean: average(values),
  min: Math.min(...values),
  max: Math.max(...values),
});
const table = CASES.map((spec, index) => {
  const of = (mode: Mode, key: keyof Count) => (figures[mode][index] ?? []).map((count) => count[key]);
  const vs = (mode: Mode, key: keyof Count) => average(of(mode, key)) / average(of('none', key)) - 1;
  return {
    case: spec.name,
    calls: spec.calls - SETTLING * CHUNK,
    modes: Object.fromEntries(
      MODES.map((mode) => [
        mode,
        {
          mean: summary(of(mode, 'mean')),
          median: summary(of(mode, 'median')),
          vsNone: { mean: vs(mode, 'mean'), median: vs(mode, 'median') },
        },
      ]),
    ),
  };
});

const pct = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`;
const span = (s: { mean: number; min: number; max: number }) =>
  `${s.mean.toFixed(0)} [${s.min.toFixed(0)}–${s.max.toFixed(0)}]`;
console.log(
  `\nsessionMiddleware instructions per request (callgrind), mean [min–max] of ${ROUNDS} processes\n`,
);
console.log('| request | mode | instructions/request, all | vs none | median chunk | vs none |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const row of table) {
  for (const mode of MODES) {
    const m = row.modes[mode];
    if (!m) continue;
    const vsMean = mode === 'none' ? '—' : pct(m.vsNone.mean);
    const vsMedian = mode === 'none' ? '—' : pct(m.vsNone.median);
    console.log(`| ${row.case} | ${mode} | ${span(m.mean)} | ${vsMean} | ${span(m.median)} | ${vsMedian} |`);
  }
}
writeResult('otel-cost-instructions', { rounds: ROUNDS, settlingChunks: SETTLING, chunk: CHUNK, table });
