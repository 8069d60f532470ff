import type { SessionRecord, SessionState } from './session-record.js';

export type LimitPolicy = 'evict-oldest' | 'reject';

export interface CreateSessionInput {
  /** The record to insert (version 1, state active). */
  session: SessionRecord;
  /**
   * Live sessions allowed for `session.userId` in `session.tenantId`, counting the new one: only the user's
   * sessions of the same tenant (or, for a session without one, those without one) count and are evicted.
   */
  maxSessions: number;
  onLimit: LimitPolicy;
  now: number;
}

export interface CreateSessionResult {
  session: SessionRecord;
  /** Sessions revoked (oldest first) to make room, already in their revoked state. */
  evicted: SessionRecord[];
}

export interface RotateRefreshInput {
  sessionId: string;
  /** SHA-256 (base64url) of the refresh token the caller presented. */
  presentedHash: string;
  successorHash: string;
  sealedSuccessor: string;
  now: number;
  graceMs: number;
  /** New idle deadline written with the rotation; the store caps it at the absolute deadline. */
  idleExpiresAt: number;
  /**
   * The presented token's generation, given only when its MAC proved that we issued it. A token below the
   * stored generation is then one the session replaced: its replay is theft, whatever its hash. Absent, an
   * unknown hash is only unknown, so a forged token never revokes anyone's session.
   */
  presentedGeneration?: number;
  /**
   * The thumbprint of the DPoP proof verified for this request, absent without one. A session bound to a key
   * (`DPOP_METADATA_KEY` in its metadata) rotates, replays its grace successor or detects reuse only when this
   * is its key; otherwise the answer is `key-mismatch` and nothing changes.
   */
  presentedJkt?: string;
}

/**
 * - `rotated`: the presented token was current; the session now holds `successorHash`.
 * - `grace`: the presented token was the immediately previous one, inside the grace window; the session is
 *   returned unchanged so the caller can recover the same successor.
 * - `reused`: a token of a verified earlier generation, or the previous one after the grace window; the store
 *   has revoked the session.
 * - `inactive`: the session exists but is revoked or expired.
 * - `key-mismatch`: the token is one the session knows, but the session is bound to a DPoP key and
 *   `presentedJkt` is absent or another key's; nothing was written, so a thief without the key neither burns the
 *   holder's token nor triggers reuse detection.
 * - `unknown`: no such session, or a token not proven to be one this session issued (no revocation: ids are
 *   not secret).
 */
export type RotateRefreshResult =
  | { outcome: 'rotated' | 'grace' | 'reused' | 'inactive' | 'key-mismatch'; session: SessionRecord }
  | { outcome: 'unknown' };

export const REUSE_REVOKE_REASON = 'token.reuse_detected';

export interface RevokeOptions {
  reason: string;
  now: number;
}

export interface RevokeUserOptions extends RevokeOptions {
  exceptId?: string;
  tenantId?: string;
}

export interface ListOptions {
  tenantId?: string;
}

/** Which sessions an operator lists; every filter is optional and they combine with AND. */
export interface SessionQuery {
  tenantId?: string;
  userId?: string;
  /** The effective state at `now`: an active or suspended record past a deadline is `expired`. */
  state?: SessionState;
  /** Creation time, inclusive. */
  createdFrom?: number;
  /** Creation time, exclusive. */
  createdTo?: number;
  /** `device.fingerprint.deviceType` (desktop, mobile, tablet, ...). */
  deviceType?: string;
  /** Page size, 1..500. */
  limit: number;
  /** From the previous page's `nextCursor`; a cursor not minted by a store is `input.invalid`. */
  cursor?: string;
  now: number;
}

/**
 * Newest first (creation time, then id, descending). A cursor names the last position read, never an offset,
 * so sessions created or removed meanwhile neither repeat nor skip others. A page may hold fewer than `limit`
 * sessions (a store bounds the work per page); only an absent `nextCursor` means the end.
 */
export interface SessionPage {
  sessions: SessionRecord[];
  nextCursor?: string;
}

export interface StatsQuery {
  tenantId?: string;
  /** Window for `created` and `revoked`: [from, to). */
  from: number;
  to: number;
  now: number;
}

/** Counts over the stored records: a record the backend already deleted counts nowhere. */
export interface StoreStats {
  /** In use and before both deadlines at `now`. */
  live: number;
  /** Stored, not revoked, past a deadline at `now`. */
  expired: number;
  /** Created in the window. */
  created: number;
  /** Revoked in the window. */
  revoked: number;
}

/**
 * Tells other instances to drop what they cached about a session: `revoked` also puts it on their
 * denylist until `expiresAt`; `changed` only invalidates (its token secret or assurance changed).
 */
export interface InvalidationMessage {
  sessionId: string;
  kind: 'revoked' | 'changed';
  expiresAt: number;
  /**
   * Sent with `changed` after a step-up: the session's new `authenticatedAt`. Instances then refuse, without a
   * store read, the session's access tokens issued for an earlier authentication. Feeds must carry it. May be
   * present and undefined: feeds hand listeners what their zod schema parsed.
   */
  authenticatedAt?: number | undefined;
  /**
   * When the publisher sent it (ms since the epoch, the publisher's wall clock): receivers record the feed's lag
   * from it. Optional, since a message from an instance of an earlier version has none; feeds must carry it.
   */
  sentAt?: number | undefined;
}

export type InvalidationListener = (message: InvalidationMessage) => void;

export interface InvalidationSubscribeOptions {
  /**
   * Called when messages may have been missed (the feed reconnected after an outage: pub/sub and NOTIFY do
   * not queue). Subscribers drop whatever they cached, since a revocation may have gone by unseen.
   */
  onGap?: () => void;
}

export interface InvalidationFeed {
  publish(message: InvalidationMessage): Promise<void>;
  /** Resolves once the subscription is live; the returned function ends it. */
  subscribe(
    listener: InvalidationListener,
    options?: InvalidationSubscribeOptions,
  ): Promise<() => Promise<void>>;
}

/**
 * What the engine needs from storage, and no more. Every method either does what it says or throws a
 * SessionKitError (`store.unavailable`, `store.corrupt`, `session.conflict`, ...): a failure is never `undefined`.
 * `undefined` from `get` means only "no such session". Members marked `?` are optional capabilities: the engine
 * checks for them and does without.
 */
export interface SessionStore {
  /** Inserts while holding the per-user limit in one atomic step; evicts the oldest live sessions or throws `limit.exceeded`. */
  create(input: CreateSessionInput): Promise<CreateSessionResult>;
  /** The record, or `undefined` if there is none; on every full-tier validation, so at most one round trip. */
  get(id: string): Promise<SessionRecord | undefined>;
  /** Every stored session of a user (any state), newest first. */
  listByUser(userId: string, options?: ListOptions): Promise<SessionRecord[]>;
  /**
   * Compare-and-set: writes `next` as version `expectedVersion + 1` only over that version. Throws `session.conflict`,
   * `session.not_found`, or `session.revoked` for a revoked record: an update never resurrects a session.
   */
  update(next: SessionRecord, expectedVersion: number): Promise<SessionRecord>;
  /** Rotates a refresh token in one atomic step, deciding as `decideRotation` (store-rules.ts) does. */
  rotateRefresh(input: RotateRefreshInput): Promise<RotateRefreshResult>;
  /** Revokes one session; returns it in its revoked state (unchanged if it already was), or undefined if absent. */
  revoke(id: string, options: RevokeOptions): Promise<SessionRecord | undefined>;
  /** Revokes every live session of a user (optionally in one tenant) but `exceptId`; returns those it revoked. */
  revokeUser(userId: string, options: RevokeUserOptions): Promise<SessionRecord[]>;
  /** Revokes a session and all its descendants (children may belong to other users); returns those it revoked. */
  revokeTree(rootId: string, options: RevokeOptions): Promise<SessionRecord[]>;
  /**
   * Whether other processes reach the same data. Only a store whose data lives in this process alone says `false`
   * (MemoryStore); absent reads as shared, the safe reading. A manager on a shared store refuses to start without
   * `secret` (or `ipHashKey`): per-process keys would differ between instances and across restarts.
   */
  readonly shared?: boolean;
  /**
   * `true` when `rotateRefresh` honours `presentedJkt` (answers `key-mismatch`); absent, the engine reads the
   * session before every rotation to check its key itself, since a store unaware of the field would ignore it.
   */
  readonly checksRotationKey?: boolean;
  /** Reaches every instance sharing this backend: kept on the store, since only the backend knows who shares it. */
  readonly feed: InvalidationFeed;
  /** Resolves when the backend answers; throws `store.unavailable` otherwise (a store with none resolves at once). */
  health(): Promise<void>;
  /** Releases what the store owns (e.g. its feed's connection, a pool handed to it). */
  close(): Promise<void>;
  /** Deletes at most `batchSize` records past a deadline, returns how many; omitted where the backend expires them. */
  deleteExpired?(options: { now: number; batchSize: number }): Promise<number>;
  /** Lists sessions across users (the operator's view), one page at a time, from an index, never a scan. */
  listSessions?(query: SessionQuery): Promise<SessionPage>;
  /** Global (no `tenantId`) or per-tenant counts. */
  sessionStats?(query: StatsQuery): Promise<StoreStats>;
  /** Deletes one user's records outright (data-subject erasure); returns how many. Revoke them first. */
  deleteUser?(userId: string): Promise<number>;
}
