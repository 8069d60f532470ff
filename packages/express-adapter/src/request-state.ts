import type {
  Clock,
  RequestContext,
  SessionKitError,
  SessionManager,
  ValidatedSession,
} from '@sessionkit/core';
import type { Request } from 'express';
import type { IdentifiedRequestContext } from './context-from-request.js';
import { contextFromRequest } from './context-from-request.js';
import type { CookieSettings } from './cookies.js';
import { requestIdOf } from './request-id.js';
import type { SessionKitRequest } from './session-kit-request.js';

/** What one `sessionMiddleware()` was configured with: shared by every request it sees, resolved once. */
export interface MiddlewareSettings {
  readonly manager: SessionManager;
  readonly cookies: CookieSettings;
  readonly clock: Clock;
  readonly requestIdHeader: string | false;
}

/**
 * What the middleware keeps per request beside the public fields of `req.sessionkit`, in a symbol slot that JSON
 * skips. Every field is private: whatever logs or inspects the request sees an empty `RequestState {}`, never the
 * raw token.
 */
export class RequestState {
  readonly #settings: MiddlewareSettings;
  readonly #req: Request;
  #requestId: string | undefined;
  #token: string | undefined;
  #context: IdentifiedRequestContext | undefined;

  constructor(settings: MiddlewareSettings, req: Request, token: string | undefined) {
    this.#settings = settings;
    this.#req = req;
    this.#token = token;
  }

  get manager(): SessionManager {
    return this.#settings.manager;
  }

  get cookies(): CookieSettings {
    return this.#settings.cookies;
  }

  get clock(): Clock {
    return this.#settings.clock;
  }

  /** The proxy's request id or a fresh one, decided on first use and the same for the rest of the request. */
  get requestId(): string {
    this.#requestId ??= requestIdOf(this.#req, this.#settings.requestIdHeader);
    return this.#requestId;
  }

  get token(): string | undefined {
    return this.#token;
  }

  set token(token: string | undefined) {
    this.#token = token;
  }

  /** Built on first use: the tiers that answer from local caches never need it. */
  get context(): IdentifiedRequestContext {
    this.#context ??= contextFromRequest(this.#req, this.requestId);
    return this.#context;
  }
}

// A symbol slot on `req.sessionkit`, an object of our own, rather than on the request: adding a property to an
// IncomingMessage that already carries Express' thirty-odd grows its property store on every request.
const STATE = Symbol('sessionkit.request-state');

/**
 * `req.sessionkit`. A class, so its getters live on the prototype: an object literal with getters costs two
 * closures and a heap context per request, and is the one object every handler reads.
 */
export class RequestSessionKit implements SessionKitRequest {
  declare transport?: 'cookie' | 'bearer';
  declare session?: ValidatedSession;
  declare error?: SessionKitError;
  declare csrfToken?: string;
  readonly [STATE]: RequestState;

  constructor(state: RequestState) {
    this[STATE] = state;
  }

  get requestId(): string {
    return this[STATE].requestId;
  }

  get context(): RequestContext {
    return this[STATE].context;
  }
}

export function findState(req: Request): RequestState | undefined {
  const kit = req.sessionkit;
  return kit instanceof RequestSessionKit ? kit[STATE] : undefined;
}

/** A guard or router used without `sessionMiddleware` in front of it is a wiring bug: fail loudly. */
export function stateOf(req: Request): RequestState {
  const state = findState(req);
  if (!state) throw missingMiddleware();
  return state;
}

/** `req.sessionkit`, which every guard and router needs the session middleware to have put there. */
export function kitOf(req: Request): SessionKitRequest {
  const kit = req.sessionkit;
  if (!kit) throw missingMiddleware();
  return kit;
}

function missingMiddleware(): Error {
  return new Error('@sessionkit/express: mount sessionMiddleware() before this handler');
}
