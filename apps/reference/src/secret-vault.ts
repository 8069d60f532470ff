import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppDatabase } from './app-database.js';
import { APP_SCHEMA } from './app-database.js';
import type { KeyEncryptionKey, KeyEncryptionKeys } from './key-encryption-key.js';
import { KEY_BYTES, openWith, parseEnvelope, sealWith } from './sealed-box.js';
import { sealedContext } from './sealed-context.js';
import { SecretsAtRestError } from './secrets-at-rest-error.js';

const dataKeyId = (generation: number) => `d${generation}`;

/**
 * Envelope encryption of the app's stored secrets. Data keys (DEKs) live in `data_keys`, each wrapped under
 * the key-encryption key (KEK) from the environment; secrets are sealed under the newest DEK. A database copy
 * without the KEK therefore holds no usable secret. Every instance sharing the database reads the same DEKs.
 */
export class SecretVault {
  readonly #db: Kysely<AppDatabase>;
  readonly #keks: KeyEncryptionKeys;
  readonly #dataKeys = new Map<number, Buffer>();
  #current = 0;

  private constructor(db: Kysely<AppDatabase>, keks: KeyEncryptionKeys) {
    this.#db = db.withSchema(APP_SCHEMA);
    this.#keks = keks;
  }

  /** Creates the first DEK if there is none, unwraps them all, re-wraps those under a previous KEK. */
  static async load(db: Kysely<AppDatabase>, keks: KeyEncryptionKeys): Promise<SecretVault> {
    const vault = new SecretVault(db, keks);
    await vault.#addDataKey(1);
    await vault.refresh();
    return vault;
  }

  get currentDataKey(): number {
    return this.#current;
  }

  /** `context` names the row the value belongs to (see sealed-context.ts). */
  seal(plaintext: string, context: string): string {
    const key = this.#dataKeys.get(this.#current);
    if (!key) throw new SecretsAtRestError('secret.unreadable', 'The secret vault has no data key');
    return sealWith(key, dataKeyId(this.#current), Buffer.from(plaintext, 'utf8'), context);
  }

  /** A DEK this instance has not loaded yet (another one rotated) is fetched once before giving up. */
  async unseal(sealed: string, context: string): Promise<string> {
    const envelope = parseEnvelope(sealed);
    const generation = envelope === undefined ? undefined : dataKeyGeneration(envelope.keyId);
    if (envelope === undefined || generation === undefined) {
      throw new SecretsAtRestError('secret.unreadable', `The value stored for ${context} is not sealed`);
    }
    if (!this.#dataKeys.has(generation)) await this.refresh();
    const key = this.#dataKeys.get(generation);
    if (!key) {
      throw new SecretsAtRestError('secret.unreadable', `The value for ${context} uses an unknown data key`);
    }
    return openWith(key, envelope, context).toString('utf8');
  }

  /** Prefix of values sealed under the current DEK: any other value (clear, older DEK) is due re-sealing. */
  get currentPrefix(): string {
    return `sk1.${dataKeyId(this.#current)}.`;
  }

  /**
   * Adds the next DEK, which seals from now on; values under older DEKs keep opening and are re-sealed by
   * `resealStoredSecrets`. Two instances rotating at once add one DEK, not two.
   */
  async rotateDataKey(): Promise<number> {
    await this.refresh();
    await this.#addDataKey(this.#current + 1);
    await this.refresh();
    return this.#current;
  }

  /** Loads DEKs added by other instances; the newest seals from then on. */
  async refresh(): Promise<void> {
    const rows = await this.#db
      .selectFrom('data_keys')
      .select(['generation', 'wrapped_key'])
      .orderBy('generation')
      .execute();
    for (const row of rows) {
      const envelope = parseEnvelope(row.wrapped_key);
      if (!envelope) {
        throw new SecretsAtRestError('secret.unreadable', `Data key ${row.generation} is not wrapped`);
      }
      // A DEK never changes once written, so one already loaded needs no unwrapping (nor a KEK this instance
      // may not have, when a newer instance re-wrapped it under the next KEK).
      let key = this.#dataKeys.get(row.generation);
      if (!key) {
        key = openWith(
          this.#kekFor(envelope.keyId, row.generation).key,
          envelope,
          sealedContext.dataKey(row.generation),
        );
        this.#dataKeys.set(row.generation, key);
      }
      if (this.#keks.previous.some((kek) => kek.id === envelope.keyId)) {
        await this.#rewrap(row.generation, row.wrapped_key, key);
      }
      this.#current = Math.max(this.#current, row.generation);
    }
  }

  #kekFor(id: string, generation: number): KeyEncryptionKey {
    const kek = [this.#keks.current, ...this.#keks.previous].find((candidate) => candidate.id === id);
    if (kek) return kek;
    throw new SecretsAtRestError(
      'kek.unknown',
      `Data key ${generation} is wrapped under key-encryption key ${id}, which is neither SESSIONKIT_KEK nor in SESSIONKIT_KEK_PREVIOUS`,
    );
  }

  async #addDataKey(generation: number): Promise<void> {
    const kek = this.#keks.current;
    const wrapped = sealWith(kek.key, kek.id, randomBytes(KEY_BYTES), sealedContext.dataKey(generation));
    await this.#db
      .insertInto('data_keys')
      .values({ generation, wrapped_key: wrapped })
      .onConflict((conflict) => conflict.column('generation').doNothing())
      .execute();
  }

  /** Compare-and-set: of instances re-wrapping at once, each writes only over the value it read. */
  async #rewrap(generation: number, previous: string, key: Buffer): Promise<void> {
    const kek = this.#keks.current;
    await this.#db
      .updateTable('data_keys')
      .set({ wrapped_key: sealWith(kek.key, kek.id, key, sealedContext.dataKey(generation)) })
      .where('generation', '=', generation)
      .where('wrapped_key', '=', previous)
      .execute();
  }
}

function dataKeyGeneration(keyId: string): number | undefined {
  const match = /^d([1-9]\d{0,8})$/.exec(keyId);
  return match ? Number(match[1]) : undefined;
}
