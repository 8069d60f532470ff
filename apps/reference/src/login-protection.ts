import type { Clock, SessionManager } from '@sessionkit/core';
import type { BruteForceGuard, ClientNetworkBits, RequestRateLimits, RiskEngine } from '@sessionkit/security';
import { clientNetwork } from '@sessionkit/security';
import type { LoginAttemptInfo, LoginProtection, LoginSuccess } from './auth-router.js';
import type { DeviceCookies } from './device-cookie.js';

/**
 * The login and refresh defences of @sessionkit/security behind the auth router: GCRA limits per network and
 * per account+network (fail-closed), the brute-force lockout (account+network, network, and account counted
 * in distinct networks, so one network cannot lock a victim out), and the risk profile learning trusted
 * devices on success. A client is its network (`clientNetwork`: the IPv4 address, the IPv6 /64), since an
 * IPv6 client picks any address of its /64. A browser holding this account's device cookie passes the
 * account-wide lock; a success forgets the account+network count (consecutive failures, not logins).
 */
export class SecurityLoginProtection implements LoginProtection {
  readonly #manager: SessionManager;
  readonly #loginLimits: RequestRateLimits;
  readonly #refreshLimits: RequestRateLimits;
  readonly #guard: BruteForceGuard;
  readonly #risk: RiskEngine;
  readonly #devices: DeviceCookies;
  readonly #network: ClientNetworkBits;
  readonly #clock: Clock;

  constructor(options: {
    manager: SessionManager;
    loginLimits: RequestRateLimits;
    refreshLimits: RequestRateLimits;
    guard: BruteForceGuard;
    risk: RiskEngine;
    devices: DeviceCookies;
    network: ClientNetworkBits;
    clock: Clock;
  }) {
    this.#manager = options.manager;
    this.#loginLimits = options.loginLimits;
    this.#refreshLimits = options.refreshLimits;
    this.#guard = options.guard;
    this.#risk = options.risk;
    this.#devices = options.devices;
    this.#network = options.network;
    this.#clock = options.clock;
  }

  async check(attempt: LoginAttemptInfo): Promise<void> {
    const ipHash = this.#networkHash(attempt.ip);
    await this.#loginLimits.enforce({ ipHash, userId: attempt.account });
    await this.#guard.assertAllowed({
      userId: attempt.account,
      ipHash,
      knownDevice: this.#devices.verify(attempt.deviceCookie, attempt.account),
    });
  }

  async failed(attempt: LoginAttemptInfo): Promise<void> {
    await this.#guard.recordFailure({ userId: attempt.account, ipHash: this.#networkHash(attempt.ip) });
    if (attempt.userId) await this.#risk.recordFailure(attempt.userId, this.#clock.now());
  }

  async succeeded(attempt: LoginAttemptInfo): Promise<LoginSuccess> {
    const ipHash = this.#networkHash(attempt.ip);
    await this.#guard.recordSuccess({ userId: attempt.account, ipHash });
    await this.#loginLimits.reset({ ipHash, userId: attempt.account }, ['user-ip']);
    if (attempt.userId && attempt.context)
      await this.#risk.trust(attempt.userId, attempt.context, this.#clock.now());
    return { deviceCookie: this.#devices.issue(attempt.account) };
  }

  async checkRefresh(ip: string): Promise<void> {
    await this.#refreshLimits.enforce({ ipHash: this.#networkHash(ip) });
  }

  #networkHash(ip: string): string {
    return this.#manager.hashIp(clientNetwork(ip, this.#network));
  }
}
