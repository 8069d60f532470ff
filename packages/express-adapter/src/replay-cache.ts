/**
 * Remembers one-time identifiers (a logout token's `jti`) until they expire. Instances behind a load
 * balancer should share one (e.g. Redis `SET key 1 NX PXAT expiresAt`); the in-memory one covers a single
 * process.
 */
export interface ReplayCache {
  /** Records `key` and returns true, or returns false if it is already recorded and not yet expired. */
  claim(key: string, expiresAt: number): Promise<boolean>;
  /** Forgets `key` so that a retry of a request that failed after claiming it is not taken for a replay. */
  release(key: string): Promise<void>;
}

export class MemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async claim(key: string, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    const existing = this.#entries.get(key);
    if (existing !== undefined && existing > now) return false;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#evict(now);
    this.#entries.set(key, expiresAt);
    return true;
  }

  async release(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  /** Drops expired entries, then the oldest inserted ones, so memory stays bounded under a flood. */
  #evict(now: number): void {
    for (const [key, expiresAt] of this.#entries) if (expiresAt <= now) this.#entries.delete(key);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
