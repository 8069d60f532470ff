import type { RequestContext } from '@sessionkit/core';
import type { Request } from 'express';
import { headerFingerprint } from './header-fingerprint.js';

// The bounds of core's requestContextSchema: longer values are cut here so a long header is never an error.
const MAX_IP = 64;
const MAX_USER_AGENT = 1024;

/** Every context this package builds has a request id. */
export type IdentifiedRequestContext = RequestContext & { requestId: string };

/**
 * What core, audit and security learn about the caller. The IP is Express's `req.ip`, so it honours the
 * app's `trust proxy` setting and never trusts `X-Forwarded-For` on its own.
 */
export function contextFromRequest(req: Request, requestId: string): IdentifiedRequestContext {
  const context: IdentifiedRequestContext = { requestId };
  const ip = req.ip?.slice(0, MAX_IP);
  if (ip) context.ip = ip;
  const userAgent = req.get('user-agent')?.slice(0, MAX_USER_AGENT);
  if (userAgent) context.userAgent = userAgent;
  // Structured components (browser, OS, device type, languages, client hints), as @sessionkit/security
  // compares them: raw header strings would let a copied Accept-Language pass for the same device.
  const fingerprint = headerFingerprint(req.headers);
  if (fingerprint) context.fingerprint = fingerprint;
  return context;
}
