import type { RefreshTokenParts } from './opaque-token.js';
import { joinRefreshToken } from './opaque-token.js';
import { digestsEqual, hmacSha256 } from './token-crypto.js';

/*
 * A refresh token carries its generation and a MAC over (session id, generation, secret) under a key that every
 * instance sharing the store derives from the server secret. The current token is still proven by its stored
 * hash, so the key alone mints nothing that works; the MAC only proves that a token of an older generation was
 * really issued by us. Its replay can then revoke the session with no store remembering old tokens, while a
 * forged one, which anyone who learns a session id could write, revokes nothing.
 */

// 22 base64url characters of the HMAC-SHA-256: 132 bits.
const MAC_CHARS = 22;

function mac(key: Buffer, sessionId: string, generation: number, secret: string): string {
  return hmacSha256(key, `${sessionId}.${generation}.${secret}`).slice(0, MAC_CHARS);
}

/** The refresh token of `generation` for a session: what `refresh()` hands out, under the manager's key. */
export function formatRefreshToken(
  key: Buffer,
  sessionId: string,
  generation: number,
  secret: string,
): string {
  return joinRefreshToken({ sessionId, secret, generation, mac: mac(key, sessionId, generation, secret) });
}

/** The token's generation if its MAC shows it was issued under `key`; undefined for a forged or foreign one. */
export function verifiedGeneration(key: Buffer, token: RefreshTokenParts): number | undefined {
  const expected = mac(key, token.sessionId, token.generation, token.secret);
  return digestsEqual(token.mac, expected) ? token.generation : undefined;
}
