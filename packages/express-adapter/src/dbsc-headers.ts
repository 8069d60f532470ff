/**
 * The few RFC 9651 structured fields DBSC uses, read strictly enough to be safe and loosely enough for the
 * browsers that exist: the draft makes `Sec-Secure-Session-Id` and `Secure-Session-Response` sf-strings, but
 * Chromium sends both bare, so a bare value of the expected characters is accepted as well.
 */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"(?:;.*)?$/;
const BARE_SESSION_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const BARE_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_HEADER_LENGTH = 8192;

function sfString(value: string): string | undefined {
  const match = SF_STRING.exec(value.trim());
  return match ? (match[1] as string).replace(/\\(["\\])/g, '$1') : undefined;
}

export function serializeSfString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** The session identifier of a refresh request, or undefined when it is missing or malformed. */
export function secureSessionId(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  const value = sfString(header) ?? header.trim();
  return BARE_SESSION_ID.test(value) ? value : undefined;
}

/** The proof JWT of a registration or refresh request, or undefined when it is missing or malformed. */
export function secureSessionResponse(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  const value = sfString(header) ?? header.trim();
  return BARE_JWS.test(value) ? value : undefined;
}

/** The coarse reasons the draft lets a browser give for a refresh it skipped. */
export const SKIP_REASONS = ['unreachable', 'server_error', 'quota_exceeded'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
const MEMBER =
  /^([a-z*][a-z0-9_\-.:%*/]*)((?:\s*;\s*[a-z*][a-z0-9_\-.*]*(?:=(?:"(?:[^"\\]|\\.)*"|[^;,\s]+))?)*)$/;
const PARAM = /;\s*([a-z*][a-z0-9_\-.*]*)(?:=("(?:[^"\\]|\\.)*"|[^;,\s]+))?/g;

/**
 * `Secure-Session-Skipped` (a list of reason tokens, each with a `session_identifier`): the reason given for
 * `sessionId`, if any. A malformed header, an unknown reason, or another session's entry yields undefined.
 */
export function skippedReason(header: string | undefined, sessionId: string): SkipReason | undefined {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  for (const member of splitMembers(header)) {
    const match = MEMBER.exec(member);
    if (!match) return undefined;
    const reason = SKIP_REASONS.find((known) => known === match[1]);
    for (const param of (match[2] ?? '').matchAll(PARAM)) {
      if (param[1] !== 'session_identifier' || param[2] === undefined) continue;
      if (reason !== undefined && sfString(param[2]) === sessionId) return reason;
    }
  }
  return undefined;
}

/** Splits a list at the commas outside sf-strings. */
function splitMembers(header: string): string[] {
  const members: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < header.length; i += 1) {
    const char = header[i] as string;
    if (quoted && char === '\\') {
      current += char + (header[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      members.push(current.trim());
      current = '';
    } else current += char;
  }
  members.push(current.trim());
  return members;
}
