/**
 * In-process mutual exclusion per chain. A caller queues behind every earlier caller that holds any of its
 * chains; registration happens synchronously, so there is no window for two callers to pass each other.
 */
export class ChainLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(chains: readonly string[], work: () => Promise<T>): Promise<T> {
    const keys = [...new Set(chains)];
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const earlier = keys.map((key) => this.#tails.get(key));
    for (const key of keys) this.#tails.set(key, done);
    try {
      await Promise.all(earlier);
      return await work();
    } finally {
      release();
      for (const key of keys) if (this.#tails.get(key) === done) this.#tails.delete(key);
    }
  }
}
