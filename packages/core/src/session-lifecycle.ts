import type { Clock } from './clock.js';
import type { SessionKitError } from './errors.js';
import {
  InvalidTokenError,
  SessionExpiredError,
  SessionNotFoundError,
  SessionRevokedError,
  SessionSuspendedError,
  VersionConflictError,
} from './errors.js';
import type { RevokedBy, SessionEvent, SessionEvents } from './events.js';
import type { LocalSessionState } from './local-session-state.js';
import type { EventContext, RequestContext } from './request-context.js';
import { recordSessionEvent } from './session-metrics.js';
import type { SessionRecord } from './session-record.js';
import { isLive } from './session-record.js';
import { toView } from './session-view.js';
import type { SessionStore } from './store.js';

const MAX_CAS_ATTEMPTS = 5;

/** The typed error for a session that cannot be used: revoked, suspended, or expired (by state or by time). */
export function stateError(record: SessionRecord, now: number): SessionKitError {
  if (record.state === 'revoked') return new SessionRevokedError();
  if (record.state === 'suspended' && isLive(record, now)) return new SessionSuspendedError();
  return new SessionExpiredError();
}

export function assertUsable(record: SessionRecord, now: number): void {
  if (record.state === 'active' && isLive(record, now)) return;
  throw stateError(record, now);
}

/**
 * The steps both speeds share: the read path ends sessions too (a context rejected, a parent gone, a demotion
 * under compare-and-set), so writing, revoking, announcing and reporting live here, once, for it and the manager.
 */
export class SessionLifecycle {
  readonly #store: SessionStore;
  readonly #events: SessionEvents;
  readonly #clock: Clock;
  readonly #state: LocalSessionState;
  #rejectedTokens = 0;

  constructor(options: {
    store: SessionStore;
    events: SessionEvents;
    clock: Clock;
    state: LocalSessionState;
  }) {
    this.#store = options.store;
    this.#events = options.events;
    this.#clock = options.clock;
    this.#state = options.state;
  }

  /** Tokens rejected because they named no session we issued or carried a wrong secret. */
  get rejectedTokens(): number {
    return this.#rejectedTokens;
  }

  /** Counts a token rejected where no event is due (an access token whose signature failed). */
  countRejected(): void {
    this.#rejectedTokens += 1;
  }

  emit(event: SessionEvent): void {
    recordSessionEvent(event);
    this.#events.emit(event);
  }

  eventContext(context: RequestContext): EventContext {
    return {
      ...(context.ip === undefined ? {} : { ipHash: this.#state.hashIp(context.ip) }),
      ...(context.userAgent === undefined ? {} : { userAgent: context.userAgent }),
      ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
    };
  }

  /** Runs a token parser; a malformed token is counted and reported like any rejected one. */
  parse<T>(parse: () => T, context: RequestContext): T {
    try {
      return parse();
    } catch (error) {
      throw this.reject(context, 'token.malformed', undefined, error);
    }
  }

  /** Counts and reports a token that names nothing we issued (strict mode); the caller throws the result. */
  reject(context: RequestContext, reason: string, sessionId?: string, cause?: unknown): InvalidTokenError {
    this.#rejectedTokens += 1;
    this.emit({
      type: 'token.rejected',
      at: this.#clock.now(),
      context: this.eventContext(context),
      reason,
      ...(sessionId === undefined ? {} : { sessionId }),
    });
    return cause instanceof InvalidTokenError ? cause : new InvalidTokenError();
  }

  /** Read-modify-write under compare-and-set, retried when another writer got there first. */
  async mutate(
    sessionId: string,
    change: (record: SessionRecord) => SessionRecord,
    attempts = MAX_CAS_ATTEMPTS,
  ): Promise<SessionRecord> {
    for (let attempt = 1; ; attempt += 1) {
      const record = await this.#store.get(sessionId);
      if (!record) throw new SessionNotFoundError();
      try {
        return await this.#store.update(change(record), record.version);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= attempts) throw error;
      }
    }
  }

  async revokeTree(
    sessionId: string,
    reason: string,
    by: RevokedBy,
    context: EventContext,
  ): Promise<SessionRecord[]> {
    const now = this.#clock.now();
    const revoked = await this.#store.revokeTree(sessionId, { reason, now });
    for (const session of revoked) {
      await this.#state.announceRevoked(session);
      this.emit({ type: 'session.revoked', at: now, context, session: toView(session), reason, by });
    }
    return revoked;
  }
}
