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

const shared = new WeakMap<object, ChainLocks>();

/**
 * The locks of one database handle, shared by every ledger and retention job built on it: single-connection
 * drivers (PGlite) interleave transactions on their one connection, where row locks cannot separate them.
 */
export function chainLocksFor(handle: object): ChainLocks {
  let locks = shared.get(handle);
  if (!locks) {
    locks = new ChainLocks();
    shared.set(handle, locks);
  }
  return locks;
}
