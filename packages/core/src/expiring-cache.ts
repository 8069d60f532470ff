interface Entry<V> {
  readonly key: string;
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * A bounded map whose entries carry their own deadline, shed oldest insert first.
 *
 * The insertion order lives in an array of our own, read from a moving head, rather than in the `Map`'s own
 * order: a `Map` keeps deleted slots at its front until it rehashes, so reaching its oldest entry walks over
 * every entry deleted since (thousands of holes, µs per insert, in a full cache that sheds as it goes). A slot
 * whose entry has since been deleted or replaced is stale and is skipped for free.
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  /** Oldest first from `#head`; passed slots are cleared, so what they held can be collected at once. */
  #order: (Entry<V> | undefined)[] = [];
  #head = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * With `now`, also drops a couple of expired entries from the front: caches whose entries share one lifetime
   * (the denylist, the validation cache) then shrink as they age instead of sitting at their bound.
   */
  set(key: string, value: V, expiresAt: number, now?: number): void {
    if (this.#maxEntries <= 0) return;
    this.#entries.delete(key);
    if (now !== undefined) this.#dropExpiredFront(now);
    if (this.#entries.size >= this.#maxEntries) this.#evictOldest();
    const entry = { key, value, expiresAt };
    this.#entries.set(key, entry);
    this.#order.push(entry);
    this.#compact();
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#order = [];
    this.#head = 0;
  }

  #dropExpiredFront(now: number): void {
    let budget = 2;
    while (budget > 0) {
      const oldest = this.#oldest();
      if (!oldest || oldest.expiresAt > now) return;
      this.#entries.delete(oldest.key);
      this.#pass();
      budget -= 1;
    }
  }

  /** Drops the oldest tenth at once, so a full cache does not evict on every insert. */
  #evictOldest(): void {
    let excess = this.#entries.size - this.#maxEntries + 1 + Math.floor(this.#maxEntries / 10);
    while (excess > 0) {
      const oldest = this.#oldest();
      if (!oldest) return;
      this.#entries.delete(oldest.key);
      this.#pass();
      excess -= 1;
    }
  }

  /** The oldest live entry, at the head once the stale slots before it are passed. */
  #oldest(): Entry<V> | undefined {
    while (this.#head < this.#order.length) {
      const entry = this.#order[this.#head];
      if (entry !== undefined && this.#entries.get(entry.key) === entry) return entry;
      this.#pass();
    }
    return undefined;
  }

  #pass(): void {
    this.#order[this.#head] = undefined;
    this.#head += 1;
  }

  /**
   * Keeps the order array within a small multiple of the live entries. Passed slots are cut once they are half
   * the array; stale ones behind a long-lived head (keys set again and again) once they outnumber the live
   * entries twice over. Each cut is paid for by at least as many inserts before it.
   */
  #compact(): void {
    const length = this.#order.length;
    if (this.#head > 64 && this.#head * 2 > length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    } else if (length - this.#head > 64 + 3 * this.#entries.size) {
      this.#order = this.#order
        .slice(this.#head)
        .filter((entry) => entry !== undefined && this.#entries.get(entry.key) === entry);
      this.#head = 0;
    }
  }
}
