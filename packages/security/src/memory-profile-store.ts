import { RecentMap } from '@sessionkit/core/store';
import type { ProfileStore, VersionedProfile } from './profile-store.js';
import type { SecurityProfile } from './security-profile.js';

/**
 * Embedded default (one process), for at most `maxUsers` users, the most recently active ones (see core's
 * `RecentMap`). Values are cloned in and out so callers never share mutable state.
 */
export class MemoryProfileStore implements ProfileStore {
  readonly #profiles: RecentMap<string, VersionedProfile>;

  constructor(options: { maxUsers?: number } = {}) {
    this.#profiles = new RecentMap(options.maxUsers ?? 100_000);
  }

  async get(userId: string): Promise<VersionedProfile | undefined> {
    const stored = this.#profiles.get(userId);
    return stored && structuredClone(stored);
  }

  async put(userId: string, profile: SecurityProfile, expectedVersion: number): Promise<boolean> {
    const stored = this.#profiles.get(userId);
    if ((stored?.version ?? 0) !== expectedVersion) return false;
    this.#profiles.set(userId, { profile: structuredClone(profile), version: expectedVersion + 1 });
    return true;
  }
}
