import { AccessTokenKeyRing } from '../src/access-token.js';
import { ManualClock } from '../src/clock.js';
import type { SessionConfigInput } from '../src/config.js';
import { SessionKitError } from '../src/errors.js';
import type { SessionEvent } from '../src/events.js';
import { MemoryStore } from '../src/memory-store.js';
import type { SessionManagerOptions } from '../src/session-manager.js';
import { SessionManager } from '../src/session-manager.js';

export interface Harness {
  clock: ManualClock;
  store: MemoryStore;
  manager: SessionManager;
  events: SessionEvent[];
}

export async function harness(
  config: SessionConfigInput = {},
  extra: Partial<SessionManagerOptions> & {
    withAccessTokens?: boolean;
    store?: MemoryStore;
    clock?: ManualClock;
  } = {},
): Promise<Harness> {
  const clock = extra.clock ?? new ManualClock(Date.UTC(2026, 5, 1));
  const store = extra.store ?? new MemoryStore({ now: () => clock.now() });
  const accessTokens = extra.withAccessTokens
    ? await AccessTokenKeyRing.generate({ issuer: 'test', audience: 'test', ttlMs: 300_000, clock })
    : extra.accessTokens;
  const manager = new SessionManager({
    store,
    clock,
    config: { ipHashKey: 'k'.repeat(32), ...config },
    ...(accessTokens === undefined ? {} : { accessTokens }),
    ...(extra.assessors === undefined ? {} : { assessors: extra.assessors }),
  });
  const events: SessionEvent[] = [];
  manager.events.subscribe((event) => events.push(event));
  await manager.start();
  return { clock, store, manager, events };
}

export function eventTypes(events: readonly SessionEvent[]): string[] {
  return events.map((event) => event.type);
}

/** The stable code a promise fails with ('resolved' if it does not): tests assert on codes, never on messages. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`;
  }
}
