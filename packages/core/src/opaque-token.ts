import { InvalidTokenError } from './errors.js';
import { randomToken, sha256 } from './token-crypto.js';

export const SESSION_ID_BYTES = 16;
export const SECRET_BYTES = 32;

/** The three opaque token kinds; the prefix keeps one from ever being accepted as another. */
export type OpaqueTokenKind = 'session' | 'refresh' | 'transfer';

const PREFIX: Record<OpaqueTokenKind, string> = { session: '', refresh: 'rt_', transfer: 'tc_' };
const MAX_TOKEN_LENGTH = 128;
// 22-char id (128 bits) + '.' + 43-char secret (256 bits), optionally prefixed.
const SHAPE = /^(rt_|tc_)?([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export interface OpaqueToken {
  kind: OpaqueTokenKind;
  sessionId: string;
  secret: string;
}

export function newSessionId(): string {
  return randomToken(SESSION_ID_BYTES);
}

export function newSecret(): string {
  return randomToken(SECRET_BYTES);
}

export function formatToken(kind: OpaqueTokenKind, sessionId: string, secret: string): string {
  return `${PREFIX[kind]}${sessionId}.${secret}`;
}

/**
 * Parses any value into a token of the expected kind or throws `token.invalid`; it never throws anything else,
 * whatever it is given (held to that by a property test).
 */
export function parseToken(value: unknown, kind: OpaqueTokenKind): OpaqueToken {
  if (typeof value !== 'string') throw new InvalidTokenError();
  const parsed = tryParseToken(value, kind);
  if (!parsed) throw new InvalidTokenError();
  return parsed;
}

/** `parseToken` without the throw, for the paths where a bad token simply means "not from the cache". */
export function tryParseToken(value: string, kind: OpaqueTokenKind): OpaqueToken | undefined {
  const match = value.length > MAX_TOKEN_LENGTH ? null : SHAPE.exec(value);
  if (!match || (match[1] ?? '') !== PREFIX[kind]) return undefined;
  return { kind, sessionId: match[2] as string, secret: match[3] as string };
}

/** Only the digest is stored: a leaked database yields no usable token. */
export function hashSecret(secret: string): string {
  return sha256(secret);
}
