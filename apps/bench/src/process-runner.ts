import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const NODE_ARGS = ['--conditions=@sessionkit/source', '--import', 'tsx'];

/** Starts a TypeScript entry point in its own Node process, pinned to `cpu` with taskset when it exists. */
export function startPinned(cpu: number | undefined, script: string, args: string[]): ChildProcess {
  const command = cpu === undefined ? process.execPath : 'taskset';
  const commandArgs = [
    ...(cpu === undefined ? [] : ['-c', String(cpu), process.execPath]),
    ...NODE_ARGS,
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
