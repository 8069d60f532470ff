import {
  InvalidInputError,
  LimitExceededError,
  SessionNotFoundError,
  SessionRevokedError,
  StoreUnavailableError,
  VersionConflictError,
} from './errors.js';
import { countInto, pageRecords } from './session-query.js';
import type { SessionRecord } from './session-record.js';
import { expiresAt } from './session-record.js';
import type {
  CreateSessionInput,
  CreateSessionResult,
  InvalidationFeed,
  InvalidationListener,
  InvalidationMessage,
  ListOptions,
  RevokeOptions,
  RevokeUserOptions,
  RotateRefreshInput,
  RotateRefreshResult,
  SessionPage,
  SessionQuery,
  SessionStore,
  StatsQuery,
  StoreStats,
} from './store.js';
import { chooseEvictions, decideRotation, revokedCopy } from './store-rules.js';

export interface MemoryStoreOptions {
  /** Hard cap on stored records; creating past it (after dropping expired ones) fails with `store.unavailable`. */
  maxEntries?: number;
  /** How often expired records are swept; the timer never keeps the process alive. */
  sweepIntervalMs?: number;
  now?: () => number;
}

/** A feed for instances sharing one process (tests, the single-process embedded default). */
export class LocalInvalidationFeed implements InvalidationFeed {
  readonly #listeners = new Set<InvalidationListener>();

  async publish(message: InvalidationMessage): Promise<void> {
    for (const listener of this.#listeners) listener(message);
  }

  async subscribe(listener: InvalidationListener): Promise<() => Promise<void>> {
    // Each subscription is its own entry so one listener can subscribe twice and unsubscribe once.
    const entry: InvalidationListener = (message) => listener(message);
    this.#listeners.add(entry);
    return async () => {
      this.#listeners.delete(entry);
    };
  }
}

/**
 * The embedded default: one process, no persistence. Every method runs to completion synchronously
 * between awaits, which is what makes each of them atomic.
 */
export class MemoryStore implements SessionStore {
  /** Its data lives in this process alone, so per-process keys are enough: it stays zero-config. */
  readonly shared = false;
  /** decideRotation checks a bound session's key inside the rotation. */
  readonly checksRotationKey = true;
  readonly feed: InvalidationFeed;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}, feed: InvalidationFeed = new LocalInvalidationFeed()) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
    this.feed = feed;
    this.#timer = setInterval(() => this.#sweep(Number.POSITIVE_INFINITY), options.sweepIntervalMs ?? 60_000);
    this.#timer.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  async create(input: CreateSessionInput): Promise<CreateSessionResult> {
    this.#assertOpen();
    const { session, maxSessions, onLimit, now } = input;
    if (this.#sessions.has(session.id)) throw new InvalidInputError('Session id already exists');
    if (this.#sessions.size >= this.#maxEntries) this.#sweep(Number.POSITIVE_INFINITY);
    if (this.#sessions.size >= this.#maxEntries) {
      throw new StoreUnavailableError(`Memory store is full (${this.#maxEntries} sessions)`);
    }
    const victims = chooseEvictions(this.#userRecords(session.userId), maxSessions, now, session.tenantId);
    if (victims.length > 0 && onLimit === 'reject') throw new LimitExceededError(maxSessions);
    const evicted = victims.map((victim) => this.#put(revokedCopy(victim, 'limit.evicted', now)));
    this.#put(session);
    return { session, evicted };
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    this.#assertOpen();
    return this.#sessions.get(id);
  }

  async listByUser(userId: string, options: ListOptions = {}): Promise<SessionRecord[]> {
    this.#assertOpen();
    return this.#userRecords(userId)
      .filter((record) => options.tenantId === undefined || record.tenantId === options.tenantId)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async update(next: SessionRecord, expectedVersion: number): Promise<SessionRecord> {
    this.#assertOpen();
    const current = this.#sessions.get(next.id);
    if (!current) throw new SessionNotFoundError();
    if (current.userId !== next.userId) throw new InvalidInputError('A session cannot change its user');
    if (current.state === 'revoked') throw new SessionRevokedError();
    if (current.version !== expectedVersion) throw new VersionConflictError();
    return this.#put({ ...next, version: expectedVersion + 1 });
  }

  async rotateRefresh(input: RotateRefreshInput): Promise<RotateRefreshResult> {
    this.#assertOpen();
    const decision = decideRotation(this.#sessions.get(input.sessionId), input);
    if (decision.write) this.#put(decision.write);
    return decision.result;
  }

  async revoke(id: string, options: RevokeOptions): Promise<SessionRecord | undefined> {
    this.#assertOpen();
    const current = this.#sessions.get(id);
    return current && this.#put(revokedCopy(current, options.reason, options.now));
  }

  async revokeUser(userId: string, options: RevokeUserOptions): Promise<SessionRecord[]> {
    this.#assertOpen();
    return this.#userRecords(userId)
      .filter(
        (record) =>
          record.state !== 'revoked' &&
          record.id !== options.exceptId &&
          (options.tenantId === undefined || record.tenantId === options.tenantId),
      )
      .map((record) => this.#put(revokedCopy(record, options.reason, options.now)));
  }

  async revokeTree(rootId: string, options: RevokeOptions): Promise<SessionRecord[]> {
    this.#assertOpen();
    const revoked: SessionRecord[] = [];
    const pending = [rootId];
    const seen = new Set<string>();
    for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
      if (seen.has(id)) continue;
      seen.add(id);
      const record = this.#sessions.get(id);
      if (record && record.state !== 'revoked') {
        revoked.push(this.#put(revokedCopy(record, options.reason, options.now)));
      }
      for (const candidate of this.#sessions.values())
        if (candidate.parentId === id) pending.push(candidate.id);
    }
    return revoked;
  }

  async deleteExpired(options: { now: number; batchSize: number }): Promise<number> {
    this.#assertOpen();
    return this.#sweep(options.batchSize, options.now);
  }

  /** A scan of every record: the memory store is bounded by `maxEntries`, so a page costs at most that. */
  async listSessions(query: SessionQuery): Promise<SessionPage> {
    this.#assertOpen();
    return pageRecords(this.#userOrAll(query.userId), query);
  }

  async sessionStats(query: StatsQuery): Promise<StoreStats> {
    this.#assertOpen();
    const stats: StoreStats = { live: 0, expired: 0, created: 0, revoked: 0 };
    for (const record of this.#sessions.values()) {
      if (query.tenantId === undefined || record.tenantId === query.tenantId) countInto(stats, record, query);
    }
    return stats;
  }

  async deleteUser(userId: string): Promise<number> {
    this.#assertOpen();
    const records = this.#userRecords(userId);
    for (const record of records) this.#sessions.delete(record.id);
    this.#byUser.delete(userId);
    return records.length;
  }

  async health(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('Memory store is closed');
  }

  #put(record: SessionRecord): SessionRecord {
    this.#sessions.set(record.id, record);
    let ids = this.#byUser.get(record.userId);
    if (!ids) {
      ids = new Set();
      this.#byUser.set(record.userId, ids);
    }
    ids.add(record.id);
    return record;
  }

  #userOrAll(userId: string | undefined): SessionRecord[] {
    return userId === undefined ? [...this.#sessions.values()] : this.#userRecords(userId);
  }

  #userRecords(userId: string): SessionRecord[] {
    const ids = this.#byUser.get(userId);
    if (!ids) return [];
    const records: SessionRecord[] = [];
    for (const id of ids) {
      const record = this.#sessions.get(id);
      if (record) records.push(record);
    }
    return records;
  }

  #sweep(batchSize: number, now = this.#now()): number {
    let deleted = 0;
    for (const record of this.#sessions.values()) {
      if (deleted >= batchSize) break;
      if (expiresAt(record) > now) continue;
      this.#sessions.delete(record.id);
      const ids = this.#byUser.get(record.userId);
      ids?.delete(record.id);
      if (ids?.size === 0) this.#byUser.delete(record.userId);
      deleted += 1;
    }
    return deleted;
  }
}
