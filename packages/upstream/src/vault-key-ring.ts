import type { webcrypto } from 'node:crypto';
import { parseInput, randomToken, StoreCorruptError } from '@sessionkit/core';
import { base64url } from '@sessionkit/core/store';
import { z } from 'zod';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const keyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'key ids are 1-32 base64url characters');
const vaultKeyRingSchema = z
  .object({
    /** Every key a stored envelope may have been sealed with; the newest first by convention. */
    keys: z
      .array(
        z.object({
          id: keyIdSchema,
          /** 32 random bytes as base64url (`VaultKeyRing.generateSecret()`). */
          secret: base64url.refine((value) => Buffer.from(value, 'base64url').length === KEY_BYTES, {
            message: `must decode to ${KEY_BYTES} bytes`,
          }),
        }),
      )
      .min(1),
    /** The key new envelopes are sealed with; defaults to the first. */
    currentKeyId: keyIdSchema.optional(),
  })
  .refine((ring) => new Set(ring.keys.map((key) => key.id)).size === ring.keys.length, {
    message: 'key ids must be unique',
    path: ['keys'],
  })
  .refine(
    (ring) => ring.currentKeyId === undefined || ring.keys.some((key) => key.id === ring.currentKeyId),
    {
      message: 'currentKeyId must name one of the keys',
      path: ['currentKeyId'],
    },
  );
export type VaultKeyRingInput = z.input<typeof vaultKeyRingSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM keys with ids. Envelopes are `<keyId>.<iv>.<ciphertext+tag>` (each part base64url) and bind
 * the session id as additional data, so an envelope copied into another session does not open. Reads accept
 * any key of the ring; writes always use the current one, which is how rotation re-encrypts on next write.
 */
export class VaultKeyRing {
  readonly currentKeyId: string;
  readonly #keys: Map<string, webcrypto.CryptoKey>;

  private constructor(keys: Map<string, webcrypto.CryptoKey>, currentKeyId: string) {
    this.#keys = keys;
    this.currentKeyId = currentKeyId;
  }

  static generateSecret(): string {
    return randomToken(KEY_BYTES);
  }

  static async create(input: VaultKeyRingInput): Promise<VaultKeyRing> {
    const config = parseInput(vaultKeyRingSchema, input, 'vault key ring');
    const keys = new Map<string, webcrypto.CryptoKey>();
    for (const { id, secret } of config.keys) {
      const raw = Buffer.from(secret, 'base64url');
      keys.set(id, await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
    }
    return new VaultKeyRing(keys, config.currentKeyId ?? config.keys[0]!.id);
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  async seal(plaintext: string, context: string): Promise<string> {
    const key = this.#keys.get(this.currentKeyId)!;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: additionalData(this.currentKeyId, context) },
      key,
      encoder.encode(plaintext),
    );
    return [
      this.currentKeyId,
      Buffer.from(iv).toString('base64url'),
      Buffer.from(sealed).toString('base64url'),
    ].join('.');
  }

  /** Throws `store.corrupt` for an envelope that is malformed, altered, for another context or under an unknown key. */
  async open(envelope: string, context: string): Promise<{ plaintext: string; keyId: string }> {
    const [keyId, ivPart, bodyPart, extra] = envelope.split('.');
    const key = keyId === undefined ? undefined : this.#keys.get(keyId);
    if (!key || ivPart === undefined || bodyPart === undefined || extra !== undefined) {
      throw new StoreCorruptError('Sealed upstream tokens are malformed or use an unknown key', {
        details: { keyId: keyId !== undefined && keyIdSchema.safeParse(keyId).success ? keyId : undefined },
      });
    }
    const iv = Buffer.from(ivPart, 'base64url');
    const body = Buffer.from(bodyPart, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
      throw new StoreCorruptError('Sealed upstream tokens are malformed');
    }
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: additionalData(keyId!, context) },
        key,
        body,
      );
      return { plaintext: decoder.decode(plain), keyId: keyId! };
    } catch (cause) {
      throw new StoreCorruptError('Sealed upstream tokens failed authentication', { cause });
    }
  }
}

function additionalData(keyId: string, context: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`sessionkit/upstream\u0000${keyId}\u0000${context}`);
}
