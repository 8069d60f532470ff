import { expect, it } from 'vitest';
import { SessionKitError } from '../errors.js';
import { SessionManager } from '../session-manager.js';
import type { SessionStore } from '../store.js';

const SECRET = 'conformance-secret-0123456789abcdef';

function constructionCode(store: SessionStore, config: { secret?: string; ipHashKey?: string }): string {
  try {
    new SessionManager({ store, config });
    return 'started';
  } catch (error) {
    return error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`;
  }
}

/**
 * The `shared` capability as the engine detects it: a store that does not say `shared: false` is shared across
 * processes, and a manager on it without `secret` or `ipHashKey` must refuse to start.
 */
export function describeSharedCapability(store: () => SessionStore): void {
  it('declares `shared` as a boolean or not at all, and a manager refuses per-process keys on a shared store', () => {
    const shared = store().shared;
    expect(shared === undefined || typeof shared === 'boolean').toBe(true);
    expect(constructionCode(store(), {})).toBe(shared === false ? 'started' : 'config.secret_required');
    expect(constructionCode(store(), { secret: SECRET })).toBe('started');
    expect(constructionCode(store(), { ipHashKey: SECRET })).toBe('started');
  });
}
