import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A PostgreSQL 15 server of our own in a temporary directory, on a free port, so a test can stop and restart
 * it without touching the shared server on 5432 that other test files use at the same time.
 */
export class PrivatePostgres {
  readonly #dir: string;
  readonly port: number;

  private constructor(dir: string, port: number) {
    this.#dir = dir;
    this.port = port;
  }

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'sk-kysely-pg-'));
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
    const server = new PrivatePostgres(dir, await freePort());
    try {
      server.#asPostgres('initdb', ['-D', server.#data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
      server.#ctl('start');
    } catch (error) {
      server.stop();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get #data(): string {
    return join(this.#dir, 'data');
  }

  /** Fast shutdown: active connections are terminated, as in a real restart. */
  stopServer(): void {
    this.#asPostgres('pg_ctl', ['-D', this.#data, '-m', 'fast', '-w', 'stop']);
  }

  startServer(): void {
    this.#ctl('start');
  }

  /** Stops the server (if running) and removes its directory; safe to call more than once. */
  stop(): void {
    try {
      this.#asPostgres('pg_ctl', ['-D', this.#data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Not running (never started, or already stopped): nothing to stop.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #ctl(action: 'start'): void {
    this.#asPostgres('pg_ctl', [
      '-D',
      this.#data,
      '-o',
      `-p ${this.port} -k ${this.#dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-l',
      join(this.#dir, 'server.log'),
      '-w',
      action,
    ]);
  }

  #asPostgres(program: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, program), ...args], { stdio: 'pipe' });
  }
}
