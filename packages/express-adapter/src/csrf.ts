import { digestsEqual, parseInput } from '@sessionkit/core';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { CsrfRejectedError } from './adapter-errors.js';
import { kitOf } from './request-state.js';

const optionsSchema = z.object({
  /** Other origins (scheme://host[:port]) whose pages may send cookie-authenticated unsafe requests. */
  trustedOrigins: z.array(z.url().max(2048)).default([]),
  /** Accept `Sec-Fetch-Site: same-site` (a sibling subdomain). Default false. */
  allowSameSite: z.boolean().default(false),
  headerName: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .default('x-csrf-token'),
  /** Form field read when the header is absent (urlencoded forms; needs a body parser in front). */
  fieldName: z.string().min(1).max(64).default('_csrf'),
});

export type CsrfOptions = z.input<typeof optionsSchema>;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * CSRF defence for cookie-authenticated unsafe requests, in two layers (OWASP CSRF cheat sheet):
 * 1. the browser's own word on where the request came from: `Sec-Fetch-Site`, else `Origin`, must be this
 *    origin or a trusted one (this also covers login CSRF, where no session cookie exists yet);
 * 2. a session-bound token (`X-CSRF-Token` header or `_csrf` field) equal to the one derived from the
 *    session cookie, for every request that a valid cookie session authenticates.
 * Bearer requests are exempt: a browser never attaches an Authorization header on its own. Requests with
 * neither header (non-browser clients) rely on the token alone.
 */
export function csrfProtection(options: CsrfOptions = {}): RequestHandler {
  const config = parseInput(optionsSchema, options, 'CSRF options');
  const trusted = new Set(config.trustedOrigins.map((origin) => new URL(origin).origin));
  return (req, _res, next) => {
    const kit = kitOf(req);
    if (SAFE_METHODS.has(req.method) || kit.transport === 'bearer') return next();
    if (!fromAcceptedOrigin(req, trusted, config.allowSameSite)) {
      return next(new CsrfRejectedError('Cross-site request rejected'));
    }
    if (kit.transport === 'cookie' && kit.session && kit.csrfToken !== undefined) {
      const presented = presentedToken(req, config.headerName, config.fieldName);
      if (presented === undefined || !digestsEqual(presented, kit.csrfToken)) {
        return next(new CsrfRejectedError('Missing or wrong CSRF token'));
      }
    }
    next();
  };
}

function fromAcceptedOrigin(req: Request, trusted: ReadonlySet<string>, allowSameSite: boolean): boolean {
  const origin = req.get('origin');
  if (origin !== undefined && origin !== 'null' && (trusted.has(origin) || origin === ownOrigin(req)))
    return true;
  const site = req.get('sec-fetch-site');
  if (site !== undefined)
    return site === 'same-origin' || site === 'none' || (allowSameSite && site === 'same-site');
  // Without Fetch Metadata, a present Origin that is not ours (including the opaque "null") is cross-site.
  return origin === undefined;
}

/** The origin this request was addressed to; `req.protocol` honours `trust proxy` for TLS terminated upstream. */
function ownOrigin(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? ''}`;
}

function presentedToken(req: Request, headerName: string, fieldName: string): string | undefined {
  const header = req.get(headerName);
  if (header !== undefined) return header;
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const field: unknown = (body as Record<string, unknown>)[fieldName];
  return typeof field === 'string' ? field : undefined;
}
