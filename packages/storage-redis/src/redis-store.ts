import type { SessionRecord, SessionStore } from '@sessionkit/core';
import {
  InvalidInputError,
  LimitExceededError,
  parseInput,
  SessionNotFoundError,
  SessionRevokedError,
  StoreCorruptError,
  StoreUnavailableError,
  VersionConflictError,
} from '@sessionkit/core';
import type {
  CreateSessionInput,
  CreateSessionResult,
  ListOptions,
  RevokeOptions,
  RevokeUserOptions,
  RotateRefreshInput,
  RotateRefreshResult,
  SessionPage,
  SessionQuery,
  StatsQuery,
  StoreStats,
} from '@sessionkit/core/store';
import { expiresAt, isInUse, pageRecords, sessionRecordSchema } from '@sessionkit/core/store';
import { z } from 'zod';
import { CommandGuard } from './command-guard.js';
import { KeyLayout } from './key-layout.js';
import type { LuaScript } from './lua-script.js';
import { RecordCache } from './record-cache.js';
import { decodeRecord, encodeRecord, encodeText } from './record-encoding.js';
import type { RedisClient } from './redis-client.js';
import { RedisInvalidationFeed } from './redis-invalidation-feed.js';
import type { RedisStoreOptions } from './redis-store-options.js';
import { redisStoreOptionsSchema } from './redis-store-options.js';
import { SessionIndex } from './session-index.js';
import * as inputs from './store-inputs.js';
import { parseReply, replies, rotateArguments, scripts } from './store-scripts.js';

const EVICT_REASON = 'limit.evicted';

const sessionIdPattern = /^[A-Za-z0-9_-]{22}$/;

function countsAsLive(record: SessionRecord): '1' | '0' {
  return isInUse(record.state) ? '1' : '0';
}

/**
 * The session store on Redis (one node, Sentinel or Cluster). Every decision that must be atomic runs in one Lua
 * script over one user's keys; see README.md for the key layout and the failure behaviour.
 */
export class RedisStore implements SessionStore {
  /** The rotate script checks a bound session's DPoP key before it decides anything else. */
  readonly checksRotationKey = true;
  readonly feed: RedisInvalidationFeed;
  readonly #client: RedisClient;
  readonly #keys: KeyLayout;
  readonly #guard: CommandGuard;
  readonly #cache: RecordCache;
  readonly #index: SessionIndex;
  readonly #onClientError: (error: Error) => void;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    const config = parseInput(redisStoreOptionsSchema, options, 'Redis store options');
    const onError = config.onError ?? (() => {});
    this.#client = config.client;
    this.#keys = new KeyLayout(config.prefix);
    this.#guard = new CommandGuard(config.client, config.commandTimeoutMs);
    this.#cache = new RecordCache(config.ownerCacheSize, config.decodedCacheSize);
    // Without an 'error' listener an ioredis connection error is an uncaught exception that ends the process.
    this.#onClientError = (error) => onError(error);
    this.#client.on('error', this.#onClientError);
    this.feed = new RedisInvalidationFeed(config.client, this.#keys.feedChannel(), this.#guard, onError);
    this.#index = new SessionIndex(config.client, this.#keys, this.#cache, (command) => this.#call(command));
  }

  async create(input: CreateSessionInput): Promise<CreateSessionResult> {
    const { session, maxSessions, onLimit, now } = parseInput(
      inputs.createInputSchema,
      input,
      'create input',
    );
    const keys = this.#keys;
    const owner = keys.owner(session.id);
    // The owner pointer is written first (and only if the id is new): a record is never unreachable by id.
    const claimed = await this.#call(() =>
      this.#client.set(owner, session.userId, 'PXAT', session.absoluteExpiresAt, 'NX'),
    );
    if (claimed === null) throw new InvalidInputError('Session id already exists');
    if (session.parentId !== undefined) await this.#linkChild(session.parentId, session);
    // Indexed before it exists, so no record is ever missing from the operator's listing (session-index.ts).
    await this.#index.add(session);
    const reply = parseReply(
      replies.create,
      await this.#releaseOnCorrupt(
        owner,
        this.#run(
          scripts.create,
          session.userId,
          [keys.record(session.userId, session.id)],
          [
            keys.recordPrefix(session.userId),
            session.id,
            now,
            maxSessions,
            onLimit === 'reject' ? 'reject' : 'evict',
            encodeText(EVICT_REASON),
            expiresAt(session),
            session.createdAt,
            countsAsLive(session),
            encodeRecord(session),
            session.tenantId === undefined ? '' : encodeText(session.tenantId),
          ],
        ),
      ),
    );
    if (reply[0] !== 'ok') {
      await this.#call(() => this.#client.del(owner));
      await this.#index.remove(session);
      if (reply[0] === 'limit') throw new LimitExceededError(maxSessions);
      throw new InvalidInputError('Session id already exists');
    }
    this.#cache.setOwner(session.id, session.userId);
    const evicted = reply[1].map(([id, value]) => decodeRecord(id, session.userId, value));
    this.#cache.track(session.userId, evicted);
    return { session, evicted };
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    this.#assertOpen();
    if (!sessionIdPattern.test(id)) return undefined;
    // A cached owner is read without an await: `get` is on every validation's path.
    const userId = this.#cache.ownerOf(id) ?? (await this.#ownerOf(id));
    if (userId === undefined) return undefined;
    const value = await this.#call(() => this.#client.get(this.#keys.record(userId, id)));
    if (value === null) {
      this.#cache.forget(id);
      return undefined;
    }
    return this.#cache.decode(id, userId, value);
  }

  async listByUser(userId: string, options: ListOptions = {}): Promise<SessionRecord[]> {
    const user = parseInput(inputs.userIdSchema, userId, 'user id');
    const records = await this.#userRecords(user, scripts.list, [this.#keys.recordPrefix(user)]);
    return records
      .filter((record) => options.tenantId === undefined || record.tenantId === options.tenantId)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async update(next: SessionRecord, expectedVersion: number): Promise<SessionRecord> {
    const record = parseInput(sessionRecordSchema, next, 'session record');
    const expected = parseInput(z.number().int().positive(), expectedVersion, 'expected version');
    const owner = await this.#ownerOf(record.id);
    if (owner === undefined) throw new SessionNotFoundError();
    if (owner !== record.userId) throw new InvalidInputError('A session cannot change its user');
    const written: SessionRecord = { ...record, version: expected + 1 };
    const keys = this.#keys;
    const reply = parseReply(
      replies.update,
      await this.#run(
        scripts.update,
        owner,
        [keys.record(owner, record.id)],
        [
          keys.recordPrefix(owner),
          record.id,
          expected,
          expiresAt(written),
          written.createdAt,
          countsAsLive(written),
          encodeRecord(written),
        ],
      ),
    );
    if (reply[0] === 'missing') throw new SessionNotFoundError();
    if (reply[0] === 'revoked') throw new SessionRevokedError();
    if (reply[0] === 'conflict') throw new VersionConflictError();
    const [, previousAbsolute, previousParent] = reply;
    if (written.absoluteExpiresAt > Number(previousAbsolute)) {
      await this.#call(() => this.#client.pexpireat(keys.owner(record.id), written.absoluteExpiresAt, 'GT'));
    }
    if (written.parentId !== undefined && written.parentId !== previousParent) {
      await this.#linkChild(written.parentId, written);
    }
    return written;
  }

  async rotateRefresh(input: RotateRefreshInput): Promise<RotateRefreshResult> {
    const rotation = parseInput(inputs.rotateInputSchema, input, 'refresh rotation');
    const owner = await this.#ownerOf(rotation.sessionId);
    if (owner === undefined) return { outcome: 'unknown' };
    const keys = this.#keys;
    const reply = parseReply(
      replies.rotate,
      await this.#run(
        scripts.rotate,
        owner,
        [keys.record(owner, rotation.sessionId)],
        rotateArguments(keys.recordPrefix(owner), rotation),
      ),
    );
    if (reply[0] === 'unknown') return { outcome: 'unknown' };
    return { outcome: reply[0], session: decodeRecord(rotation.sessionId, owner, reply[1]) };
  }

  async revoke(id: string, options: RevokeOptions): Promise<SessionRecord | undefined> {
    const { reason, now } = parseInput(inputs.revokeOptionsSchema, options, 'revoke options');
    if (!sessionIdPattern.test(id)) return undefined;
    const owner = await this.#ownerOf(id);
    if (owner === undefined) return undefined;
    const [result] = await this.#revokeIds(owner, [id], reason, now);
    return result?.record;
  }

  async revokeUser(userId: string, options: RevokeUserOptions): Promise<SessionRecord[]> {
    const user = parseInput(inputs.userIdSchema, userId, 'user id');
    const { reason, now, exceptId, tenantId } = parseInput(
      inputs.revokeUserOptionsSchema,
      options,
      'revoke options',
    );
    return this.#userRecords(user, scripts.revokeUser, [
      this.#keys.recordPrefix(user),
      now,
      encodeText(reason),
      exceptId ?? '',
      tenantId === undefined ? '' : encodeText(tenantId),
    ]);
  }

  /**
   * Walks the tree level by level through the children sets. Children can belong to other users (other slots),
   * so this is one atomic, idempotent step per user and level, not one transaction: a walk cut short by a
   * failure is finished by calling it again.
   */
  async revokeTree(rootId: string, options: RevokeOptions): Promise<SessionRecord[]> {
    const { reason, now } = parseInput(inputs.revokeOptionsSchema, options, 'revoke options');
    const revoked: SessionRecord[] = [];
    const seen = new Set<string>();
    let level = sessionIdPattern.test(rootId) ? [rootId] : [];
    while (level.length > 0) {
      const fresh = [...new Set(level)].filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      const byUser = new Map<string, string[]>();
      const owners = await Promise.all(fresh.map((id) => this.#ownerOf(id)));
      fresh.forEach((id, index) => {
        const owner = owners[index];
        if (owner !== undefined) byUser.set(owner, [...(byUser.get(owner) ?? []), id]);
      });
      const results = await Promise.all(
        [...byUser].map(([owner, ids]) => this.#revokeIds(owner, ids, reason, now)),
      );
      for (const result of results.flat()) if (result.changed) revoked.push(result.record);
      const children = await Promise.all(
        fresh.map((id) => this.#call(() => this.#client.smembers(this.#keys.children(id)))),
      );
      level = children.flat().filter((id) => sessionIdPattern.test(id));
    }
    return revoked;
  }

  /** One user's sessions are few and one script away: paged here. Otherwise the index's walk. */
  async listSessions(query: SessionQuery): Promise<SessionPage> {
    if (query.userId === undefined) return this.#index.page(query);
    return pageRecords(await this.listByUser(query.userId), query);
  }

  async sessionStats(query: StatsQuery): Promise<StoreStats> {
    return this.#index.stats(query);
  }

  /** Deletes the user's records and index keys (one slot), then their owner pointers and index entries. */
  async deleteUser(userId: string): Promise<number> {
    const records = await this.listByUser(userId);
    const keys = this.#keys;
    const user = [
      keys.all(userId),
      keys.live(userId),
      ...records.map((record) => keys.record(userId, record.id)),
    ];
    await this.#call(() => this.#client.del(...user));
    for (const record of records) {
      this.#cache.forget(record.id);
      await this.#call(() => this.#client.del(keys.owner(record.id)));
      await this.#index.remove(record);
    }
    return records.length;
  }

  async health(): Promise<void> {
    await this.#call(() => this.#client.ping());
  }

  /** Ends the feed's connection and detaches from the client; the client itself stays yours to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.feed.close();
    this.#client.off('error', this.#onClientError);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('Redis store is closed');
  }

  #call<T>(command: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    return this.#guard.call(command);
  }

  #run(script: LuaScript, userId: string, extraKeys: string[], args: (string | number)[]): Promise<unknown> {
    const keys = [this.#keys.all(userId), this.#keys.live(userId), ...extraKeys];
    return this.#call(() => script.run(this.#client, keys, args));
  }

  /**
   * A script that finds a value it cannot read stops before it writes anything, so the owner pointer claimed for
   * the new session names nothing and is released. After any other failure the script may have run: it stays.
   */
  async #releaseOnCorrupt(owner: string, pending: Promise<unknown>): Promise<unknown> {
    try {
      return await pending;
    } catch (error) {
      if (error instanceof StoreCorruptError) await this.#call(() => this.#client.del(owner)).catch(() => {});
      throw error;
    }
  }

  async #ownerOf(id: string): Promise<string | undefined> {
    const cached = this.#cache.ownerOf(id);
    if (cached !== undefined) return cached;
    const owner = await this.#call(() => this.#client.get(this.#keys.owner(id)));
    if (owner === null) return undefined;
    this.#cache.setOwner(id, owner);
    return owner;
  }

  /** Adds the child to its parent's children set, which lives as long as the longest-lived child. */
  async #linkChild(parentId: string, child: SessionRecord): Promise<void> {
    const key = this.#keys.children(parentId);
    await this.#call(() =>
      this.#client
        .multi()
        .sadd(key, child.id)
        .pexpireat(key, child.absoluteExpiresAt, 'NX')
        .pexpireat(key, child.absoluteExpiresAt, 'GT')
        .exec(),
    );
  }

  async #revokeIds(
    userId: string,
    ids: string[],
    reason: string,
    now: number,
  ): Promise<{ changed: boolean; record: SessionRecord }[]> {
    const reply = parseReply(
      replies.revokeIds,
      await this.#run(
        scripts.revokeIds,
        userId,
        [],
        [this.#keys.recordPrefix(userId), now, encodeText(reason), ...ids],
      ),
    );
    const results = reply.map(([id, changed, value]) => ({
      changed: changed === 1,
      record: decodeRecord(id, userId, value),
    }));
    this.#cache.track(
      userId,
      results.map((result) => result.record),
    );
    return results;
  }

  async #userRecords(userId: string, script: LuaScript, args: (string | number)[]): Promise<SessionRecord[]> {
    const reply = parseReply(replies.recordList, await this.#run(script, userId, [], args));
    const records = reply.map(([id, value]) => decodeRecord(id, userId, value));
    this.#cache.track(userId, records);
    return records;
  }
}
