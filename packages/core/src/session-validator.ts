import type { AccessTokenKeyRing } from './access-token.js';
import { looksLikeJwt } from './access-token.js';
import type { Clock } from './clock.js';
import type { SessionConfig } from './config.js';
import type { ContextAssessment, ContextAssessmentInput, ContextAssessor } from './context-policy.js';
import { combineAssessments } from './context-policy.js';
import {
  AalInsufficientError,
  AuthStaleError,
  ContextRejectedError,
  SessionExpiredError,
  SessionKitError,
  SessionNotFoundError,
  SessionRevokedError,
  TenantMismatchError,
  VersionConflictError,
} from './errors.js';
import type { LocalSessionState } from './local-session-state.js';
import { hashSecret, parseToken, tryParseToken } from './opaque-token.js';
import type { RequestContext } from './request-context.js';
import { requestContextSchema } from './request-context.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import { assertUsable } from './session-lifecycle.js';
import type { Aal, SessionRecord } from './session-record.js';
import { isLive } from './session-record.js';
import { toView } from './session-view.js';
import type { SessionStore } from './store.js';
import { digestsEqual } from './token-crypto.js';
import type { ValidatedSession } from './validated-session.js';
import { accessTokenAnswer, SharedAnswers } from './validated-session.js';
import { parseInput } from './zod-input.js';

export interface ValidateOptions {
  /** `fast`: access-token signature, local caches and denylist. `full`: the store, timeouts and context. */
  tier?: 'fast' | 'full';
  context?: RequestContext;
  requiredAal?: Aal;
  /** Requires `authenticatedAt` within this many ms (step-up for sensitive actions). */
  maxAuthAgeMs?: number;
  /** The tenant the request is for: a session of any other tenant (or of none) is `tenant.mismatch`. */
  tenantId?: string;
}

const MAX_PARENT_DEPTH = 8;

export interface SessionValidatorOptions {
  store: SessionStore;
  config: SessionConfig;
  clock: Clock;
  accessTokens: AccessTokenKeyRing | undefined;
  /** The configured context-change policy first, then any risk engines. */
  assessors: ContextAssessor[];
  state: LocalSessionState;
  lifecycle: SessionLifecycle;
}

/**
 * The read path, run on every request: local state first (verified tokens, the validation cache, the denylist),
 * then the store for what only it can tell (state, timeouts, parents, context), with the throttled touch.
 */
export class SessionValidator {
  readonly #store: SessionStore;
  readonly #config: SessionConfig;
  readonly #clock: Clock;
  readonly #accessTokens: AccessTokenKeyRing | undefined;
  readonly #assessors: ContextAssessor[];
  readonly #state: LocalSessionState;
  readonly #lifecycle: SessionLifecycle;
  readonly #answers = new SharedAnswers();

  constructor(options: SessionValidatorOptions) {
    this.#store = options.store;
    this.#config = options.config;
    this.#clock = options.clock;
    this.#accessTokens = options.accessTokens;
    this.#assessors = options.assessors;
    this.#state = options.state;
    this.#lifecycle = options.lifecycle;
  }

  /** See SessionManager.validateUncached. */
  async validateUncached(token: unknown, options: ValidateOptions = {}): Promise<ValidatedSession> {
    // Read here, after the caches: no tier that answers from them uses the context.
    const context = options.context
      ? parseInput(requestContextSchema, options.context, 'request context')
      : {};
    if (typeof token === 'string' && looksLikeJwt(token))
      return this.#validateAccessToken(token, options, context);
    const parsed = this.#lifecycle.parse(() => parseToken(token, 'session'), context);
    const record = await this.#store.get(parsed.sessionId);
    if (!record || !digestsEqual(record.secretHash, hashSecret(parsed.secret))) {
      throw this.#lifecycle.reject(context, record ? 'secret.mismatch' : 'session.unknown', parsed.sessionId);
    }
    const checked = await this.#checkRecord(record, context, this.#clock.now());
    return this.#guard(this.#answers.forRecord(checked.record, 'store', checked.warnings), options);
  }

  /** See SessionManager.validateFromCache. */
  validateFromCache(token: unknown, options: ValidateOptions = {}): ValidatedSession | undefined {
    if (options.tier !== 'fast' || typeof token !== 'string') return undefined;
    const now = this.#clock.now();
    const state = this.#state;
    const claims = state.knownJwt(token, now);
    if (claims) {
      return state.trusts(claims, now)
        ? this.#guard(this.#answers.forToken(claims), options, now)
        : undefined;
    }
    if (!this.#config.validationCache.enabled) return undefined;
    const parsed = tryParseToken(token, 'session');
    const cached = parsed && state.cached(parsed.sessionId, now);
    if (
      !parsed ||
      !cached ||
      !digestsEqual(cached.secretHash, hashSecret(parsed.secret)) ||
      !isLive(cached, now) ||
      state.isDenied(cached.id, now)
    ) {
      return undefined;
    }
    return this.#guard(this.#answers.forRecord(cached, 'cache', []), options, now);
  }

  async #validateAccessToken(token: string, options: ValidateOptions, context: RequestContext) {
    if (!this.#accessTokens) throw this.#lifecycle.reject(context, 'access_token.unsupported');
    const now = this.#clock.now();
    let claims = this.#state.knownJwt(token, now);
    // A token seen for the first time gets an answer of its own: sharing pays off from the second sight on, and
    // the first one should cost no more than verifying the signature.
    const firstSight = claims === undefined;
    if (!claims) {
      try {
        claims = await this.#accessTokens.verify(token);
      } catch (error) {
        if (error instanceof SessionKitError && error.code === 'token.invalid')
          this.#lifecycle.countRejected();
        throw error;
      }
      this.#state.rememberJwt(token, claims, now);
    }
    if (this.#state.isDenied(claims.sid, now)) throw new SessionRevokedError();
    this.#state.assertAdmits(claims, now);
    if (options.tier === 'full') {
      const record = await this.#store.get(claims.sid);
      if (!record || record.userId !== claims.sub)
        throw this.#lifecycle.reject(context, 'session.unknown', claims.sid);
      // Before the context checks: a superseded token must not touch, let alone demote, the session.
      this.#state.assertAdmits(claims, now, record.authenticatedAt);
      const checked = await this.#checkRecord(record, context, now);
      return this.#guard(this.#answers.forRecord(checked.record, 'store', checked.warnings), options);
    }
    return this.#guard(firstSight ? accessTokenAnswer(claims) : this.#answers.forToken(claims), options, now);
  }

  /** State, timeouts, parent chain, context policy and the throttled touch: the full tier. */
  async #checkRecord(record: SessionRecord, context: RequestContext, now: number) {
    // The store is the authority here; the denylist only serves the tiers that skip it.
    if (record.state === 'active' && (record.idleExpiresAt <= now || record.absoluteExpiresAt <= now)) {
      await this.#expire(record, now, context);
    }
    assertUsable(record, now);
    if (record.parentId !== undefined) await this.#assertParentsLive(record, now, context);
    const ipHash = context.ip === undefined ? undefined : this.#state.hashIp(context.ip);
    const assessment = await this.#assess({
      session: record,
      context,
      now,
      ...(ipHash === undefined ? {} : { ipHash }),
    });
    let current = record;
    const warnings: string[] = [];
    if (assessment.action !== 'allow') {
      const eventContext = this.#lifecycle.eventContext(context);
      this.#lifecycle.emit({
        type: 'session.context_changed',
        at: now,
        context: eventContext,
        session: toView(record),
        action: assessment.action,
        reasons: [...assessment.reasons],
      });
      if (assessment.action === 'revoke') {
        await this.#lifecycle.revokeTree(record.id, 'context.rejected', 'policy', eventContext);
        throw new ContextRejectedError(assessment.reasons);
      }
      warnings.push(...assessment.reasons);
      if (assessment.action === 'step-up') warnings.push('step-up.required');
      this.#lifecycle.emit({
        type: 'session.validated_with_warning',
        at: now,
        context: eventContext,
        session: toView(record),
        reasons: warnings,
      });
    }
    const demote = assessment.action === 'step-up' && record.aal > 1;
    const ipMoved = ipHash !== undefined && ipHash !== record.device.lastIpHash;
    if (demote || ipMoved || now - record.lastSeenAt >= this.#config.touchThrottleMs) {
      current = await this.#touch(record, now, ipHash, demote);
    }
    this.#state.remember(current, now);
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
      idleExpiresAt: Math.min(now + this.#config.idleTimeoutMs, record.absoluteExpiresAt),
      ...(demote ? { aal: 1 } : {}),
      device: { ...record.device, ...(ipHash === undefined ? {} : { lastIpHash: ipHash }) },
    };
    try {
      return await this.#store.update(next, record.version);
    } catch (error) {
      if (error instanceof VersionConflictError && !demote) return record;
      if (error instanceof VersionConflictError)
        return this.#lifecycle.mutate(record.id, (fresh) => ({ ...fresh, aal: 1 }));
      if (error instanceof SessionNotFoundError) throw new SessionExpiredError();
      throw error;
    }
  }

  async #assertParentsLive(record: SessionRecord, now: number, context: RequestContext) {
    let parentId = record.parentId;
    for (let depth = 0; parentId !== undefined && depth < MAX_PARENT_DEPTH; depth += 1) {
      const parent = await this.#store.get(parentId);
      if (!parent || !isLive(parent, now)) break;
      parentId = parent.parentId;
    }
    if (parentId !== undefined) {
      // A parent ended while this child was being created or its revocation did not reach it: end it now.
      await this.#lifecycle.revokeTree(
        record.id,
        'parent.revoked',
        'policy',
        this.#lifecycle.eventContext(context),
      );
      throw new SessionRevokedError('Parent session has ended');
    }
  }

  async #expire(record: SessionRecord, now: number, context: RequestContext): Promise<never> {
    const reason = record.absoluteExpiresAt <= now ? 'absolute' : 'idle';
    try {
      const expired = await this.#store.update({ ...record, state: 'expired' }, record.version);
      this.#lifecycle.emit({
        type: 'session.expired',
        at: now,
        context: this.#lifecycle.eventContext(context),
        session: toView(expired),
        reason,
      });
    } catch (error) {
      // Someone else already changed it; the session is over either way.
      if (!(error instanceof SessionKitError) || error.code === 'store.unavailable') throw error;
    }
    throw new SessionExpiredError(`Session ${reason} timeout reached`);
  }

  #guard(result: ValidatedSession, options: ValidateOptions, now?: number): ValidatedSession {
    const required = Math.max(options.requiredAal ?? 1, this.#config.requiredAal);
    if (options.tenantId !== undefined && result.tenantId !== options.tenantId) {
      throw new TenantMismatchError();
    }
    if (result.aal < required) throw new AalInsufficientError(required, result.aal);
    if (
      options.maxAuthAgeMs !== undefined &&
      (now ?? this.#clock.now()) - result.authenticatedAt > options.maxAuthAgeMs
    ) {
      throw new AuthStaleError(options.maxAuthAgeMs);
    }
    return result;
  }
}
