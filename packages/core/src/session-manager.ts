import { z } from 'zod';
import type { AccessTokenClaims, AccessTokenKeyRing } from './access-token.js';
import { looksLikeJwt } from './access-token.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { SessionConfig, SessionConfigInput } from './config.js';
import { parseSessionConfig } from './config.js';
import type { ContextAssessment, ContextAssessmentInput, ContextAssessor } from './context-policy.js';
import { combineAssessments, contextChangeAssessor } from './context-policy.js';
import { CredentialFloor } from './credential-floor.js';
import { deepFreeze } from './deep-freeze.js';
import {
  AalInsufficientError,
  AuthStaleError,
  ContextRejectedError,
  InvalidTokenError,
  SessionExpiredError,
  SessionKitError,
  SessionNotFoundError,
  SessionRevokedError,
  SessionSuspendedError,
  TokenReuseDetectedError,
  TransferInvalidError,
  VersionConflictError,
} from './errors.js';
import type { RevokedBy, SessionEvent } from './events.js';
import { SessionEvents } from './events.js';
import { ExpiringCache } from './expiring-cache.js';
import {
  formatToken,
  hashSecret,
  newSecret,
  newSessionId,
  parseToken,
  tryParseToken,
} from './opaque-token.js';
import { reissuedRefresh } from './refresh-reissue.js';
import type { EventContext, RequestContext } from './request-context.js';
import { requestContextSchema } from './request-context.js';
import type { Aal, JsonValue, SessionRecord } from './session-record.js';
import { aalSchema, expiresAt, isLive, metadataSchema, sessionIdSchema } from './session-record.js';
import type { SessionView } from './session-view.js';
import { toView } from './session-view.js';
import type { SessionStore } from './store.js';
import { digestsEqual, hmacSha256, randomToken, seal, unseal } from './token-crypto.js';
import { parseInput } from './zod-input.js';

export interface SessionManagerOptions {
  store: SessionStore;
  config?: SessionConfigInput;
  clock?: Clock;
  /** Enables JWT access tokens; without it only opaque tokens are issued. */
  accessTokens?: AccessTokenKeyRing;
  /** Extra judges of request context (risk engines), applied after the configured context-change policy. */
  assessors?: ContextAssessor[];
  events?: SessionEvents;
}

const createInputSchema = z.object({
  userId: z.string().min(1).max(256),
  tenantId: z.string().min(1).max(256).optional(),
  aal: aalSchema.default(1),
  authenticatedAt: z.number().int().nonnegative().optional(),
  parentId: sessionIdSchema.optional(),
  deviceLabel: z.string().max(200).optional(),
  metadata: metadataSchema.default({}),
  context: requestContextSchema.default({}),
});
export type CreateSessionOptions = z.input<typeof createInputSchema> & {
  metadata?: Record<string, JsonValue>;
};

export interface IssuedTokens {
  session: SessionView;
  /** The session token `<id>.<secret>`; shown once, never stored. */
  token: string;
  refreshToken?: string;
  accessToken?: string;
  accessTokenExpiresAt?: number;
  expiresAt: number;
}

export interface ValidateOptions {
  /** `fast`: access-token signature, local caches and denylist. `full`: the store, timeouts and context. */
  tier?: 'fast' | 'full';
  context?: RequestContext;
  requiredAal?: Aal;
  /** Requires `authenticatedAt` within this many ms (step-up for sensitive actions). */
  maxAuthAgeMs?: number;
}

/**
 * The answer of a validation, read-only: answers for unchanged inputs (a verified token, a stored record the
 * store shares) are built once and shared, deeply frozen, between the requests that present them.
 */
export interface ValidatedSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly tenantId?: string;
  readonly aal: Aal;
  readonly authenticatedAt: number;
  readonly expiresAt: number;
  readonly source: 'access-token' | 'cache' | 'store';
  /** Present when the store (or the local copy of it) was read. */
  readonly session?: SessionView;
  readonly warnings: readonly string[];
}

export interface RefreshResult {
  session: SessionView;
  refreshToken: string;
  accessToken?: string;
  accessTokenExpiresAt?: number;
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

const MAX_PARENT_DEPTH = 8;
const MAX_CAS_ATTEMPTS = 5;
// Distinct client IPs whose keyed hash is kept: hashing is an HMAC, and the same few IPs validate all day.
const IP_HASH_MEMO_ENTRIES = 4096;

/** Inside the signature of either algorithm we sign with (86 characters each), and unique enough to key on. */
function signatureTail(token: string): string {
  return token.slice(-22);
}

/** The fast tier's answer for a verified access token: its claims, no store read. */
function accessTokenResult(claims: AccessTokenClaims): ValidatedSession {
  return {
    sessionId: claims.sid,
    userId: claims.sub,
    ...(claims.tenantId === undefined ? {} : { tenantId: claims.tenantId }),
    aal: claims.aal,
    authenticatedAt: claims.authenticatedAt ?? claims.authTime * 1000,
    expiresAt: claims.exp * 1000,
    source: 'access-token',
    warnings: [],
  };
}

/**
 * The session engine. Stateless apart from bounded local caches, so any number of instances can share one
 * store; revocations reach the other instances' caches through the store's invalidation feed.
 */
export class SessionManager {
  readonly config: SessionConfig;
  readonly events: SessionEvents;
  readonly store: SessionStore;
  readonly accessTokens: AccessTokenKeyRing | undefined;
  readonly #clock: Clock;
  readonly #assessors: ContextAssessor[];
  readonly #ipHashKey: string;
  readonly #ipHashes = new ExpiringCache<string>(IP_HASH_MEMO_ENTRIES);
  readonly #denylist: ExpiringCache<true>;
  /** Per stepped-up session, the authentication below which its access tokens are refused. */
  readonly #floor: CredentialFloor;
  /**
   * Verified access tokens, keyed by their signature's last characters: hashing the whole token was most of what
   * a hit cost. A hit compares the whole token, so a payload swapped under a copied signature never matches.
   */
  readonly #verifiedJwts: ExpiringCache<{ token: string; claims: AccessTokenClaims }>;
  readonly #validated: ExpiringCache<SessionRecord>;
  /**
   * Answers shared between requests, keyed by the verified claims or the frozen record they were built from
   * (stores that keep decoded records hand out the same frozen object while it is unchanged): building the
   * answer and its view per request was most of what a cached validation allocated.
   */
  readonly #tokenAnswers = new WeakMap<AccessTokenClaims, ValidatedSession>();
  readonly #cacheAnswers = new WeakMap<SessionRecord, ValidatedSession>();
  readonly #storeAnswers = new WeakMap<SessionRecord, ValidatedSession>();
  #unsubscribe: (() => Promise<void>) | undefined;
  #rejectedTokens = 0;

  constructor(options: SessionManagerOptions) {
    this.config = parseSessionConfig(options.config ?? {});
    this.store = options.store;
    this.accessTokens = options.accessTokens;
    this.events = options.events ?? new SessionEvents();
    this.#clock = options.clock ?? systemClock;
    this.#assessors = [contextChangeAssessor(this.config.contextChange), ...(options.assessors ?? [])];
    this.#ipHashKey = this.config.ipHashKey ?? randomToken(32);
    this.#denylist = new ExpiringCache(this.config.denylistMaxEntries);
    // Kept as long as denylist entries: until the access tokens issued before a step-up have expired.
    this.#floor = new CredentialFloor(this.config.denylistMaxEntries, this.config.accessToken.ttlMs + 60_000);
    this.#verifiedJwts = new ExpiringCache(this.config.accessToken.cacheEntries);
    this.#validated = new ExpiringCache(
      this.config.validationCache.enabled ? this.config.validationCache.maxEntries : 0,
    );
  }

  /** Subscribes to the store's invalidation feed; call once at start-up, `close` ends it. */
  async start(): Promise<void> {
    if (this.#unsubscribe) return;
    this.#unsubscribe = await this.store.feed.subscribe(
      (message) => {
        this.#validated.delete(message.sessionId);
        if (message.kind === 'revoked') this.#deny(message.sessionId);
        if (message.authenticatedAt !== undefined)
          this.#floor.raise(message.sessionId, message.authenticatedAt, this.#clock.now());
      },
      // A revocation may have passed unseen: stop trusting local copies of opaque sessions. Access tokens
      // cannot be re-checked without the store; their exposure stays bounded by their lifetime.
      { onGap: () => this.#validated.clear() },
    );
  }

  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.();
  }

  /** Tokens rejected because they named no session we issued or carried a wrong secret. */
  get rejectedTokenCount(): number {
    return this.#rejectedTokens;
  }

  hashIp(ip: string): string {
    // Memo entries never expire (the key is fixed for the manager's life), so any `now` reads them.
    let hashed = this.#ipHashes.get(ip, 0);
    if (hashed === undefined) {
      hashed = hmacSha256(this.#ipHashKey, ip);
      this.#ipHashes.set(ip, hashed, Number.POSITIVE_INFINITY);
    }
    return hashed;
  }

  async create(options: CreateSessionOptions): Promise<IssuedTokens> {
    const input = parseInput(createInputSchema, options, 'session options');
    const now = this.#clock.now();
    if (input.parentId !== undefined) {
      const parent = await this.store.get(input.parentId);
      if (!parent || !isLive(parent, now)) throw new SessionNotFoundError('Parent session is not active');
    }
    const secret = newSecret();
    const refreshSecret = this.config.refresh.enabled ? newSecret() : undefined;
    const ipHash = input.context.ip === undefined ? undefined : this.hashIp(input.context.ip);
    const absoluteExpiresAt = now + this.config.absoluteLifetimeMs;
    const record: SessionRecord = {
      id: newSessionId(),
      userId: input.userId,
      ...(input.tenantId === undefined ? {} : { tenantId: input.tenantId }),
      state: 'active',
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + this.config.idleTimeoutMs, absoluteExpiresAt),
      absoluteExpiresAt,
      aal: input.aal,
      authenticatedAt: input.authenticatedAt ?? now,
      secretHash: hashSecret(secret),
      ...(refreshSecret === undefined
        ? {}
        : { refresh: { familyId: randomToken(16), generation: 0, currentHash: hashSecret(refreshSecret) } }),
      device: {
        ...(input.deviceLabel === undefined ? {} : { label: input.deviceLabel }),
        ...(input.context.userAgent === undefined ? {} : { userAgent: input.context.userAgent }),
        ...(input.context.fingerprint === undefined ? {} : { fingerprint: input.context.fingerprint }),
        ...(ipHash === undefined ? {} : { firstIpHash: ipHash, lastIpHash: ipHash }),
      },
      ...(input.parentId === undefined ? {} : { parentId: input.parentId }),
      version: 1,
      metadata: input.metadata,
    };
    const { session, evicted } = await this.store.create({
      session: record,
      maxSessions: this.config.maxSessionsPerUser,
      onLimit: this.config.onLimit,
      now,
    });
    const context = this.#eventContext(input.context);
    for (const victim of evicted) {
      await this.#announceRevoked(victim);
      this.#emit({
        type: 'session.evicted',
        at: now,
        context,
        session: toView(victim),
        reason: 'limit.evicted',
      });
    }
    this.#emit({ type: 'session.created', at: now, context, session: toView(session) });
    return {
      ...(await this.#issue(session, formatToken('session', session.id, secret))),
      ...(refreshSecret === undefined
        ? {}
        : { refreshToken: formatToken('refresh', session.id, refreshSecret) }),
    };
  }

  async validate(token: unknown, options: ValidateOptions = {}): Promise<ValidatedSession> {
    const cached = this.validateFromCache(token, options);
    if (cached) return cached;
    // Read here, after the caches: no tier that answers from them uses the context.
    const context = options.context
      ? parseInput(requestContextSchema, options.context, 'request context')
      : {};
    if (typeof token === 'string' && looksLikeJwt(token))
      return this.#validateAccessToken(token, options, context);
    const parsed = this.#parse(token, 'session', context);
    const record = await this.store.get(parsed.sessionId);
    if (!record || !digestsEqual(record.secretHash, hashSecret(parsed.secret))) {
      throw this.#reject(context, record ? 'secret.mismatch' : 'session.unknown', parsed.sessionId);
    }
    const checked = await this.#checkRecord(record, context, this.#clock.now());
    return this.#guard(this.#recordAnswer(checked.record, 'store', checked.warnings), options);
  }

  /**
   * The fast tier's answer from local state alone, synchronously: a JWT already verified (and not denied), or
   * an opaque token in the validation cache. `undefined` when only `validate` can answer (first sight of a
   * token, a cache miss, a malformed or denied token, or the full tier); the guards of `options` throw here as
   * they would there. Request handlers that find a session here skip a promise per request.
   */
  validateFromCache(token: unknown, options: ValidateOptions = {}): ValidatedSession | undefined {
    if (options.tier !== 'fast' || typeof token !== 'string') return undefined;
    const now = this.#clock.now();
    const claims = this.#knownJwt(token, now);
    if (claims) {
      return this.#isDenied(claims.sid, now) || !this.#floor.admits(claims, now)
        ? undefined
        : this.#guard(this.#tokenAnswer(claims), options, now);
    }
    if (!this.config.validationCache.enabled) return undefined;
    const parsed = tryParseToken(token, 'session');
    const cached = parsed && this.#validated.get(parsed.sessionId, now);
    if (
      !parsed ||
      !cached ||
      !digestsEqual(cached.secretHash, hashSecret(parsed.secret)) ||
      !isLive(cached, now) ||
      this.#isDenied(cached.id, now)
    ) {
      return undefined;
    }
    return this.#guard(this.#recordAnswer(cached, 'cache', []), options, now);
  }

  async refresh(refreshToken: unknown, options: ActionOptions = {}): Promise<RefreshResult> {
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    if (!this.config.refresh.enabled) throw new InvalidTokenError('Refresh tokens are disabled');
    const parsed = this.#parse(refreshToken, 'refresh', context);
    const now = this.#clock.now();
    const successor = newSecret();
    const result = await this.store.rotateRefresh({
      sessionId: parsed.sessionId,
      presentedHash: hashSecret(parsed.secret),
      successorHash: hashSecret(successor),
      sealedSuccessor: seal(parsed.secret, successor),
      now,
      graceMs: this.config.refresh.graceMs,
      idleExpiresAt: now + this.config.idleTimeoutMs,
    });
    const eventContext = this.#eventContext(context);
    switch (result.outcome) {
      case 'unknown':
        throw this.#reject(context, 'refresh.unknown', parsed.sessionId);
      case 'inactive':
        throw this.#stateError(result.session, now);
      case 'reused': {
        const familyId = result.session.refresh?.familyId ?? result.session.id;
        this.#emit({
          type: 'token.reuse_detected',
          at: now,
          context: eventContext,
          session: toView(result.session),
          familyId,
        });
        await this.#announceRevoked(result.session);
        this.#emit({
          type: 'session.revoked',
          at: now,
          context: eventContext,
          session: toView(result.session),
          reason: 'token.reuse_detected',
          by: 'policy',
        });
        await this.#revokeTree(result.session.id, 'token.reuse_detected', 'policy', eventContext);
        throw new TokenReuseDetectedError();
      }
      case 'grace':
      case 'rotated': {
        const session = result.session;
        const issued =
          result.outcome === 'rotated'
            ? successor
            : unseal(parsed.secret, session.refresh?.sealedSuccessor ?? '');
        if (issued === undefined || !digestsEqual(hashSecret(issued), session.refresh?.currentHash ?? '')) {
          throw this.#reject(context, 'refresh.unsealable', parsed.sessionId);
        }
        this.#validated.delete(session.id);
        this.#emit({
          type: 'session.refreshed',
          at: now,
          context: eventContext,
          session: toView(session),
          generation: session.refresh?.generation ?? 0,
        });
        const access = await this.#signAccess(session);
        return {
          session: toView(session),
          refreshToken: formatToken('refresh', session.id, issued),
          ...access,
        };
      }
    }
  }

  /**
   * Raises the assurance level after the caller re-verified the user, and re-issues every credential of the
   * session: the old session token stops working at once (no fixation across a privilege change), the old
   * refresh token is retired (presenting it is reuse), and access tokens issued before are refused at every
   * tier. Whoever held the session's tokens before the step-up gains nothing from it.
   */
  async stepUp(sessionId: string, options: ActionOptions & { aal: Aal }): Promise<IssuedTokens> {
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    const aal = parseInput(aalSchema, options.aal, 'assurance level');
    const secret = newSecret();
    const refreshSecret = newSecret();
    const now = this.#clock.now();
    let fromAal: number = aal;
    const session = await this.#mutate(sessionId, (record) => {
      this.#assertUsable(record, now);
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
    this.#floor.raise(session.id, session.authenticatedAt, now);
    await this.#announceChanged(session, session.authenticatedAt);
    this.#emit({
      type: 'session.stepped_up',
      at: now,
      context: this.#eventContext(context),
      session: toView(session),
      fromAal,
      toAal: session.aal,
    });
    return {
      ...(await this.#issue(session, formatToken('session', session.id, secret))),
      ...(session.refresh === undefined
        ? {}
        : { refreshToken: formatToken('refresh', session.id, refreshSecret) }),
    };
  }

  /** Revokes a session and every session descending from it; returns how many were revoked. */
  async revoke(sessionId: string, options: RevokeActionOptions = {}): Promise<number> {
    const context = this.#eventContext(
      parseInput(requestContextSchema, options.context ?? {}, 'request context'),
    );
    const revoked = await this.#revokeTree(
      sessionId,
      options.reason ?? 'revoked',
      options.by ?? 'user',
      context,
    );
    return revoked.length;
  }

  async revokeAllForUser(
    userId: string,
    options: RevokeActionOptions & { exceptId?: string; tenantId?: string } = {},
  ): Promise<number> {
    const context = this.#eventContext(
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
      await this.#announceRevoked(session);
      this.#emit({
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
    return this.#setSuspended(sessionId, true, options);
  }

  async resume(sessionId: string, options: ActionOptions = {}): Promise<SessionView> {
    return this.#setSuspended(sessionId, false, options);
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

  /** Deletes expired records in bounded batches until none are left or `maxBatches` ran. */
  async cleanup(options: { batchSize?: number; maxBatches?: number } = {}): Promise<number> {
    const batchSize = options.batchSize ?? 500;
    let total = 0;
    for (let batch = 0; batch < (options.maxBatches ?? 100); batch += 1) {
      const deleted = await this.store.deleteExpired({ now: this.#clock.now(), batchSize });
      total += deleted;
      if (deleted < batchSize) break;
    }
    return total;
  }

  /**
   * Mints a one-time code with which another device takes over (`takeover`: this session ends) or forks
   * (`fork`: a sibling is created) this session. Only one code is outstanding per session.
   */
  async createTransferCode(
    sessionId: string,
    options: ActionOptions & { mode: 'takeover' | 'fork' },
  ): Promise<{ code: string; expiresAt: number }> {
    const mode = parseInput(z.enum(['takeover', 'fork']), options.mode, 'transfer mode');
    const secret = newSecret();
    const now = this.#clock.now();
    const transferExpiresAt = now + this.config.transfer.ttlMs;
    await this.#mutate(sessionId, (record) => {
      this.#assertUsable(record, now);
      return { ...record, transfer: { codeHash: hashSecret(secret), expiresAt: transferExpiresAt, mode } };
    });
    return { code: formatToken('transfer', sessionId, secret), expiresAt: transferExpiresAt };
  }

  /**
   * Redeems a transfer code on the new device. The new session's AAL is capped at 1 unless the caller has
   * re-verified the user and passes `reverifiedAal`.
   */
  async redeemTransferCode(
    code: unknown,
    options: ActionOptions & { reverifiedAal?: Aal; deviceLabel?: string } = {},
  ): Promise<IssuedTokens> {
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    let parsed: { sessionId: string; secret: string };
    try {
      parsed = parseToken(code, 'transfer');
    } catch {
      throw new TransferInvalidError();
    }
    const now = this.#clock.now();
    let mode: 'takeover' | 'fork' = 'takeover';
    let source: SessionRecord;
    try {
      // One attempt only: a concurrent redeemer that wins the compare-and-set consumes the code.
      source = await this.#mutate(
        parsed.sessionId,
        (record) => {
          const transfer = record.transfer;
          if (
            !transfer ||
            transfer.expiresAt <= now ||
            record.state !== 'active' ||
            !isLive(record, now) ||
            !digestsEqual(transfer.codeHash, hashSecret(parsed.secret))
          ) {
            throw new TransferInvalidError();
          }
          mode = transfer.mode;
          const { transfer: _used, ...rest } = record;
          return rest;
        },
        1,
      );
    } catch (error) {
      if (error instanceof SessionKitError && error.code !== 'store.unavailable')
        throw new TransferInvalidError();
      throw error;
    }
    if (mode === 'takeover') {
      await this.#revokeTree(source.id, 'transferred', 'user', this.#eventContext(context));
    }
    const aal = options.reverifiedAal ?? 1;
    const issued = await this.create({
      userId: source.userId,
      ...(source.tenantId === undefined ? {} : { tenantId: source.tenantId }),
      aal,
      authenticatedAt: options.reverifiedAal === undefined ? source.authenticatedAt : now,
      ...(source.parentId === undefined ? {} : { parentId: source.parentId }),
      ...(options.deviceLabel === undefined ? {} : { deviceLabel: options.deviceLabel }),
      // Engine-owned state (e.g. sealed upstream tokens, bound to the old session's id) does not move.
      metadata: toView(source).metadata,
      context,
    });
    this.#emit({
      type: 'session.transferred',
      at: now,
      context: this.#eventContext(context),
      session: issued.session,
      fromSessionId: source.id,
      mode,
    });
    return issued;
  }

  async #validateAccessToken(token: string, options: ValidateOptions, context: RequestContext) {
    if (!this.accessTokens) throw this.#reject(context, 'access_token.unsupported');
    const now = this.#clock.now();
    // Tokens, not digests, are kept: a process that holds the signing keys gains no exposure from holding tokens
    // they signed until those expire.
    let claims = this.#knownJwt(token, now);
    // A token seen for the first time gets an answer of its own: sharing pays off from the second sight on, and
    // the first one should cost no more than verifying the signature.
    const firstSight = claims === undefined;
    if (!claims) {
      try {
        claims = await this.accessTokens.verify(token);
      } catch (error) {
        if (error instanceof SessionKitError && error.code === 'token.invalid') this.#rejectedTokens += 1;
        throw error;
      }
      this.#verifiedJwts.set(signatureTail(token), { token, claims }, claims.exp * 1000, now);
    }
    if (this.#isDenied(claims.sid, now)) throw new SessionRevokedError();
    this.#floor.assertAdmits(claims, now);
    if (options.tier === 'full') {
      const record = await this.store.get(claims.sid);
      if (!record || record.userId !== claims.sub) throw this.#reject(context, 'session.unknown', claims.sid);
      // Before the context checks: a superseded token must not touch, let alone demote, the session.
      this.#floor.assertAdmits(claims, now, record.authenticatedAt);
      const checked = await this.#checkRecord(record, context, now);
      return this.#guard(this.#recordAnswer(checked.record, 'store', checked.warnings), options);
    }
    return this.#guard(firstSight ? accessTokenResult(claims) : this.#tokenAnswer(claims), options, now);
  }

  /** State, timeouts, parent chain, context policy and the throttled touch: the full tier. */
  async #checkRecord(record: SessionRecord, context: RequestContext, now: number) {
    // The store is the authority here; the denylist only serves the tiers that skip it.
    if (record.state === 'active' && (record.idleExpiresAt <= now || record.absoluteExpiresAt <= now)) {
      await this.#expire(record, now, context);
    }
    this.#assertUsable(record, now);
    if (record.parentId !== undefined) await this.#assertParentsLive(record, now, context);
    const ipHash = context.ip === undefined ? undefined : this.hashIp(context.ip);
    const assessment = await this.#assess({
      session: record,
      context,
      now,
      ...(ipHash === undefined ? {} : { ipHash }),
    });
    let current = record;
    const warnings: string[] = [];
    if (assessment.action !== 'allow') {
      const eventContext = this.#eventContext(context);
      this.#emit({
        type: 'session.context_changed',
        at: now,
        context: eventContext,
        session: toView(record),
        action: assessment.action,
        reasons: [...assessment.reasons],
      });
      if (assessment.action === 'revoke') {
        await this.#revokeTree(record.id, 'context.rejected', 'policy', eventContext);
        throw new ContextRejectedError(assessment.reasons);
      }
      warnings.push(...assessment.reasons);
      if (assessment.action === 'step-up') warnings.push('step-up.required');
      this.#emit({
        type: 'session.validated_with_warning',
        at: now,
        context: eventContext,
        session: toView(record),
        reasons: warnings,
      });
    }
    const demote = assessment.action === 'step-up' && record.aal > 1;
    const ipMoved = ipHash !== undefined && ipHash !== record.device.lastIpHash;
    if (demote || ipMoved || now - record.lastSeenAt >= this.config.touchThrottleMs) {
      current = await this.#touch(record, now, ipHash, demote);
    }
    if (this.config.validationCache.enabled) {
      this.#validated.set(current.id, current, now + this.config.validationCache.maxAgeMs, now);
    }
    return { record: current, warnings };
  }

  /** Every assessor's verdict combined; synchronous assessors (the built-in one) cost no promise. */
  #assess(input: ContextAssessmentInput): ContextAssessment | Promise<ContextAssessment> {
    if (this.#assessors.length === 1) return (this.#assessors[0] as ContextAssessor).assess(input);
    const verdicts = this.#assessors.map((assessor) => assessor.assess(input));
    return verdicts.some((verdict) => verdict instanceof Promise)
      ? Promise.all(verdicts).then(combineAssessments)
      : combineAssessments(verdicts as ContextAssessment[]);
  }

  /**
   * One compare-and-set write. Losing the race to another touch is fine (it wrote the same news); losing it to
   * a revocation surfaces as `session.revoked`: a touch never brings a revoked session back.
   */
  async #touch(record: SessionRecord, now: number, ipHash: string | undefined, demote: boolean) {
    const next: SessionRecord = {
      ...record,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + this.config.idleTimeoutMs, record.absoluteExpiresAt),
      ...(demote ? { aal: 1 } : {}),
      device: { ...record.device, ...(ipHash === undefined ? {} : { lastIpHash: ipHash }) },
    };
    try {
      return await this.store.update(next, record.version);
    } catch (error) {
      if (error instanceof VersionConflictError && !demote) return record;
      if (error instanceof VersionConflictError)
        return this.#mutate(record.id, (fresh) => ({ ...fresh, aal: 1 }));
      if (error instanceof SessionNotFoundError) throw new SessionExpiredError();
      throw error;
    }
  }

  async #assertParentsLive(record: SessionRecord, now: number, context: RequestContext) {
    let parentId = record.parentId;
    for (let depth = 0; parentId !== undefined && depth < MAX_PARENT_DEPTH; depth += 1) {
      const parent = await this.store.get(parentId);
      if (!parent || !isLive(parent, now)) break;
      parentId = parent.parentId;
    }
    if (parentId !== undefined) {
      // A parent ended while this child was being created or its revocation did not reach it: end it now.
      await this.#revokeTree(record.id, 'parent.revoked', 'policy', this.#eventContext(context));
      throw new SessionRevokedError('Parent session has ended');
    }
  }

  async #expire(record: SessionRecord, now: number, context: RequestContext): Promise<never> {
    const reason = record.absoluteExpiresAt <= now ? 'absolute' : 'idle';
    try {
      const expired = await this.store.update({ ...record, state: 'expired' }, record.version);
      this.#emit({
        type: 'session.expired',
        at: now,
        context: this.#eventContext(context),
        session: toView(expired),
        reason,
      });
    } catch (error) {
      // Someone else already changed it; the session is over either way.
      if (!(error instanceof SessionKitError) || error.code === 'store.unavailable') throw error;
    }
    throw new SessionExpiredError(`Session ${reason} timeout reached`);
  }

  async #revokeTree(sessionId: string, reason: string, by: RevokedBy, context: EventContext) {
    const now = this.#clock.now();
    const revoked = await this.store.revokeTree(sessionId, { reason, now });
    for (const session of revoked) {
      await this.#announceRevoked(session);
      this.#emit({ type: 'session.revoked', at: now, context, session: toView(session), reason, by });
    }
    return revoked;
  }

  async #setSuspended(sessionId: string, suspended: boolean, options: ActionOptions) {
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    const now = this.#clock.now();
    const session = await this.#mutate(sessionId, (record) => {
      if (!isLive(record, now)) throw this.#stateError(record, now);
      return { ...record, state: suspended ? 'suspended' : 'active' };
    });
    // Suspension must also stop access tokens, which only the denylist reaches. Other instances keep a
    // resumed session's access tokens denied until they expire: resuming errs on the safe side.
    if (suspended) {
      await this.#announceRevoked(session);
    } else {
      this.#denylist.delete(session.id);
      await this.#announceChanged(session);
    }
    this.#emit({
      type: suspended ? 'session.suspended' : 'session.resumed',
      at: now,
      context: this.#eventContext(context),
      session: toView(session),
    });
    return toView(session);
  }

  /** Read-modify-write under compare-and-set, retried when another writer got there first. */
  async #mutate(
    sessionId: string,
    change: (record: SessionRecord) => SessionRecord,
    attempts = MAX_CAS_ATTEMPTS,
  ): Promise<SessionRecord> {
    for (let attempt = 1; ; attempt += 1) {
      const record = await this.store.get(sessionId);
      if (!record) throw new SessionNotFoundError();
      try {
        return await this.store.update(change(record), record.version);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= attempts) throw error;
      }
    }
  }

  #assertUsable(record: SessionRecord, now: number): void {
    if (record.state === 'active' && isLive(record, now)) return;
    throw this.#stateError(record, now);
  }

  #stateError(record: SessionRecord, now: number): SessionKitError {
    if (record.state === 'revoked') return new SessionRevokedError();
    if (record.state === 'suspended' && isLive(record, now)) return new SessionSuspendedError();
    return new SessionExpiredError();
  }

  #guard(result: ValidatedSession, options: ValidateOptions, now?: number): ValidatedSession {
    const required = Math.max(options.requiredAal ?? 1, this.config.requiredAal);
    if (result.aal < required) throw new AalInsufficientError(required, result.aal);
    if (
      options.maxAuthAgeMs !== undefined &&
      (now ?? this.#clock.now()) - result.authenticatedAt > options.maxAuthAgeMs
    ) {
      throw new AuthStaleError(options.maxAuthAgeMs);
    }
    return result;
  }

  #knownJwt(token: string, now: number): AccessTokenClaims | undefined {
    const known = this.#verifiedJwts.get(signatureTail(token), now);
    return known?.token === token ? known.claims : undefined;
  }

  #tokenAnswer(claims: AccessTokenClaims): ValidatedSession {
    let answer = this.#tokenAnswers.get(claims);
    if (!answer) {
      answer = deepFreeze(accessTokenResult(claims));
      this.#tokenAnswers.set(claims, answer);
    }
    return answer;
  }

  /** A frozen record without warnings has one answer per source; anything else is answered afresh. */
  #recordAnswer(record: SessionRecord, source: 'cache' | 'store', warnings: string[]): ValidatedSession {
    if (warnings.length > 0 || !Object.isFrozen(record)) return this.#result(record, source, warnings);
    const answers = source === 'cache' ? this.#cacheAnswers : this.#storeAnswers;
    let answer = answers.get(record);
    if (!answer) {
      answer = deepFreeze(this.#result(record, source, []));
      answers.set(record, answer);
    }
    return answer;
  }

  #result(record: SessionRecord, source: ValidatedSession['source'], warnings: string[]): ValidatedSession {
    return {
      sessionId: record.id,
      userId: record.userId,
      ...(record.tenantId === undefined ? {} : { tenantId: record.tenantId }),
      aal: record.aal,
      authenticatedAt: record.authenticatedAt,
      expiresAt: expiresAt(record),
      source,
      session: toView(record),
      warnings,
    };
  }

  #effectiveView(record: SessionRecord, now: number): SessionView {
    const view = toView(record);
    const timedOut = record.state !== 'revoked' && expiresAt(record) <= now;
    return timedOut ? { ...view, state: 'expired' } : view;
  }

  async #issue(record: SessionRecord, token: string): Promise<IssuedTokens> {
    return {
      session: toView(record),
      token,
      expiresAt: expiresAt(record),
      ...(await this.#signAccess(record)),
    };
  }

  async #signAccess(record: SessionRecord) {
    if (!this.accessTokens) return {};
    const { token, expiresAt: accessExpiresAt } = await this.accessTokens.sign({
      userId: record.userId,
      sessionId: record.id,
      aal: record.aal,
      authenticatedAt: record.authenticatedAt,
      ...(record.tenantId === undefined ? {} : { tenantId: record.tenantId }),
    });
    return { accessToken: token, accessTokenExpiresAt: accessExpiresAt };
  }

  #parse(token: unknown, kind: 'session' | 'refresh', context: RequestContext) {
    try {
      return parseToken(token, kind);
    } catch (error) {
      throw this.#reject(context, 'token.malformed', undefined, error);
    }
  }

  /** Counts and reports a token that names nothing we issued (strict mode); the caller throws the result. */
  #reject(context: RequestContext, reason: string, sessionId?: string, cause?: unknown): InvalidTokenError {
    this.#rejectedTokens += 1;
    this.#emit({
      type: 'token.rejected',
      at: this.#clock.now(),
      context: this.#eventContext(context),
      reason,
      ...(sessionId === undefined ? {} : { sessionId }),
    });
    return cause instanceof InvalidTokenError ? cause : new InvalidTokenError();
  }

  #deny(sessionId: string): void {
    // Long enough for every access token of the session to have expired, plus clock skew.
    const now = this.#clock.now();
    this.#denylist.set(sessionId, true, now + this.config.accessToken.ttlMs + 60_000, now);
    this.#validated.delete(sessionId);
  }

  #isDenied(sessionId: string, now = this.#clock.now()): boolean {
    return this.#denylist.get(sessionId, now) === true;
  }

  async #announceRevoked(session: SessionRecord): Promise<void> {
    this.#deny(session.id);
    await this.store.feed.publish({ sessionId: session.id, kind: 'revoked', expiresAt: expiresAt(session) });
  }

  /** `authenticatedAt` after a step-up: other instances then refuse access tokens issued before it. */
  async #announceChanged(session: SessionRecord, authenticatedAt?: number): Promise<void> {
    this.#validated.delete(session.id);
    await this.store.feed.publish({
      sessionId: session.id,
      kind: 'changed',
      expiresAt: expiresAt(session),
      ...(authenticatedAt === undefined ? {} : { authenticatedAt }),
    });
  }

  #eventContext(context: RequestContext): EventContext {
    return {
      ...(context.ip === undefined ? {} : { ipHash: this.hashIp(context.ip) }),
      ...(context.userAgent === undefined ? {} : { userAgent: context.userAgent }),
      ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
    };
  }

  #emit(event: SessionEvent): void {
    this.events.emit(event);
  }
}
