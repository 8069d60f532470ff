import { VersionConflictError } from '@sessionkit/core';
import type { ProfileStore } from './profile-store.js';
import type { SecurityProfile } from './security-profile.js';
import { emptyProfile } from './security-profile.js';

const MAX_ATTEMPTS = 10;

/** Read-modify-write under compare-and-set, retried; `change` returns undefined when there is nothing to write. */
export async function updateProfile(
  store: ProfileStore,
  userId: string,
  change: (profile: SecurityProfile) => SecurityProfile | undefined,
): Promise<void> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const current = await store.get(userId);
    const next = change(current?.profile ?? emptyProfile());
    if (next === undefined) return;
    if (await store.put(userId, next, current?.version ?? 0)) return;
  }
  throw new VersionConflictError(`Security profile of ${userId} kept changing; update given up`);
}
