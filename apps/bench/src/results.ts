import { writeFileSync } from 'node:fs';

/** Writes `results/<name>.json` (committed: docs/benchmarks.md and the chart are generated from them). */
export function writeResult(name: string, data: unknown): void {
  writeFileSync(
    new URL(`../results/${name}.json`, import.meta.url),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...(data as object) }, null, 2)}\n`,
  );
}
