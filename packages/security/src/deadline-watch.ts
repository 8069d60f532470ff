import { StoreUnavailableError } from '@sessionkit/core';
import { asStoreUnavailable } from './degraded.js';

const TICKS_PER_TIMEOUT = 4;

interface Pending {
  tick: number;
  reject: (error: unknown) => void;
}

/**
 * Deadlines for hot-path store calls without a timer per call: one unref'd sweep every `timeoutMs / 4`
 * rejects whatever has been pending for four sweeps, so a call gives up between 1 and 1.25 × `timeoutMs`.
 * A timer per call cost about a fifth of the limiter's throughput in the benchmark. Every failure comes out
 * as `store.unavailable`, with the driver's error as its cause.
 */
export class DeadlineWatch {
  readonly #timeoutMs: number;
  readonly #what: string;
  readonly #pending = new Set<Pending>();
  #tick = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, what: string) {
    this.#timeoutMs = timeoutMs;
    this.#what = what;
  }

  track<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { tick: this.#tick, reject };
      this.#pending.add(entry);
      if (!this.#timer) this.#arm();
      work.then(
        (value) => {
          this.#pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(entry);
          reject(asStoreUnavailable(error, this.#what));
        },
      );
    });
  }

  #arm(): void {
    this.#timer = setInterval(
      () => this.#sweep(),
      Math.max(1, Math.floor(this.#timeoutMs / TICKS_PER_TIMEOUT)),
    );
    this.#timer.unref();
  }

  #sweep(): void {
    this.#tick += 1;
    const overdue = this.#tick - TICKS_PER_TIMEOUT;
    for (const entry of this.#pending) {
      // Insertion order is age order: the first entry still in time ends the sweep.
      if (entry.tick > overdue) break;
      this.#pending.delete(entry);
      entry.reject(new StoreUnavailableError(`${this.#what} did not answer within ${this.#timeoutMs} ms`));
    }
    if (this.#pending.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
