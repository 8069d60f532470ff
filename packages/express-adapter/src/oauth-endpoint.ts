import type { Request, Response, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { asyncHandler } from './async-handler.js';
import { noStore } from './no-store.js';

/**
 * Decides whether the caller of an OAuth endpoint is a client allowed to use it (RFC 7662 §2.1 and RFC 7009
 * §2.1 require client authentication). Check HTTP Basic credentials (`basicClientAuthenticator`), mTLS, a
 * network policy: the app knows. It must answer false for a malformed request: what it throws is a 500.
 */
export type ClientAuthenticator = (req: Request) => boolean | Promise<boolean>;

const tokenRequestSchema = z.object({
  token: z.string().min(1).max(8192),
  token_type_hint: z.string().max(64).optional(),
});

/** RFC 6749 §5.2 error answer, the shape both RFCs prescribe. */
function sendOAuthError(
  res: Response,
  status: number,
  error: 'invalid_request' | 'invalid_client',
  description: string,
): void {
  res.status(status);
  noStore(res);
  if (status === 401) res.setHeader('www-authenticate', 'Basic realm="sessionkit"');
  res.json({ error, error_description: description });
}

/**
 * `POST /` of an RFC 7662 / RFC 7009 endpoint: form (or JSON) body, client authentication (401
 * `invalid_client`), a `token` parameter (400 `invalid_request`), then `handle` with the token. Answers are
 * never cached.
 */
export function tokenEndpoint(
  authenticate: ClientAuthenticator,
  handle: (token: string, res: Response) => Promise<void>,
): Router {
  const router = express.Router();
  router.post(
    '/',
    express.urlencoded({ extended: false, limit: '16kb' }),
    express.json({ limit: '16kb' }),
    asyncHandler(async (req, res) => {
      if (!(await authenticate(req))) {
        return sendOAuthError(res, 401, 'invalid_client', 'Client authentication failed');
      }
      const parsed = tokenRequestSchema.safeParse(req.body);
      if (!parsed.success) {
        return sendOAuthError(res, 400, 'invalid_request', 'The token parameter is required');
      }
      noStore(res);
      await handle(parsed.data.token, res);
    }),
  );
  return router;
}
