import type { Request } from 'express';
import type { IdentifiedRequestContext } from './context-from-request.js';
import { contextFromRequest } from './context-from-request.js';
import type { RequestContextOptions } from './request-id.js';
import { requestIdOf } from './request-id.js';
import { findState } from './request-state.js';

// Requests that never passed through sessionMiddleware still get one context (and one request id) each.
const unattached = new WeakMap<Request, IdentifiedRequestContext>();

/**
 * What core, audit and security learn about the caller (see `contextFromRequest`). Computed once per request,
 * on first use, with the options and request id the session middleware was given; `options` only apply to
 * a request that did not pass through it.
 */
export function requestContext(req: Request, options?: RequestContextOptions): IdentifiedRequestContext {
  const state = findState(req);
  if (state) return state.context;
  let context = unattached.get(req);
  if (!context) {
    context = contextFromRequest(req, requestIdOf(req, options?.requestIdHeader ?? 'x-request-id'));
    unattached.set(req, context);
  }
  return context;
}
