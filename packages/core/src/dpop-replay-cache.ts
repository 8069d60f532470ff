import { StoreUnavailableError } from './errors.js';

/**
 * Where DPoP proof identifiers are remembered until their proofs could no longer pass the `iat` check anyway
 * (RFC 9449 §11.1). Instances behind one load balancer must share one, or a proof replayed to another instance
 * passes: the Redis and SQL implementations live in their store packages.
 */
export interface DpopReplayCache {
  /**
   * Remembers `key` until `expiresAt` (epoch ms) and answers true, or answers false when `key` is remembered
   * already: the one atomic step that tells a first use from a replay. Throws `store.unavailable` when it
   * cannot tell; callers then refuse the proof (fail closed).
   */
  claimOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
}

/**
 * The replay cache of a single process. Entries leave when their proofs expire; when `maxEntries` live ones are
 * held it refuses further proofs rather than forget one early, which would let that proof be replayed.
 */
export class MemoryDpopReplayCache implements DpopReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  async claimOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    const known = this.#entries.get(key);
    if (known !== undefined && known > now) return false;
    if (known === undefined && this.#entries.size >= this.#maxEntries) this.#sweep(now);
    if (known === undefined && this.#entries.size >= this.#maxEntries) {
      throw new StoreUnavailableError('DPoP replay cache is full');
    }
    this.#entries.set(key, expiresAt);
    return true;
  }

  #sweep(now: number): void {
    for (const [key, expiresAt] of this.#entries) if (expiresAt <= now) this.#entries.delete(key);
  }
}
