import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretsAtRestError } from './secrets-at-rest-error.js';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const ENVELOPE = /^sk1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;

export interface Envelope {
  keyId: string;
  iv: Buffer;
  body: Buffer;
}

/**
 * AES-256-GCM with node:crypto. The text form `sk1.<keyId>.<iv>.<ciphertext+tag>` names its key, so a rotation
 * can tell stale values apart; the additional data binds the key id and the caller's context (the row the value
 * belongs to), so a value copied into another row, or relabelled with another key id, does not open.
 */
export function sealWith(key: Buffer, keyId: string, plaintext: Buffer, context: string): string {
  if (!KEY_ID.test(keyId)) throw new TypeError('key ids are 1-32 base64url characters');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(keyId, context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return ['sk1', keyId, iv.toString('base64url'), body.toString('base64url')].join('.');
}

/** The parts of a sealed value, or undefined for anything else (a value still in clear, for one). */
export function parseEnvelope(value: string): Envelope | undefined {
  const match = ENVELOPE.exec(value);
  if (!match) return undefined;
  const [, keyId, iv, body] = match as unknown as [string, string, string, string];
  return { keyId, iv: Buffer.from(iv, 'base64url'), body: Buffer.from(body, 'base64url') };
}

export function openWith(key: Buffer, envelope: Envelope, context: string): Buffer {
  if (envelope.body.length < TAG_BYTES) {
    throw new SecretsAtRestError('secret.unreadable', `A sealed value for ${context} is truncated`);
  }
  const tag = envelope.body.subarray(envelope.body.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(envelope.keyId, context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(envelope.body.subarray(0, -TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new SecretsAtRestError(
      'secret.unreadable',
      `The sealed value for ${context} failed authentication`,
      {
        cause,
      },
    );
  }
}

function additionalData(keyId: string, context: string): Buffer {
  return Buffer.from(`sessionkit-reference/sealed\u0000${keyId}\u0000${context}`, 'utf8');
}
