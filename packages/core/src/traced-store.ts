import { SessionKitError } from './errors.js';
import { sessionMetrics } from './session-metrics.js';
import type { SessionStore } from './store.js';
import { errorType, secondsSince, telemetryInstalled, telemetryOn, traced } from './telemetry.js';

const SCOPE = '@sessionkit/core';
const UNTRACED = new Set(['close', 'health', 'constructor']);
const SYSTEMS: Record<string, string> = {
  RedisStore: 'redis',
  KyselyStore: 'postgresql',
  MemoryStore: 'memory',
};

/** Store failures, as opposed to verdicts the store hands back (`session.conflict`, ...). */
function isStoreFault(error: unknown): boolean {
  return !(error instanceof SessionKitError) || error.code.startsWith('store.');
}

/**
 * The store as the manager sees it: every method call (one Redis script or command, one SQL statement or
 * transaction) in a span `sessionkit.store.<method>`, timed into `db.client.operation.duration`. Without
 * `@opentelemetry/api` the store itself is returned. Optional capabilities stay detectable: a method the store
 * lacks is absent here too.
 */
export function tracedStore(store: SessionStore): SessionStore {
  if (!telemetryInstalled) return store;
  const kind = store.constructor.name;
  const system = SYSTEMS[kind] ?? kind.toLowerCase();
  const wrapped = new Map<PropertyKey, unknown>();
  const wrap = (method: string, fn: (...args: unknown[]) => Promise<unknown>) => {
    const base = { 'db.system.name': system, 'db.operation.name': method };
    return (...args: unknown[]) => {
      if (!telemetryOn()) return fn.apply(store, args);
      const start = performance.now();
      return traced(SCOPE, `sessionkit.store.${method}`, { ...base, 'sessionkit.store': kind }, async () => {
        try {
          const result = await fn.apply(store, args);
          sessionMetrics.storeDuration.record(secondsSince(start), base);
          return result;
        } catch (error) {
          const failed = { ...base, 'error.type': errorType(error) };
          sessionMetrics.storeDuration.record(secondsSince(start), failed);
          if (isStoreFault(error)) sessionMetrics.storeErrors.add(1, failed);
          if (error instanceof SessionKitError && error.details.timeoutMs !== undefined)
            sessionMetrics.storeTimeouts.add(1, base);
          throw error;
        }
      });
    };
  };
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      // `close` and `health` are not commands of a session operation; `feed` is no method.
      if (typeof value !== 'function' || typeof property !== 'string' || UNTRACED.has(property)) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      let found = wrapped.get(property);
      if (!found) {
        found = wrap(property, value as (...args: unknown[]) => Promise<unknown>);
        wrapped.set(property, found);
      }
      return found;
    },
  });
}
