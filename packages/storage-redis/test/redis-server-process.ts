import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A redis-server this test run started on loopback, and stops again; never the shared server on 6379. */
export class RedisServerProcess {
  readonly port: number;
  readonly dir: string;
  readonly #extraArgs: string[];
  #child: ChildProcess | undefined;

  constructor(port: number, extraArgs: string[] = [], dir?: string) {
    if (port === 6379) throw new Error('Tests must never start or stop the shared Redis on 6379');
    this.port = port;
    this.#extraArgs = extraArgs;
    this.dir = dir ?? mkdtempSync(join(tmpdir(), `sk-redis-${port}-`));
  }

  /** Resolves once the server answers PING, or, with `untilLoading`, once it answers at all (even LOADING). */
  async start(extraArgs: string[] = [], untilLoading = false): Promise<void> {
    if (await answers(this.port, true)) throw new Error(`Port ${this.port} is already in use`);
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--appendonly',
      'no',
    ];
    const child = spawn('redis-server', [...args, ...this.#extraArgs, ...extraArgs], { stdio: 'ignore' });
    this.#child = child;
    const deadline = Date.now() + 10_000;
    while (!(await answers(this.port, untilLoading))) {
      if (child.exitCode !== null)
        throw new Error(`redis-server on ${this.port} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
      await sleep(20);
    }
  }

  /** Kills the process at once, as a crash or an operator would. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args]);
    return stdout.trim();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when a server on the port answers PING (or, with `orLoading`, says it is still loading). */
export async function answers(port: number, orLoading = false): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'ping'], { timeout: 2000 });
    return stdout.trim() === 'PONG' || (orLoading && stdout.includes('LOADING'));
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
