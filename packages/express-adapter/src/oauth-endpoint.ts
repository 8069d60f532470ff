import type { Request, RequestHandler, Response } from 'express';
import express from 'express';
import { z } from 'zod';

/**
 * Decides whether the caller of an OAuth endpoint is a client allowed to use it (RFC 7662 §2.1 and RFC 7009
 * §2.1 require client authentication). Check HTTP Basic credentials, mTLS, a network policy: the app knows.
 */
export type ClientAuthenticator = (req: Request) => boolean | Promise<boolean>;

export const tokenRequestSchema = z.object({
  token: z.string().min(1).max(8192),
  token_type_hint: z.string().max(64).optional(),
});

/** RFC 6749 §5.2 error answer, the shape both RFCs prescribe. */
export function sendOAuthError(
  res: Response,
  status: number,
  error: 'invalid_request' | 'invalid_client',
  description: string,
): void {
  res.status(status).setHeader('cache-control', 'no-store');
  if (status === 401) res.setHeader('www-authenticate', 'Basic realm="sessionkit"');
  res.json({ error, error_description: description });
}

/** Form bodies as the RFCs define them, and JSON for convenience; both small. */
export function oauthBodyParsers(): RequestHandler[] {
  return [express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' })];
}

/** Returns false (and has answered 401) when the client is not authenticated. */
export async function authenticateClient(
  req: Request,
  res: Response,
  authenticate: ClientAuthenticator,
): Promise<boolean> {
  if (await authenticate(req)) return true;
  sendOAuthError(res, 401, 'invalid_client', 'Client authentication failed');
  return false;
}
