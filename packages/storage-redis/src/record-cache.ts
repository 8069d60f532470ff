import type { SessionRecord } from '@sessionkit/core';
import { DecodedRecordCache, isInUse, RecentMap } from '@sessionkit/core/store';
import { decodeRecord } from './record-encoding.js';

/**
 * What a RedisStore remembers between calls, for sessions in use only.
 *
 * Session id → user id. The mapping never changes (a session cannot change its user and ids are never reused),
 * so an entry is never stale: at worst it names a user whose record is gone, and the record read then finds
 * nothing. It saves the owner-pointer read, which keeps `get(id)` at one round trip. Sessions this store ends
 * or lists as ended (evicted, revoked, expired) leave it, with their decoded records: their tokens seldom come
 * back, and a service whose users log in past their session limit would otherwise fill both caches with
 * sessions nobody reads.
 */
export class RecordCache {
  readonly #owners: RecentMap<string, string>;
  readonly #decoded: DecodedRecordCache;

  constructor(ownerCacheSize: number, decodedCacheSize: number) {
    this.#owners = new RecentMap(ownerCacheSize);
    this.#decoded = new DecodedRecordCache(decodedCacheSize);
  }

  ownerOf(id: string): string | undefined {
    return this.#owners.get(id);
  }

  setOwner(id: string, userId: string): void {
    this.#owners.set(id, userId);
  }

  /** The record stored as `value`, decoded once per distinct value. */
  decode(id: string, userId: string, value: string): SessionRecord {
    return this.#decoded.get(id, value) ?? this.#decoded.remember(id, value, decodeRecord(id, userId, value));
  }

  /** The record is gone from Redis. */
  forget(id: string): void {
    this.#decoded.forget(id);
  }

  /** The caches keep sessions in use; ended ones (evicted, revoked, expired) leave them. */
  track(userId: string, records: readonly SessionRecord[]): void {
    for (const record of records) {
      if (isInUse(record.state)) {
        this.#owners.set(record.id, userId);
      } else {
        this.#owners.delete(record.id);
        this.#decoded.forget(record.id);
      }
    }
  }
}
