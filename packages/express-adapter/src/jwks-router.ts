import type { SessionManager } from '@sessionkit/core';
import type { Router } from 'express';
import express from 'express';
import { asyncHandler } from './async-handler.js';

export interface JwksRouterOptions {
  manager: SessionManager;
  /**
   * How long verifiers may cache the set. Short, because a rotated-in key signs at once; verifiers such as
   * jose's remote JWKS also refetch on an unknown `kid`. Default 60 s.
   */
  maxAgeSeconds?: number;
}

/** `GET /.well-known/jwks.json`: the public half of every access-token key that still verifies. */
export function jwksRouter(options: JwksRouterOptions): Router {
  const maxAge = Math.max(0, Math.floor(options.maxAgeSeconds ?? 60));
  const router = express.Router();
  router.get(
    '/.well-known/jwks.json',
    asyncHandler(async (_req, res) => {
      const jwks = options.manager.accessTokens ? await options.manager.accessTokens.jwks() : { keys: [] };
      res.setHeader('cache-control', `public, max-age=${maxAge}`);
      res.type('application/jwk-set+json').send(JSON.stringify(jwks));
    }),
  );
  return router;
}
