import { createHmac, hkdfSync } from 'node:crypto';
import type { Clock } from './clock.js';
import { InvalidInputError } from './errors.js';
import { digestsEqual } from './token-crypto.js';

export interface DpopNoncesOptions {
  /** At least 32 characters, the same on every instance: any instance then accepts any instance's nonce. */
  secret: string;
  /** How long one nonce is handed out; each is accepted for one window more. Default 5 minutes. */
  windowMs?: number;
  clock: Clock;
}

const NONCE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/;

/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9) without shared state: a nonce is its time window and a MAC of
 * it, so every instance sharing the secret mints the same nonce and checks any other's. The nonce of window w
 * is accepted while the checker is in window w-1, w or w+1: through the next window, so a client that fetched
 * it just before the turn is not sent back, and one window early, for instances whose clocks differ a little.
 */
export class DpopNonces {
  readonly #key: Buffer;
  readonly #windowMs: number;
  readonly #clock: Clock;
  #cachedWindow = -1;
  #cachedNonce = '';

  constructor(options: DpopNoncesOptions) {
    if (options.secret.length < 32)
      throw new InvalidInputError('The DPoP nonce secret needs at least 32 characters');
    const windowMs = options.windowMs ?? 5 * 60_000;
    if (!Number.isInteger(windowMs) || windowMs < 1000)
      throw new InvalidInputError('windowMs must be an integer >= 1000');
    this.#key = Buffer.from(hkdfSync('sha256', options.secret, '', 'sessionkit/dpop-nonce', 32));
    this.#windowMs = windowMs;
    this.#clock = options.clock;
  }

  /** The nonce to hand out now (`DPoP-Nonce`); the same string for the whole window, on every instance. */
  current(): string {
    const window = Math.floor(this.#clock.now() / this.#windowMs);
    if (window !== this.#cachedWindow) {
      this.#cachedNonce = this.#nonceFor(window);
      this.#cachedWindow = window;
    }
    return this.#cachedNonce;
  }

  isValid(nonce: string): boolean {
    const match = NONCE.exec(nonce);
    if (!match) return false;
    const window = Number.parseInt(match[1] as string, 36);
    const now = Math.floor(this.#clock.now() / this.#windowMs);
    if (window < now - 1 || window > now + 1) return false;
    return digestsEqual(this.#nonceFor(window), nonce);
  }

  #nonceFor(window: number): string {
    const label = window.toString(36);
    const mac = createHmac('sha256', this.#key).update(label).digest().subarray(0, 16).toString('base64url');
    return `${label}.${mac}`;
  }
}
