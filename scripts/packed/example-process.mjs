// One example program run with Node, as a user runs the compiled file: its output is kept for the failure
// report, "listening" on its output means it is ready, and a SIGTERM must end it with exit code 0.
import { spawn } from 'node:child_process';

export class ExampleProcess {
  output = '';
  #child;
  #exit;

  constructor(entry, { cwd, env }) {
    this.#child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => {
      this.output += chunk;
    };
    this.#child.stdout.on('data', keep);
    this.#child.stderr.on('data', keep);
    this.#exit = new Promise((resolve) =>
      this.#child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves once the program printed that it listens; rejects if it exits first or takes longer than `ms`. */
  listening(ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not print "listening" within ${ms} ms`)), ms);
      const check = () => {
        if (!/listening/.test(this.output)) return;
        clearTimeout(timer);
        this.#child.stdout.off('data', check);
        resolve();
      };
      this.#child.stdout.on('data', check);
      check();
      this.#exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`exited (code ${code}, signal ${signal}) before listening`));
      });
    });
  }

  /** SIGTERM, then a clean exit (code 0) within `ms`: servers closed, stores and connections released. */
  async stop(ms) {
    this.#child.kill('SIGTERM');
    await this.exited(ms, 'exit after SIGTERM');
  }

  async exited(ms, what) {
    let timer;
    const timeout = new Promise((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`did not ${what} within ${ms} ms`)), ms);
    });
    const { code, signal } = await Promise.race([this.#exit, timeout]).finally(() => clearTimeout(timer));
    if (code !== 0) throw new Error(`did not ${what} cleanly: code ${code}, signal ${signal}`);
  }

  kill() {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}
