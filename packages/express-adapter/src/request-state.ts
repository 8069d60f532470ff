import type {
  Clock,
  RequestContext,
  SessionKitError,
  SessionManager,
  ValidatedSession,
} from '@sessionkit/core';
import type { Request } from 'express';
import type { CookieSettings } from './cookies.js';
import type { IdentifiedRequestContext, RequestContextOptions } from './request-context.js';
import { requestContext, requestIdOf } from './request-context.js';
import type { SessionKitRequest } from './session-middleware.js';

/**
 * What the middleware keeps per request beside the public fields of `req.sessionkit`, in a symbol slot that JSON
 * skips. Every field is private: whatever logs or inspects the request sees an empty `RequestState {}`, never the
 * raw token.
 */
export class RequestState {
  readonly #manager: SessionManager;
  readonly #cookies: CookieSettings;
  readonly #clock: Clock;
  readonly #contextOptions: RequestContextOptions;
  readonly #req: Request;
  #requestId: string | undefined;
  #token: string | undefined;
  #context: IdentifiedRequestContext | undefined;

  constructor(
    manager: SessionManager,
    cookies: CookieSettings,
    clock: Clock,
    contextOptions: RequestContextOptions,
    req: Request,
    token: string | undefined,
  ) {
    this.#manager = manager;
    this.#cookies = cookies;
    this.#clock = clock;
    this.#contextOptions = contextOptions;
    this.#req = req;
    this.#token = token;
  }

  get manager(): SessionManager {
    return this.#manager;
  }

  get cookies(): CookieSettings {
    return this.#cookies;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** The proxy's request id or a fresh one, decided on first use and the same for the rest of the request. */
  get requestId(): string {
    this.#requestId ??= requestIdOf(this.#req, this.#contextOptions.requestIdHeader ?? 'x-request-id');
    return this.#requestId;
  }

  get token(): string | undefined {
    return this.#token;
  }

  set token(token: string | undefined) {
    this.#token = token;
  }

  /** Built on first use: the tiers that answer from local caches never need it. */
  get context(): IdentifiedRequestContext | undefined {
    return this.#context;
  }

  set context(context: IdentifiedRequestContext | undefined) {
    this.#context = context;
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
  readonly #req: Request;

  constructor(state: RequestState, req: Request) {
    this[STATE] = state;
    this.#req = req;
  }

  get requestId(): string {
    return this[STATE].requestId;
  }

  get context(): RequestContext {
    return requestContext(this.#req);
  }
}

export function findState(req: Request): RequestState | undefined {
  const kit = req.sessionkit;
  return kit instanceof RequestSessionKit ? kit[STATE] : undefined;
}

/** A guard or router used without `sessionMiddleware` in front of it is a wiring bug: fail loudly. */
export function stateOf(req: Request): RequestState {
  const state = findState(req);
  if (!state) throw new Error('@sessionkit/express: mount sessionMiddleware() before this handler');
  return state;
}
