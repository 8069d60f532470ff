/**
 * Profiles one HTTP variant: `profile-variant.ts <variant> [seconds]` starts its server pinned to CPU 0 under
 * `node --cpu-prof`, loads it with autocannon pinned to CPU 1, and prints where the server's time went.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTE } from './payload.js';
import { assertPackagesBuilt, firstJsonLine, startPinned, stop } from './process-runner.js';

const [key, secondsArg] = process.argv.slice(2);
if (!key) throw new Error('usage: profile-variant.ts <variant> [seconds]');
const seconds = Number(secondsArg ?? 6);
assertPackagesBuilt();
const directory = mkdtempSync(join(tmpdir(), 'sk-prof-'));
const server = spawn(
  'taskset',
  [
    '-c',
    '0',
    process.execPath,
    '--cpu-prof',
    `--cpu-prof-dir=${directory}`,
    '--import',
    'tsx',
    'src/server.ts',
    key,
    '0',
  ],
  { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] },
);
const ready = await firstJsonLine<{ port: number; headers: Record<string, string> }>(server, 30_000);
const load = startPinned(1, 'src/load.ts', [
  `http://127.0.0.1:${ready.port}${ROUTE}`,
  JSON.stringify(ready.headers),
  String(seconds),
  '50',
]);
const result = await firstJsonLine<{ requestsPerSec: number }>(load, (seconds + 30) * 1000);
await stop(load);
await stop(server);
console.log(`${key}: ${Math.round(result.requestsPerSec)} req/s under the profiler`);
// tsx's loader thread writes a profile of its own; the server's main thread is the largest one.
const profile = readdirSync(directory)
  .filter((name) => name.endsWith('.cpuprofile'))
  .sort((a, b) => statSync(join(directory, b)).size - statSync(join(directory, a)).size)[0];
if (!profile) throw new Error('no profile written');
const summary = spawn(
  process.execPath,
  ['--import', 'tsx', 'src/profile-summary.ts', join(directory, profile), '30'],
  {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: 'inherit',
  },
);
await new Promise((resolve) => summary.once('exit', resolve));
