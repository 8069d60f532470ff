import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Children load the built packages (dist), as an application installed from npm does; only the bench's own
 * TypeScript goes through tsx. The same packages as TypeScript sources through tsx cost 10-15 % more per request.
 */
export const CHILD_NODE_ARGS = ['--import', 'tsx'];
const NODE_ARGS = CHILD_NODE_ARGS;

const PACKAGES = new URL('../../../packages/', import.meta.url).pathname;

/** Refuses to measure a stale build: every package's dist must be newer than its newest source file. */
export function assertPackagesBuilt(): void {
  for (const name of readdirSync(PACKAGES)) {
    const built = join(PACKAGES, name, 'dist', 'index.js');
    const builtAt = (() => {
      try {
        return statSync(built).mtimeMs;
      } catch {
        return 0;
      }
    })();
    if (builtAt < newestMtime(join(PACKAGES, name, 'src'))) {
      throw new Error(`packages/${name} is not built or its build is stale: run \`pnpm build\` first`);
    }
  }
}

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Starts a TypeScript entry point in its own Node process, pinned to `cpu` with taskset when it exists. */
export function startPinned(
  cpu: number | undefined,
  script: string,
  args: string[],
  nodeArgs: string[] = [],
): ChildProcess {
  const command = cpu === undefined ? process.execPath : 'taskset';
  const commandArgs = [
    ...(cpu === undefined ? [] : ['-c', String(cpu), process.execPath]),
    ...NODE_ARGS,
    ...nodeArgs,
    script,
    ...args,
  ];
  return spawn(command, commandArgs, {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** The first line a child prints, parsed as JSON; rejects if it exits or stays silent past the timeout. */
export function firstJsonLine<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const stdout = child.stdout;
    if (!stdout) throw new Error('child has no stdout');
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before answering`));
    });
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
