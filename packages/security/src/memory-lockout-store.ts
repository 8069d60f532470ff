import { ExpiringCache } from '@sessionkit/core/store';
import { backoffDelayMs } from './lockout-policy.js';
import type { LockoutFailure, LockoutState, LockoutStore } from './lockout-store.js';

interface Entry {
  attempts: number;
  members: Map<string, number>;
  lockedUntil: number;
}

export class MemoryLockoutStore implements LockoutStore {
  readonly #entries: ExpiringCache<Entry>;

  constructor(options: { maxKeys?: number } = {}) {
    this.#entries = new ExpiringCache(options.maxKeys ?? 100_000);
  }

  async read(keys: readonly string[], now: number): Promise<LockoutState[]> {
    return keys.map((key) => {
      const entry = this.#entries.get(key, now);
      return entry
        ? { failures: count(entry), lockedUntil: entry.lockedUntil }
        : { failures: 0, lockedUntil: 0 };
    });
  }

  async fail(key: string, failure: LockoutFailure): Promise<LockoutState> {
    const { now, backoff, member } = failure;
    const entry = this.#entries.get(key, now) ?? { attempts: 0, members: new Map(), lockedUntil: 0 };
    if (member === undefined) {
      entry.attempts += 1;
    } else {
      entry.members.set(member, now);
      for (const [seen, at] of entry.members) if (at <= now - backoff.windowMs) entry.members.delete(seen);
    }
    const failures = count(entry);
    const delay = backoffDelayMs(failures, backoff, failure.jitterScale);
    if (delay > 0) entry.lockedUntil = Math.max(entry.lockedUntil, now + delay);
    this.#entries.set(key, entry, now + Math.max(backoff.windowMs, entry.lockedUntil - now));
    return { failures, lockedUntil: entry.lockedUntil };
  }

  async clear(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
  }
}

function count(entry: Entry): number {
  return entry.members.size > 0 ? entry.members.size : entry.attempts;
}
