import type { AccessTokenClaims } from './access-token.js';
import type { Clock } from './clock.js';
import type { SessionConfig } from './config.js';
import { CredentialFloor } from './credential-floor.js';
import { ExpiringCache } from './expiring-cache.js';
import { recordInvalidation, recordInvalidationGap } from './session-metrics.js';
import type { SessionRecord } from './session-record.js';
import { expiresAt } from './session-record.js';
import type { SessionStore } from './store.js';
import { hmacSha256 } from './token-crypto.js';

// Distinct client IPs whose keyed hash is kept: hashing is an HMAC, and the same few IPs validate all day.
const IP_HASH_MEMO_ENTRIES = 4096;
// Clock skew allowed on top of the access-token lifetime before a denied or superseded token may expire.
const SKEW_MS = 60_000;

/** Inside the signature of either algorithm we sign with (86 characters each), and unique enough to key on. */
function signatureTail(token: string): string {
  return token.slice(-22);
}

/**
 * What one instance knows about sessions without reading the store: the denylist, the credential floor, the
 * verified access tokens, the validation cache and the IP-hash memo. The store's invalidation feed keeps it in
 * step with the other instances: what this instance announces, they apply, and the other way round.
 */
export class LocalSessionState {
  readonly #store: SessionStore;
  readonly #clock: Clock;
  readonly #ipHashKey: string | Buffer;
  readonly #ipHashes = new ExpiringCache<string>(IP_HASH_MEMO_ENTRIES);
  readonly #denylist: ExpiringCache<true>;
  /** Long enough for every access token of a session to have expired, plus clock skew. */
  readonly #denyMs: number;
  /** Per stepped-up session, the authentication below which its access tokens are refused. */
  readonly #floor: CredentialFloor;
  /**
   * Verified access tokens, keyed by their signature's last characters: hashing the whole token was most of what
   * a hit cost. A hit compares the whole token, so a payload swapped under a copied signature never matches.
   */
  readonly #verifiedJwts: ExpiringCache<{ token: string; claims: AccessTokenClaims }>;
  readonly #validated: ExpiringCache<SessionRecord>;
  readonly #validationMaxAgeMs: number | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(options: {
    store: SessionStore;
    config: SessionConfig;
    clock: Clock;
    ipHashKey: string | Buffer;
  }) {
    const { config } = options;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ipHashKey = options.ipHashKey;
    this.#denylist = new ExpiringCache(config.denylistMaxEntries);
    this.#denyMs = config.accessToken.ttlMs + SKEW_MS;
    // Kept as long as denylist entries: until the access tokens issued before a step-up have expired.
    this.#floor = new CredentialFloor(config.denylistMaxEntries, this.#denyMs);
    this.#verifiedJwts = new ExpiringCache(config.accessToken.cacheEntries);
    const cache = config.validationCache;
    this.#validated = new ExpiringCache(cache.enabled ? cache.maxEntries : 0);
    this.#validationMaxAgeMs = cache.enabled ? cache.maxAgeMs : undefined;
  }

  /** Subscribes to the store's invalidation feed; a second call does nothing until `close`. */
  async start(): Promise<void> {
    if (this.#unsubscribe) return;
    this.#unsubscribe = await this.#store.feed.subscribe(
      (message) => {
        recordInvalidation(message, Date.now());
        this.#validated.delete(message.sessionId);
        if (message.kind === 'revoked') this.#deny(message.sessionId);
        if (message.authenticatedAt !== undefined)
          this.#floor.raise(message.sessionId, message.authenticatedAt, this.#clock.now());
      },
      // A revocation may have passed unseen: stop trusting local copies of opaque sessions. Access tokens
      // cannot be re-checked without the store; their exposure stays bounded by their lifetime.
      {
        onGap: () => {
          recordInvalidationGap();
          this.#validated.clear();
        },
      },
    );
  }

  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.();
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

  knownJwt(token: string, now: number): AccessTokenClaims | undefined {
    const known = this.#verifiedJwts.get(signatureTail(token), now);
    return known?.token === token ? known.claims : undefined;
  }

  /** Tokens, not digests, are kept: a process holding the signing keys gains no exposure from tokens they signed. */
  rememberJwt(token: string, claims: AccessTokenClaims, now: number): void {
    this.#verifiedJwts.set(signatureTail(token), { token, claims }, claims.exp * 1000, now);
  }

  isDenied(sessionId: string, now: number): boolean {
    return this.#denylist.get(sessionId, now) === true;
  }

  /** Takes a resumed session off this instance's denylist (other instances keep it until it expires there). */
  allow(sessionId: string): void {
    this.#denylist.delete(sessionId);
  }

  /** Neither denied nor issued before the session's last authentication: the fast tier may answer for it. */
  trusts(claims: AccessTokenClaims, now: number): boolean {
    return this.#denylist.get(claims.sid, now) !== true && this.#floor.admits(claims, now);
  }

  /** See CredentialFloor.assertAdmits: throws `token.invalid` for a token issued before the last authentication. */
  assertAdmits(claims: AccessTokenClaims, now: number, storedAuthenticatedAt?: number): void {
    this.#floor.assertAdmits(claims, now, storedAuthenticatedAt);
  }

  raiseFloor(sessionId: string, authenticatedAt: number, now: number): void {
    this.#floor.raise(sessionId, authenticatedAt, now);
  }

  /** The validation cache's copy of a session; always `undefined` when the cache is disabled. */
  cached(sessionId: string, now: number): SessionRecord | undefined {
    return this.#validated.get(sessionId, now);
  }

  /** Keeps a record the full tier just checked, when the validation cache is enabled. */
  remember(record: SessionRecord, now: number): void {
    if (this.#validationMaxAgeMs !== undefined)
      this.#validated.set(record.id, record, now + this.#validationMaxAgeMs, now);
  }

  forget(sessionId: string): void {
    this.#validated.delete(sessionId);
  }

  /**
   * Denies the session here at once, then tells the other instances. `sentAt`, here and in `announceChanged`, is
   * the wall clock, never the injected one: receivers compare it with theirs to measure the feed's lag.
   */
  async announceRevoked(session: SessionRecord): Promise<void> {
    this.#deny(session.id);
    await this.#store.feed.publish({
      sessionId: session.id,
      kind: 'revoked',
      expiresAt: expiresAt(session),
      sentAt: Date.now(),
    });
  }

  /** `authenticatedAt` after a step-up: other instances then refuse access tokens issued before it. */
  async announceChanged(session: SessionRecord, authenticatedAt?: number): Promise<void> {
    this.#validated.delete(session.id);
    await this.#store.feed.publish({
      sessionId: session.id,
      kind: 'changed',
      expiresAt: expiresAt(session),
      ...(authenticatedAt === undefined ? {} : { authenticatedAt }),
      sentAt: Date.now(),
    });
  }

  #deny(sessionId: string): void {
    const now = this.#clock.now();
    this.#denylist.set(sessionId, true, now + this.#denyMs, now);
    this.#validated.delete(sessionId);
  }
}
