import { parseInput } from '@sessionkit/core';
import { z } from 'zod';
import type { IpInfo } from './audit-record.js';
import { formatIp, ipPrefix, parseIp } from './ip-address.js';
import { Keyring, keyringSchema } from './keyring.js';

export const ipPrivacySchema = z.object({
  /**
   * HMAC keys for addresses. A plain SHA-256 of an IPv4 address is reversed by trying all 2^32 addresses in
   * seconds; a keyed hash is not, as long as the key stays secret.
   */
  keys: keyringSchema,
  /** Keep the network prefix in the clear (e.g. for "sign-ins from a new network" views). Off by default. */
  keepPrefix: z.boolean().default(false),
  ipv4PrefixBits: z.number().int().min(8).max(32).default(24),
  ipv6PrefixBits: z.number().int().min(16).max(128).default(48),
});
export type IpPrivacyInput = z.input<typeof ipPrivacySchema>;

const CACHE_ENTRIES = 10_000;

export class IpHasher {
  readonly #keys: Keyring;
  /** Recent results by input: few addresses make most traffic, and an HMAC per record adds up. */
  readonly #cache = new Map<string, IpInfo | undefined>();
  readonly #config: z.output<typeof ipPrivacySchema>;

  constructor(input: IpPrivacyInput) {
    this.#config = parseInput(ipPrivacySchema, input, 'IP privacy config');
    this.#keys = new Keyring(this.#config.keys, 'IP hash keyring');
  }

  /** From a raw address given to `record()`; anything that is not an address is refused by the input schema. */
  fromAddress(address: string): IpInfo | undefined {
    return this.#cached(`a:${address}`, () => this.#hashAddress(address));
  }

  #hashAddress(address: string): IpInfo | undefined {
    const ip = parseIp(address);
    if (!ip) return undefined;
    const info: IpInfo = {
      hash: this.#keys.signCurrent(`ip:${formatIp(ip)}`),
      keyId: this.#keys.currentKeyId,
      source: 'request',
    };
    if (!this.#config.keepPrefix) return info;
    const bits = ip.version === 4 ? this.#config.ipv4PrefixBits : this.#config.ipv6PrefixBits;
    return { ...info, prefix: ipPrefix(ip, bits) };
  }

  /**
   * From core's event context, which carries only core's own keyed hash. Re-keying it keeps rotation in our
   * hands; no prefix can be had from a hash.
   */
  fromEngineHash(engineHash: string): IpInfo {
    return this.#cached(`e:${engineHash}`, () => ({
      hash: this.#keys.signCurrent(`engine:${engineHash}`),
      keyId: this.#keys.currentKeyId,
      source: 'engine' as const,
    })) as IpInfo;
  }

  #cached(key: string, compute: () => IpInfo | undefined): IpInfo | undefined {
    if (this.#cache.has(key)) return this.#cache.get(key);
    const info = compute();
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(key, info);
    return info;
  }

  /** The address's hash under every key in the ring: how to find its records across rotations. */
  digests(address: string): { keyId: string; hash: string }[] {
    const ip = parseIp(address);
    if (!ip) return [];
    return this.#keys.keyIds.map((keyId) => ({
      keyId,
      hash: this.#keys.sign(`ip:${formatIp(ip)}`, keyId) as string,
    }));
  }
}
