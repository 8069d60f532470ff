import { InvalidInputError, parseInput } from '@sessionkit/core';
import type { SerializeOptions } from 'cookie';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { csrfTokenFor } from './csrf-token.js';

const cookieName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');

const cookieOptionsSchema = z
  .object({
    /** Base name; `__Host-` (or `__Secure-`) is put in front of it when the cookie is Secure. */
    name: cookieName.default('sk_session'),
    /** The readable companion cookie holding the CSRF token for scripts (double-submit). */
    csrfName: cookieName.default('sk_csrf'),
    /** Turn off only for plain-HTTP local development. */
    secure: z.boolean().default(true),
    sameSite: z.enum(['lax', 'strict', 'none']).default('lax'),
    /** A persistent cookie lives until the session's absolute deadline; otherwise until the browser closes. */
    persistent: z.boolean().default(true),
    path: z
      .string()
      .regex(/^\/[\x21-\x3a\x3c-\x7e]*$/, 'must be an absolute path')
      .default('/'),
    domain: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}$/)
      .optional(),
  })
  .refine((options) => options.secure || options.sameSite !== 'none', {
    message: 'SameSite=None requires Secure',
    path: ['sameSite'],
  });

export type CookieOptions = z.input<typeof cookieOptionsSchema>;

/** Resolved cookie settings: the names already carry their prefix. */
export interface CookieSettings {
  name: string;
  csrfName: string;
  secure: boolean;
  sameSite: 'lax' | 'strict' | 'none';
  persistent: boolean;
  path: string;
  /** Undefined (present or not) when the options named none, as zod parses them. */
  domain?: string | undefined;
}

/** RFC 6265 §6.1: user agents need only keep 4096 bytes per cookie. */
const MAX_COOKIE_BYTES = 4096;

export function cookieSettings(options: CookieOptions = {}): CookieSettings {
  const parsed = parseInput(cookieOptionsSchema, options, 'cookie options');
  // `__Host-` pins the cookie to this exact host over HTTPS, so no sibling subdomain can set or shadow it.
  const prefix = !parsed.secure
    ? ''
    : parsed.path === '/' && parsed.domain === undefined
      ? '__Host-'
      : '__Secure-';
  return {
    ...parsed,
    name: `${prefix}${parsed.name}`,
    csrfName: `${prefix}${parsed.csrfName}`,
  };
}

/** The session token from the Cookie header, or undefined; a malformed header reads as no cookie. */
export function readSessionCookie(req: Request, settings: CookieSettings): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined || header.length === 0) return undefined;
  const value = parseCookie(header)[settings.name];
  return value === undefined || value.length === 0 ? undefined : value;
}

/**
 * Sets the session cookie (HttpOnly) and its CSRF companion (readable by scripts) for a freshly issued
 * token. Called on login and on every re-issue (step-up), so the browser always holds the newest token.
 */
export function setSessionCookie(
  res: Response,
  issued: { token: string; session: { absoluteExpiresAt: number } },
  settings: CookieSettings,
  now: number = Date.now(),
): void {
  const maxAge = settings.persistent
    ? Math.max(0, Math.floor((issued.session.absoluteExpiresAt - now) / 1000))
    : undefined;
  putCookie(res, settings.name, serializeCookie(settings.name, issued.token, settings, true, maxAge));
  putCookie(
    res,
    settings.csrfName,
    serializeCookie(settings.csrfName, csrfTokenFor(issued.token), settings, false, maxAge),
  );
}

export function clearSessionCookie(res: Response, settings: CookieSettings): void {
  putCookie(res, settings.name, serializeCookie(settings.name, '', settings, true, 0));
  putCookie(res, settings.csrfName, serializeCookie(settings.csrfName, '', settings, false, 0));
}

function serializeCookie(
  name: string,
  value: string,
  settings: CookieSettings,
  httpOnly: boolean,
  maxAge: number | undefined,
): string {
  const options: SerializeOptions = {
    httpOnly,
    secure: settings.secure,
    sameSite: settings.sameSite,
    path: settings.path,
  };
  if (settings.domain !== undefined) options.domain = settings.domain;
  if (maxAge !== undefined) options.maxAge = maxAge;
  const serialized = stringifySetCookie(name, value, options);
  if (Buffer.byteLength(serialized) > MAX_COOKIE_BYTES) {
    throw new InvalidInputError(`Cookie ${name} would exceed ${MAX_COOKIE_BYTES} bytes`);
  }
  return serialized;
}

/** Replaces an earlier Set-Cookie for the same name in this response (login then step-up, or set then clear). */
function putCookie(res: Response, name: string, serialized: string): void {
  const existing = res.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  const kept = list.filter((line) => !line.startsWith(`${name}=`));
  res.setHeader('set-cookie', [...kept, serialized]);
}
