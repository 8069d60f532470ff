import { StoreUnavailableError } from '@sessionkit/core';
import { asStoreUnavailable } from './degraded.js';

const TICK_MS = 10;

type Fail = (error: unknown) => void;

/**
 * Deadlines for hot-path store calls without a timer per call. Each pending call sits in the bucket of the
 * 10 ms tick it started in; one unref'd sweep per tick fails whatever is still pending in the bucket that
 * has reached the deadline, so a call gives up within `timeoutMs + 10` ms. A finished call clears its slot
 * at once, and buckets are short-lived, so the bookkeeping never outlives V8's young generation: kept
 * longer, it cost more GC than the Redis call itself. A timer per call (or ioredis' `commandTimeout`, which
 * arms one per command) cost more than the rest of the limiter's client-side work in the benchmark.
 * Every failure comes out as `store.unavailable`, with the driver's error as its cause.
 */
export class DeadlineWatch {
  readonly #timeoutMs: number;
  readonly #what: string;
  readonly #ticks: number;
  /** Oldest first; the last one takes new calls. */
  readonly #buckets: (Fail | undefined)[][] = [[]];
  #current: (Fail | undefined)[] = this.#buckets[0] ?? [];
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, what: string) {
    this.#timeoutMs = timeoutMs;
    this.#what = what;
    this.#ticks = Math.max(1, Math.ceil(timeoutMs / TICK_MS));
  }

  track<T>(work: Promise<T>): Promise<T> {
    return this.settle(
      work,
      (value) => value,
      (error) => Promise.reject(error),
    );
  }

  /**
   * `work.then(onValue, onError)` with the deadline folded in, in one promise: the hot path of the limiter.
   * Exactly one of the two callbacks runs, once.
   */
  settle<T, R>(
    work: Promise<T>,
    onValue: (value: T) => R | PromiseLike<R>,
    onError: (error: StoreUnavailableError) => R | PromiseLike<R>,
  ): Promise<R> {
    if (!this.#timer) this.#arm();
    const bucket = this.#current;
    const slot = bucket.length;
    this.#pending += 1;
    return new Promise<R>((resolve) => {
      const fail = (error: unknown) => {
        if (bucket[slot] !== fail) return;
        bucket[slot] = undefined;
        this.#pending -= 1;
        resolve(onError(asStoreUnavailable(error, this.#what)));
      };
      bucket.push(fail);
      work.then((value) => {
        if (bucket[slot] !== fail) return;
        bucket[slot] = undefined;
        this.#pending -= 1;
        resolve(onValue(value));
      }, fail);
    });
  }

  #arm(): void {
    this.#timer = setInterval(() => this.#sweep(), TICK_MS);
    this.#timer.unref();
  }

  #sweep(): void {
    this.#current = [];
    this.#buckets.push(this.#current);
    if (this.#buckets.length > this.#ticks + 1) {
      const overdue = this.#buckets.shift() ?? [];
      const error = new StoreUnavailableError(`${this.#what} did not answer within ${this.#timeoutMs} ms`);
      for (const fail of overdue) fail?.(error);
    }
    if (this.#pending === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#buckets.splice(0, this.#buckets.length, this.#current);
    }
  }
}
