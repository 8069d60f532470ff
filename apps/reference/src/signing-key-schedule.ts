import type { AccessTokenIssuerOptions, Clock } from '@sessionkit/core';
import { AccessTokenKeyRing } from '@sessionkit/core';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AppDatabase } from './app-database.js';
import { APP_SCHEMA } from './app-database.js';
import { sealedContext } from './sealed-context.js';
import type { SecretVault } from './secret-vault.js';
import { SharedKeyRing } from './shared-key-ring.js';

const ACCESS_TOKEN_TTL_MS = 5 * 60_000;
/** How often every instance re-reads the key set (and rotates when due). */
const KEY_RELOAD_INTERVAL_MS = 60_000;
/**
 * A superseded key verifies this long after the first instance saw its successor: instances that have not
 * reloaded yet sign with it for up to one reload interval more, and those tokens live one TTL, plus clock skew.
 */
export const RETIRE_AFTER_MS = ACCESS_TOKEN_TTL_MS + KEY_RELOAD_INTERVAL_MS + 60_000;
/** A token naming an unknown key id reloads the set at most this often per instance. */
const UNKNOWN_KID_RELOAD_MS = 10_000;

const jwkSchema = z.record(z.string(), z.unknown());

export interface SigningKeyScheduleOptions {
  db: Kysely<AppDatabase>;
  vault: SecretVault;
  clock: Clock;
  issuer: string;
  rotationPeriodMs: number;
  onError: (error: unknown) => void;
}

/**
 * Access-token signing keys on a schedule every instance shares through `signing_keys`: when the newest key is
 * older than the rotation period, the first instance to notice adds the next generation (unique, so racing
 * instances add one key), marks the older keys to retire after RETIRE_AFTER_MS, and deletes retired ones.
 * Each instance reloads the set every KEY_RELOAD_INTERVAL_MS, and on an unknown key id, so all sign with the
 * newest key. Private keys are stored sealed by the secret vault.
 */
export class SigningKeySchedule {
  readonly ring: SharedKeyRing;
  readonly #db: Kysely<AppDatabase>;
  readonly #options: SigningKeyScheduleOptions;
  readonly #issuer: AccessTokenIssuerOptions;
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: SigningKeyScheduleOptions) {
    this.#options = options;
    this.#db = options.db.withSchema(APP_SCHEMA);
    this.#issuer = {
      issuer: options.issuer,
      audience: 'sessionkit-reference',
      ttlMs: ACCESS_TOKEN_TTL_MS,
      clock: options.clock,
    };
    this.ring = new SharedKeyRing(this.#issuer, () => this.reload(), UNKNOWN_KID_RELOAD_MS);
  }

  static async start(options: SigningKeyScheduleOptions): Promise<SigningKeySchedule> {
    const schedule = new SigningKeySchedule(options);
    await schedule.sync();
    schedule.#timer = setInterval(() => {
      schedule.sync().catch(options.onError);
    }, KEY_RELOAD_INTERVAL_MS);
    schedule.#timer.unref();
    return schedule;
  }

  /** Rotates if due, retires and deletes superseded keys, then reloads the set. Safe on every instance at once. */
  async sync(): Promise<void> {
    const now = this.#options.clock.now();
    // Data keys another instance added (a rotation) seal from now on here too.
    await this.#options.vault.refresh();
    const newest = await this.#db
      .selectFrom('signing_keys')
      .select(['generation', 'activates_at'])
      .orderBy('generation', 'desc')
      .executeTakeFirst();
    if (!newest || newest.activates_at.getTime() + this.#options.rotationPeriodMs <= now) {
      await this.#add((newest?.generation ?? 0) + 1, now);
    }
    const { current } = await this.#db
      .selectFrom('signing_keys')
      .select((eb) => eb.fn.max('generation').as('current'))
      .executeTakeFirstOrThrow();
    await this.#db
      .updateTable('signing_keys')
      .set({ retires_at: new Date(now + RETIRE_AFTER_MS) })
      .where('generation', '<', current)
      .where('retires_at', 'is', null)
      .execute();
    await this.#db.deleteFrom('signing_keys').where('retires_at', '<=', new Date(now)).execute();
    await this.reload();
  }

  /** Loads the stored set into the ring: oldest first, so the newest signs. */
  async reload(): Promise<void> {
    const rows = await this.#db
      .selectFrom('signing_keys')
      .select(['kid', 'private_jwk', 'retires_at'])
      .orderBy('generation')
      .execute();
    const jwks = [];
    for (const row of rows) {
      const jwk = jwkSchema.parse(
        JSON.parse(await this.#options.vault.unseal(row.private_jwk, sealedContext.signingKey(row.kid))),
      );
      jwks.push({ ...jwk, ...(row.retires_at === null ? {} : { retiresAt: row.retires_at.getTime() }) });
    }
    await this.ring.load(jwks);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #add(generation: number, now: number): Promise<void> {
    const fresh = await AccessTokenKeyRing.generate(this.#issuer, 'EdDSA');
    const [jwk] = await fresh.exportPrivateJwks();
    if (!jwk) return;
    await this.#db
      .insertInto('signing_keys')
      .values({
        kid: jwk.kid,
        private_jwk: this.#options.vault.seal(JSON.stringify(jwk), sealedContext.signingKey(jwk.kid)),
        generation,
        activates_at: new Date(now),
        retires_at: null,
      })
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
}
