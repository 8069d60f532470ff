import type { SessionConfig } from './config.js';
import type { ContextAction } from './events.js';
import type { RequestContext } from './request-context.js';
import type { SessionRecord } from './session-record.js';

export interface ContextAssessment {
  action: ContextAction;
  reasons: readonly string[];
}

export interface ContextAssessmentInput {
  session: SessionRecord;
  context: RequestContext;
  /** Keyed hash of `context.ip`, comparable with `session.device.lastIpHash`. */
  ipHash?: string;
  now: number;
}

/**
 * Judges a request against its session on every full validation. @sessionkit/security plugs its risk engine
 * in here; the engine applies the most severe action any assessor returns.
 */
export interface ContextAssessor {
  assess(input: ContextAssessmentInput): ContextAssessment | Promise<ContextAssessment>;
}

const SEVERITY: Record<ContextAction, number> = { allow: 0, flag: 1, 'step-up': 2, revoke: 3 };

export function combineAssessments(assessments: readonly ContextAssessment[]): ContextAssessment {
  let action: ContextAction = 'allow';
  const reasons: string[] = [];
  for (const assessment of assessments) {
    if (SEVERITY[assessment.action] > SEVERITY[action]) action = assessment.action;
    if (assessment.action !== 'allow') reasons.push(...assessment.reasons);
  }
  return { action, reasons };
}

const UNCHANGED: ContextAssessment = Object.freeze({ action: 'allow', reasons: Object.freeze([]) });

/**
 * The configured `contextChange` policy: a different IP or user agent than the session last saw. A session
 * that recorded a user agent and a request without one is a device change too (`device.missing`): a stolen
 * cookie replayed with the header stripped must not look like no evidence at all. Only a context that holds
 * nothing (a server-side check with no client to observe, such as token introspection) is not judged.
 */
export function contextChangeAssessor(policy: SessionConfig['contextChange']): ContextAssessor {
  return {
    assess({ session, context, ipHash }) {
      const ipChanged = ipHash && session.device.lastIpHash && ipHash !== session.device.lastIpHash;
      const recorded = session.device.userAgent;
      const deviceChange =
        recorded === undefined || context.userAgent === recorded || isServerSide(context)
          ? undefined
          : context.userAgent
            ? 'device.changed'
            : 'device.missing';
      // The verdict of almost every request, shared rather than allocated each time.
      if (!ipChanged && !deviceChange) return UNCHANGED;
      const assessments: ContextAssessment[] = [];
      if (ipChanged) {
        assessments.push({ action: policy.ip, reasons: ['ip.changed'] });
      }
      if (deviceChange) {
        assessments.push({ action: policy.device, reasons: [deviceChange] });
      }
      return combineAssessments(assessments);
    },
  };
}

/** Transports always put something in a client's context (an IP, a request id); an empty one is no client. */
function isServerSide(context: RequestContext): boolean {
  return Object.values(context).every((value) => value === undefined);
}
