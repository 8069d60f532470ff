import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { sleep } from './sleep.js';

const run = promisify(execFile);

/** How long a start may take on a machine running two test suites at once. */
const START_DEADLINE_MS = 30_000;

export interface PrivateRedisOptions {
  /** More `redis-server` arguments, after the defaults (port, loopback bind, data directory, persistence). */
  readonly args?: readonly string[];
  /** The data directory; a fresh temporary one (removed by `destroy`) when absent. */
  readonly dir?: string;
  /** Append-only persistence (fsync every second), so data outlives a stop as on a production Redis. */
  readonly appendOnly?: boolean;
}

export interface StartOptions {
  /** Arguments for this start only. */
  readonly args?: readonly string[];
  /** Resolve once the server answers at all, even `-LOADING`, rather than only once it answers PONG. */
  readonly untilLoading?: boolean;
}

/**
 * A redis-server a test (or a bench script) starts on loopback and stops, pauses or kills again; never the
 * shared server on 6379. `PrivateRedis.onFreePort()` puts it on a port the OS just handed out.
 */
export class PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly #ownsDir: boolean;
  readonly #args: readonly string[];
  #child: ChildProcess | undefined;

  constructor(port: number, options: PrivateRedisOptions = {}) {
    if (port === 6379) throw new Error('Tests must never start or stop the shared Redis on 6379');
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#ownsDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), `sk-redis-${port}-`));
    const persistence = options.appendOnly
      ? ['--appendonly', 'yes', '--appendfsync', 'everysec']
      : ['--appendonly', 'no'];
    this.#args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      ...persistence,
      ...(options.args ?? []),
    ];
  }

  static async onFreePort(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    return new PrivateRedis(await freePort(), options);
  }

  /** Resolves once the server answers PING (or, with `untilLoading`, once it answers at all). */
  async start(options: StartOptions = {}): Promise<void> {
    if (await redisAnswers(this.port, true)) throw new Error(`Port ${this.port} is already in use`);
    const child = spawn('redis-server', [...this.#args, ...(options.args ?? [])], { stdio: 'ignore' });
    this.#child = child;
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!(await redisAnswers(this.port, options.untilLoading ?? false))) {
      if (child.exitCode !== null)
        throw new Error(`redis-server on ${this.port} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
      await sleep(20);
    }
  }

  /**
   * `SIGKILL` (the default) drops it at once, as a crash would; `SIGTERM` lets Redis flush its append-only file
   * and exit, as an operator's stop would (killed after 5 s if it has not).
   */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = signal === 'SIGTERM' ? setTimeout(() => child.kill('SIGKILL'), 5000) : undefined;
    await exited;
    clearTimeout(timer);
  }

  /** Freezes the process (SIGSTOP): connections stay open and nothing answers, as on a hung server. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** One `redis-cli` command against this server; its trimmed output. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args]);
    return stdout.trim();
  }

  /** Stops it (see `stop`) and removes the data directory it created. */
  async destroy(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    if (this.#ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * True when a Redis on the port answers PING with PONG (or, with `orLoading`, says it is still loading). Speaks
 * RESP over a plain socket rather than spawning redis-cli, which costs a process per probe on a loaded machine.
 */
export function redisAnswers(port: number, orLoading = false): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      done(reply.startsWith('+PONG') || (orLoading && reply.startsWith('-LOADING')));
    });
  });
}
