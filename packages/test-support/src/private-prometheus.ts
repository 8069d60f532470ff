import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';

/** Debian's Prometheus on a loopback port, scraping one target every second, its data in a temporary directory. */
export class PrivatePrometheus {
  readonly url: string;
  readonly #port: number;
  readonly #target: string;
  readonly #directory = mkdtempSync(join(tmpdir(), 'sk-prometheus-'));
  #process: ChildProcess | undefined;

  constructor(port: number, target: string) {
    if (!existsSync(PROMETHEUS)) {
      throw new Error(
        `Prometheus is missing at ${PROMETHEUS}: run scripts/test-prerequisites.sh (apt-get install prometheus)`,
      );
    }
    this.#port = port;
    this.#target = target;
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const config = join(this.#directory, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: reference',
        '    static_configs:',
        `      - targets: ['${this.#target}']`,
        '',
      ].join('\n'),
    );
    this.#process = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(this.#directory, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.#port}`,
      ],
      { stdio: 'ignore' },
    );
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const ready = await fetch(`${this.url}/-/ready`).then(
        (answer) => answer.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`prometheus on ${this.#port} did not become ready`);
  }

  /** One instant query through the HTTP API: each series' labels and value. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const answer = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const body = (await answer.json()) as {
      status: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`query failed: ${JSON.stringify(body)}`);
    return body.data.result.map((series) => ({ metric: series.metric, value: Number(series.value[1]) }));
  }

  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.#directory, { recursive: true, force: true });
  }
}
