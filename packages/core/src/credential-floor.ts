import type { AccessTokenClaims } from './access-token.js';
import { InvalidTokenError } from './errors.js';
import { ExpiringCache } from './expiring-cache.js';

/**
 * The authentication an access token was issued for, in milliseconds. A token signed before `sk_auth` existed
 * counts as the last millisecond of its `auth_time` second: compared at the precision it carries, so the
 * upgrade refuses none of the tokens that are still current.
 */
export function tokenAuthenticatedAt(claims: AccessTokenClaims): number {
  return claims.authenticatedAt ?? claims.authTime * 1000 + 999;
}

/** An access token issued before the session's last authentication no longer speaks for it. */
function supersededTokenError(): InvalidTokenError {
  return new InvalidTokenError('Access token was issued before the session last authenticated');
}

/**
 * The session's `authenticatedAt` below which access tokens are refused, per session that stepped up: the fast
 * tier reads no record, so it learns of step-ups from this instance's own and from the invalidation feed.
 * Each entry lives as long as a token issued before it could (the access-token lifetime plus clock skew), and
 * the map is bounded like the denylist; a floor evicted or missed in a feed gap leaves the full tier, which
 * compares against the stored record, as the authority.
 */
export class CredentialFloor {
  readonly #floors: ExpiringCache<number>;
  readonly #keepMs: number;

  constructor(maxEntries: number, keepMs: number) {
    this.#floors = new ExpiringCache(maxEntries);
    this.#keepMs = keepMs;
  }

  /** Never lowers a floor: feed messages of two step-ups may arrive out of order. */
  raise(sessionId: string, authenticatedAt: number, now: number): void {
    const current = this.#floors.get(sessionId, now);
    if (current !== undefined && current >= authenticatedAt) return;
    this.#floors.set(sessionId, authenticatedAt, now + this.#keepMs, now);
  }

  admits(claims: AccessTokenClaims, now: number): boolean {
    const floor = this.#floors.get(claims.sid, now);
    return floor === undefined || tokenAuthenticatedAt(claims) >= floor;
  }

  /**
   * Throws `token.invalid` for a token below the floor known here or, given the stored record's
   * `authenticatedAt` (full tier), below that; the stored value then becomes the floor for the fast tier too.
   */
  assertAdmits(claims: AccessTokenClaims, now: number, storedAuthenticatedAt?: number): void {
    if (storedAuthenticatedAt !== undefined && tokenAuthenticatedAt(claims) < storedAuthenticatedAt) {
      this.raise(claims.sid, storedAuthenticatedAt, now);
      throw supersededTokenError();
    }
    if (!this.admits(claims, now)) throw supersededTokenError();
  }
}
