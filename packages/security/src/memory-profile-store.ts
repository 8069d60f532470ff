import type { ProfileStore, VersionedProfile } from './profile-store.js';
import type { SecurityProfile } from './security-profile.js';

/** Embedded default (one process). Values are cloned in and out so callers never share mutable state. */
export class MemoryProfileStore implements ProfileStore {
  readonly #profiles = new Map<string, VersionedProfile>();
  readonly #maxUsers: number;

  constructor(options: { maxUsers?: number } = {}) {
    this.#maxUsers = options.maxUsers ?? 100_000;
  }

  async get(userId: string): Promise<VersionedProfile | undefined> {
    const stored = this.#profiles.get(userId);
    return stored && structuredClone(stored);
  }

  async put(userId: string, profile: SecurityProfile, expectedVersion: number): Promise<boolean> {
    const stored = this.#profiles.get(userId);
    if ((stored?.version ?? 0) !== expectedVersion) return false;
    this.#profiles.delete(userId);
    if (this.#profiles.size >= this.#maxUsers) {
      const oldest = this.#profiles.keys().next();
      if (!oldest.done) this.#profiles.delete(oldest.value);
    }
    this.#profiles.set(userId, { profile: structuredClone(profile), version: expectedVersion + 1 });
    return true;
  }
}
