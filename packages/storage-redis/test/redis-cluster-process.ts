import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, PrivateRedis, sleep } from '@sessionkit/test-support';

const run = promisify(execFile);

/**
 * A real Redis Cluster of masters without replicas on loopback, started and stopped by the test run, on ports
 * the OS hands out (client and cluster-bus ports alike: the default bus port, port + 10000, may be taken).
 */
export class RedisClusterProcess {
  readonly ports: readonly number[];
  readonly #dir = mkdtempSync(join(tmpdir(), 'sk-redis-cluster-'));
  readonly #nodes: PrivateRedis[];

  private constructor(ports: readonly number[], busPorts: readonly number[]) {
    this.ports = ports;
    this.#nodes = ports.map(
      (port, index) =>
        new PrivateRedis(port, {
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPorts[index]),
            '--cluster-config-file',
            join(this.#dir, `nodes-${port}.conf`),
            '--save',
            '',
          ],
          dir: this.#dir,
        }),
    );
  }

  static async onFreePorts(masters: number): Promise<RedisClusterProcess> {
    const ports = await freePorts(masters * 2);
    return new RedisClusterProcess(ports.slice(0, masters), ports.slice(masters));
  }

  async start(): Promise<void> {
    for (const node of this.#nodes) await node.start();
    const addresses = this.ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 20_000;
    while (!(await this.#allOk())) {
      if (Date.now() > deadline) throw new Error('Redis Cluster did not reach cluster_state:ok');
      await sleep(100);
    }
  }

  /** Stops every node it started, whatever state the start reached. */
  async stop(): Promise<void> {
    for (const node of this.#nodes) await node.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
    return stdout.trim();
  }

  async #allOk(): Promise<boolean> {
    const infos = await Promise.all(this.ports.map((port) => this.cli(port, 'cluster', 'info')));
    return infos.every((info) => info.includes('cluster_state:ok'));
  }
}
