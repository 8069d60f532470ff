import { hmacSha256, parseInput } from '@sessionkit/core';
import { z } from 'zod';

const keyIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'key ids are 1-64 characters of [A-Za-z0-9._-]');

/**
 * HMAC keys by id. New values are keyed with `currentKeyId`; older keys stay listed so what they keyed can
 * still be checked. Rotating is adding a key and pointing `currentKeyId` at it.
 */
export const keyringSchema = z
  .object({
    currentKeyId: keyIdSchema,
    keys: z.record(keyIdSchema, z.string().min(32, 'keys must be at least 32 characters')),
  })
  .refine((ring) => ring.keys[ring.currentKeyId] !== undefined, {
    message: 'currentKeyId must name one of the keys',
    path: ['currentKeyId'],
  });
export type KeyringInput = z.input<typeof keyringSchema>;

export class Keyring {
  readonly currentKeyId: string;
  readonly #keys: ReadonlyMap<string, string>;

  constructor(input: KeyringInput, what = 'keyring') {
    const ring = parseInput(keyringSchema, input, what);
    this.currentKeyId = ring.currentKeyId;
    this.#keys = new Map(Object.entries(ring.keys));
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** HMAC-SHA-256 as base64url; `undefined` when the key id is not in the ring. */
  sign(value: string, keyId: string = this.currentKeyId): string | undefined {
    const key = this.#keys.get(keyId);
    return key === undefined ? undefined : hmacSha256(key, value);
  }

  signCurrent(value: string): string {
    return hmacSha256(this.#keys.get(this.currentKeyId) as string, value);
  }
}
