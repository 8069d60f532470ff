/**
 * Where a server's time goes: `profile-summary.ts <file.cpuprofile>` prints self time by function and by
 * package from a `node --cpu-prof` profile, to explain a variant that misses its target.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const top = Number(process.argv[3] ?? 25);
const profile = profileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const selfByFunction = new Map<string, number>();
// Inclusive: a sample counts for every workspace package on its stack (once each), so the share of time a
// request spends inside SessionKit code, including what it calls in Node and dependencies, is visible.
const inclusiveByPackage = new Map<string, number>();
const selfByPackage = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  const frame = byId.get(id)?.callFrame;
  if (!frame) return;
  total += delta;
  const where = packageOf(frame.url);
  const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + delta);
  selfByPackage.set(where, (selfByPackage.get(where) ?? 0) + delta);
  const seen = new Set<string>();
  for (let node: number | undefined = id; node !== undefined; node = parentOf.get(node)) {
    const url = byId.get(node)?.callFrame.url ?? '';
    const workspace = url.match(/\/(packages|apps)\/([^/]+)\/src\//);
    if (workspace) seen.add(`${workspace[1]}/${workspace[2]}`);
  }
  for (const name of seen) inclusiveByPackage.set(name, (inclusiveByPackage.get(name) ?? 0) + delta);
});

/** `@sessionkit/core src/x.ts`, `express`, `node:internal/...`, or the pseudo-frames (GC, idle, program). */
function packageOf(url: string): string {
  if (url === '') return '(native)';
  const workspace = url.match(/\/(packages|apps)\/([^/]+)\/src\/(.+)$/);
  if (workspace) return `${workspace[1]}/${workspace[2]}/${workspace[3]}`;
  const dependency = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/);
  if (dependency?.[1]) return dependency[1];
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
}

function print(title: string, map: Map<string, number>, limit: number) {
  console.log(`\n${title}\n| share | ms | where |\n| ---: | ---: | --- |`);
  for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit))
    console.log(`| ${((micros / total) * 100).toFixed(1)} % | ${(micros / 1000).toFixed(0)} | ${name} |`);
}
print('inclusive time by workspace package (it and everything it calls)', inclusiveByPackage, top);
print('self time by package or file', selfByPackage, top);
print('self time by function', selfByFunction, top);
