import type { SessionManager } from '@sessionkit/core';
import type { ValidationTier } from '@sessionkit/express';
import { problemHandler, sessionMiddleware, sessionOf } from '@sessionkit/express';
import type { Express } from 'express';
import express from 'express';
import { payload, ROUTE } from './payload.js';

/**
 * The same handler as the baselines, behind the Express adapter: the middleware validates the bearer token
 * at `tier`, the handler reads the session and answers 50 bytes of JSON, errors leave as problem documents.
 */
export function sessionKitApp(manager: SessionManager, tier: ValidationTier): Express {
  const app = express();
  app.use(sessionMiddleware({ manager, tier }));
  app.get(ROUTE, (req, res) => {
    res.type('application/json').send(payload(sessionOf(req).userId));
  });
  app.use(problemHandler());
  return app;
}
