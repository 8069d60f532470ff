import type { Clock, JsonValue, SessionManager, SessionRecord } from '@sessionkit/core';
import {
  hmacSha256,
  InvalidInputError,
  METADATA_MAX_BYTES,
  parseInput,
  randomToken,
  SessionExpiredError,
  SessionKitError,
  SessionNotFoundError,
  SessionRevokedError,
  StoreCorruptError,
  systemClock,
  VersionConflictError,
} from '@sessionkit/core';
import { isLive, timestampSchema } from '@sessionkit/core/store';
import { z } from 'zod';
import { retryWithBackoff, sleep } from './backoff.js';
import type { OidcClient } from './oidc-client.js';
import { UpstreamRejectedError, UpstreamUnavailableError } from './upstream-errors.js';
import type { UpstreamTokens, UpstreamTokensInput } from './upstream-tokens.js';
import { upstreamTokensSchema } from './upstream-tokens.js';
import type { VaultKeyRing } from './vault-key-ring.js';

/** Metadata key of the sealed envelope; the `sk.` prefix keeps it out of every view, event and API answer. */
export const UPSTREAM_TOKENS_KEY = 'sk.upstream';
/** Metadata key of the refresh lease: who refreshes this session's upstream tokens, and until when. */
export const UPSTREAM_LEASE_KEY = 'sk.upstream-lease';
export const UPSTREAM_REVOKED_REASON = 'upstream.revoked';

const leaseSchema = z.object({ owner: z.string().min(1).max(64), until: timestampSchema });
type Lease = z.infer<typeof leaseSchema>;

const vaultOptionsSchema = z
  .object({
    /** Refresh when the access token has less than this left (default 5 min, at most half its lifetime). */
    refreshBeforeMs: z.number().int().nonnegative().default(300_000),
    /** How long one instance may hold the refresh of a session; must outlast its retries. */
    leaseMs: z.number().int().positive().default(30_000),
    /** How long a caller that lost the lease waits for the winner's result. */
    waitTimeoutMs: z.number().int().positive().default(10_000),
    pollIntervalMs: z.number().int().positive().default(100),
    retry: z
      .object({
        attempts: z.number().int().min(1).max(10).default(4),
        baseDelayMs: z.number().int().positive().default(200),
        maxDelayMs: z.number().int().positive().default(5000),
      })
      .prefault({}),
    /** Names this instance in its leases (for operators); a random suffix is always added. */
    instanceId: z.string().min(1).max(32).optional(),
    /** Key for the salted session-id hashes in log entries; random per process by default. */
    logSalt: z.string().min(16).optional(),
  })
  .refine((options) => options.leaseMs > options.retry.maxDelayMs, {
    message: 'leaseMs must be longer than retry.maxDelayMs',
    path: ['leaseMs'],
  });
export type UpstreamTokenVaultConfig = z.input<typeof vaultOptionsSchema>;

/** Structured, token-free log entries; `session` is a salted hash of the session id, never the id itself. */
export interface UpstreamLogEntry {
  event:
    | 'upstream.refreshed'
    | 'upstream.refresh_retry'
    | 'upstream.refresh_failed'
    | 'upstream.refresh_waiting'
    | 'upstream.revoked';
  session: string;
  attempt?: number;
  delayMs?: number;
  code?: string;
  keyId?: string;
}

export interface UpstreamTokenVaultOptions extends UpstreamTokenVaultConfig {
  manager: SessionManager;
  client: OidcClient;
  keys: VaultKeyRing;
  clock?: Clock;
  log?: (entry: UpstreamLogEntry) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Opened {
  tokens: UpstreamTokens;
  envelope: string;
  keyId: string;
}

const MAX_CAS_ATTEMPTS = 5;

/**
 * Keeps a session's upstream (identity provider) tokens sealed in the session record and fresh.
 *
 * The envelope lives in the record's reserved metadata, so every write shares the record's compare-and-set:
 * a rotated upstream refresh token is stored atomically with the lease release, and a revoked session can
 * never be written back. The lease (`sk.upstream-lease`) is taken by compare-and-set too, so among any number
 * of instances sharing a store exactly one refreshes a session at a time; the others wait for its result.
 */
export class UpstreamTokenVault {
  readonly #manager: SessionManager;
  readonly #client: OidcClient;
  readonly #keys: VaultKeyRing;
  readonly #clock: Clock;
  readonly #config: z.output<typeof vaultOptionsSchema>;
  readonly #owner: string;
  readonly #logSalt: string;
  readonly #log: (entry: UpstreamLogEntry) => void;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Callers in this process share one refresh per session; the lease does the same across processes. */
  readonly #inFlight = new Map<string, Promise<UpstreamTokens>>();

  constructor(options: UpstreamTokenVaultOptions) {
    const { manager, client, keys, clock, log, random, sleep: sleepFn, ...config } = options;
    this.#config = parseInput(vaultOptionsSchema, config, 'upstream token vault options');
    this.#manager = manager;
    this.#client = client;
    this.#keys = keys;
    this.#clock = clock ?? systemClock;
    // The random part keeps two vaults apart even if they were given the same instance id.
    this.#owner = `${this.#config.instanceId ?? 'vault'}.${randomToken(9)}`;
    this.#logSalt = this.#config.logSalt ?? randomToken(32);
    this.#log = log ?? (() => {});
    this.#random = random ?? Math.random;
    this.#sleep = sleepFn ?? sleep;
  }

  get client(): OidcClient {
    return this.#client;
  }

  /** Seals tokens into the session (after login, or to replace them); always with the current key. */
  async save(sessionId: string, input: UpstreamTokensInput): Promise<void> {
    const tokens = parseInput(upstreamTokensSchema, input, 'upstream tokens');
    const envelope = await this.#keys.seal(JSON.stringify(tokens), sessionId);
    await this.#mutate(sessionId, (record) => {
      this.#assertUsable(record);
      return withMetadata(record, { [UPSTREAM_TOKENS_KEY]: envelope });
    });
  }

  /** The stored tokens as they are, without refreshing; undefined if the session holds none. */
  async read(sessionId: string): Promise<UpstreamTokens | undefined> {
    const record = await this.#load(sessionId);
    return (await this.#open(record))?.tokens;
  }

  /** Which key sealed the session's envelope (for rotation monitoring); undefined if none. */
  async keyIdOf(sessionId: string): Promise<string | undefined> {
    const envelope = (await this.#load(sessionId)).metadata[UPSTREAM_TOKENS_KEY];
    return typeof envelope === 'string' ? envelope.split('.')[0] : undefined;
  }

  /**
   * Tokens fit for use: refreshed first when the access token has less than `refreshBeforeMs` left. If the
   * provider is unreachable but the current access token is still valid, that one is returned (the next call
   * tries again). `invalid_grant` revokes the session (`upstream.revoked`) and throws `session.revoked`.
   */
  async tokens(sessionId: string): Promise<UpstreamTokens | undefined> {
    const opened = await this.#open(await this.#load(sessionId));
    if (!opened) return undefined;
    if (!this.#due(opened.tokens)) return opened.tokens;
    return this.#refresh(sessionId, opened, false);
  }

  async accessToken(sessionId: string): Promise<string | undefined> {
    return (await this.tokens(sessionId))?.accessToken;
  }

  /** Refreshes now, whatever the expiry; concurrent callers still share one refresh. */
  async refresh(sessionId: string): Promise<UpstreamTokens | undefined> {
    const opened = await this.#open(await this.#load(sessionId));
    if (!opened) return undefined;
    return this.#refresh(sessionId, opened, true);
  }

  /** Forgets the upstream tokens (e.g. after the app revoked them upstream). */
  async clear(sessionId: string): Promise<void> {
    await this.#mutate(sessionId, (record) =>
      withMetadata(record, {}, [UPSTREAM_TOKENS_KEY, UPSTREAM_LEASE_KEY]),
    );
  }

  /** Ends the session because the provider no longer honours its grant. */
  async revokeForUpstream(sessionId: string): Promise<void> {
    this.#log({ event: 'upstream.revoked', session: this.#ref(sessionId) });
    await this.#manager.revoke(sessionId, { reason: UPSTREAM_REVOKED_REASON, by: 'policy' });
  }

  #refresh(sessionId: string, seen: Opened, force: boolean): Promise<UpstreamTokens> {
    const running = this.#inFlight.get(sessionId);
    if (running) return running;
    const refresh = this.#refreshOnce(sessionId, seen, force).finally(() => this.#inFlight.delete(sessionId));
    this.#inFlight.set(sessionId, refresh);
    return refresh;
  }

  async #refreshOnce(sessionId: string, seen: Opened, force: boolean): Promise<UpstreamTokens> {
    const deadline = this.#clock.now() + this.#config.waitTimeoutMs;
    let waiting = false;
    for (;;) {
      const record = await this.#load(sessionId);
      const opened = await this.#open(record);
      if (!opened) throw new SessionNotFoundError('Session no longer holds upstream tokens');
      // Another instance finished a refresh since we looked: its result is ours too.
      if (opened.envelope !== seen.envelope) return opened.tokens;
      if (!force && !this.#due(opened.tokens)) return opened.tokens;
      const refreshToken = opened.tokens.refreshToken;
      if (refreshToken === undefined) {
        if (!this.#expired(opened.tokens)) return opened.tokens;
        throw new UpstreamRejectedError('no_refresh_token', 0);
      }
      const now = this.#clock.now();
      const lease = readLease(record);
      if (lease && lease.until > now && lease.owner !== this.#owner) {
        if (!force && !this.#expired(opened.tokens)) return opened.tokens;
        if (now >= deadline) {
          throw new UpstreamUnavailableError(
            'Timed out waiting for another instance to refresh upstream tokens',
          );
        }
        if (!waiting) this.#log({ event: 'upstream.refresh_waiting', session: this.#ref(sessionId) });
        waiting = true;
        await this.#sleep(this.#config.pollIntervalMs);
        continue;
      }
      const until = now + this.#config.leaseMs;
      let leased: SessionRecord;
      try {
        leased = await this.#manager.store.update(
          withMetadata(record, { [UPSTREAM_LEASE_KEY]: { owner: this.#owner, until } }),
          record.version,
        );
      } catch (error) {
        if (error instanceof VersionConflictError) continue;
        throw error;
      }
      return this.#refreshUnderLease(leased, opened, refreshToken, until, force);
    }
  }

  async #refreshUnderLease(
    record: SessionRecord,
    opened: Opened,
    refreshToken: string,
    leaseUntil: number,
    force: boolean,
  ): Promise<UpstreamTokens> {
    const sessionId = record.id;
    const session = this.#ref(sessionId);
    let fresh: UpstreamTokens;
    try {
      fresh = await retryWithBackoff(() => this.#client.refresh(refreshToken), {
        ...this.#config.retry,
        random: this.#random,
        sleep: this.#sleep,
        isRetryable: (error) => error instanceof UpstreamUnavailableError,
        // Never retry past the lease: another instance could take it over and spend the same refresh token.
        mayWait: (delayMs) => this.#clock.now() + delayMs < leaseUntil - this.#config.retry.maxDelayMs,
        onRetry: (attempt, delayMs, error) =>
          this.#log({ event: 'upstream.refresh_retry', session, attempt, delayMs, code: errorCode(error) }),
      });
    } catch (error) {
      this.#log({ event: 'upstream.refresh_failed', session, code: errorCode(error) });
      if (error instanceof UpstreamRejectedError && error.oauthError === 'invalid_grant') {
        await this.revokeForUpstream(sessionId);
        throw new SessionRevokedError('The identity provider no longer honours this session');
      }
      await this.#releaseLease(sessionId);
      if (error instanceof UpstreamUnavailableError && !force && !this.#expired(opened.tokens)) {
        return opened.tokens;
      }
      throw error;
    }
    const next: UpstreamTokens = {
      ...fresh,
      // Providers that do not rotate omit these; the ones we hold stay valid.
      ...(fresh.refreshToken === undefined ? { refreshToken } : {}),
      ...(fresh.idToken === undefined && opened.tokens.idToken !== undefined
        ? { idToken: opened.tokens.idToken }
        : {}),
    };
    const envelope = await this.#keys.seal(JSON.stringify(next), sessionId);
    await this.#mutate(sessionId, (current) => {
      if (current.metadata[UPSTREAM_TOKENS_KEY] !== opened.envelope) {
        // Only possible if our lease ran out and someone else stored newer tokens: theirs stand.
        throw new VersionConflictError('Upstream tokens were replaced during the refresh');
      }
      return withMetadata(current, { [UPSTREAM_TOKENS_KEY]: envelope }, [UPSTREAM_LEASE_KEY]);
    });
    this.#log({ event: 'upstream.refreshed', session, keyId: this.#keys.currentKeyId });
    return next;
  }

  async #releaseLease(sessionId: string): Promise<void> {
    try {
      await this.#mutate(sessionId, (record) =>
        readLease(record)?.owner === this.#owner ? withMetadata(record, {}, [UPSTREAM_LEASE_KEY]) : record,
      );
    } catch {
      // The lease runs out by itself; failing to release it early only delays the next refresh.
    }
  }

  async #load(sessionId: string): Promise<SessionRecord> {
    const record = await this.#manager.store.get(sessionId);
    if (!record) throw new SessionNotFoundError();
    this.#assertUsable(record);
    return record;
  }

  #assertUsable(record: SessionRecord): void {
    if (record.state === 'revoked') throw new SessionRevokedError();
    if (!isLive(record, this.#clock.now())) throw new SessionExpiredError();
  }

  async #open(record: SessionRecord): Promise<Opened | undefined> {
    const envelope = record.metadata[UPSTREAM_TOKENS_KEY];
    if (envelope === undefined) return undefined;
    if (typeof envelope !== 'string') throw new StoreCorruptError('Sealed upstream tokens are not a string');
    const { plaintext, keyId } = await this.#keys.open(envelope, record.id);
    let value: unknown;
    try {
      value = JSON.parse(plaintext);
    } catch (cause) {
      throw new StoreCorruptError('Sealed upstream tokens are not JSON', { cause });
    }
    const tokens = upstreamTokensSchema.safeParse(value);
    if (!tokens.success) throw new StoreCorruptError('Sealed upstream tokens do not match the schema');
    return { tokens: tokens.data, envelope, keyId };
  }

  async #mutate(sessionId: string, change: (record: SessionRecord) => SessionRecord): Promise<SessionRecord> {
    for (let attempt = 1; ; attempt += 1) {
      const record = await this.#manager.store.get(sessionId);
      if (!record) throw new SessionNotFoundError();
      const next = change(record);
      if (next === record) return record;
      if (JSON.stringify(next.metadata).length > METADATA_MAX_BYTES) {
        throw new InvalidInputError('Upstream tokens do not fit in the session metadata limit', [
          { path: 'metadata', message: `at most ${METADATA_MAX_BYTES} bytes` },
        ]);
      }
      try {
        return await this.#manager.store.update(next, record.version);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_CAS_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Inside the refresh window: `refreshBeforeMs`, capped at half the token's lifetime when known, so a
   * provider issuing 5-minute tokens (Keycloak's default) does not make every call a refresh.
   */
  #due(tokens: UpstreamTokens): boolean {
    const lifetime =
      tokens.issuedAt === undefined ? Number.POSITIVE_INFINITY : tokens.expiresAt - tokens.issuedAt;
    const window = Math.min(this.#config.refreshBeforeMs, lifetime / 2);
    return tokens.expiresAt - this.#clock.now() < window;
  }

  #expired(tokens: UpstreamTokens): boolean {
    return tokens.expiresAt <= this.#clock.now();
  }

  #ref(sessionId: string): string {
    return hmacSha256(this.#logSalt, sessionId).slice(0, 22);
  }
}

function readLease(record: SessionRecord): Lease | undefined {
  const parsed = leaseSchema.safeParse(record.metadata[UPSTREAM_LEASE_KEY]);
  return parsed.success ? parsed.data : undefined;
}

function withMetadata(
  record: SessionRecord,
  set: Record<string, JsonValue>,
  remove: readonly string[] = [],
): SessionRecord {
  const metadata = { ...record.metadata, ...set };
  for (const key of remove) delete metadata[key];
  return { ...record, metadata };
}

function errorCode(error: unknown): string {
  if (error instanceof UpstreamRejectedError) return error.oauthError;
  if (error instanceof SessionKitError) return error.code;
  return 'unexpected';
}
