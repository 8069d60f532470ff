import { parseInput } from '@sessionkit/core';
import { z } from 'zod';

/** '1'/'true' or '0'/'false'; unset takes the given default. */
const flag = (fallback: boolean) =>
  z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((value) => (value === undefined ? fallback : value === '1' || value === 'true'));

/** Everything the app reads from its environment, validated once at start-up. */
export const appConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  /** PGlite's data directory for the embedded default: sessions, users and audit survive a restart. */
  DATA_DIR: z.string().default('./data'),
  /** With it, the SQL data (users, audit, signing keys; sessions too unless REDIS_URL) live in PostgreSQL. */
  DATABASE_URL: z.string().url().optional(),
  /** With it, sessions and rate limits live in Redis. */
  REDIS_URL: z.string().url().optional(),
  /** Put before every Redis key and channel of the app, so several apps (or test runs) can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .max(48)
    .regex(/^[^{}\s]*$/, 'must not contain braces or whitespace')
    .default(''),
  /**
   * Marks cookies Secure and `__Host-` prefixed. On by default: browsers accept Secure cookies from
   * http://127.0.0.1 and http://localhost, so local use needs no TLS. Off only for clients that do not.
   */
  COOKIE_SECURE: flag(true),
  /** The HTTP Basic client allowed to call RFC 7662 introspection and RFC 7009 revocation. */
  INTROSPECTION_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{1,128}$/, '1-128 characters: letters, digits, ".", "_", "~", "-"')
    .default('reference-resource-server'),
  /** Its secret; unset: generated once and stored, so every instance sharing the database agrees on it. */
  INTROSPECTION_CLIENT_SECRET: z.string().min(32).max(512).optional(),
  /**
   * The key-encryption key (32 random bytes, base64url) that wraps the data keys sealing every secret the app
   * stores (signing keys, TOTP secrets, HMAC keys); never stored in the database. Required with DATABASE_URL;
   * the embedded demo generates `<DATA_DIR>.kek`. SESSIONKIT_KEK_FILE names a file holding it instead.
   */
  SESSIONKIT_KEK: z.string().optional(),
  SESSIONKIT_KEK_FILE: z.string().min(1).optional(),
  /** Comma-separated former KEKs, during a rotation: data keys wrapped under them are re-wrapped at start. */
  SESSIONKIT_KEK_PREVIOUS: z.string().optional(),
  /** Every instance adds the next access-token signing key once the current one is this old. */
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().positive().max(365).default(7),
  /** HMAC key for IP hashes in sessions, audit and security; instances sharing data must share it. */
  IP_HASH_KEY: z.string().min(32).optional(),
  /**
   * Express `trust proxy`: which hops' X-Forwarded-For to believe for the client IP (rate limits, lockout,
   * risk). Unset: none, the socket address counts. E.g. `loopback`, `10.0.0.0/8`, or a hop count.
   */
  TRUST_PROXY: z
    .string()
    .max(256)
    .optional()
    .transform((value) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : value)),
  /**
   * How many leading bits of an IPv6 address make one client for rate limits and lockout. A subscriber
   * usually holds a whole /64 and picks any address in it, so anything longer lets one client count as many.
   */
  IPV6_CLIENT_PREFIX: z.coerce.number().int().min(16).max(128).default(64),
  /**
   * The origin clients address (`https://api.example.com`) when a proxy or load balancer stands in front: DPoP
   * proofs name it in `htu`. Unset: rebuilt from each request (scheme as `trust proxy` allows, Host header).
   */
  PUBLIC_ORIGIN: z
    .string()
    .url()
    .transform((value) => new URL(value).origin)
    .optional(),
  /** Start the demo OpenID provider beside the app and offer "Sign in with the demo IdP". */
  DEMO_IDP: flag(false),
  DEMO_IDP_PORT: z.coerce.number().int().min(0).max(65_535).default(4010),
  /**
   * Comma-separated emails of the accounts with the admin role (the admin console at /admin, at AAL 2).
   * Default: the demo's Bob, whose account has a second factor.
   */
  ADMIN_EMAILS: z
    .string()
    .max(4096)
    .default('bob@example.com')
    .transform((value) =>
      value
        .split(',')
        .map((email) => email.trim().toLowerCase())
        .filter((email) => email !== ''),
    ),
  /** Share of signed-in requests recorded in the session's activity trail (0 to 1). */
  ACTIVITY_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type AppConfig = z.output<typeof appConfigSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return parseInput(appConfigSchema, env, 'environment');
}
