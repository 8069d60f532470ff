import { SessionKitError } from './errors.js';
import { sessionMetrics } from './session-metrics.js';
import type { SessionStore } from './store.js';
import { errorType, secondsSince, telemetryInstalled, telemetryOn, traced } from './telemetry.js';

const SCOPE = '@sessionkit/core';
const UNTRACED = new Set(['close', 'health']);
const SYSTEMS: Record<string, string> = {
  RedisStore: 'redis',
  KyselyStore: 'postgresql',
  MemoryStore: 'memory',
};

/** Store failures, as opposed to verdicts the store hands back (`session.conflict`, ...). */
function isStoreFault(error: unknown): boolean {
  return !(error instanceof SessionKitError) || error.code.startsWith('store.');
}

/** Every property of `store`, own or inherited short of `Object.prototype`, nearest definition first. */
function membersOf(store: SessionStore): Map<string | symbol, PropertyDescriptor> {
  const members = new Map<string | symbol, PropertyDescriptor>();
  for (let at: object | null = store; at && at !== Object.prototype; at = Object.getPrototypeOf(at)) {
    for (const key of Reflect.ownKeys(at)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(at, key);
      if (descriptor && !members.has(key)) members.set(key, descriptor);
    }
  }
  return members;
}

/**
 * The store as the manager sees it: every method call (one Redis script or command, one SQL statement or
 * transaction) in a span `sessionkit.store.<method>`, timed into `db.client.operation.duration`. Without
 * `@opentelemetry/api` the store itself is returned. Optional capabilities stay detectable: a method the store
 * lacks is absent here too. A plain object of wrappers over the store (not a Proxy, whose trap every property read
 * would pay), so that with the API but no SDK a store call costs one extra call and one property read.
 */
export function tracedStore(store: SessionStore): SessionStore {
  if (!telemetryInstalled) return store;
  const kind = store.constructor.name;
  const system = SYSTEMS[kind] ?? kind.toLowerCase();
  const traceCall = (method: string, fn: (...args: unknown[]) => Promise<unknown>) => {
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
  // The store's prototype keeps `instanceof` true; every member is defined on the wrapper itself so that none
  // runs with the wrapper as `this` (private fields would throw).
  const wrapper: Record<string | symbol, unknown> = Object.create(
    Object.getPrototypeOf(store) as object | null,
  );
  for (const [name, descriptor] of membersOf(store)) {
    if (name === 'constructor') continue;
    const value: unknown = descriptor.value;
    if (typeof value !== 'function') {
      // A field or accessor (`feed`, a capability flag) is read and written through, so a later change shows.
      Object.defineProperty(wrapper, name, {
        get: () => Reflect.get(store, name),
        set: (next: unknown) => Reflect.set(store, name, next),
        enumerable: descriptor.enumerable ?? false,
      });
    } else if (typeof name === 'symbol' || UNTRACED.has(name)) {
      // `close` and `health` are not commands of a session operation.
      wrapper[name] = (value as (...args: unknown[]) => unknown).bind(store);
    } else {
      wrapper[name] = traceCall(name, value as (...args: unknown[]) => Promise<unknown>);
    }
  }
  return wrapper as unknown as SessionStore;
}
