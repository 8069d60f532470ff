import type { SessionManager } from '@sessionkit/core';
import type { BruteForceGuard, RequestRateLimits, RiskEngine } from '@sessionkit/security';
import type { LoginAttemptInfo, LoginProtection } from './auth-router.js';

/**
 * The login and refresh defences of @sessionkit/security behind the auth router: GCRA limits per IP and per
 * account+IP (fail-closed), the brute-force lockout (account+IP, IP, and account counted in distinct IPs, so
 * one IP cannot lock a victim out), and the risk profile learning trusted devices on success.
 */
export class SecurityLoginProtection implements LoginProtection {
  readonly #manager: SessionManager;
  readonly #loginLimits: RequestRateLimits;
  readonly #refreshLimits: RequestRateLimits;
  readonly #guard: BruteForceGuard;
  readonly #risk: RiskEngine;

  constructor(options: {
    manager: SessionManager;
    loginLimits: RequestRateLimits;
    refreshLimits: RequestRateLimits;
    guard: BruteForceGuard;
    risk: RiskEngine;
  }) {
    this.#manager = options.manager;
    this.#loginLimits = options.loginLimits;
    this.#refreshLimits = options.refreshLimits;
    this.#guard = options.guard;
    this.#risk = options.risk;
  }

  async check(attempt: LoginAttemptInfo): Promise<void> {
    const ipHash = this.#manager.hashIp(attempt.ip);
    await this.#loginLimits.enforce({ ipHash, userId: attempt.account });
    await this.#guard.assertAllowed({ userId: attempt.account, ipHash });
  }

  async failed(attempt: LoginAttemptInfo): Promise<void> {
    await this.#guard.recordFailure({ userId: attempt.account, ipHash: this.#manager.hashIp(attempt.ip) });
    if (attempt.userId) await this.#risk.recordFailure(attempt.userId, Date.now());
  }

  async succeeded(attempt: LoginAttemptInfo): Promise<void> {
    await this.#guard.recordSuccess({ userId: attempt.account, ipHash: this.#manager.hashIp(attempt.ip) });
    if (attempt.userId && attempt.context)
      await this.#risk.trust(attempt.userId, attempt.context, Date.now());
  }

  async checkRefresh(ip: string): Promise<void> {
    await this.#refreshLimits.enforce({ ipHash: this.#manager.hashIp(ip) });
  }
}
