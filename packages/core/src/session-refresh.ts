import type { Clock } from './clock.js';
import type { SessionConfig } from './config.js';
import { assertKeyHolder, keyMismatchError } from './dpop-binding.js';
import { InvalidTokenError, TokenReuseDetectedError } from './errors.js';
import type { LocalSessionState } from './local-session-state.js';
import { hashSecret, newSecret, parseToken } from './opaque-token.js';
import { verifiedGeneration } from './refresh-token.js';
import type { RequestContext } from './request-context.js';
import { requestContextSchema } from './request-context.js';
import type { SessionIssuer } from './session-issuer.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import { stateError } from './session-lifecycle.js';
import type { SessionView } from './session-view.js';
import { toView } from './session-view.js';
import type { SessionStore } from './store.js';
import { digestsEqual, seal, unseal } from './token-crypto.js';
import { parseInput } from './zod-input.js';

export interface RefreshResult {
  session: SessionView;
  refreshToken: string;
  accessToken?: string;
  accessTokenExpiresAt?: number;
}

export interface SessionRefreshOptions {
  store: SessionStore;
  config: SessionConfig;
  clock: Clock;
  refreshKey: Buffer;
  state: LocalSessionState;
  lifecycle: SessionLifecycle;
  issuer: SessionIssuer;
}

/**
 * Refresh-token rotation: the store decides (rotated, grace, reused, ...) atomically; this side verifies the
 * token's MAC, recovers the successor a lost race already minted, and ends the whole tree on reuse.
 */
export class SessionRefresh {
  readonly #store: SessionStore;
  readonly #config: SessionConfig;
  readonly #clock: Clock;
  readonly #refreshKey: Buffer;
  readonly #state: LocalSessionState;
  readonly #lifecycle: SessionLifecycle;
  readonly #issuer: SessionIssuer;

  constructor(options: SessionRefreshOptions) {
    this.#store = options.store;
    this.#config = options.config;
    this.#clock = options.clock;
    this.#refreshKey = options.refreshKey;
    this.#state = options.state;
    this.#lifecycle = options.lifecycle;
    this.#issuer = options.issuer;
  }

  /**
   * `dpopJkt` is the thumbprint of a DPoP proof the caller verified for this request: a bound session rotates
   * only with a proof from its key, and an unbound one gets an access token bound to the proof's key.
   */
  async refresh(
    refreshToken: unknown,
    options: { context?: RequestContext; dpopJkt?: string | undefined },
  ): Promise<RefreshResult> {
    const lifecycle = this.#lifecycle;
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    if (!this.#config.refresh.enabled) throw new InvalidTokenError('Refresh tokens are disabled');
    const parsed = lifecycle.parse(() => parseToken(refreshToken, 'refresh'), context);
    const now = this.#clock.now();
    const successor = newSecret();
    const presentedGeneration = verifiedGeneration(this.#refreshKey, parsed);
    const audit = (code: string) => lifecycle.reject(context, code, parsed.sessionId);
    // A thief without the key must not even burn the holder's current token. A store that checks the key in its
    // atomic rotation answers `key-mismatch`; for one written before that capability, read the binding first.
    if (this.#store.checksRotationKey !== true) {
      await assertKeyHolder(this.#store, parsed.sessionId, options.dpopJkt, audit);
    }
    const result = await this.#store.rotateRefresh({
      sessionId: parsed.sessionId,
      presentedHash: hashSecret(parsed.secret),
      successorHash: hashSecret(successor),
      sealedSuccessor: seal(parsed.secret, successor),
      now,
      graceMs: this.#config.refresh.graceMs,
      idleExpiresAt: now + this.#config.idleTimeoutMs,
      ...(presentedGeneration === undefined ? {} : { presentedGeneration }),
      ...(options.dpopJkt === undefined ? {} : { presentedJkt: options.dpopJkt }),
    });
    const eventContext = lifecycle.eventContext(context);
    switch (result.outcome) {
      case 'unknown':
        throw lifecycle.reject(context, 'refresh.unknown', parsed.sessionId);
      case 'inactive':
        throw stateError(result.session, now);
      case 'key-mismatch': {
        const error = keyMismatchError(options.dpopJkt);
        audit(error.code);
        throw error;
      }
      case 'reused': {
        const familyId = result.session.refresh?.familyId ?? result.session.id;
        lifecycle.emit({
          type: 'token.reuse_detected',
          at: now,
          context: eventContext,
          session: toView(result.session),
          familyId,
        });
        await this.#state.announceRevoked(result.session);
        lifecycle.emit({
          type: 'session.revoked',
          at: now,
          context: eventContext,
          session: toView(result.session),
          reason: 'token.reuse_detected',
          by: 'policy',
        });
        await lifecycle.revokeTree(result.session.id, 'token.reuse_detected', 'policy', eventContext);
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
          throw lifecycle.reject(context, 'refresh.unsealable', parsed.sessionId);
        }
        this.#state.forget(session.id);
        lifecycle.emit({
          type: 'session.refreshed',
          at: now,
          context: eventContext,
          session: toView(session),
          generation: session.refresh?.generation ?? 0,
        });
        const access = await this.#issuer.signAccess(session, options.dpopJkt);
        return {
          session: toView(session),
          refreshToken: this.#issuer.refreshToken(session.id, session.refresh?.generation ?? 0, issued),
          ...access,
        };
      }
    }
  }
}
