import type { AccessTokenKeyRing } from './access-token.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { SessionConfig, SessionConfigInput } from './config.js';
import { parseSessionConfig } from './config.js';
import type { ContextAssessor } from './context-policy.js';
import { contextChangeAssessor } from './context-policy.js';
import type { DeviceKey } from './dbsc-binding.js';
import type { RevokedBy } from './events.js';
import { SessionEvents } from './events.js';
import { LocalSessionState } from './local-session-state.js';
import { hashSecret, newSecret } from './opaque-token.js';
import { OperationTelemetry } from './operation-telemetry.js';
import { reissuedRefresh } from './refresh-reissue.js';
import type { RequestContext } from './request-context.js';
import { requestContextSchema } from './request-context.js';
import { serverKeys } from './server-keys.js';
import { SessionAdministration } from './session-administration.js';
import { SessionDeviceBinding } from './session-device-binding.js';
import type { CreateSessionOptions, IssuedTokens } from './session-issuer.js';
import { SessionIssuer } from './session-issuer.js';
import { assertUsable, SessionLifecycle, stateError } from './session-lifecycle.js';
import type { Aal, SessionRecord } from './session-record.js';
import { aalSchema, expiresAt, isLive } from './session-record.js';
import type { RefreshResult } from './session-refresh.js';
import { SessionRefresh } from './session-refresh.js';
import type { RedeemTransferOptions, TransferMode } from './session-transfer.js';
import { SessionTransfer } from './session-transfer.js';
import type { ValidateOptions } from './session-validator.js';
import { SessionValidator } from './session-validator.js';
import type { SessionView } from './session-view.js';
import { toView } from './session-view.js';
import { assertSharedKeys } from './shared-store.js';
import type { SessionStore } from './store.js';
import { telemetryOn } from './telemetry.js';
import { tracedStore } from './traced-store.js';
import type { ValidatedSession } from './validated-session.js';
import { parseInput } from './zod-input.js';

/** Optional fields left undefined take their defaults, so callers may forward values they may not have. */
export interface SessionManagerOptions {
  store: SessionStore;
  config?: SessionConfigInput | undefined;
  clock?: Clock | undefined;
  /** Enables JWT access tokens; without it only opaque tokens are issued. */
  accessTokens?: AccessTokenKeyRing | undefined;
  /** Extra judges of request context (risk engines), applied after the configured context-change policy. */
  assessors?: ContextAssessor[] | undefined;
  events?: SessionEvents | undefined;
}

export interface SessionStats {
  active: number;
  suspended: number;
  revoked: number;
  expired: number;
}

interface ActionOptions {
  context?: RequestContext;
}

interface RevokeActionOptions extends ActionOptions {
  reason?: string;
  by?: RevokedBy;
}

/**
 * The session engine. Stateless apart from bounded local caches, so any number of instances can share one
 * store; revocations reach the other instances' caches through the store's invalidation feed. It is the write
 * side and the front: validation (the read path, on every request) is the SessionValidator's, over the
 * instance's LocalSessionState.
 */
export class SessionManager {
  readonly config: SessionConfig;
  readonly events: SessionEvents;
  readonly store: SessionStore;
  readonly accessTokens: AccessTokenKeyRing | undefined;
  /** The operator's side: listing across users, statistics, tenant-wide revocation, erasure. */
  readonly admin: SessionAdministration;
  readonly #clock: Clock;
  readonly #state: LocalSessionState;
  readonly #lifecycle: SessionLifecycle;
  readonly #validator: SessionValidator;
  readonly #issuer: SessionIssuer;
  readonly #refresh: SessionRefresh;
  readonly #transfer: SessionTransfer;
  readonly #binding: SessionDeviceBinding;
  readonly #telemetry: OperationTelemetry;

  constructor(options: SessionManagerOptions) {
    const config = parseSessionConfig(options.config ?? {});
    assertSharedKeys(options.store, config);
    const store = tracedStore(options.store);
    const clock = options.clock ?? systemClock;
    this.config = config;
    this.store = store;
    this.accessTokens = options.accessTokens;
    this.events = options.events ?? new SessionEvents();
    this.#clock = clock;
    this.#telemetry = new OperationTelemetry(options.store);
    const keys = serverKeys(config);
    const state = new LocalSessionState({ store, config, clock, ipHashKey: keys.ipHash });
    const lifecycle = new SessionLifecycle({ store, events: this.events, clock, state });
    const accessTokens = this.accessTokens;
    this.#state = state;
    this.#lifecycle = lifecycle;
    this.#validator = new SessionValidator({
      store,
      config,
      clock,
      accessTokens,
      assessors: [contextChangeAssessor(config.contextChange), ...(options.assessors ?? [])],
      state,
      lifecycle,
    });
    const refreshKey = keys.refreshMac;
    this.#issuer = new SessionIssuer({ store, config, clock, accessTokens, refreshKey, state, lifecycle });
    const issuer = this.#issuer;
    this.#refresh = new SessionRefresh({ store, config, clock, refreshKey, state, lifecycle, issuer });
    this.#transfer = new SessionTransfer({ config, clock, lifecycle, issuer });
    this.admin = new SessionAdministration({ store, clock, state, lifecycle });
    this.#binding = new SessionDeviceBinding({ store, clock, state, lifecycle });
  }

  /** Subscribes to the store's invalidation feed; call once at start-up, `close` ends it. */
  start(): Promise<void> {
    return this.#state.start();
  }

  close(): Promise<void> {
    return this.#state.close();
  }

  /** Tokens rejected because they named no session we issued or carried a wrong secret. */
  get rejectedTokenCount(): number {
    return this.#lifecycle.rejectedTokens;
  }

  hashIp(ip: string): string {
    return this.#state.hashIp(ip);
  }

  create(options: CreateSessionOptions): Promise<IssuedTokens> {
    return this.#telemetry.run('create', () => this.#issuer.create(options));
  }

  async validate(token: unknown, options?: ValidateOptions): Promise<ValidatedSession> {
    return this.validateFromCache(token, options) ?? this.validateUncached(token, options);
  }

  /**
   * The fast tier's answer from local state alone, synchronously: a JWT already verified (and not denied), or
   * an opaque token in the validation cache. `undefined` when only `validate` can answer (first sight of a
   * token, a cache miss, a malformed or denied token, or the full tier); the guards of `options` throw here as
   * they would there. Request handlers that find a session here skip a promise per request.
   */
  validateFromCache(token: unknown, options?: ValidateOptions): ValidatedSession | undefined {
    // Each request comes here: without an SDK, no closure and no wrapper, the path of an app without telemetry.
    if (!telemetryOn()) return this.#validator.validateFromCache(token, options);
    return this.#telemetry.fromCache(options?.tier, () => this.#validator.validateFromCache(token, options));
  }

  /**
   * `validate` less its first step, the `validateFromCache` probe: for a request handler that has just had
   * `undefined` from `validateFromCache` with the same token and options, so a miss is not probed twice.
   */
  validateUncached(token: unknown, options?: ValidateOptions): Promise<ValidatedSession> {
    if (!telemetryOn()) return this.#validator.validateUncached(token, options);
    return this.#telemetry.validate(options?.tier, () => this.#validator.validateUncached(token, options));
  }

  /** `dpopJkt`: the thumbprint of the request's verified DPoP proof (see DpopProofVerifier), if it had one. */
  refresh(refreshToken: unknown, options: ActionOptions & { dpopJkt?: string } = {}): Promise<RefreshResult> {
    return this.#telemetry.run('refresh', () => this.#refresh.refresh(refreshToken, options));
  }

  /**
   * Binds a live session to the device key its browser registered (Device Bound Session Credentials). Every
   * instance learns of it through the feed, so none keeps answering for the session without the bound cookie.
   */
  bindDevice(sessionId: string, key: DeviceKey): Promise<SessionView> {
    return this.#binding.bindDevice(sessionId, key);
  }

  /** The device key a session is bound to, read from the store; undefined when unbound or not live. */
  deviceKeyOf(sessionId: string): Promise<DeviceKey | undefined> {
    return this.#binding.deviceKeyOf(sessionId);
  }

  /**
   * Records that a request was refused for want of a valid proof of the session's key (`code`: `binding.required`,
   * `dpop.invalid_proof`, ...), as a `token.rejected` event: audit sinks see it like any rejected token.
   */
  bindingRejected(code: string, options: ActionOptions & { sessionId?: string | undefined } = {}): void {
    this.#binding.bindingRejected(code, options.context, options.sessionId);
  }

  /**
   * Raises the assurance level after the caller re-verified the user, and re-issues every credential of the
   * session: the old session token stops working at once (no fixation across a privilege change), the old
   * refresh token is retired (presenting it is reuse), and access tokens issued before are refused at every
   * tier. Whoever held the session's tokens before the step-up gains nothing from it.
   */
  stepUp(sessionId: string, options: ActionOptions & { aal: Aal }): Promise<IssuedTokens> {
    return this.#telemetry.run('step_up', () => this.#stepUp(sessionId, options));
  }

  async #stepUp(sessionId: string, options: ActionOptions & { aal: Aal }): Promise<IssuedTokens> {
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    const aal = parseInput(aalSchema, options.aal, 'assurance level');
    const secret = newSecret();
    const refreshSecret = newSecret();
    const now = this.#clock.now();
    let fromAal: number = aal;
    const session = await this.#lifecycle.mutate(sessionId, (record) => {
      assertUsable(record, now);
      fromAal = record.aal;
      return {
        ...record,
        aal: Math.max(record.aal, aal) as Aal,
        // Strictly later, even within one millisecond: the tokens issued before must fall below it.
        authenticatedAt: Math.max(now, record.authenticatedAt + 1),
        lastSeenAt: now,
        idleExpiresAt: Math.min(now + this.config.idleTimeoutMs, record.absoluteExpiresAt),
        secretHash: hashSecret(secret),
        ...(record.refresh === undefined
          ? {}
          : { refresh: reissuedRefresh(record.refresh, hashSecret(refreshSecret)) }),
      };
    });
    this.#state.raiseFloor(session.id, session.authenticatedAt, now);
    await this.#state.announceChanged(session, session.authenticatedAt);
    this.#lifecycle.emit({
      type: 'session.stepped_up',
      at: now,
      context: this.#lifecycle.eventContext(context),
      session: toView(session),
      fromAal,
      toAal: session.aal,
    });
    return this.#issuer.issue(
      session,
      secret,
      session.refresh === undefined
        ? undefined
        : { generation: session.refresh.generation, secret: refreshSecret },
    );
  }

  /** Revokes a session and every session descending from it; returns how many were revoked. */
  revoke(sessionId: string, options: RevokeActionOptions = {}): Promise<number> {
    return this.#telemetry.run('revoke', () => this.#revoke(sessionId, options));
  }

  async #revoke(sessionId: string, options: RevokeActionOptions): Promise<number> {
    const context = this.#lifecycle.eventContext(
      parseInput(requestContextSchema, options.context ?? {}, 'request context'),
    );
    const revoked = await this.#lifecycle.revokeTree(
      sessionId,
      options.reason ?? 'revoked',
      options.by ?? 'user',
      context,
    );
    return revoked.length;
  }

  revokeAllForUser(
    userId: string,
    options: RevokeActionOptions & { exceptId?: string; tenantId?: string } = {},
  ): Promise<number> {
    const tenant = { 'sessionkit.tenant': options.tenantId };
    return this.#telemetry.run('revoke', () => this.#revokeAllForUser(userId, options), tenant);
  }

  async #revokeAllForUser(
    userId: string,
    options: RevokeActionOptions & { exceptId?: string; tenantId?: string },
  ): Promise<number> {
    const context = this.#lifecycle.eventContext(
      parseInput(requestContextSchema, options.context ?? {}, 'request context'),
    );
    const now = this.#clock.now();
    const revoked = await this.store.revokeUser(userId, {
      reason: options.reason ?? 'revoked.all',
      now,
      ...(options.exceptId === undefined ? {} : { exceptId: options.exceptId }),
      ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
    });
    for (const session of revoked) {
      await this.#state.announceRevoked(session);
      this.#lifecycle.emit({
        type: 'session.revoked',
        at: now,
        context,
        session: toView(session),
        reason: session.revokeReason ?? 'revoked.all',
        by: options.by ?? 'user',
      });
    }
    return revoked.length;
  }

  async suspend(sessionId: string, options: ActionOptions = {}): Promise<SessionView> {
    return this.#telemetry.run('suspend', () => this.#setSuspended(sessionId, true, options));
  }

  async resume(sessionId: string, options: ActionOptions = {}): Promise<SessionView> {
    return this.#telemetry.run('resume', () => this.#setSuspended(sessionId, false, options));
  }

  async get(sessionId: string): Promise<SessionView | undefined> {
    const record = await this.store.get(sessionId);
    return record && this.#effectiveView(record, this.#clock.now());
  }

  /** A user's sessions, newest first, each with its effective state (an idle-expired one reads `expired`). */
  async list(userId: string, options: { tenantId?: string } = {}): Promise<SessionView[]> {
    const now = this.#clock.now();
    const records = await this.store.listByUser(userId, options);
    return records.map((record) => this.#effectiveView(record, now));
  }

  async stats(userId: string, options: { tenantId?: string } = {}): Promise<SessionStats> {
    const stats: SessionStats = { active: 0, suspended: 0, revoked: 0, expired: 0 };
    for (const session of await this.list(userId, options)) stats[session.state] += 1;
    return stats;
  }

  /**
   * Deletes expired records in bounded batches until none are left or `maxBatches` ran. A store that expires
   * records itself (no `deleteExpired`, e.g. RedisStore) has nothing to sweep: the answer is then 0.
   */
  cleanup(options: { batchSize?: number; maxBatches?: number } = {}): Promise<number> {
    return this.#telemetry.run('cleanup', () => this.#cleanup(options));
  }

  async #cleanup(options: { batchSize?: number; maxBatches?: number }): Promise<number> {
    const store = this.store;
    if (!store.deleteExpired) return 0;
    const batchSize = options.batchSize ?? 500;
    let total = 0;
    for (let batch = 0; batch < (options.maxBatches ?? 100); batch += 1) {
      const deleted = await store.deleteExpired({ now: this.#clock.now(), batchSize });
      total += deleted;
      if (deleted < batchSize) break;
    }
    return total;
  }

  /**
   * Mints a one-time code with which another device takes over (`takeover`: this session ends) or forks
   * (`fork`: a sibling is created) this session. Only one code is outstanding per session.
   */
  createTransferCode(
    sessionId: string,
    options: ActionOptions & { mode: TransferMode },
  ): Promise<{ code: string; expiresAt: number }> {
    return this.#telemetry.run('transfer.create', () => this.#transfer.createCode(sessionId, options));
  }

  /**
   * Redeems a transfer code on the new device. The new session's AAL is capped at 1 unless the caller has
   * re-verified the user and passes `reverifiedAal`.
   */
  redeemTransferCode(code: unknown, options: RedeemTransferOptions = {}): Promise<IssuedTokens> {
    return this.#telemetry.run('transfer.redeem', () => this.#transfer.redeem(code, options));
  }

  async #setSuspended(sessionId: string, suspended: boolean, options: ActionOptions) {
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    const now = this.#clock.now();
    const session = await this.#lifecycle.mutate(sessionId, (record) => {
      if (!isLive(record, now)) throw stateError(record, now);
      return { ...record, state: suspended ? 'suspended' : 'active' };
    });
    // Suspension must also stop access tokens, which only the denylist reaches. Other instances keep a
    // resumed session's access tokens denied until they expire: resuming errs on the safe side.
    if (suspended) {
      await this.#state.announceRevoked(session);
    } else {
      this.#state.allow(session.id);
      await this.#state.announceChanged(session);
    }
    this.#lifecycle.emit({
      type: suspended ? 'session.suspended' : 'session.resumed',
      at: now,
      context: this.#lifecycle.eventContext(context),
      session: toView(session),
    });
    return toView(session);
  }

  #effectiveView(record: SessionRecord, now: number): SessionView {
    const view = toView(record);
    const timedOut = record.state !== 'revoked' && expiresAt(record) <= now;
    return timedOut ? { ...view, state: 'expired' } : view;
  }
}
