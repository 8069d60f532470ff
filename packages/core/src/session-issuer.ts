import { z } from 'zod';
import type { AccessTokenKeyRing } from './access-token.js';
import type { Clock } from './clock.js';
import type { SessionConfig } from './config.js';
import { boundJkt, dpopMetadata, jktSchema } from './dpop-binding.js';
import { SessionNotFoundError } from './errors.js';
import type { LocalSessionState } from './local-session-state.js';
import { formatToken, hashSecret, newSecret, newSessionId } from './opaque-token.js';
import { formatRefreshToken } from './refresh-token.js';
import { requestContextSchema } from './request-context.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import type { JsonValue, SessionRecord } from './session-record.js';
import { aalSchema, expiresAt, isLive, metadataSchema, sessionIdSchema } from './session-record.js';
import type { SessionView } from './session-view.js';
import { toView } from './session-view.js';
import type { SessionStore } from './store.js';
import { randomToken } from './token-crypto.js';
import { parseInput } from './zod-input.js';

const createInputSchema = z.object({
  userId: z.string().min(1).max(256),
  tenantId: z.string().min(1).max(256).optional(),
  aal: aalSchema.default(1),
  authenticatedAt: z.number().int().nonnegative().optional(),
  parentId: sessionIdSchema.optional(),
  deviceLabel: z.string().max(200).optional(),
  /** Binds the session, its refresh family and its access tokens to this DPoP key (a verified proof's jkt). */
  dpopJkt: jktSchema.optional(),
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

export interface SessionIssuerOptions {
  store: SessionStore;
  config: SessionConfig;
  clock: Clock;
  accessTokens: AccessTokenKeyRing | undefined;
  refreshKey: Buffer;
  state: LocalSessionState;
  lifecycle: SessionLifecycle;
}

/** Creating sessions and minting the credentials handed out for them: session, refresh and access tokens. */
export class SessionIssuer {
  readonly #store: SessionStore;
  readonly #config: SessionConfig;
  readonly #clock: Clock;
  readonly #accessTokens: AccessTokenKeyRing | undefined;
  readonly #refreshKey: Buffer;
  readonly #state: LocalSessionState;
  readonly #lifecycle: SessionLifecycle;

  constructor(options: SessionIssuerOptions) {
    this.#store = options.store;
    this.#config = options.config;
    this.#clock = options.clock;
    this.#accessTokens = options.accessTokens;
    this.#refreshKey = options.refreshKey;
    this.#state = options.state;
    this.#lifecycle = options.lifecycle;
  }

  async create(options: CreateSessionOptions): Promise<IssuedTokens> {
    const input = parseInput(createInputSchema, options, 'session options');
    const now = this.#clock.now();
    if (input.parentId !== undefined) {
      const parent = await this.#store.get(input.parentId);
      if (!parent || !isLive(parent, now)) throw new SessionNotFoundError('Parent session is not active');
    }
    const secret = newSecret();
    const refreshSecret = this.#config.refresh.enabled ? newSecret() : undefined;
    const ipHash = input.context.ip === undefined ? undefined : this.#state.hashIp(input.context.ip);
    const absoluteExpiresAt = now + this.#config.absoluteLifetimeMs;
    const record: SessionRecord = {
      id: newSessionId(),
      userId: input.userId,
      ...(input.tenantId === undefined ? {} : { tenantId: input.tenantId }),
      state: 'active',
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + this.#config.idleTimeoutMs, absoluteExpiresAt),
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
      metadata: { ...input.metadata, ...dpopMetadata(input.dpopJkt) },
    };
    const tenantLimit =
      record.tenantId === undefined ? undefined : this.#config.tenantLimits[record.tenantId];
    const { session, evicted } = await this.#store.create({
      session: record,
      maxSessions: tenantLimit?.maxSessionsPerUser ?? this.#config.maxSessionsPerUser,
      onLimit: tenantLimit?.onLimit ?? this.#config.onLimit,
      now,
    });
    const context = this.#lifecycle.eventContext(input.context);
    for (const victim of evicted) {
      await this.#state.announceRevoked(victim);
      this.#lifecycle.emit({
        type: 'session.evicted',
        at: now,
        context,
        session: toView(victim),
        reason: 'limit.evicted',
      });
    }
    this.#lifecycle.emit({ type: 'session.created', at: now, context, session: toView(session) });
    return this.issue(
      session,
      secret,
      refreshSecret === undefined ? undefined : { generation: 0, secret: refreshSecret },
    );
  }

  /** The tokens for a session whose secrets were just written; a refresh token only when `refresh` is given. */
  async issue(
    record: SessionRecord,
    secret: string,
    refresh?: { generation: number; secret: string },
  ): Promise<IssuedTokens> {
    return {
      session: toView(record),
      token: formatToken('session', record.id, secret),
      expiresAt: expiresAt(record),
      ...(await this.signAccess(record)),
      ...(refresh === undefined
        ? {}
        : { refreshToken: this.refreshToken(record.id, refresh.generation, refresh.secret) }),
    };
  }

  refreshToken(sessionId: string, generation: number, secret: string): string {
    return formatRefreshToken(this.#refreshKey, sessionId, generation, secret);
  }

  /** `jkt` binds the token to that key; a bound session's tokens are always bound to the session's key. */
  async signAccess(
    record: SessionRecord,
    jkt?: string,
  ): Promise<{ accessToken?: string; accessTokenExpiresAt?: number }> {
    if (!this.#accessTokens) return {};
    const boundTo = boundJkt(record) ?? jkt;
    const { token, expiresAt: accessExpiresAt } = await this.#accessTokens.sign({
      userId: record.userId,
      sessionId: record.id,
      aal: record.aal,
      authenticatedAt: record.authenticatedAt,
      ...(record.tenantId === undefined ? {} : { tenantId: record.tenantId }),
      ...(boundTo === undefined ? {} : { jkt: boundTo }),
    });
    return { accessToken: token, accessTokenExpiresAt: accessExpiresAt };
  }
}
