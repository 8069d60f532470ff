/**
 * Why the app cannot protect or read its secrets at rest, with a stable code: start-up refuses with it rather
 * than fall back to keeping secrets in clear or to inventing a key the other instances do not have.
 */
export type SecretsAtRestCode =
  /** DATABASE_URL is set and neither SESSIONKIT_KEK nor SESSIONKIT_KEK_FILE is. */
  | 'kek.missing'
  /** A configured key-encryption key is not 32 bytes of base64url. */
  | 'kek.invalid'
  /** A data key in the database is wrapped under a key-encryption key that is not configured. */
  | 'kek.unknown'
  /** A sealed value failed authentication: altered, moved to another row, or under an unknown data key. */
  | 'secret.unreadable';

export class SecretsAtRestError extends Error {
  readonly code: SecretsAtRestCode;

  constructor(code: SecretsAtRestCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SecretsAtRestError';
    this.code = code;
  }
}
