/**
 * A bounded map that keeps the recently used entries: two generations, the current one taking every write and
 * every hit, the previous one dropped whole when the current one fills. Evicting one oldest entry at a time
 * from a single Map looks cheaper but is not: a Map keeps deleted slots at its front until it rehashes, so
 * finding the oldest entry walks over them, and on a full cache of 200,000 entries that walk cost tens of
 * microseconds per insert. Here every operation is a lookup or two.
 *
 * It never holds more than `capacity` entries and always holds the most recent `capacity / 2` it was given or
 * asked for; 0 keeps nothing.
 */
export class RecentMap<K, V> {
  #current = new Map<K, V>();
  #previous = new Map<K, V>();
  readonly #generationSize: number;
  readonly #keepsPrevious: boolean;

  constructor(capacity: number) {
    this.#generationSize = capacity === 1 ? 1 : Math.floor(capacity / 2);
    this.#keepsPrevious = capacity >= 2;
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  get(key: K): V | undefined {
    const value = this.#current.get(key);
    if (value !== undefined) return value;
    const older = this.#previous.get(key);
    if (older !== undefined) {
      this.#previous.delete(key);
      this.#insert(key, older);
    }
    return older;
  }

  set(key: K, value: V): void {
    if (this.#generationSize === 0) return;
    if (this.#current.has(key)) {
      this.#current.set(key, value);
      return;
    }
    this.#previous.delete(key);
    this.#insert(key, value);
  }

  delete(key: K): void {
    if (!this.#current.delete(key)) this.#previous.delete(key);
  }

  clear(): void {
    if (this.size === 0) return;
    this.#current = new Map();
    this.#previous = new Map();
  }

  #insert(key: K, value: V): void {
    if (this.#current.size >= this.#generationSize) {
      this.#previous = this.#keepsPrevious ? this.#current : new Map();
      this.#current = new Map();
    }
    this.#current.set(key, value);
  }
}
