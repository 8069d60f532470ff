import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Resolves once something accepts TCP connections on the port. */
async function listening(port: number, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} on ${port} did not start`);
}

/** A redis-server of the test's own on a loopback port, so the test can stop it without touching 6379. */
export class PrivateRedis {
  readonly port: number;
  readonly url: string;
  #process: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.#process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await listening(this.port, 'redis-server');
  }

  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A PostgreSQL 15 cluster of the test's own (initdb in a temporary directory, trust auth, loopback port). */
export class PrivatePostgres {
  readonly port: number;
  readonly url: string;
  readonly #directory: string;
  readonly #data: string;

  constructor(port: number) {
    this.port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    this.#directory = mkdtempSync(join(tmpdir(), `sk-pg-${port}-`));
    chmodSync(this.#directory, 0o777);
    this.#data = join(this.#directory, 'data');
    this.#run('initdb', ['-D', this.#data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }

  start(): void {
    const options = `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.#run('pg_ctl', ['-D', this.#data, '-l', join(this.#directory, 'log'), '-w', '-o', options, 'start']);
  }

  /** As after a crash: connections drop at once. */
  stop(): void {
    this.#run('pg_ctl', ['-D', this.#data, '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.#directory, { recursive: true, force: true });
  }

  #run(tool: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args], { stdio: 'ignore' });
  }
}
