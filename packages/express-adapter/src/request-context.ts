import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@sessionkit/core';
import type { Request } from 'express';
import { headerFingerprint } from './header-fingerprint.js';
import { findState } from './request-state.js';

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
// The bounds of core's requestContextSchema: longer values are cut here so a long header is never an error.
const MAX_IP = 64;
const MAX_USER_AGENT = 1024;

/** Every context this package builds has a request id. */
export type IdentifiedRequestContext = RequestContext & { requestId: string };

// Requests that never passed through sessionMiddleware still get one context (and one request id) each.
const unattached = new WeakMap<Request, IdentifiedRequestContext>();

/**
 * What core, audit and security learn about the caller. The IP is Express's `req.ip`, so it honours the
 * app's `trust proxy` setting and never trusts `X-Forwarded-For` on its own. Computed once per request, on
 * first use, with the options and request id the session middleware was given.
 */
export function requestContext(req: Request, options?: RequestContextOptions): IdentifiedRequestContext {
  const state = findState(req);
  if (state) {
    state.context ??= buildContext(req, state.requestId);
    return state.context;
  }
  let context = unattached.get(req);
  if (!context) {
    context = buildContext(req, requestIdOf(req, options?.requestIdHeader ?? 'x-request-id'));
    unattached.set(req, context);
  }
  return context;
}

function buildContext(req: Request, requestId: string): IdentifiedRequestContext {
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

/** The proxy's request id when it is inert enough to log, else a fresh one. */
export function requestIdOf(req: Request, header: string | false): string {
  const offered = header === false ? undefined : req.headers[header.toLowerCase()];
  return typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
}
