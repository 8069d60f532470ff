import type { SessionRecord } from '@sessionkit/core';
import type { SessionPage, SessionQuery, StatsQuery, StoreStats } from '@sessionkit/core/store';
import {
  countInto,
  decodeSessionCursor,
  encodeSessionCursor,
  matchesSessionQuery,
} from '@sessionkit/core/store';
import type { KeyLayout } from './key-layout.js';
import type { RecordCache } from './record-cache.js';
import type { RedisClient } from './redis-client.js';

/** Index entries read per round trip, and at most this many times 8 per page (the rest is the next page's). */
const BATCH = 250;
const MAX_BATCHES_PER_PAGE = 8;

/** `<id><userId>`: the id has a fixed length, so the two split without a separator. */
const ID_LENGTH = 22;

interface Entry {
  id: string;
  userId: string;
  createdAt: number;
  member: string;
}

/** Runs a command under the store's timeout and failure policy. */
type Call = <T>(command: () => Promise<T>) => Promise<T>;

/**
 * The operator's indexes: sorted sets of `<id><userId>` scored by creation time, one for all sessions and one per
 * tenant. They live in their own slots (`{created}`, `{t:<tenant>}`), apart from the user's keys, so they are
 * written beside the per-user Lua scripts rather than inside them: an entry is added before its record is
 * created, and an entry whose record is gone (expired by Redis, deleted, or never created) is dropped by the
 * next page or count that reaches it. So every record is always indexed, and a stale entry only costs a read.
 * Pages never SCAN the keyspace: they walk one sorted set from the cursor down.
 */
export class SessionIndex {
  readonly #client: RedisClient;
  readonly #keys: KeyLayout;
  readonly #cache: RecordCache;
  readonly #call: Call;

  constructor(client: RedisClient, keys: KeyLayout, cache: RecordCache, call: Call) {
    this.#client = client;
    this.#keys = keys;
    this.#cache = cache;
    this.#call = call;
  }

  async add(record: SessionRecord): Promise<void> {
    const member = record.id + record.userId;
    await Promise.all(
      this.#indexesOf(record).map((key) =>
        this.#call(() => this.#client.zadd(key, record.createdAt, member)),
      ),
    );
  }

  async remove(record: { id: string; userId: string; tenantId?: string | undefined }): Promise<void> {
    const member = record.id + record.userId;
    await Promise.all(this.#indexesOf(record).map((key) => this.#call(() => this.#client.zrem(key, member))));
  }

  /** One page, newest first; at most `BATCH * MAX_BATCHES_PER_PAGE` entries are read, then the page ends short. */
  async page(query: SessionQuery): Promise<SessionPage> {
    const key = this.#keys.createdIndex(query.tenantId);
    const after = query.cursor === undefined ? undefined : decodeSessionCursor(query.cursor);
    const max = after === undefined ? '+inf' : String(after.createdAt);
    const sessions: SessionRecord[] = [];
    // Dropped after the walk: removing entries during it would shift the offsets it reads by.
    const stale: string[] = [];
    let last: Entry | undefined;
    let full = false;
    for (let batch = 0; batch < MAX_BATCHES_PER_PAGE && !full; batch += 1) {
      const entries = await this.#entries(key, max, '-inf', batch * BATCH, BATCH);
      const fresh = entries.filter(
        (entry) => !after || entry.createdAt < after.createdAt || entry.id < after.id,
      );
      const records = await this.#records(fresh, stale);
      for (const [index, entry] of fresh.entries()) {
        last = entry;
        const record = records[index];
        if (record && matchesSessionQuery(record, query)) sessions.push(record);
        if (sessions.length === query.limit) break;
      }
      full = sessions.length === query.limit;
      if (!full && entries.length < BATCH) last = undefined;
      if (entries.length < BATCH) break;
    }
    await this.#drop(key, stale);
    return last === undefined ? { sessions } : { sessions, nextCursor: encodeSessionCursor(last) };
  }

  /** Reads every record the index names: O(sessions in the tenant, or all), in batches. */
  async stats(query: StatsQuery): Promise<StoreStats> {
    const key = this.#keys.createdIndex(query.tenantId);
    const stats: StoreStats = { live: 0, expired: 0, created: 0, revoked: 0 };
    const stale: string[] = [];
    const count = async (entries: Entry[]) => {
      for (const record of await this.#records(entries, stale)) if (record) countInto(stats, record, query);
    };
    let max = '+inf';
    for (;;) {
      const entries = await this.#entries(key, max, '-inf', 0, BATCH * 4);
      await count(entries);
      const oldest = entries.at(-1);
      if (oldest === undefined || entries.length < BATCH * 4) break;
      // The oldest instant's entries may straddle two batches: count the rest of them, then go strictly below.
      const instant = String(oldest.createdAt);
      const seen = new Set(entries.map((entry) => entry.member));
      const rest = await this.#entries(key, instant, instant, 0, Number.MAX_SAFE_INTEGER);
      await count(rest.filter((entry) => !seen.has(entry.member)));
      max = `(${instant}`;
    }
    await this.#drop(key, stale);
    return stats;
  }

  #indexesOf(record: { tenantId?: string | undefined }): string[] {
    const all = this.#keys.createdIndex(undefined);
    return record.tenantId === undefined ? [all] : [all, this.#keys.createdIndex(record.tenantId)];
  }

  async #entries(key: string, max: string, min: string, offset: number, count: number): Promise<Entry[]> {
    const reply = await this.#call(() =>
      this.#client.zrevrangebyscore(key, max, min, 'WITHSCORES', 'LIMIT', offset, count),
    );
    const entries: Entry[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const member = reply[i] as string;
      entries.push({
        member,
        id: member.slice(0, ID_LENGTH),
        userId: member.slice(ID_LENGTH),
        createdAt: Number(reply[i + 1]),
      });
    }
    // Equal scores come in reverse member order, which is reverse id order: core's newestFirst already.
    return entries;
  }

  /** The entries' records, in order; the members of those whose record is gone are added to `stale`. */
  async #records(entries: Entry[], stale: string[]): Promise<(SessionRecord | undefined)[]> {
    const values = await Promise.all(
      entries.map((entry) => this.#call(() => this.#client.get(this.#keys.record(entry.userId, entry.id)))),
    );
    return entries.map((entry, index) => {
      const value = values[index];
      const record = value ? this.#cache.decode(entry.id, entry.userId, value) : undefined;
      if (record === undefined) stale.push(entry.member);
      return record;
    });
  }

  async #drop(key: string, members: string[]): Promise<void> {
    for (let i = 0; i < members.length; i += 500) {
      const chunk = members.slice(i, i + 500);
      await this.#call(() => this.#client.zrem(key, ...chunk));
    }
  }
}
