import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AppConfig } from './config.js';
import { KEY_BYTES } from './sealed-box.js';
import { SecretsAtRestError } from './secrets-at-rest-error.js';

/** A key-encryption key (KEK): wraps the data keys stored in the database and is itself never stored there. */
export interface KeyEncryptionKey {
  /** A fingerprint, stored beside each wrapped data key to say which KEK unwraps it; reveals nothing of the key. */
  id: string;
  key: Buffer;
}

export interface KeyEncryptionKeys {
  /** Wraps every data key; data keys found under a previous KEK are re-wrapped under this one. */
  current: KeyEncryptionKey;
  /** Only unwraps, during a rotation; drop them once every instance runs with the new current KEK. */
  previous: readonly KeyEncryptionKey[];
  /** The file the embedded demo has just written `current` to: shown to the operator once, at this start. */
  generatedIn?: string;
}

/** 32 random bytes as base64url, the format of SESSIONKIT_KEK. */
export function generateKeyEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}

export function keyEncryptionKey(encoded: string, source: string): KeyEncryptionKey {
  const key = Buffer.from(encoded, 'base64url');
  if (!/^[A-Za-z0-9_-]{43}$/.test(encoded) || key.length !== KEY_BYTES) {
    throw new SecretsAtRestError('kek.invalid', `${source} must be ${KEY_BYTES} random bytes as base64url`);
  }
  const id = createHmac('sha256', key).update('sessionkit-reference kek id').digest().subarray(0, 9);
  return { id: `k${id.toString('base64url')}`, key };
}

/**
 * The KEKs from the environment: SESSIONKIT_KEK or SESSIONKIT_KEK_FILE, plus SESSIONKIT_KEK_PREVIOUS. Without
 * one, PostgreSQL refuses to start (`kek.missing`); the embedded demo makes one once, in a file beside DATA_DIR
 * (a copy of DATA_DIR alone still reveals nothing), and says so in `generatedIn`.
 */
export function resolveKeyEncryptionKeys(config: AppConfig): KeyEncryptionKeys {
  const previous = (config.SESSIONKIT_KEK_PREVIOUS ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '')
    .map((value, index) => keyEncryptionKey(value, `SESSIONKIT_KEK_PREVIOUS[${index}]`));
  if (config.SESSIONKIT_KEK !== undefined && config.SESSIONKIT_KEK_FILE !== undefined) {
    throw new SecretsAtRestError('kek.invalid', 'Set SESSIONKIT_KEK or SESSIONKIT_KEK_FILE, not both');
  }
  const { current, generatedIn } = currentKey(config);
  // The current key listed as previous too would be "re-wrapped" under itself on every reload.
  const others = previous.filter((kek) => kek.id !== current.id);
  return { current, previous: others, ...(generatedIn === undefined ? {} : { generatedIn }) };
}

function currentKey(config: AppConfig): { current: KeyEncryptionKey; generatedIn?: string } {
  if (config.SESSIONKIT_KEK !== undefined) {
    return { current: keyEncryptionKey(config.SESSIONKIT_KEK, 'SESSIONKIT_KEK') };
  }
  if (config.SESSIONKIT_KEK_FILE !== undefined) return { current: keyFromFile(config.SESSIONKIT_KEK_FILE) };
  if (config.DATABASE_URL !== undefined) {
    throw new SecretsAtRestError(
      'kek.missing',
      'DATABASE_URL is set but no key-encryption key is: set SESSIONKIT_KEK or SESSIONKIT_KEK_FILE (32 random bytes, base64url)',
    );
  }
  return embeddedKey(defaultKeyFile(config.DATA_DIR));
}

/** `<DATA_DIR>.kek`: outside the directory a backup or copy of the embedded database takes. */
function defaultKeyFile(dataDir: string): string {
  return `${resolve(dataDir)}.kek`;
}

function keyFromFile(path: string): KeyEncryptionKey {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SecretsAtRestError('kek.missing', `SESSIONKIT_KEK_FILE ${path} cannot be read`, { cause });
  }
  return keyEncryptionKey(content.trim(), `SESSIONKIT_KEK_FILE ${path}`);
}

function embeddedKey(path: string): { current: KeyEncryptionKey; generatedIn?: string } {
  if (existsSync(path)) return { current: keyFromFile(path) };
  const encoded = generateKeyEncryptionKey();
  mkdirSync(dirname(path), { recursive: true });
  try {
    // `wx`: a concurrent first start that wrote the file first wins, and both then read its key.
    writeFileSync(path, `${encoded}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { current: keyFromFile(path) };
    throw error;
  }
  return { current: keyEncryptionKey(encoded, path), generatedIn: path };
}
