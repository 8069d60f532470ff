import type { Clock, SessionManager } from '@sessionkit/core';
import type { Request } from 'express';
import type { CookieSettings } from './cookies.js';

/**
 * What the middleware keeps per request but never puts on `req`: the raw token stays out of reach of
 * anything that logs or serialises the request.
 */
export interface RequestState {
  manager: SessionManager;
  cookies: CookieSettings;
  clock: Clock;
  token?: string;
}

const states = new WeakMap<Request, RequestState>();

export function attachState(req: Request, state: RequestState): void {
  states.set(req, state);
}

/** A guard or router used without `sessionMiddleware` in front of it is a wiring bug: fail loudly. */
export function stateOf(req: Request): RequestState {
  const state = states.get(req);
  if (!state) throw new Error('@sessionkit/express: mount sessionMiddleware() before this handler');
  return state;
}
