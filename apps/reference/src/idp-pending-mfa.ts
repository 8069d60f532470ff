import { randomToken, sha256 } from '@sessionkit/core';
import type { VaultKeyRing } from '@sessionkit/upstream';
import { upstreamTokensSchema } from '@sessionkit/upstream';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AppDatabase } from './app-database.js';
import { APP_SCHEMA } from './app-database.js';

/** Long enough to open an authenticator app, short enough that a forgotten tab is soon worthless. */
export const PENDING_MFA_TTL_MS = 5 * 60_000;

const pendingMfaSchema = z.object({
  userId: z.string().min(1).max(256),
  subject: z.string().min(1).max(256),
  sid: z.string().min(1).max(256).optional(),
  tokens: upstreamTokensSchema,
});
export type PendingMfa = z.output<typeof pendingMfaSchema>;

/** The browser's handle: 32 random bytes, base64url. */
const handleSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/**
 * Provider sign-ins that still owe the local account's second factor. Each is a row keyed by the SHA-256 of a
 * random handle that only the signing-in browser holds (in a cookie), so it is bound to that browser, shared by
 * every instance, short-lived, and taken out exactly once by one conditional DELETE. It is no session: nothing
 * it holds passes authentication. The provider's tokens wait in it sealed, bound to the row.
 */
export class PendingMfaSignIns {
  readonly #db: Kysely<AppDatabase>;
  readonly #keys: VaultKeyRing;
  readonly #now: () => number;

  constructor(db: Kysely<AppDatabase>, keys: VaultKeyRing, now: () => number) {
    this.#db = db.withSchema(APP_SCHEMA);
    this.#keys = keys;
    this.#now = now;
  }

  /** Stores the sign-in and returns the handle for the browser's cookie. */
  async begin(pending: PendingMfa): Promise<string> {
    const handle = randomToken(32);
    const idHash = sha256(handle);
    const now = this.#now();
    await this.#db.deleteFrom('idp_pending_mfa').where('expires_at', '<=', new Date(now)).execute();
    await this.#db
      .insertInto('idp_pending_mfa')
      .values({
        id_hash: idHash,
        sealed: await this.#keys.seal(JSON.stringify(pending), sealContext(idHash)),
        expires_at: new Date(now + PENDING_MFA_TTL_MS),
      })
      .execute();
    return handle;
  }

  /** The sign-in waiting behind this handle, left in place (a wrong code may be retried). */
  async find(handle: string | undefined): Promise<PendingMfa | undefined> {
    if (!handleSchema.safeParse(handle).success) return undefined;
    const idHash = sha256(handle!);
    const row = await this.#db
      .selectFrom('idp_pending_mfa')
      .select('sealed')
      .where('id_hash', '=', idHash)
      .where('expires_at', '>', new Date(this.#now()))
      .executeTakeFirst();
    return row === undefined ? undefined : this.#open(row.sealed, idHash);
  }

  /** Takes the sign-in out: of requests racing with the same handle, exactly one gets it. */
  async take(handle: string): Promise<PendingMfa | undefined> {
    const idHash = sha256(handle);
    const row = await this.#db
      .deleteFrom('idp_pending_mfa')
      .where('id_hash', '=', idHash)
      .where('expires_at', '>', new Date(this.#now()))
      .returning('sealed')
      .executeTakeFirst();
    return row === undefined ? undefined : this.#open(row.sealed, idHash);
  }

  async #open(sealed: string, idHash: string): Promise<PendingMfa> {
    const { plaintext } = await this.#keys.open(sealed, sealContext(idHash));
    return pendingMfaSchema.parse(JSON.parse(plaintext));
  }
}

/** The row's key as additional data: a sealed value copied into another row does not open. */
function sealContext(idHash: string): string {
  return `reference/idp-pending-mfa/${idHash}`;
}
