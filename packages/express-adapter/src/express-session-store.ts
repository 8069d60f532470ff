import { setTimeout as delay } from 'node:timers/promises';
import type { JsonValue, SessionRecord, SessionStore } from '@sessionkit/core';
import { digestsEqual, parseInput, SessionKitError, sha256, VersionConflictError } from '@sessionkit/core';
import { isLive, sessionRecordSchema } from '@sessionkit/core/store';
import type { SessionData } from 'express-session';
import session from 'express-session';
import { z } from 'zod';

export interface SessionKitStoreOptions {
  /** Any SessionKit store: MemoryStore, @sessionkit/storage-redis, @sessionkit/storage-kysely. */
  store: SessionStore;
  /**
   * express-session data has no user, so records are filed under synthetic user ids `<partition>/<bucket>`,
   * spread over `buckets` by a digest of the sid; `all`, `length` and `clear` walk the buckets. Use one
   * partition per app sharing the store.
   */
  partition?: string;
  /**
   * Buckets keep every per-user operation of the store (the limit check inside `create`, Redis Cluster's
   * one-slot-per-user layout) on a fraction of the sessions instead of all of them. Default 64.
   */
  buckets?: number;
  /** Lifetime of a session whose cookie has no expiry (a browser-session cookie). Default one day. */
  ttlMs?: number;
  now?: () => number;
}

const optionsSchema = z.object({
  partition: z.string().min(1).max(200).default('express-session'),
  buckets: z.number().int().min(1).max(4096).default(64),
  ttlMs: z.number().int().positive().default(86_400_000),
});

// express-session dereferences `cookie` on every loaded session: a record without one is not a session.
const storedDataSchema = z.looseObject({ cookie: z.looseObject({}) });
const MAX_WRITE_ATTEMPTS = 3;

type Callback<T> = (error: unknown, value?: T) => void;

/**
 * An express-session `Store` over any SessionKit `SessionStore`, so an app on express-session moves its
 * sessions to SessionKit storage by changing only `store:`. The sid is never stored: the record id and
 * secret hash are digests of it. A destroyed session stays destroyed: `set` and `touch` never write a
 * session that is revoked or expired (the express-session #632 / connect-redis #328 race), and `destroy`
 * revokes rather than deletes so a late write can see that.
 */
export class SessionKitStore extends session.Store {
  readonly #store: SessionStore;
  readonly #partition: string;
  readonly #buckets: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: SessionKitStoreOptions) {
    super();
    const parsed = parseInput(
      optionsSchema,
      { partition: options.partition, buckets: options.buckets, ttlMs: options.ttlMs },
      'store options',
    );
    this.#store = options.store;
    this.#partition = parsed.partition;
    this.#buckets = parsed.buckets;
    this.#ttlMs = parsed.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  override get(sid: string, callback: Callback<SessionData | null>): void {
    settle(this.#load(sid), callback);
  }

  override set(sid: string, data: SessionData, callback?: (error?: unknown) => void): void {
    settle(this.#write(sid, data, 'set'), callback);
  }

  override touch(sid: string, data: SessionData, callback?: (error?: unknown) => void): void {
    settle(this.#write(sid, data, 'touch'), callback);
  }

  override destroy(sid: string, callback?: (error?: unknown) => void): void {
    settle(
      this.#store
        .revoke(recordIdOf(sid), { reason: 'express-session.destroy', now: this.#now() })
        .then(() => {}),
      callback,
    );
  }

  override all(callback: Callback<SessionData[] | null>): void {
    // Sids are never stored, so the sessions come back as a list, as connect-redis returns them.
    settle(
      this.#live().then((records) => records.flatMap((record) => dataOf(record) ?? [])),
      callback,
    );
  }

  override length(callback: Callback<number>): void {
    settle(
      this.#live().then((records) => records.length),
      callback,
    );
  }

  override clear(callback?: (error?: unknown) => void): void {
    const now = this.#now();
    settle(
      Promise.all(
        this.#bucketUserIds().map((userId) =>
          this.#store.revokeUser(userId, { reason: 'express-session.clear', now }),
        ),
      ).then(() => {}),
      callback,
    );
  }

  async #load(sid: string): Promise<SessionData | null> {
    const record = await this.#own(sid);
    return record && isLive(record, this.#now()) ? (dataOf(record) ?? null) : null;
  }

  async #live(): Promise<SessionRecord[]> {
    const now = this.#now();
    const buckets = await Promise.all(this.#bucketUserIds().map((userId) => this.#store.listByUser(userId)));
    return buckets.flat().filter((record) => isLive(record, now));
  }

  /** The record of this sid, if it exists and really is this sid's (not a digest collision). */
  async #own(sid: string): Promise<SessionRecord | undefined> {
    const record = await this.#store.get(recordIdOf(sid));
    return record && record.userId === this.#userIdOf(sid) && digestsEqual(record.secretHash, sha256(sid))
      ? record
      : undefined;
  }

  async #write(sid: string, data: SessionData, mode: 'set' | 'touch'): Promise<void> {
    const now = this.#now();
    const expiresAt = this.#expiryOf(data, now);
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.#own(sid);
      if (!current) {
        // A touch never creates; a set creates only what never existed (a destroyed record still exists).
        if (mode === 'touch' || (await this.#store.get(recordIdOf(sid)))) return;
        try {
          await this.#store.create({
            session: checked(this.#newRecord(sid, toJson(data), now, expiresAt)),
            maxSessions: Number.MAX_SAFE_INTEGER,
            onLimit: 'evict-oldest',
            now,
          });
          return;
        } catch (error) {
          // Another request created it first: go round again and update it. A store may claim the id a moment
          // before the record lands (RedisStore claims, then indexes, then writes), so a claimed id with no record
          // yet is waited for rather than failed.
          if (attempt >= MAX_WRITE_ATTEMPTS) throw error;
          if (!(await this.#store.get(recordIdOf(sid)))) {
            if (!(error instanceof SessionKitError && error.code === 'input.invalid')) throw error;
            await delay(attempt * 20);
          }
          continue;
        }
      }
      if (!isLive(current, now)) return;
      const next: SessionRecord = {
        ...current,
        lastSeenAt: now,
        idleExpiresAt: expiresAt,
        absoluteExpiresAt: expiresAt,
        ...(mode === 'set' ? { metadata: { session: toJson(data) } } : {}),
      };
      try {
        await this.#store.update(checked(next), current.version);
        return;
      } catch (error) {
        if (error instanceof VersionConflictError && attempt < MAX_WRITE_ATTEMPTS) continue;
        if (error instanceof VersionConflictError && mode === 'touch') return;
        // Destroyed between our read and our write: the destroy wins, silently, as it must.
        if (
          error instanceof SessionKitError &&
          (error.code === 'session.revoked' || error.code === 'session.not_found')
        ) {
          return;
        }
        throw error;
      }
    }
  }

  #userIdOf(sid: string): string {
    const digest = Buffer.from(sha256(`express-session/bucket/${sid}`), 'base64url');
    return `${this.#partition}/${digest.readUInt32BE(0) % this.#buckets}`;
  }

  #bucketUserIds(): string[] {
    return Array.from({ length: this.#buckets }, (_, bucket) => `${this.#partition}/${bucket}`);
  }

  #expiryOf(data: SessionData, now: number): number {
    const expires: unknown = data.cookie?.expires;
    const at =
      expires instanceof Date ? expires.getTime() : typeof expires === 'string' ? Date.parse(expires) : NaN;
    return Number.isFinite(at) && at > now ? at : now + this.#ttlMs;
  }

  #newRecord(sid: string, data: JsonValue, now: number, expiresAt: number): SessionRecord {
    return {
      id: recordIdOf(sid),
      userId: this.#userIdOf(sid),
      state: 'active',
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: expiresAt,
      absoluteExpiresAt: expiresAt,
      aal: 1,
      authenticatedAt: now,
      secretHash: sha256(sid),
      device: {},
      version: 1,
      metadata: { session: data },
    };
  }
}

/** 22 base64url characters (132 bits) of a digest: the shape of a SessionKit id, derived, not stored. */
function recordIdOf(sid: string): string {
  return sha256(`express-session/${sid}`).slice(0, 22);
}

function dataOf(record: SessionRecord): SessionData | undefined {
  const parsed = storedDataSchema.safeParse(record.metadata.session);
  // The stored value is express-session's own JSON; the schema checked the one field it relies on.
  return parsed.success ? (parsed.data as unknown as SessionData) : undefined;
}

/** express-session data as plain JSON (Dates become ISO strings), as every express-session store keeps it. */
function toJson(data: SessionData): JsonValue {
  return JSON.parse(JSON.stringify(data)) as JsonValue;
}

/** Refuses what the store would later read back as corrupt, e.g. session data over core's metadata bound. */
function checked(record: SessionRecord): SessionRecord {
  return parseInput(sessionRecordSchema, record, 'express-session data');
}

function settle<T>(promise: Promise<T>, callback: Callback<T> | undefined): void {
  promise.then(
    (value) => callback?.(null, value),
    (error: unknown) => callback?.(error),
  );
}
