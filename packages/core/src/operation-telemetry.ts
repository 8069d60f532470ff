import { SessionKitError } from './errors.js';
import { sessionMetrics } from './session-metrics.js';
import type { SessionStore } from './store.js';
import type { TelemetryAttributes } from './telemetry.js';
import { recordSpan, secondsSince, telemetryOn, traced } from './telemetry.js';
import type { ValidatedSession } from './validated-session.js';

const SCOPE = '@sessionkit/core';

export type SessionOperation =
  | 'create'
  | 'refresh'
  | 'step_up'
  | 'revoke'
  | 'suspend'
  | 'resume'
  | 'transfer.create'
  | 'transfer.redeem'
  | 'cleanup';

type Tier = 'fast' | 'full';

/** A failure of the store (or a bug), not a verdict on the client's token. */
function isFault(error: unknown): boolean {
  return !(error instanceof SessionKitError) || error.code.startsWith('store.');
}

function tenantOf(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const found = result as { tenantId?: unknown; session?: { tenantId?: unknown } };
  const tenant = found.tenantId ?? found.session?.tenantId;
  return typeof tenant === 'string' ? tenant : undefined;
}

/**
 * Spans and metrics for one manager's operations: a span named `sessionkit.session.<operation>` around each, its
 * duration, and for validations the tier, the outcome and the fast tier's cache hits and misses.
 */
export class OperationTelemetry {
  readonly #store: string;

  constructor(store: SessionStore) {
    this.#store = store.constructor.name;
  }

  run<T>(
    operation: SessionOperation,
    fn: () => Promise<T>,
    attributes: TelemetryAttributes = {},
  ): Promise<T> {
    if (!telemetryOn()) return fn();
    const start = performance.now();
    const name = `sessionkit.session.${operation}`;
    return traced(SCOPE, name, { 'sessionkit.store': this.#store, ...attributes }, async (notes) => {
      try {
        const result = await fn();
        notes.set('sessionkit.tenant', tenantOf(result));
        notes.set('sessionkit.outcome', 'ok');
        this.#duration(operation, start, 'ok');
        return result;
      } catch (error) {
        notes.set('sessionkit.outcome', 'error');
        this.#duration(operation, start, 'error');
        throw error;
      }
    });
  }

  /**
   * Wraps the synchronous fast-tier probe: a hit is a whole validation, a miss is left to `validate`. Called only
   * while `telemetryOn()`: the manager asks first, so that a request without telemetry builds no closure.
   */
  fromCache(tier: Tier | undefined, fn: () => ValidatedSession | undefined): ValidatedSession | undefined {
    if (tier !== 'fast') return fn();
    const start = performance.now();
    let answer: ValidatedSession | undefined;
    try {
      answer = fn();
    } catch (error) {
      this.#answeredFromCache(start, 'invalid', error);
      throw error;
    }
    if (answer) this.#answeredFromCache(start, 'valid', undefined, answer.tenantId);
    return answer;
  }

  /** Wraps a validation past the local caches (a fast-tier miss, or the full tier); as `fromCache`, only while on. */
  validate(tier: Tier | undefined, fn: () => Promise<ValidatedSession>): Promise<ValidatedSession> {
    const start = performance.now();
    const chosen = tier ?? 'full';
    const cache = chosen === 'fast' ? 'miss' : undefined;
    const attributes = {
      'sessionkit.tier': chosen,
      'sessionkit.cache': cache,
      'sessionkit.store': this.#store,
    };
    return traced(SCOPE, 'sessionkit.session.validate', attributes, async (notes) => {
      try {
        const answer = await fn();
        notes.set('sessionkit.tenant', answer.tenantId);
        notes.set('sessionkit.outcome', 'valid');
        this.#count(chosen, cache, start, 'valid');
        return answer;
      } catch (error) {
        const outcome = isFault(error) ? 'error' : 'invalid';
        notes.set('sessionkit.outcome', outcome);
        this.#count(chosen, cache, start, outcome, error);
        throw error;
      }
    });
  }

  #answeredFromCache(start: number, outcome: string, error?: unknown, tenant?: string) {
    const attributes = {
      'sessionkit.tier': 'fast',
      'sessionkit.cache': 'hit',
      'sessionkit.store': this.#store,
      'sessionkit.tenant': tenant,
      'sessionkit.outcome': outcome,
      'error.type': error instanceof SessionKitError ? error.code : undefined,
    };
    recordSpan(SCOPE, 'sessionkit.session.validate', attributes, error !== undefined);
    this.#count('fast', 'hit', start, outcome, error);
  }

  /** One counter for validations and the fast tier's cache hits and misses: a metric record costs with an SDK. */
  #count(tier: Tier, cache: 'hit' | 'miss' | undefined, start: number, outcome: string, error?: unknown) {
    const code = error instanceof SessionKitError ? error.code : error === undefined ? undefined : 'internal';
    sessionMetrics.validations.add(1, {
      'sessionkit.tier': tier,
      'sessionkit.cache': cache,
      'sessionkit.outcome': outcome,
      'error.type': code,
    });
    sessionMetrics.operationDuration.record(secondsSince(start), {
      'sessionkit.operation': 'validate',
      'sessionkit.tier': tier,
      'sessionkit.outcome': outcome,
    });
  }

  #duration(operation: SessionOperation, start: number, outcome: string) {
    sessionMetrics.operationDuration.record(secondsSince(start), {
      'sessionkit.operation': operation,
      'sessionkit.outcome': outcome,
    });
  }
}
