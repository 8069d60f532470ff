import type { RateLimitResult } from '@sessionkit/core';
import { parseInput } from '@sessionkit/core';
import { z } from 'zod';

/** What a rule counts by. Keys are built by `rateLimitKey`, which only ever sees an IP as a keyed hash. */
export const rateLimitScopes = ['ip', 'user', 'user-ip', 'route'] as const;
export type RateLimitScope = (typeof rateLimitScopes)[number];

/**
 * `fail-closed`: a limiter that cannot reach its store refuses the attempt (login, refresh, OTP).
 * `fail-open`: it allows the attempt and raises an alert (ordinary API traffic, where an outage of the
 * limiter must not become an outage of the service).
 */
export const storeDownModes = ['fail-closed', 'fail-open'] as const;
export type StoreDownMode = (typeof storeDownModes)[number];

export const rateLimitRuleSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" and "-", at most 64'),
    scope: z.enum(rateLimitScopes),
    /** Attempts allowed per window; also the largest burst. */
    limit: z.number().int().positive().max(1_000_000),
    windowMs: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3_600_000),
    /** Once over the limit, every attempt is refused for this long (0: only until the window allows again). */
    blockMs: z
      .number()
      .int()
      .nonnegative()
      .max(7 * 24 * 3_600_000)
      .default(0),
    onStoreDown: z.enum(storeDownModes).default('fail-closed'),
  })
  .strict();

export type RateLimitRuleInput = z.input<typeof rateLimitRuleSchema>;
export type RateLimitRule = z.output<typeof rateLimitRuleSchema>;

export function parseRateLimitRule(input: unknown): RateLimitRule {
  return parseInput(rateLimitRuleSchema, input, 'rate limit rule');
}

/**
 * Why an attempt was refused, or that it was decided without the store: `store.unavailable` with
 * `allowed: false` is a fail-closed refusal, with `allowed: true` a fail-open pass.
 */
export type RateLimitOutcome = 'allowed' | 'limited' | 'blocked' | 'store.unavailable';

export interface RuleRateLimitResult extends RateLimitResult {
  rule: string;
  outcome: RateLimitOutcome;
}

export const rateLimitKeySchema = z.string().min(1).max(512);

export interface RateLimitSubject {
  /**
   * Keyed hash of the client's network: `hashIp(clientNetwork(ip))`, so one IPv6 /64 is one client. A raw
   * IP is never used as a key.
   */
  ipHash?: string;
  userId?: string;
  route?: string;
}

/** The key a rule counts under for a subject, or undefined when the subject lacks what the scope needs. */
export function rateLimitKey(scope: RateLimitScope, subject: RateLimitSubject): string | undefined {
  switch (scope) {
    case 'ip':
      return subject.ipHash === undefined ? undefined : `ip:${subject.ipHash}`;
    case 'user':
      return subject.userId === undefined ? undefined : `u:${subject.userId}`;
    case 'user-ip':
      return subject.userId === undefined || subject.ipHash === undefined
        ? undefined
        : `ui:${subject.userId}:${subject.ipHash}`;
    case 'route':
      return subject.route === undefined ? undefined : `r:${subject.route}`;
  }
}
