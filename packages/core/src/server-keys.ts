import { hkdfSync, randomBytes } from 'node:crypto';
import { randomToken } from './token-crypto.js';

/** The keys the engine derives from its configuration: one per purpose, so no key ever serves two uses. */
export interface ServerKeys {
  /** Keys the MAC of refresh tokens (refresh-token.ts). */
  refreshMac: Buffer;
  /** Keys the HMAC of client IPs. */
  ipHash: string | Buffer;
}

/**
 * Keys from the server secret, or random ones for this process alone when there is none: each instance then
 * recognises only its own old refresh tokens and IP hashes, which is why instances sharing a store share `secret`.
 */
export function serverKeys(config: {
  secret?: string | undefined;
  ipHashKey?: string | undefined;
}): ServerKeys {
  const { secret, ipHashKey } = config;
  return {
    refreshMac: secret === undefined ? randomBytes(32) : derive(secret, 'refresh-mac'),
    ipHash: ipHashKey ?? (secret === undefined ? randomToken(32) : derive(secret, 'ip-hash')),
  };
}

/** HKDF-SHA-256 with a fixed label per purpose: the secret itself never keys anything. */
function derive(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, '', `sessionkit/${purpose}`, 32));
}
