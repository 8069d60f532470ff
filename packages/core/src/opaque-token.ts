import { InvalidTokenError } from './errors.js';
import { randomToken, sha256 } from './token-crypto.js';

export const SESSION_ID_BYTES = 16;
export const SECRET_BYTES = 32;

/** The three opaque token kinds; the prefix keeps one from ever being accepted as another. */
export type OpaqueTokenKind = 'session' | 'refresh' | 'transfer';

const PREFIX: Record<OpaqueTokenKind, string> = { session: '', refresh: 'rt_', transfer: 'tc_' };
const MAX_TOKEN_LENGTH = 128;
// 22-char id (128 bits) + '.' + 43-char secret (256 bits), optionally prefixed.
const SHAPE = /^(tc_)?([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
/*
 * rt_ + id + '.' + secret + '.' + generation (12 lowercase hex digits) + '.' + MAC (22 chars, 128 bits). Every
 * field has a fixed length, so every refresh token is 105 characters and each one has exactly one spelling.
 * The id and secret come first, as in the other kinds: redactors that know `<22>.<43>` still hide the secret.
 */
const REFRESH_SHAPE = /^rt_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})\.([0-9a-f]{12})\.([A-Za-z0-9_-]{22})$/;
const GENERATION_DIGITS = 12;

export interface OpaqueToken {
  kind: OpaqueTokenKind;
  sessionId: string;
  secret: string;
}

/** A refresh token as presented: its generation and MAC are claims until `verifiedGeneration` checks them. */
export interface RefreshTokenParts extends OpaqueToken {
  kind: 'refresh';
  generation: number;
  mac: string;
}

export function newSessionId(): string {
  return randomToken(SESSION_ID_BYTES);
}

export function newSecret(): string {
  return randomToken(SECRET_BYTES);
}

/** Session and transfer tokens; refresh tokens carry a generation and a MAC (`formatRefreshToken`). */
export function formatToken(
  kind: Exclude<OpaqueTokenKind, 'refresh'>,
  sessionId: string,
  secret: string,
): string {
  return `${PREFIX[kind]}${sessionId}.${secret}`;
}

/** The refresh token's text from its parts; `formatRefreshToken` computes the MAC. */
export function joinRefreshToken(parts: Omit<RefreshTokenParts, 'kind'>): string {
  const generation = parts.generation.toString(16).padStart(GENERATION_DIGITS, '0');
  return `${PREFIX.refresh}${parts.sessionId}.${parts.secret}.${generation}.${parts.mac}`;
}

/**
 * Parses any value into a token of the expected kind or throws `token.invalid`; it never throws anything else,
 * whatever it is given (held to that by a property test).
 */
export function parseToken(value: unknown, kind: 'refresh'): RefreshTokenParts;
export function parseToken(value: unknown, kind: OpaqueTokenKind): OpaqueToken;
export function parseToken(value: unknown, kind: OpaqueTokenKind): OpaqueToken {
  if (typeof value !== 'string') throw new InvalidTokenError();
  const parsed = tryParseToken(value, kind);
  if (!parsed) throw new InvalidTokenError();
  return parsed;
}

/** `parseToken` without the throw, for the paths where a bad token simply means "not from the cache". */
export function tryParseToken(value: string, kind: 'refresh'): RefreshTokenParts | undefined;
export function tryParseToken(value: string, kind: OpaqueTokenKind): OpaqueToken | undefined;
export function tryParseToken(value: string, kind: OpaqueTokenKind): OpaqueToken | undefined {
  if (value.length > MAX_TOKEN_LENGTH) return undefined;
  if (kind === 'refresh') return parseRefresh(value);
  const match = SHAPE.exec(value);
  if (!match || (match[1] ?? '') !== PREFIX[kind]) return undefined;
  return { kind, sessionId: match[2] as string, secret: match[3] as string };
}

function parseRefresh(value: string): RefreshTokenParts | undefined {
  const match = REFRESH_SHAPE.exec(value);
  if (!match) return undefined;
  return {
    kind: 'refresh',
    sessionId: match[1] as string,
    secret: match[2] as string,
    generation: Number.parseInt(match[3] as string, 16),
    mac: match[4] as string,
  };
}

/** Only the digest is stored: a leaked database yields no usable token. */
export function hashSecret(secret: string): string {
  return sha256(secret);
}
