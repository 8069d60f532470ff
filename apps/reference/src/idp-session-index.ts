import type { Kysely } from 'kysely';
import type { AppDatabase } from './app-database.js';
import { APP_SCHEMA } from './app-database.js';

/**
 * Which local user signed in under each provider session (`sid`), so that a back-channel logout token naming
 * only the `sid` (the specification allows it) still finds the user whose sessions to end. After `retentionMs`
 * (the app sessions' absolute lifetime) no session opened under a `sid` can still be alive, so older rows are
 * pruned whenever a new one is written.
 */
export class ProviderSessionIndex {
  readonly #db: Kysely<AppDatabase>;
  readonly #issuer: string;
  readonly #retentionMs: number;
  readonly #now: () => number;

  constructor(db: Kysely<AppDatabase>, options: { issuer: string; retentionMs: number; now: () => number }) {
    this.#db = db.withSchema(APP_SCHEMA);
    this.#issuer = options.issuer;
    this.#retentionMs = options.retentionMs;
    this.#now = options.now;
  }

  async record(sid: string, userId: string): Promise<void> {
    const now = this.#now();
    await this.#db
      .deleteFrom('idp_sessions')
      .where('created_at', '<', new Date(now - this.#retentionMs))
      .execute();
    await this.#db
      .insertInto('idp_sessions')
      .values({ issuer: this.#issuer, sid, user_id: userId, created_at: new Date(now) })
      .onConflict((conflict) =>
        conflict.columns(['issuer', 'sid']).doUpdateSet({ user_id: userId, created_at: new Date(now) }),
      )
      .execute();
  }

  async userIdFor(sid: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('idp_sessions')
      .select('user_id')
      .where('issuer', '=', this.#issuer)
      .where('sid', '=', sid)
      .executeTakeFirst();
    return row?.user_id;
  }
}
