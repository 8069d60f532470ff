import type { Clock } from '@sessionkit/core';
import { digestsEqual, hmacSha256, randomToken } from '@sessionkit/core';
import type { Request, Response } from 'express';

const DAY = 86_400_000;
const NAME = 'sk_device';
const VALUE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a successful login leaves
 * an HttpOnly cookie, signed with a server key and bound to the account, that proves later that this browser
 * has signed in to this account before. The account-wide lockout, which a distributed attack trips, does not
 * refuse such a browser (`knownDevice`). Why a cookie and not the fingerprint the risk engine keeps: request
 * headers are public and copyable by anyone who has seen the victim's browser once; this cookie is not
 * readable by scripts, not sent cross-site, and cannot be minted without the key. A stolen one only lifts the
 * account-wide lock: the per-network lock and rate limits still hold for its holder.
 */
export class DeviceCookies {
  readonly #key: string;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;

  constructor(options: { key: string; clock: Clock; maxAgeMs?: number }) {
    this.#key = options.key;
    this.#clock = options.clock;
    this.#maxAgeMs = options.maxAgeMs ?? 180 * DAY;
  }

  /** A fresh cookie value for the account, to set after a successful login. */
  issue(account: string): string {
    const issuedAt = this.#clock.now().toString(36);
    const nonce = randomToken(16);
    return `${issuedAt}.${nonce}.${this.#sign(account, issuedAt, nonce)}`;
  }

  /** Whether the value was issued by this app, for this account, and is not older than the maximum age. */
  verify(value: string | undefined, account: string): boolean {
    const match = value === undefined ? null : VALUE.exec(value);
    if (!match) return false;
    const [, issuedAt = '', nonce = '', mac = ''] = match;
    const age = this.#clock.now() - Number.parseInt(issuedAt, 36);
    if (!(age >= 0 && age < this.#maxAgeMs)) return false;
    return digestsEqual(mac, this.#sign(account, issuedAt, nonce));
  }

  read(req: Request, secure: boolean): string | undefined {
    const name = cookieName(secure);
    return req
      .get('cookie')
      ?.split(';')
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${name}=`))
      ?.slice(name.length + 1);
  }

  set(res: Response, value: string, secure: boolean): void {
    res.cookie(cookieName(secure), value, {
      httpOnly: true,
      secure,
      // Only ever needed on a login the user makes on this site.
      sameSite: 'strict',
      path: '/',
      maxAge: this.#maxAgeMs,
    });
  }

  #sign(account: string, issuedAt: string, nonce: string): string {
    return hmacSha256(
      this.#key,
      `sessionkit-reference/device\u0000${account}\u0000${issuedAt}\u0000${nonce}`,
    );
  }
}

function cookieName(secure: boolean): string {
  return secure ? `__Host-${NAME}` : NAME;
}
