import type { SessionStore } from '@sessionkit/core';
import type { Router } from 'express';
import express from 'express';

/**
 * `GET /healthz`: the process answers. `GET /readyz`: it can serve sessions (the store answers) and is not
 * draining, so a load balancer stops sending traffic as soon as shutdown begins.
 */
export function healthRouter(options: { store: SessionStore; isShuttingDown: () => boolean }): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const ready =
      !options.isShuttingDown() &&
      (await options.store.health().then(
        () => true,
        () => false,
      ));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable' });
  });
  return router;
}
