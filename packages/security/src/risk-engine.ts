import type {
  ContextAction,
  ContextAssessment,
  ContextAssessmentInput,
  ContextAssessor,
  RequestContext,
  SessionEvents,
  SessionRecord,
} from '@sessionkit/core';
import { hmacSha256, InvalidInputError } from '@sessionkit/core';
import { DeadlineWatch } from './deadline-watch.js';
import type { DegradedListener } from './degraded.js';
import type { ObservedDevice } from './device-change.js';
import { judgeDevice, observeDevice } from './device-change.js';
import type { FingerprintComponents } from './device-fingerprint.js';
import type { FingerprintComparison } from './fingerprint-similarity.js';
import { compareFingerprints } from './fingerprint-similarity.js';
import { ipPrefix } from './ip-prefix.js';
import type { ProfileStore } from './profile-store.js';
import { updateProfile } from './profile-updates.js';
import type { RiskPolicy, RiskPolicyInput, RiskSignalName } from './risk-policy.js';
import { parseRiskPolicy } from './risk-policy.js';
import type { SecurityEvent, SecurityEventLog } from './security-event.js';
import type { Observation, SecurityProfile } from './security-profile.js';
import { distanceKm, emptyProfile, isKnownNetwork, learn, PROFILE_LIMITS } from './security-profile.js';
import { tracedRisk } from './security-telemetry.js';

/** What the app's GeoIP/ASN database says about an address (e.g. MaxMind GeoLite2, ipinfo). */
export interface NetworkInfo {
  asn?: string | number;
  country?: string;
  latitude?: number;
  longitude?: number;
}
export type NetworkResolver = (ip: string) => NetworkInfo | undefined | Promise<NetworkInfo | undefined>;

export interface RiskSignal {
  name: RiskSignalName;
  weight: number;
  /** Human-readable evidence (which fingerprint components changed, how far, how fast). */
  detail?: string;
}

export interface RiskAssessment {
  score: number;
  action: ContextAction;
  signals: RiskSignal[];
  /** Signal names, as core's validation reports them. */
  reasons: string[];
  device?: FingerprintComparison;
}

export interface RiskEngineOptions {
  profiles: ProfileStore;
  /**
   * HMAC key for network prefixes, at least 32 characters; every instance sharing the profile store must
   * share it. Separate from core's `ipHashKey`, which hashes whole addresses.
   */
  networkHashKey: string;
  policy?: RiskPolicyInput;
  resolveNetwork?: NetworkResolver;
  resolverTimeoutMs?: number;
  events?: SecurityEventLog;
  onDegraded?: DegradedListener;
}

interface Observed {
  device: ObservedDevice;
  networkPrefix?: string;
  network?: NetworkInfo;
}

/**
 * Scores each full validation of a session against the session's own device and the user's shared profile,
 * and maps the score to `allow | flag | step-up | revoke`. Plug it into core with
 * `new SessionManager({ assessors: [engine] })`: a revoke ends the session before the request is served.
 */
export class RiskEngine implements ContextAssessor {
  readonly policy: RiskPolicy;
  readonly #profiles: ProfileStore;
  readonly #networkHashKey: string;
  readonly #resolve: NetworkResolver | undefined;
  readonly #resolverDeadlines: DeadlineWatch;
  readonly #events: SecurityEventLog | undefined;
  readonly #onDegraded: DegradedListener;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: RiskEngineOptions) {
    if (options.networkHashKey.length < 32) {
      throw new InvalidInputError('networkHashKey must be at least 32 characters', [
        { path: 'networkHashKey', message: 'too short' },
      ]);
    }
    this.policy = parseRiskPolicy(options.policy ?? {});
    this.#profiles = options.profiles;
    this.#networkHashKey = options.networkHashKey;
    this.#resolve = options.resolveNetwork;
    this.#resolverDeadlines = new DeadlineWatch(options.resolverTimeoutMs ?? 100, 'network resolver');
    this.#events = options.events;
    this.#onDegraded = options.onDegraded ?? (() => {});
  }

  /** core's ContextAssessor: judge, remember what was harmless, record what was not. */
  assess(input: ContextAssessmentInput): Promise<ContextAssessment> {
    return tracedRisk(() => this.#assess(input));
  }

  async #assess(input: ContextAssessmentInput): Promise<ContextAssessment> {
    const { session, now } = input;
    const observed = await this.#observe(input.context, now);
    const profile = await this.#readProfile(session.userId, now);
    const assessment = this.#judge(session, observed, profile, now);
    if (assessment.action === 'allow' || assessment.action === 'flag') {
      await this.#learn(session.userId, observed, now);
    }
    if (assessment.action !== 'allow') {
      await this.#record({
        type: 'risk',
        at: now,
        userId: session.userId,
        ...(session.tenantId === undefined ? {} : { tenantId: session.tenantId }),
        sessionId: session.id,
        score: assessment.score,
        action: assessment.action,
        reasons: assessment.reasons,
      });
    }
    return { action: assessment.action, reasons: assessment.reasons };
  }

  /** The same judgement without side effects: for dashboards, tests and dry runs of a new policy. */
  async evaluate(session: SessionRecord, context: RequestContext, now: number): Promise<RiskAssessment> {
    const observed = await this.#observe(context, now);
    return this.#judge(session, observed, await this.#readProfile(session.userId, now), now);
  }

  /** Trusts a context for a user: call after a successful login or step-up so it is not flagged next time. */
  async trust(userId: string, context: RequestContext, now: number): Promise<void> {
    await this.#learn(userId, await this.#observe(context, now), now);
  }

  /** A failed login for the user (feeds the `failures.burst` signal). */
  async recordFailure(userId: string, now: number): Promise<void> {
    const windowStart = now - this.policy.failureBurst.windowMs;
    await updateProfile(this.#profiles, userId, (profile) => ({
      ...profile,
      failures: [...profile.failures.filter((at) => at > windowStart), now].slice(-PROFILE_LIMITS.failures),
    }));
  }

  /** Whether these components match a device the user has used before (see BruteForceGuard `knownDevice`). */
  async isKnownDevice(userId: string, components: FingerprintComponents): Promise<boolean> {
    const stored = await this.#profiles.get(userId);
    return (stored?.profile.devices ?? []).some(
      (device) => compareFingerprints(device.components, components, this.policy.fingerprint).sameDevice,
    );
  }

  /**
   * Listens to core's events: a refresh-token reuse marks the user, so the user's other sessions score
   * `token.reuse` for a while. Returns the unsubscribe function.
   */
  observe(events: SessionEvents): () => void {
    return events.subscribe((event) => {
      if (event.type !== 'token.reuse_detected') return;
      const { userId, tenantId, id } = event.session;
      this.#background(async () => {
        await updateProfile(this.#profiles, userId, (profile) => ({ ...profile, tokenReuseAt: event.at }));
        await this.#record({
          type: 'token.reuse',
          at: event.at,
          userId,
          ...(tenantId === undefined ? {} : { tenantId }),
          sessionId: id,
        });
      }, event.at);
    });
  }

  /** Resolves when the writes started by `observe` have finished. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  #judge(session: SessionRecord, observed: Observed, profile: SecurityProfile, now: number): RiskAssessment {
    const signals: RiskSignal[] = [];
    const add = (name: RiskSignalName, detail?: string) => {
      const weight = this.policy.weights[name];
      if (weight > 0) signals.push({ name, weight, ...(detail === undefined ? {} : { detail }) });
    };
    const device = judgeDevice(session, observed.device, this.policy.fingerprint);
    if (device.signal) add(device.signal, device.detail);
    if (
      observed.networkPrefix &&
      profile.networks.length > 0 &&
      !isKnownNetwork(profile, observed.networkPrefix)
    ) {
      add('network.new');
    }
    const asn = observed.network?.asn === undefined ? undefined : String(observed.network.asn);
    if (asn !== undefined && profile.asns.length > 0 && !profile.asns.some((known) => known.value === asn)) {
      add('asn.new', `AS${asn}`);
    }
    const country = observed.network?.country;
    if (
      country &&
      profile.countries.length > 0 &&
      !profile.countries.some((known) => known.value === country)
    ) {
      add('country.new', country);
    }
    const location = locationOf(observed.network);
    if (location && profile.lastLocation) {
      const km = distanceKm(profile.lastLocation, location);
      const hours = Math.max(now - profile.lastLocation.at, 60_000) / 3_600_000;
      if (km >= this.policy.minTravelKm && km / hours > this.policy.impossibleTravelKmh) {
        add('travel.impossible', `${Math.round(km)} km in ${Math.round(hours * 60)} min`);
      }
    }
    const samples = profile.hours.reduce((sum, count) => sum + count, 0);
    const hourShare = (profile.hours[new Date(now).getUTCHours()] ?? 0) / Math.max(samples, 1);
    if (samples >= this.policy.unusualHour.minSamples && hourShare < this.policy.unusualHour.maxShare) {
      add('hour.unusual', `UTC hour ${new Date(now).getUTCHours()}`);
    }
    const windowStart = now - this.policy.failureBurst.windowMs;
    const failures = profile.failures.filter((at) => at > windowStart).length;
    if (failures >= this.policy.failureBurst.count) add('failures.burst', `${failures} failures`);
    // Only sessions that already existed when the theft was seen are suspect: a session the user opened by
    // signing in again afterwards must not be revoked for it.
    if (
      profile.tokenReuseAt !== undefined &&
      session.createdAt <= profile.tokenReuseAt &&
      now - profile.tokenReuseAt < this.policy.tokenReuseWindowMs
    ) {
      add('token.reuse');
    }
    const score =
      Math.round((1 - signals.reduce((rest, signal) => rest * (1 - signal.weight), 1)) * 1000) / 1000;
    return {
      score,
      action: this.#action(score),
      signals,
      reasons: signals.map((signal) => signal.name),
      ...(device.comparison === undefined ? {} : { device: device.comparison }),
    };
  }

  #action(score: number): ContextAction {
    const { bands } = this.policy;
    if (score >= bands.revoke) return 'revoke';
    if (score >= bands.stepUp) return 'step-up';
    if (score >= bands.flag) return 'flag';
    return 'allow';
  }

  async #observe(context: RequestContext, now: number): Promise<Observed> {
    const prefix =
      context.ip === undefined
        ? undefined
        : ipPrefix(context.ip, this.policy.ipv4PrefixBits, this.policy.ipv6PrefixBits);
    const network = context.ip === undefined ? undefined : await this.#resolveNetwork(context.ip, now);
    return {
      device: observeDevice(context),
      ...(prefix === undefined
        ? {}
        : { networkPrefix: hmacSha256(this.#networkHashKey, prefix).slice(0, 32) }),
      ...(network === undefined ? {} : { network }),
    };
  }

  async #resolveNetwork(ip: string, now: number): Promise<NetworkInfo | undefined> {
    if (!this.#resolve) return undefined;
    try {
      return await this.#resolverDeadlines.track(Promise.resolve(this.#resolve(ip)));
    } catch (error) {
      this.#notify(error, now);
      return undefined;
    }
  }

  async #readProfile(userId: string, now: number): Promise<SecurityProfile> {
    try {
      return (await this.#profiles.get(userId))?.profile ?? emptyProfile();
    } catch (error) {
      // Without the profile only the session's own device can be judged; the outage is reported.
      this.#notify(error, now);
      return emptyProfile();
    }
  }

  async #learn(userId: string, observed: Observed, now: number): Promise<void> {
    const asn = observed.network?.asn;
    const country = observed.network?.country;
    const location = locationOf(observed.network);
    const observation: Observation = {
      now,
      ...(Object.keys(observed.device.components).length === 0 ? {} : { device: observed.device.components }),
      ...(observed.networkPrefix === undefined ? {} : { networkPrefix: observed.networkPrefix }),
      ...(asn === undefined ? {} : { asn: String(asn) }),
      ...(country === undefined ? {} : { country }),
      ...(location === undefined ? {} : { location }),
    };
    try {
      await updateProfile(this.#profiles, userId, (profile) =>
        learn(profile, observation, this.policy.fingerprint),
      );
    } catch (error) {
      this.#notify(error, now);
    }
  }

  async #record(event: SecurityEvent): Promise<void> {
    if (!this.#events) return;
    try {
      await this.#events.record(event);
    } catch (error) {
      this.#notify(error, event.at);
    }
  }

  #background(work: () => Promise<void>, now: number): void {
    const task = work()
      .catch((error: unknown) => this.#notify(error, now))
      .finally(() => this.#pending.delete(task));
    this.#pending.add(task);
  }

  #notify(error: unknown, now: number): void {
    try {
      this.#onDegraded({ component: 'profile', name: 'risk', mode: 'fail-open', at: now, error });
    } catch {
      // An alerting hook that throws must not change the decision.
    }
  }
}

function locationOf(network: NetworkInfo | undefined) {
  if (network?.latitude === undefined || network.longitude === undefined) return undefined;
  return { latitude: network.latitude, longitude: network.longitude };
}
