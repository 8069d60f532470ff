import type { Clock } from '@sessionkit/core';
import { parseInput, RateLimitedError, systemClock } from '@sessionkit/core';
import { z } from 'zod';
import type { DegradedListener } from './degraded.js';
import type { LockoutPolicy, LockoutPolicyInput, LockoutSubject } from './lockout-policy.js';
import { parseLockoutPolicy } from './lockout-policy.js';
import type { LockoutState, LockoutStore } from './lockout-store.js';
import type { SecurityEventLog } from './security-event.js';
import { tracedLockout } from './security-telemetry.js';

const attemptSchema = z.object({
  userId: z.string().min(1).max(256),
  /**
   * Keyed hash of the client's network, `hashIp(clientNetwork(ip))`: one IPv6 /64 is one client, so it
   * counts once towards the account-wide lock however many of its addresses it uses.
   */
  ipHash: z.string().min(1).max(128),
  tenantId: z.string().min(1).max(256).optional(),
  /**
   * The attempt comes from a device that has signed in to this account before: the account-wide lock, which
   * only a distributed attack trips, does not apply to it. Prove it with something a stranger cannot copy,
   * such as a signed device cookie set on a successful login; a fingerprint of request headers can be copied.
   */
  knownDevice: z.boolean().default(false),
});
export type LoginAttempt = z.input<typeof attemptSchema>;

export interface LockoutVerdict {
  allowed: boolean;
  retryAfterMs: number;
  /** Every subject currently locked (empty when allowed). */
  lockedBy: LockoutSubject[];
  outcome: 'allowed' | 'locked' | 'store.unavailable';
}

export interface BruteForceGuardOptions {
  store: LockoutStore;
  policy?: LockoutPolicyInput;
  clock?: Clock;
  /** Source of jitter in [0, 1); injected so a test can pin the backoff sequence. */
  random?: () => number;
  events?: SecurityEventLog;
  onDegraded?: DegradedListener;
}

/**
 * Brute-force protection for password (and OTP) checks: `check` before verifying, `recordFailure` after a
 * wrong secret, `recordSuccess` after a right one. See lockout-policy.ts for why one IP cannot lock a
 * victim out.
 */
export class BruteForceGuard {
  readonly policy: LockoutPolicy;
  readonly #store: LockoutStore;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #events: SecurityEventLog | undefined;
  readonly #onDegraded: DegradedListener;

  constructor(options: BruteForceGuardOptions) {
    this.policy = parseLockoutPolicy(options.policy ?? {});
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#events = options.events;
    this.#onDegraded = options.onDegraded ?? (() => {});
  }

  check(attempt: LoginAttempt): Promise<LockoutVerdict> {
    return tracedLockout(() => this.#check(attempt));
  }

  async #check(attempt: LoginAttempt): Promise<LockoutVerdict> {
    const input = parseInput(attemptSchema, attempt, 'login attempt');
    const now = this.#clock.now();
    const subjects = this.#subjects(input);
    let states: LockoutState[];
    try {
      states = await this.#store.read(
        subjects.map(([, key]) => key),
        now,
      );
    } catch (error) {
      return this.#degraded(error, now);
    }
    return verdict(
      subjects.map(([subject], i) => [subject, states[i] ?? { failures: 0, lockedUntil: 0 }]),
      now,
      input.knownDevice,
    );
  }

  /** `check` that throws `rate.limited` with the wait, for a transport to answer 429 + Retry-After. */
  async assertAllowed(attempt: LoginAttempt): Promise<void> {
    const result = await this.check(attempt);
    if (!result.allowed) {
      throw new RateLimitedError(
        result.retryAfterMs,
        result.outcome === 'store.unavailable'
          ? 'Login protection unavailable; try again later'
          : 'Too many failed attempts',
      );
    }
  }

  async recordFailure(attempt: LoginAttempt): Promise<LockoutVerdict> {
    const input = parseInput(attemptSchema, attempt, 'login attempt');
    const now = this.#clock.now();
    const subjects = this.#subjects(input);
    let states: LockoutState[];
    try {
      states = await Promise.all(
        subjects.map(([subject, key]) =>
          this.#store.fail(key, {
            now,
            backoff: this.policy[subject],
            jitterScale: 1 - this.policy.jitter * this.#random(),
            ...(subject === 'account' ? { member: input.ipHash } : {}),
          }),
        ),
      );
    } catch (error) {
      return this.#degraded(error, now);
    }
    const result = verdict(
      subjects.map(([subject], i) => [subject, states[i] ?? { failures: 0, lockedUntil: 0 }]),
      now,
      input.knownDevice,
    );
    await this.#recordLocks(input, subjects, states, now);
    return result;
  }

  /** The right secret: forget this account's failures; the per-IP count stays (a sprayer's own login must not wash it). */
  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    const input = parseInput(attemptSchema, attempt, 'login attempt');
    const keys = this.#subjects(input)
      .filter(([subject]) => subject !== 'ip')
      .map(([, key]) => key);
    try {
      await this.#store.clear(keys);
    } catch (error) {
      // Failing to forget only errs towards caution; the counters expire on their own.
      this.#notify(error, this.#clock.now());
    }
  }

  #subjects(input: z.output<typeof attemptSchema>): [LockoutSubject, string][] {
    return [
      ['accountIp', `ai:${input.userId}:${input.ipHash}`],
      ['ip', `ip:${input.ipHash}`],
      ['account', `a:${input.userId}`],
    ];
  }

  async #recordLocks(
    input: z.output<typeof attemptSchema>,
    subjects: [LockoutSubject, string][],
    states: LockoutState[],
    now: number,
  ): Promise<void> {
    if (!this.#events) return;
    const events = this.#events;
    await Promise.all(
      subjects.map(async ([subject], i) => {
        const state = states[i];
        // Only the failure that started or lengthened a lock is news.
        if (!state || state.lockedUntil <= now || backoffFree(this.policy, subject, state.failures)) return;
        try {
          await events.record({
            type: 'lockout',
            at: now,
            userId: input.userId,
            ...(input.tenantId === undefined ? {} : { tenantId: input.tenantId }),
            subject,
            ipHash: input.ipHash,
            failures: state.failures,
            lockedUntil: state.lockedUntil,
          });
        } catch (error) {
          this.#notify(error, now);
        }
      }),
    );
  }

  #degraded(error: unknown, now: number): LockoutVerdict {
    this.#notify(error, now);
    const allowed = this.policy.onStoreDown === 'fail-open';
    return {
      allowed,
      retryAfterMs: allowed ? 0 : this.policy.failClosedRetryMs,
      lockedBy: [],
      outcome: 'store.unavailable',
    };
  }

  #notify(error: unknown, now: number): void {
    try {
      this.#onDegraded({
        component: 'lockout',
        name: 'login',
        mode: this.policy.onStoreDown,
        at: now,
        error,
      });
    } catch {
      // An alerting hook that throws must not change the decision.
    }
  }
}

function backoffFree(policy: LockoutPolicy, subject: LockoutSubject, failures: number): boolean {
  return failures <= policy[subject].freeAttempts;
}

function verdict(
  states: [LockoutSubject, LockoutState][],
  now: number,
  knownDevice: boolean,
): LockoutVerdict {
  const lockedBy: LockoutSubject[] = [];
  let until = now;
  for (const [subject, state] of states) {
    if (state.lockedUntil <= now) continue;
    if (subject === 'account' && knownDevice) continue;
    lockedBy.push(subject);
    until = Math.max(until, state.lockedUntil);
  }
  return lockedBy.length === 0
    ? { allowed: true, retryAfterMs: 0, lockedBy, outcome: 'allowed' }
    : { allowed: false, retryAfterMs: until - now, lockedBy, outcome: 'locked' };
}
