/**
 * Session id → user id, remembered in process. The mapping never changes (a session cannot change its user and
 * ids are never reused), so a cached entry is never stale: at worst it names a user whose record is gone, and the
 * record read then finds nothing. It saves the owner-pointer read, which keeps `get(id)` at one round trip.
 */
export class OwnerCache {
  readonly #entries = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(id: string): string | undefined {
    return this.#entries.get(id);
  }

  set(id: string, userId: string): void {
    if (this.#capacity === 0 || this.#entries.has(id)) return;
    // Map keeps insertion order, so the first key is the oldest entry.
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, userId);
  }
}
