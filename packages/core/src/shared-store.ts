import { SecretRequiredError } from './errors.js';
import type { SessionStore } from './store.js';

/**
 * Refuses per-process keys where other processes share the data: instances (and one instance across a restart)
 * must key IP hashes alike, or each would see every session's IP as changed and, under a `revoke` policy, end it.
 */
export function assertSharedKeys(
  store: Pick<SessionStore, 'shared'>,
  config: { secret?: string | undefined; ipHashKey?: string | undefined },
): void {
  if (store.shared === false) return;
  if (config.secret === undefined && config.ipHashKey === undefined) throw new SecretRequiredError();
}
