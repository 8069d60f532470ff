import { TenantMismatchError } from '@sessionkit/core';
import type { Request, RequestHandler } from 'express';
import { AccessDeniedError } from './adapter-errors.js';
import { asyncHandler } from './async-handler.js';
import { sessionOf } from './guards.js';

/** The tenant a request is for, in the app's terms: a subdomain, a path parameter, a header it trusts. */
export type TenantResolver = (req: Request) => string | undefined | Promise<string | undefined>;

/**
 * Refuses a session of any other tenant (403 `tenant.mismatch`, core's check on `validate({ tenantId })`), and a
 * request that names no tenant (403 `access.denied`). The session's tenant comes from its record or its access
 * token's `tid` claim, both written by core, so this needs no store read.
 */
export function requireTenant(tenantOf: TenantResolver): RequestHandler {
  return asyncHandler(async (req, _res, next) => {
    const session = sessionOf(req);
    const expected = await tenantOf(req);
    if (expected === undefined) throw new AccessDeniedError('This request names no tenant');
    if (session.tenantId !== expected) throw new TenantMismatchError();
    next();
  });
}
