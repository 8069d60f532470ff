import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgresOptions {
  /** More server settings (`-c name=value`), e.g. `{ max_connections: '200' }`. */
  readonly settings?: Readonly<Record<string, string>>;
}

/**
 * A PostgreSQL 15 cluster of a test's (or a bench script's) own: initdb in a temporary directory, trust auth,
 * loopback port, its socket in that directory, so it can be stopped and restarted without touching the shared
 * server on 5432 or another run's cluster. The tools run as the postgres user.
 */
export class PrivatePostgres {
  readonly port: number;
  readonly url: string;
  readonly #directory: string;
  readonly #data: string;
  readonly #options: string;

  /** Runs initdb; `start()` starts the server. */
  constructor(port: number, options: PrivatePostgresOptions = {}) {
    if (port === 5432) throw new Error('Tests must never start or stop the shared PostgreSQL on 5432');
    this.port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    this.#directory = mkdtempSync(join(tmpdir(), `sk-pg-${port}-`));
    chmodSync(this.#directory, 0o777);
    this.#data = join(this.#directory, 'data');
    const settings = { listen_addresses: '127.0.0.1', fsync: 'off', ...options.settings };
    this.#options = [
      `-p ${port}`,
      `-k ${this.#directory}`,
      ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
    ].join(' ');
    this.#run('initdb', ['-D', this.#data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }

  static async onFreePort(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    return new PrivatePostgres(await freePort(), options);
  }

  /** The postmaster's process id, from its pid file: the root of the cluster's processes. */
  get postmasterPid(): number {
    return Number(readFileSync(join(this.#data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** Returns once the server accepts connections. */
  start(): void {
    this.#run('pg_ctl', [
      '-D',
      this.#data,
      '-l',
      join(this.#directory, 'log'),
      '-w',
      '-o',
      this.#options,
      'start',
    ]);
  }

  /**
   * `immediate` (the default): connections drop at once, as after a crash (recovery on the next start);
   * `fast`: clients are disconnected and the server shuts down cleanly, as in an operator's restart.
   */
  stop(mode: 'immediate' | 'fast' = 'immediate'): void {
    this.#run('pg_ctl', ['-D', this.#data, '-m', mode, '-w', 'stop']);
  }

  /** Stops the server if it runs and removes its directory; safe to call more than once. */
  destroy(): void {
    try {
      this.stop();
    } catch {
      // Not running (never started, or already stopped): nothing to stop.
    }
    rmSync(this.#directory, { recursive: true, force: true });
  }

  #run(tool: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args], { stdio: 'pipe' });
  }
}
