import type { HealthCheck } from '@sessionkit/core';
import { InvalidInputError } from '@sessionkit/core';
import type { Response, Router } from 'express';
import express from 'express';
import { asyncHandler } from './async-handler.js';
import type { CheckReport } from './readiness.js';
import { runCheck } from './readiness.js';

export interface HealthRouterOptions {
  /**
   * Every dependency this instance uses; all run concurrently on each `/readyz`. Read on every request, so an
   * app may append the check of a dependency it starts later (names are checked for repeats only here).
   */
  checks: readonly HealthCheck[];
  /** Per-check deadline unless the check sets its own. Default 2000 ms: under a load balancer's probe timeout. */
  timeoutMs?: number;
  /** True once shutdown began: `/readyz` answers 503 at once so the load balancer drains this instance. */
  draining?: () => boolean;
  /** Sees each failing check's error (log it there: the answer carries only its code). */
  onCheckFailure?: (name: string, error: unknown) => void;
}

/**
 * `GET /healthz`: the process answers (liveness; no dependency is asked, so a store outage never gets the
 * process restarted). `GET /readyz`: every check, each with status and latency; 503 naming the failing
 * required checks while any fails.
 */
export function healthRouter(options: HealthRouterOptions): Router {
  const names = options.checks.map((check) => check.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    throw new InvalidInputError(`Two health checks are named ${repeated}`, [
      { path: 'checks', message: 'names must be unique' },
    ]);
  }
  const timeoutMs = options.timeoutMs ?? 2000;
  const onFailure = options.onCheckFailure ?? (() => {});
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ status: 'ok' });
  });
  router.get(
    '/readyz',
    asyncHandler(async (_req, res) => {
      if (options.draining?.()) {
        notReady(res, 'The instance is shutting down', [], []);
        return;
      }
      const checks = await Promise.all(options.checks.map((check) => runCheck(check, timeoutMs, onFailure)));
      const failing = checks
        .filter((check) => check.required && check.status !== 'up')
        .map((check) => check.name);
      if (failing.length > 0) {
        notReady(res, `Failing: ${failing.join(', ')}`, failing, checks);
        return;
      }
      res.setHeader('cache-control', 'no-store');
      res.json({ status: 'ready', checks });
    }),
  );
  return router;
}

/** RFC 9457 with two extension members: the failing check names, and every check's report. */
function notReady(res: Response, detail: string, failing: string[], checks: CheckReport[]): void {
  res
    .status(503)
    .setHeader('content-type', 'application/problem+json; charset=utf-8')
    .setHeader('cache-control', 'no-store')
    .send(
      JSON.stringify({
        type: 'urn:sessionkit:problem:not_ready',
        title: 'Not ready',
        status: 503,
        code: 'not_ready',
        detail,
        failing,
        checks,
      }),
    );
}
