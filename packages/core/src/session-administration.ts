import { z } from 'zod';
import type { Clock } from './clock.js';
import { StoreUnavailableError } from './errors.js';
import type { RevokedBy } from './events.js';
import type { LocalSessionState } from './local-session-state.js';
import type { RequestContext } from './request-context.js';
import { requestContextSchema } from './request-context.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import { effectiveState, sessionQuerySchema } from './session-query.js';
import type { SessionRecord } from './session-record.js';
import { isInUse, timestampSchema } from './session-record.js';
import type { SessionView } from './session-view.js';
import { toView } from './session-view.js';
import type { SessionQuery, SessionStore, StoreStats } from './store.js';
import { parseInput } from './zod-input.js';

/** `SessionQuery` as an operator gives it: the clock is the manager's, the page size has a default. */
export type SessionListQuery = Omit<SessionQuery, 'now' | 'limit'> & { limit?: number };

export interface SessionListPage {
  /** Each with its effective state: an idle-expired session reads `expired`. */
  sessions: SessionView[];
  nextCursor?: string;
}

export interface SessionStatistics extends StoreStats {
  tenantId?: string;
  from: number;
  to: number;
  /** The instant `live` and `expired` were counted at. */
  at: number;
}

export interface AdminRevokeOptions {
  reason?: string;
  by?: RevokedBy;
  context?: RequestContext;
}

const DAY = 86_400_000;
const statisticsSchema = z.object({
  tenantId: z.string().min(1).max(256).exactOptional(),
  from: timestampSchema.exactOptional(),
  to: timestampSchema.exactOptional(),
});

/**
 * The operator's side of the engine (`manager.admin`): listing across users, statistics, tenant-wide revocation
 * and erasure. Listing and statistics need the store's optional `listSessions` / `sessionStats`; without them
 * these answer `store.unavailable`.
 */
export class SessionAdministration {
  readonly #store: SessionStore;
  readonly #clock: Clock;
  readonly #state: LocalSessionState;
  readonly #lifecycle: SessionLifecycle;

  constructor(options: {
    store: SessionStore;
    clock: Clock;
    state: LocalSessionState;
    lifecycle: SessionLifecycle;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#state = options.state;
    this.#lifecycle = options.lifecycle;
  }

  /** Whether the store can list and count (the optional capability of the store contract). */
  get canList(): boolean {
    return this.#store.listSessions !== undefined && this.#store.sessionStats !== undefined;
  }

  /** One page of sessions across users, newest first; pass `nextCursor` back for the next. */
  async list(query: SessionListQuery = {}): Promise<SessionListPage> {
    const parsed = parseInput(
      sessionQuerySchema,
      { limit: 50, ...query, now: this.#clock.now() },
      'session query',
    );
    const page = await this.#listPage(parsed);
    const sessions = page.sessions.map((record) => this.view(record, parsed.now));
    return page.nextCursor === undefined ? { sessions } : { sessions, nextCursor: page.nextCursor };
  }

  /** Global, or one tenant's, counts; `created` and `revoked` over [from, to), by default the last 24 hours. */
  async statistics(
    query: { tenantId?: string; from?: number; to?: number } = {},
  ): Promise<SessionStatistics> {
    const parsed = parseInput(statisticsSchema, query, 'statistics query');
    const sessionStats = this.#store.sessionStats;
    if (!sessionStats) throw new StoreUnavailableError('This session store cannot count sessions');
    const at = this.#clock.now();
    // By default the window ends just after `at`, so a session created this millisecond counts.
    const to = parsed.to ?? at + 1;
    const from = parsed.from ?? to - DAY;
    const window = { from, to, now: at };
    const tenant = parsed.tenantId === undefined ? {} : { tenantId: parsed.tenantId };
    const stats = await sessionStats.call(this.#store, { ...window, ...tenant });
    return { ...tenant, from, to, at, ...stats };
  }

  /** Revokes every session of a tenant, user by user (each user's revocation is one atomic store step). */
  async revokeTenant(tenantId: string, options: AdminRevokeOptions = {}): Promise<number> {
    const tenant = parseInput(z.string().min(1).max(256), tenantId, 'tenant id');
    const context = this.#lifecycle.eventContext(
      parseInput(requestContextSchema, options.context ?? {}, 'request context'),
    );
    const reason = options.reason ?? 'revoked.tenant';
    const done = new Set<string>();
    let revoked = 0;
    let cursor: string | undefined;
    do {
      const now = this.#clock.now();
      const page = await this.#listPage({
        tenantId: tenant,
        limit: 500,
        now,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const record of page.sessions) {
        if (done.has(record.userId) || !isInUse(record.state)) continue;
        done.add(record.userId);
        const sessions = await this.#store.revokeUser(record.userId, { reason, now, tenantId: tenant });
        revoked += sessions.length;
        for (const session of sessions) await this.#announce(session, reason, options.by ?? 'admin', context);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return revoked;
  }

  /**
   * Data-subject erasure of what the store holds: revokes every session of the user (announced, so other
   * instances drop them at once), then deletes the records. Returns both counts.
   */
  async eraseUser(
    userId: string,
    options: AdminRevokeOptions = {},
  ): Promise<{ revoked: number; deleted: number }> {
    const user = parseInput(z.string().min(1).max(256), userId, 'user id');
    const deleteUser = this.#store.deleteUser;
    if (!deleteUser) throw new StoreUnavailableError('This session store cannot delete a user');
    const context = this.#lifecycle.eventContext(
      parseInput(requestContextSchema, options.context ?? {}, 'request context'),
    );
    const reason = options.reason ?? 'revoked.erasure';
    const sessions = await this.#store.revokeUser(user, { reason, now: this.#clock.now() });
    for (const session of sessions) await this.#announce(session, reason, options.by ?? 'admin', context);
    const deleted = await deleteUser.call(this.#store, user);
    return { revoked: sessions.length, deleted };
  }

  /** The operator's view of a record: its effective state at `now`. */
  view(record: SessionRecord, now: number = this.#clock.now()): SessionView {
    const view = toView(record);
    const state = effectiveState(record, now);
    return state === view.state ? view : { ...view, state };
  }

  #listPage(query: SessionQuery) {
    const listSessions = this.#store.listSessions;
    if (!listSessions) throw new StoreUnavailableError('This session store cannot list sessions');
    return listSessions.call(this.#store, query);
  }

  async #announce(
    session: SessionRecord,
    reason: string,
    by: RevokedBy,
    context: ReturnType<SessionLifecycle['eventContext']>,
  ) {
    await this.#state.announceRevoked(session);
    this.#lifecycle.emit({
      type: 'session.revoked',
      at: this.#clock.now(),
      context,
      session: toView(session),
      reason,
      by,
    });
  }
}
