import type { JsonValue } from '@sessionkit/core';

const REDACTED = '[redacted]';
const TOKEN_CHARS = 'A-Za-z0-9_\\-';

/** Free-text patterns, most specific first. Boundaries are explicit because `-` and `_` are token characters. */
const TEXT_PATTERNS: readonly (readonly [RegExp, string])[] = [
  // JWTs (access and ID tokens): three base64url parts, the first a JSON header.
  [
    new RegExp(`(?<![${TOKEN_CHARS}])eyJ[${TOKEN_CHARS}]+\\.[${TOKEN_CHARS}]+\\.[${TOKEN_CHARS}]*`, 'g'),
    '[jwt]',
  ],
  // Our opaque tokens: optional rt_/tc_ prefix, 22-character id, dot, 43-character secret; refresh tokens go on
  // with their generation (12 hex digits) and MAC (22 characters).
  [
    new RegExp(
      `(?<![${TOKEN_CHARS}])(?:rt_|tc_)?[${TOKEN_CHARS}]{22}\\.[${TOKEN_CHARS}]{43}(?:\\.[0-9a-f]{12}\\.[${TOKEN_CHARS}]{22})?(?![${TOKEN_CHARS}])`,
      'g',
    ),
    '[token]',
  ],
  // Refresh and transfer tokens cut short or otherwise mangled still carry their prefix.
  [new RegExp(`(?<![A-Za-z0-9])(?:rt|tc)_[${TOKEN_CHARS}.]{8,}`, 'g'), '[token]'],
  [/\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [
    /\b(password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|otp|pin)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)/gi,
    `$1$2${REDACTED}`,
  ],
  [
    /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+/g,
    '[email]',
  ],
];

const MAY_HOLD_SECRET = /[.@=:_\s]/;

/** Key fragments whose values are secret whatever they look like. */
const SECRET_KEY_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'cookie',
  'apikey',
  'accesskey',
  'privatekey',
  'credential',
  'signature',
];
/** Short key names matched exactly: as fragments they would hit innocent keys ("footprint" holds "otp"). */
const SECRET_KEYS = new Set([
  'otp',
  'totp',
  'pin',
  'pwd',
  'code',
  'mfacode',
  'otpcode',
  'recoverycode',
  'jwt',
]);

function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_KEYS.has(normalised) || SECRET_KEY_PARTS.some((part) => normalised.includes(part));
}

/** Removes tokens, secrets, passwords and email addresses from free text; also strips NUL, which SQL refuses. */
export function redactText(text: string): string {
  // Every pattern needs one of these characters; most short values (ids, plain words) have none.
  const hasNul = text.includes('\u0000');
  if (!hasNul && !MAY_HOLD_SECRET.test(text)) return text;
  let result = hasNul ? text.replaceAll('\u0000', '') : text;
  for (const [pattern, replacement] of TEXT_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

/** Redacts a JSON value: values under secret-looking keys entirely, every string by pattern. */
export function redactJson(value: JsonValue): JsonValue {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redactJson);
  const result: { [key: string]: JsonValue } = {};
  for (const [key, member] of Object.entries(value)) {
    result[redactText(key)] = isSecretKey(key) ? REDACTED : redactJson(member);
  }
  return result;
}
