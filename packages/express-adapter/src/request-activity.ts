import type { RequestActivityRecorder } from '@sessionkit/core';
import { parseInput } from '@sessionkit/core';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';

export interface RequestActivityOptions {
  /** Where each sampled request goes, e.g. @sessionkit/audit's `requestActivityRecorder(auditor)`. */
  recorder: RequestActivityRecorder;
  /** Share of requests recorded, 0 to 1 (default 1: every request of a signed-in session). */
  sampleRate?: number;
  /** The request's category; default `read` for GET, HEAD and OPTIONS, `write` for the rest. */
  categorize?: (req: Request, route: string) => string;
  /** Requests to leave out whatever the sample says (health probes, static files). */
  skip?: (req: Request) => boolean;
  /** Sees a recorder that threw; the request itself is long answered and never affected. */
  onError?: (error: unknown, req: Request) => void;
  /** Uniform in [0, 1); replaceable so a test can pick which requests are sampled. */
  random?: () => number;
  now?: () => number;
}

/** What a request that no route answered (a 404, a probe) is recorded as: never its raw path. */
export const UNMATCHED_ROUTE = '(unmatched)';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const optionsSchema = z.object({ sampleRate: z.number().min(0).max(1).default(1) });

/**
 * Records each (sampled) request of a signed-in session into its activity trail once the answer has gone:
 * the route pattern that answered (`/api/me/sessions/:id`, not the URL), method, status, duration and a
 * category. Mount it before the routes; it never delays or fails a request.
 */
export function requestActivity(options: RequestActivityOptions): RequestHandler {
  const { sampleRate } = parseInput(optionsSchema, { sampleRate: options.sampleRate }, 'request activity');
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const categorize =
    options.categorize ?? ((req: Request) => (SAFE_METHODS.has(req.method) ? 'read' : 'write'));
  return (req, res, next) => {
    if (sampleRate === 0 || options.skip?.(req) || random() >= sampleRate) return next();
    const started = performance.now();
    const route = captureRoute(req);
    res.once('finish', () => {
      const session = req.sessionkit?.session;
      if (!session) return;
      try {
        const pattern = route.pattern ?? UNMATCHED_ROUTE;
        const requestId = req.sessionkit?.requestId;
        options.recorder.recordRequest({
          at: now(),
          sessionId: session.sessionId,
          userId: session.userId,
          ...(session.tenantId === undefined ? {} : { tenantId: session.tenantId }),
          ...(requestId ? { requestId } : {}),
          route: pattern,
          method: req.method,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          category: categorize(req, pattern),
        });
      } catch (error) {
        options.onError?.(error, req);
      }
    });
    next();
  };
}

/**
 * Express sets `req.route` when a route starts handling, while `req.baseUrl` is still the router's mount path;
 * by the time the answer is sent an error may have left the router and reset `baseUrl`. So the full pattern is
 * taken at that moment, through an accessor on this one request object (Express 4 and 5 alike).
 */
function captureRoute(req: Request): { pattern?: string } {
  const captured: { pattern?: string } = {};
  let current: unknown = req.route;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (value: unknown) => {
      current = value;
      const path = (value as { path?: unknown } | undefined)?.path;
      if (path !== undefined) captured.pattern = `${req.baseUrl}${String(path)}`;
    },
  });
  return captured;
}
