/**
 * Every key the store writes. A user's record and index keys share the hash tag `{<userId>}`, so each
 * per-user Lua script touches one Redis Cluster slot. Keys reached by session id alone (the owner pointer and
 * the children set) carry the id as their own hash tag: reading one of them is a single-slot read too.
 */
export class KeyLayout {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Everything before the session id in a record key; the Lua scripts append ids to it. */
  recordPrefix(userId: string): string {
    return `${this.#prefix}:{${userId}}:s:`;
  }

  record(userId: string, id: string): string {
    return this.recordPrefix(userId) + id;
  }

  /** Sorted set of all the user's stored session ids, scored by the instant the record expires. */
  all(userId: string): string {
    return `${this.#prefix}:{${userId}}:all`;
  }

  /** Sorted set of the user's session ids in use (core's `isInUse`), scored by creation time (eviction order). */
  live(userId: string): string {
    return `${this.#prefix}:{${userId}}:live`;
  }

  /** Session id → user id; lets `get(id)` find the user's slot. */
  owner(id: string): string {
    return `${this.#prefix}:o:{${id}}`;
  }

  /** Set of `<childId><childUserId>` entries: children may belong to other users. */
  children(parentId: string): string {
    return `${this.#prefix}:c:{${parentId}}`;
  }

  /**
   * Sorted set of `<id><userId>` scored by creation time: every session (no tenant) or one tenant's. Each is
   * its own hash tag, apart from the user slots, so the operator's listing never touches the keyspace at large.
   */
  createdIndex(tenantId: string | undefined): string {
    return tenantId === undefined
      ? `${this.#prefix}:{created}:all`
      : `${this.#prefix}:{t:${tenantId}}:created`;
  }

  /** The one pub/sub channel of the invalidation feed (a fixed hash tag picks its shard on Cluster). */
  feedChannel(): string {
    return `${this.#prefix}:{feed}:invalidations`;
  }
}
