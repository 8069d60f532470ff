import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL 15 cluster of our own (initdb in a temporary directory, trust auth, loopback port), so fault
 * scripts can stop and restart it without touching the shared server on 5432. Runs as the postgres user.
 */
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

  /** The postmaster's process id, from its pid file: the root of the cluster's processes. */
  get postmasterPid(): number {
    return Number(readFileSync(join(this.#data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  start(): void {
    this.#run('pg_ctl', [
      '-D',
      this.#data,
      '-l',
      join(this.#directory, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  }

  /** `fast`: disconnects clients and shuts down cleanly; `immediate`: as after a crash (recovery on start). */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    try {
      this.#run('pg_ctl', ['-D', this.#data, '-m', mode, '-w', 'stop']);
    } catch {
      // already stopped
    }
  }

  destroy(): void {
    this.stop('immediate');
    rmSync(this.#directory, { recursive: true, force: true });
  }

  #run(tool: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args], { stdio: 'ignore' });
  }
}
