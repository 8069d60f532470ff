import { parseInput } from '@sessionkit/core';
import { z } from 'zod';
import { storeDownModes } from './rate-limit-rule.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const backoffSchema = (defaults: { freeAttempts: number; maxDelayMs: number }) =>
  z
    .object({
      /** Failures tolerated before any delay. */
      freeAttempts: z.number().int().nonnegative().max(10_000).default(defaults.freeAttempts),
      baseDelayMs: z.number().int().positive().max(HOUR).default(1000),
      /** The cap: no lock is ever longer than this, so a lock always ends. */
      maxDelayMs: z
        .number()
        .int()
        .positive()
        .max(24 * HOUR)
        .default(defaults.maxDelayMs),
      /** Failures are forgotten after this long without a new one. */
      windowMs: z
        .number()
        .int()
        .positive()
        .max(7 * 24 * HOUR)
        .default(HOUR),
    })
    .strict()
    .prefault({});

/**
 * Three subjects, each with its own exponential backoff:
 * - `accountIp`: one account from one IP (a guesser hammering one account);
 * - `ip`: one IP across all accounts (password spraying);
 * - `account`: one account, counted in *distinct IPs* that failed (a distributed attack).
 * One IP adds at most one to the account count, so it trips its own locks long before it can touch the
 * account-wide one: the victim, from their own IP, is never locked out by a single attacker.
 */
export const lockoutPolicySchema = z
  .object({
    accountIp: backoffSchema({ freeAttempts: 5, maxDelayMs: 15 * MINUTE }),
    ip: backoffSchema({ freeAttempts: 20, maxDelayMs: HOUR }),
    account: backoffSchema({ freeAttempts: 10, maxDelayMs: 15 * MINUTE }),
    /** Each delay is shortened by up to this fraction at random, so lock expiries do not synchronise. */
    jitter: z.number().min(0).max(1).default(0.2),
    onStoreDown: z.enum(storeDownModes).default('fail-closed'),
    failClosedRetryMs: z.number().int().positive().max(HOUR).default(1000),
  })
  .strict();

export type LockoutPolicyInput = z.input<typeof lockoutPolicySchema>;
export type LockoutPolicy = z.output<typeof lockoutPolicySchema>;
export type Backoff = LockoutPolicy['account'];
export type LockoutSubject = 'accountIp' | 'ip' | 'account';

export function parseLockoutPolicy(input: unknown): LockoutPolicy {
  return parseInput(lockoutPolicySchema, input, 'lockout policy');
}

/**
 * `baseDelayMs · 2^(failures − freeAttempts − 1)`, capped, then scaled by `jitterScale` ∈ (0, 1]. The Redis
 * script repeats this arithmetic; both are pinned by the same test sequence.
 */
export function backoffDelayMs(failures: number, backoff: Backoff, jitterScale: number): number {
  if (failures <= backoff.freeAttempts) return 0;
  const raw = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (failures - backoff.freeAttempts - 1));
  return Math.floor(raw * jitterScale);
}
