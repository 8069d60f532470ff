import type { EventContext } from './request-context.js';
import type { SessionView } from './session-view.js';

export type RevokedBy = 'user' | 'admin' | 'policy' | 'system';

interface BaseEvent {
  at: number;
  context: EventContext;
}

interface SessionEventBase extends BaseEvent {
  session: SessionView;
}

export type SessionEvent =
  | (SessionEventBase & { type: 'session.created' })
  | (SessionEventBase & { type: 'session.validated_with_warning'; reasons: string[] })
  | (SessionEventBase & { type: 'session.refreshed'; generation: number })
  | (SessionEventBase & { type: 'session.stepped_up'; fromAal: number; toAal: number })
  | (SessionEventBase & { type: 'session.revoked'; reason: string; by: RevokedBy })
  | (SessionEventBase & { type: 'session.expired'; reason: 'idle' | 'absolute' })
  | (SessionEventBase & { type: 'session.evicted'; reason: 'limit.evicted' })
  | (SessionEventBase & { type: 'session.suspended' | 'session.resumed' })
  | (SessionEventBase & { type: 'session.transferred'; fromSessionId: string; mode: 'takeover' | 'fork' })
  | (SessionEventBase & { type: 'token.reuse_detected'; familyId: string })
  | (SessionEventBase & {
      type: 'session.context_changed';
      action: ContextAction;
      reasons: string[];
    })
  | (BaseEvent & { type: 'token.rejected'; reason: string; sessionId?: string });

export type SessionEventType = SessionEvent['type'];
export type ContextAction = 'allow' | 'flag' | 'step-up' | 'revoke';

export type SessionEventListener = (event: SessionEvent) => void;

/**
 * A small synchronous observer. A listener that throws is isolated: it never breaks the operation that
 * emitted the event, nor the listeners after it; its error goes to `onListenerError`.
 */
export class SessionEvents {
  readonly #listeners = new Set<SessionEventListener>();
  readonly #onListenerError: (error: unknown, event: SessionEvent) => void;

  constructor(onListenerError: (error: unknown, event: SessionEvent) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  subscribe(listener: SessionEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: SessionEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }
}
