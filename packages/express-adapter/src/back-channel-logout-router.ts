import type { BackchannelLogoutReceiver } from '@sessionkit/upstream';
import type { Router } from 'express';
import express from 'express';
import { asyncHandler } from './async-handler.js';

export interface BackChannelLogoutRouterOptions {
  /**
   * Core's receiver, configured with the provider's issuer, our client id, the provider's JWKS
   * (`createRemoteJWKSet` / `createLocalJWKSet`) and how a provider `sid` maps to our sessions, including for
   * a token that names only the `sid` (`sessionsByMetadata` with `userIdForSid`).
   */
  receiver: BackchannelLogoutReceiver;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 endpoint at `POST /` (mount at the `backchannel_logout_uri`).
 * Core's receiver does every check of §2.6 (signature against the provider's keys with pinned algorithms,
 * `iss`, `aud`, `iat`, `typ`, the logout event, `sub` or `sid`, no `nonce`, `jti` replay) and the
 * revocation; this router only speaks HTTP: a small form body in, §2.8's 200 / 400 (503 when the provider's
 * keys or our store cannot be reached) out, always `Cache-Control: no-store`.
 */
export function backChannelLogoutRouter(options: BackChannelLogoutRouterOptions): Router {
  const router = express.Router();
  router.post(
    '/',
    express.urlencoded({ extended: false, limit: '32kb' }),
    asyncHandler(async (req, res) => {
      const body: unknown = req.body;
      const form = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      const answer = await options.receiver.handleRequest(form);
      res.status(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      res.send(answer.body);
    }),
  );
  return router;
}
