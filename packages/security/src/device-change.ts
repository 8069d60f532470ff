import type { RequestContext, SessionRecord } from '@sessionkit/core';
import type { FingerprintComponents } from './device-fingerprint.js';
import { deviceFingerprint } from './device-fingerprint.js';
import type { FingerprintComparison, SimilarityOptions } from './fingerprint-similarity.js';
import { compareFingerprints } from './fingerprint-similarity.js';

/** What a request shows of its device. */
export interface ObservedDevice {
  components: FingerprintComponents;
  /**
   * No client at all (an empty context: a server-side check such as token introspection); no User-Agent;
   * one that names neither a browser nor an OS; one that does.
   */
  agent: 'unobserved' | 'none' | 'unparseable' | 'parsed';
}

export interface DeviceJudgement {
  signal?: 'device.changed' | 'device.missing' | 'device.unparseable';
  detail?: string;
  comparison?: FingerprintComparison;
}

export function observeDevice(context: RequestContext): ObservedDevice {
  const components = withAgentParts(context.fingerprint ?? {}, context.userAgent);
  if (Object.values(context).every((value) => value === undefined)) {
    return { components, agent: 'unobserved' };
  }
  // The browser and OS may come parsed already, in the components a transport built from the header.
  if (hasAgentParts(components)) return { components, agent: 'parsed' };
  return { components, agent: context.userAgent ? 'unparseable' : 'none' };
}

/**
 * The request's device against the one the session was created on. A session that recorded a browser and
 * a request that shows none, or one that names no browser or OS, is a change, not an absence of evidence:
 * stripping or garbling the User-Agent must not be the way to replay a stolen cookie unnoticed.
 */
export function judgeDevice(
  session: SessionRecord,
  current: ObservedDevice,
  options: SimilarityOptions,
): DeviceJudgement {
  if (current.agent === 'unobserved') return {};
  const recorded = withAgentParts(session.device.fingerprint ?? {}, session.device.userAgent);
  const knewAgent = session.device.userAgent !== undefined || hasAgentParts(recorded);
  if (knewAgent && current.agent === 'none') {
    return { signal: 'device.missing', detail: 'no User-Agent' };
  }
  if (hasAgentParts(recorded) && current.agent === 'unparseable') {
    return { signal: 'device.unparseable', detail: 'User-Agent names no browser or OS' };
  }
  if (Object.keys(recorded).length === 0) return {};
  const comparison = compareFingerprints(recorded, current.components, options);
  if (comparison.sameDevice) return { comparison };
  return {
    signal: 'device.changed',
    detail: [...comparison.changed, ...comparison.missing].join(','),
    comparison,
  };
}

/** Components as given; a transport that sent the raw User-Agent only gets it parsed here. */
function withAgentParts(
  components: FingerprintComponents,
  userAgent: string | undefined,
): FingerprintComponents {
  if (!userAgent || hasAgentParts(components)) return components;
  return { ...deviceFingerprint({ userAgent }), ...components };
}

function hasAgentParts(components: FingerprintComponents): boolean {
  return components.browser !== undefined || components.os !== undefined;
}
