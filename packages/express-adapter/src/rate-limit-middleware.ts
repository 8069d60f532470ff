import type { RateLimiter, RateLimitResult } from '@sessionkit/core';
import { RateLimitedError, StoreUnavailableError } from '@sessionkit/core';
import type { ClientNetworkOptions } from '@sessionkit/security';
import { clientNetwork, parseClientNetworkOptions } from '@sessionkit/security';
import type { Request, RequestHandler, Response } from 'express';
import { asyncHandler } from './async-handler.js';
import { retryAfterHeader } from './problem-details.js';

export interface RateLimitOptions {
  /** Any limiter with core's `RateLimiter` shape, e.g. the Redis or in-memory ones of @sessionkit/security. */
  limiter: RateLimiter;
  /**
   * What to count against; `undefined` lets the request through uncounted. Default: the client's network
   * (`clientNetwork(req.ip, network)`): the IPv4 address, the IPv6 /64.
   */
  key?: (req: Request) => string | undefined;
  /** Prefix lengths of the default key; an IPv6 client picks any address in its /64, so /64 is the default. */
  network?: ClientNetworkOptions;
  /**
   * When the limiter itself fails: `closed` (default) answers 503, as login and refresh limiters must;
   * `open` lets the request through and reports the failure to `onLimiterError`.
   */
  onFailure?: 'closed' | 'open';
  onLimiterError?: (error: unknown, req: Request) => void;
  now?: () => number;
}

/**
 * Counts each request with the limiter, sends `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (IETF httpapi-ratelimit-headers, delta seconds) on every answer, and refuses with 429 `rate.limited` and
 * `Retry-After` once the limit is reached, or with 503 `store.unavailable` when the limiter's store is down.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const bits = parseClientNetworkOptions(options.network);
  const keyOf =
    options.key ??
    ((req: Request) => (req.ip === undefined ? undefined : `ip:${clientNetwork(req.ip, bits)}`));
  const now = options.now ?? Date.now;
  return asyncHandler(async (req, res, next) => {
    const key = keyOf(req);
    if (key === undefined) return next();
    let result: RateLimitResult;
    try {
      result = await options.limiter.consume(key);
    } catch (error) {
      options.onLimiterError?.(error, req);
      if (options.onFailure === 'open') return next();
      throw new StoreUnavailableError('Rate limiter is unavailable', { cause: error });
    }
    if (!result.allowed && result.outcome === 'store.unavailable') {
      // A fail-closed limiter whose store is down: the service is unavailable, the client did nothing wrong.
      throw new StoreUnavailableError('Rate limiter is unavailable');
    }
    setHeaders(res, result, now());
    if (result.allowed) return next();
    throw new RateLimitedError(Math.max(1, result.retryAfterMs));
  });
}

function setHeaders(res: Response, result: RateLimitResult, now: number): void {
  res.setHeader('ratelimit-limit', String(Math.max(0, Math.floor(result.limit))));
  res.setHeader('ratelimit-remaining', String(Math.max(0, Math.floor(result.remaining))));
  res.setHeader('ratelimit-reset', String(Math.max(0, Math.ceil((result.resetAt - now) / 1000))));
  if (!result.allowed) res.setHeader('retry-after', retryAfterHeader(result.retryAfterMs));
}
