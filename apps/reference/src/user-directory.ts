import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import type { AppDatabase } from './app-database.js';
import { APP_SCHEMA } from './app-database.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import { sealedContext } from './sealed-context.js';
import type { SecretVault } from './secret-vault.js';

export interface User {
  id: string;
  email: string;
  displayName: string;
  mfaEnrolled: boolean;
}

export interface DemoUser {
  email: string;
  displayName: string;
  password: string;
  totpSecret?: string;
}

/** Printed in the README and at start-up: these accounts exist only to try the app. */
export const DEMO_USERS: readonly DemoUser[] = [
  {
    email: 'alice@example.com',
    displayName: 'Alice (password only)',
    password: 'correct horse battery staple',
  },
  {
    email: 'bob@example.com',
    displayName: 'Bob (password + TOTP)',
    password: 'open sesame, says bob',
    totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  },
];

const TOTP_PERIOD_S = 30;
/** One step either side: tolerates a 30 s clock drift between phone and server (RFC 6238 section 6). */
const TOTP_WINDOW = 1;

// A fixed hash to compare against when the email is unknown, so both paths cost one scrypt (no user probing).
const ABSENT_USER_HASH = hashPassword('sessionkit-absent-user');

export class UserDirectory {
  readonly #db: Kysely<AppDatabase>;
  readonly #vault: SecretVault;
  readonly #now: () => number;

  /** TOTP secrets are stored sealed by `vault`, bound to the user's id. */
  constructor(db: Kysely<AppDatabase>, vault: SecretVault, now: () => number = Date.now) {
    this.#db = db.withSchema(APP_SCHEMA);
    this.#vault = vault;
    this.#now = now;
  }

  async seed(users: readonly DemoUser[] = DEMO_USERS): Promise<void> {
    for (const user of users) {
      const id = randomUUID();
      await this.#db
        .insertInto('users')
        .values({
          id,
          email: user.email,
          display_name: user.displayName,
          password_hash: await hashPassword(user.password),
          totp_secret:
            user.totpSecret === undefined ? null : this.#vault.seal(user.totpSecret, sealedContext.totp(id)),
        })
        .onConflict((conflict) => conflict.column('email').doNothing())
        .execute();
    }
  }

  async verifyPassword(email: string, password: string): Promise<User | undefined> {
    const row = await this.#db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    const ok = await verifyPassword(password, row?.password_hash ?? (await ABSENT_USER_HASH));
    if (!row || !ok || row.disabled) return undefined;
    return {
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      mfaEnrolled: row.totp_secret !== null,
    };
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = await this.#db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    if (!row || row.disabled) return undefined;
    return {
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      mfaEnrolled: row.totp_secret !== null,
    };
  }

  /** Remembers which local user a provider subject is; later logouts from the provider name only the subject. */
  async linkSubject(issuer: string, subject: string, userId: string): Promise<void> {
    await this.#db
      .insertInto('idp_links')
      .values({ issuer, subject, user_id: userId })
      .onConflict((conflict) => conflict.columns(['issuer', 'subject']).doUpdateSet({ user_id: userId }))
      .execute();
  }

  async userIdForSubject(issuer: string, subject: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('idp_links')
      .select('user_id')
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row?.user_id;
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      mfaEnrolled: row.totp_secret !== null,
    };
  }

  /**
   * Accepts a TOTP code at most once: the matched time step must be newer than the last one accepted, and that
   * is recorded by one conditional UPDATE, so two instances racing with the same code cannot both accept it.
   */
  async verifyTotp(userId: string, code: string): Promise<boolean> {
    if (!/^\d{6}$/.test(code)) return false;
    const row = await this.#db
      .selectFrom('users')
      .select(['totp_secret'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!row?.totp_secret) return false;
    const secret = await this.#vault.unseal(row.totp_secret, sealedContext.totp(userId));
    const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: TOTP_PERIOD_S });
    const timestamp = this.#now();
    const delta = totp.validate({ token: code, timestamp, window: TOTP_WINDOW });
    if (delta === null) return false;
    const step = Math.floor(timestamp / 1000 / TOTP_PERIOD_S) + delta;
    const result = await this.#db
      .updateTable('users')
      .set({ last_totp_step: String(step) })
      .where('id', '=', userId)
      .where((where) =>
        where.or([where('last_totp_step', 'is', null), where('last_totp_step', '<', String(step))]),
      )
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}

/** For tests and the README: the code an authenticator app would show now. */
export function currentTotp(secret: string, timestamp = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: TOTP_PERIOD_S }).generate({
    timestamp,
  });
}
