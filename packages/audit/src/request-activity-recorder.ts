import type { RequestActivity, RequestActivityRecorder } from '@sessionkit/core';
import type { Auditor } from './auditor.js';

/**
 * Request activity (from `@sessionkit/express`'s `requestActivity()`) as `session.request` audit records, in
 * the session's timeline beside the engine's own events. The route and category pass the same redaction as
 * every record (a pattern with an email or token literal in it is stored redacted), no IP address or user
 * agent is taken, and a 4xx or 5xx answer is recorded with outcome `failure`. Input that does not fit the
 * action's schema is dropped, never thrown back into the response path.
 */
export function requestActivityRecorder(
  auditor: Auditor,
  options: { onInvalid?: (error: unknown) => void } = {},
): RequestActivityRecorder {
  return {
    recordRequest(activity: RequestActivity): void {
      try {
        auditor.record('session.request', {
          at: activity.at,
          outcome: activity.status >= 400 ? 'failure' : 'success',
          userId: activity.userId,
          sessionId: activity.sessionId,
          ...(activity.tenantId === undefined ? {} : { tenantId: activity.tenantId }),
          ...(activity.requestId === undefined ? {} : { requestId: activity.requestId.slice(0, 128) }),
          details: {
            route: activity.route.slice(0, 200),
            method: activity.method,
            status: activity.status,
            durationMs: activity.durationMs,
            category: activity.category.slice(0, 64),
          },
        });
      } catch (error) {
        options.onInvalid?.(error);
      }
    },
  };
}
