import type { RateLimiter } from '@sessionkit/core';
import { parseInput } from '@sessionkit/core';
import type { Request, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { asyncHandler } from './async-handler.js';
import { setSessionCookie } from './cookies.js';
import { storeBackedSession } from './guards.js';
import { noStore } from './no-store.js';
import { rateLimit } from './rate-limit-middleware.js';
import { requestContext } from './request-context.js';
import { stateOf } from './request-state.js';
import { adopt } from './session-lifecycle.js';

export interface TransferRouterOptions {
  /** Counts every redemption attempt (by client network unless `redeemKey` says otherwise); required. */
  limiter: RateLimiter;
  redeemKey?: (req: Request) => string | undefined;
  /**
   * `cookie` (default): the redeeming browser gets the session cookie and the answer carries the session view
   * only. `bearer`: the answer carries the raw tokens, for native apps.
   */
  transport?: 'cookie' | 'bearer';
}

const createBody = z.object({ mode: z.enum(['takeover', 'fork']) });
const redeemBody = z.object({
  code: z.string().min(1).max(256),
  deviceLabel: z.string().trim().min(1).max(200).exactOptional(),
});

/**
 * Cross-device sign-in with core's one-time transfer codes, to mount under e.g. `/api/transfer`:
 * `POST /codes {mode}` on the signed-in device (`takeover` ends it once redeemed, `fork` keeps it), and
 * `POST /redeem {code, deviceLabel?}` on the new one, which starts a session at AAL 1 whatever the source
 * had (core's cap: the new device has proven possession of a code, not of a second factor).
 * A bad, expired or used code is 400 `transfer.invalid`, all alike.
 */
export function transferRouter(options: TransferRouterOptions): Router {
  const transport = parseInput(
    z.enum(['cookie', 'bearer']).default('cookie'),
    options.transport,
    'transport',
  );
  const router = express.Router();
  router.use((_req, res, next) => {
    noStore(res);
    next();
  });

  router.post(
    '/codes',
    asyncHandler(async (req, res) => {
      const me = await storeBackedSession(req, res);
      const body = parseInput(createBody, req.body, 'transfer code request');
      const { code, expiresAt } = await stateOf(req).manager.createTransferCode(me.sessionId, {
        mode: body.mode,
        context: requestContext(req),
      });
      res.status(201).json({ code, expiresAt, mode: body.mode });
    }),
  );

  router.post(
    '/redeem',
    rateLimit({ limiter: options.limiter, ...(options.redeemKey ? { key: options.redeemKey } : {}) }),
    asyncHandler(async (req, res) => {
      const body = parseInput(redeemBody, req.body, 'transfer redemption');
      const state = stateOf(req);
      const context = requestContext(req);
      const previous = req.sessionkit?.session;
      const issued = await state.manager.redeemTransferCode(body.code, {
        context,
        ...(body.deviceLabel === undefined ? {} : { deviceLabel: body.deviceLabel }),
      });
      // As at login: whatever session this browser held before does not outlive the new one.
      if (previous) {
        await state.manager.revoke(previous.sessionId, { reason: 'login.replaced', by: 'user', context });
      }
      if (transport === 'cookie') setSessionCookie(res, issued, state.cookies, state.clock.now());
      adopt(req, issued, transport);
      res.json(
        transport === 'cookie'
          ? { session: issued.session, csrfToken: req.sessionkit?.csrfToken }
          : {
              session: issued.session,
              token: issued.token,
              accessToken: issued.accessToken,
              refreshToken: issued.refreshToken,
              expiresAt: issued.expiresAt,
            },
      );
    }),
  );

  return router;
}
