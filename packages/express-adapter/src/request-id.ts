import { randomUUID } from 'node:crypto';
import type { Request } from 'express';

export interface RequestContextOptions {
  /** Header an upstream proxy puts its request id in; `false` to always mint one. Default `x-request-id`. */
  requestIdHeader?: string | false;
  /**
   * Answer every response with the request id in that header (`X-Request-Id` when `requestIdHeader` is false),
   * so clients and logs can correlate. Off by default: without it the id is only minted when something uses it
   * (the request context, a problem document), which keeps it off the path of requests that never need it.
   */
  echoRequestId?: boolean;
}

// A request id ends up in logs and audit records: only a short, inert alphabet is taken from the client.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The proxy's request id when it is inert enough to log, else a fresh one. */
export function requestIdOf(req: Request, header: string | false): string {
  const offered = header === false ? undefined : req.headers[header.toLowerCase()];
  return typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
}
