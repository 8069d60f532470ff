import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@sessionkit/core';
import type { Request } from 'express';

export interface RequestContextOptions {
  /** Header an upstream proxy puts its request id in; `false` to always mint one. Default `x-request-id`. */
  requestIdHeader?: string | false;
  /** Headers kept as device fingerprint components. Default: accept-language and the UA client hints. */
  fingerprintHeaders?: readonly string[];
}

const DEFAULT_FINGERPRINT_HEADERS = [
  'accept-language',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
];
// A request id ends up in logs and audit records: only a short, inert alphabet is taken from the client.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// The bounds of core's requestContextSchema: longer values are cut here so a long header is never an error.
const MAX_IP = 64;
const MAX_USER_AGENT = 1024;
const MAX_COMPONENT = 512;

/** Every context this package builds has a request id. */
export type IdentifiedRequestContext = RequestContext & { requestId: string };

const cache = new WeakMap<Request, IdentifiedRequestContext>();

/**
 * What core, audit and security learn about the caller. The IP is Express's `req.ip`, so it honours the
 * app's `trust proxy` setting and never trusts `X-Forwarded-For` on its own. Computed once per request.
 */
export function requestContext(req: Request, options: RequestContextOptions = {}): IdentifiedRequestContext {
  const cached = cache.get(req);
  if (cached) return cached;
  const ip = req.ip?.slice(0, MAX_IP);
  const userAgent = req.get('user-agent')?.slice(0, MAX_USER_AGENT);
  const fingerprint: Record<string, string> = {};
  for (const header of options.fingerprintHeaders ?? DEFAULT_FINGERPRINT_HEADERS) {
    const value = req.get(header);
    if (value) fingerprint[header.toLowerCase().slice(0, 64)] = value.slice(0, MAX_COMPONENT);
  }
  const context: IdentifiedRequestContext = {
    requestId: requestIdOf(req, options.requestIdHeader ?? 'x-request-id'),
    ...(ip ? { ip } : {}),
    ...(userAgent ? { userAgent } : {}),
    ...(Object.keys(fingerprint).length > 0 ? { fingerprint } : {}),
  };
  cache.set(req, context);
  return context;
}

function requestIdOf(req: Request, header: string | false): string {
  const offered = header === false ? undefined : req.get(header);
  return offered !== undefined && REQUEST_ID.test(offered) ? offered : randomUUID();
}
