import { parseInput, sha256 } from '@sessionkit/core';
import Bowser from 'bowser';
import { z } from 'zod';

/** What a transport can observe of a device; everything optional, every field bounded. */
export const fingerprintInputSchema = z.object({
  userAgent: z.string().max(1024).optional(),
  acceptLanguage: z.string().max(256).optional(),
  /** `navigator.platform` reported by the page. */
  platform: z.string().max(64).optional(),
  /** IANA zone from `Intl.DateTimeFormat().resolvedOptions().timeZone`. */
  timezone: z.string().max(64).optional(),
  /** `${width}x${height}x${colorDepth}`. */
  screen: z.string().max(32).optional(),
  /** User-agent client hints (Sec-CH-UA-*), unquoted. */
  clientHints: z
    .object({
      mobile: z.boolean().optional(),
      platform: z.string().max(64).optional(),
      platformVersion: z.string().max(64).optional(),
      model: z.string().max(128).optional(),
      architecture: z.string().max(32).optional(),
    })
    .optional(),
  /** A random id the client keeps (e.g. in IndexedDB); stored only as a hash. */
  clientId: z.string().min(8).max(256).optional(),
});
export type FingerprintInput = z.input<typeof fingerprintInputSchema>;

/** Structured components: keys are stable names, values short strings (fits core's `device.fingerprint`). */
export type FingerprintComponents = Record<string, string>;

/**
 * Turns observations into named components, so a later comparison can say *what* changed. The user agent
 * is parsed (bowser) into browser, OS and device parts instead of being compared as one string: a browser
 * update changes only `browserMajor`, a stolen cookie replayed from another machine changes most parts.
 */
export function deviceFingerprint(input: FingerprintInput): FingerprintComponents {
  const data = parseInput(fingerprintInputSchema, input, 'fingerprint input');
  const components: FingerprintComponents = {};
  const put = (name: string, value: string | undefined) => {
    const clean = value?.trim().toLowerCase().slice(0, 128);
    if (clean) components[name] = clean;
  };
  if (data.userAgent) {
    const parsed = Bowser.parse(data.userAgent);
    put('browser', parsed.browser.name);
    put('browserMajor', parsed.browser.version?.split('.')[0]);
    put('engine', parsed.engine.name);
    put('os', parsed.os.name);
    put('osVersion', parsed.os.versionName ?? parsed.os.version);
    put('deviceType', parsed.platform.type);
    put('deviceModel', [parsed.platform.vendor, parsed.platform.model].filter(Boolean).join(' '));
  }
  put('languages', data.acceptLanguage && normalizeLanguages(data.acceptLanguage));
  put('platform', data.platform);
  put('timezone', data.timezone);
  put('screen', data.screen);
  const hints = data.clientHints;
  if (hints) {
    put('ch.mobile', hints.mobile === undefined ? undefined : String(hints.mobile));
    put('ch.platform', hints.platform);
    put('ch.platformVersion', hints.platformVersion?.split('.')[0]);
    put('ch.model', hints.model);
    put('ch.arch', hints.architecture);
  }
  if (data.clientId) components.clientId = sha256(`sessionkit/client-id\u0000${data.clientId}`).slice(0, 22);
  return components;
}

/** The fingerprint input a server sees in request headers alone (no page script). */
export function fingerprintInputFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): FingerprintInput {
  const header = (name: string) => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value)?.slice(0, 1024);
  };
  const unquote = (value: string | undefined) => value?.replace(/^"|"$/g, '');
  const mobile = header('sec-ch-ua-mobile');
  const hints = {
    ...(mobile === undefined ? {} : { mobile: mobile === '?1' }),
    ...optional('platform', unquote(header('sec-ch-ua-platform'))?.slice(0, 64)),
    ...optional('platformVersion', unquote(header('sec-ch-ua-platform-version'))?.slice(0, 64)),
    ...optional('model', unquote(header('sec-ch-ua-model'))?.slice(0, 128)),
    ...optional('architecture', unquote(header('sec-ch-ua-arch'))?.slice(0, 32)),
  };
  return {
    ...optional('userAgent', header('user-agent')),
    ...optional('acceptLanguage', header('accept-language')?.slice(0, 256)),
    ...(Object.keys(hints).length === 0 ? {} : { clientHints: hints }),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: string };
}

/** `en-US,en;q=0.9,de;q=0.8` → `en-us,en,de`: order kept, weights dropped, at most four tags. */
function normalizeLanguages(header: string): string {
  return header
    .split(',')
    .map((part) => part.split(';')[0]?.trim().toLowerCase() ?? '')
    .filter((tag) => /^[a-z]{1,8}(-[a-z0-9]{1,8})*$|^\*$/.test(tag))
    .slice(0, 4)
    .join(',');
}
