import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL 15 cluster of the test's own (initdb in a temporary directory, trust auth, loopback port), so
 * the test can stop it without touching the shared server on 5432. Runs as the postgres user.
 */
export class PrivatePostgres {
  readonly port: number;
  readonly #directory: string;
  readonly #data: string;

  constructor(port: number) {
    this.port = port;
    this.#directory = mkdtempSync(join(tmpdir(), `sk-pg-${port}-`));
    chmodSync(this.#directory, 0o777);
    this.#data = join(this.#directory, 'data');
    this.#run('initdb', ['-D', this.#data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }

  start(): void {
    const options = `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.#run('pg_ctl', ['-D', this.#data, '-l', join(this.#directory, 'log'), '-w', '-o', options, 'start']);
  }

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
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args], { stdio: 'ignore' });
  }
}
