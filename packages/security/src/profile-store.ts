import type { SecurityProfile } from './security-profile.js';

export interface VersionedProfile {
  profile: SecurityProfile;
  /** Compare-and-set token; 0 means "no profile stored yet". */
  version: number;
}

/**
 * Where profiles live: Redis or SQL, so every app instance judges a request against the same history.
 * Writes are compare-and-set so two instances learning at once never lose each other's news.
 */
export interface ProfileStore {
  get(userId: string): Promise<VersionedProfile | undefined>;
  /** Writes if the stored version is still `expectedVersion`; false when another writer got there first. */
  put(userId: string, profile: SecurityProfile, expectedVersion: number): Promise<boolean>;
}
