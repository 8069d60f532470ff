import type { IncomingHttpHeaders } from 'node:http';
import { RecentMap } from '@sessionkit/core/store';
import type { FingerprintComponents } from '@sessionkit/security';
import { deviceFingerprint, fingerprintInputFromHeaders } from '@sessionkit/security';

// Parsing a user agent costs tens of microseconds, and a few header combinations make up most traffic.
const parsed = new RecentMap<string, Readonly<FingerprintComponents>>(1000);

/**
 * The structured device components @sessionkit/security compares (browser, OS, device type, languages,
 * client hints), from the headers alone; undefined when the headers show nothing.
 */
export function headerFingerprint(headers: IncomingHttpHeaders): FingerprintComponents | undefined {
  const input = fingerprintInputFromHeaders(headers);
  const key = JSON.stringify(input);
  let components = parsed.get(key);
  if (components === undefined) {
    components = Object.freeze(deviceFingerprint(input));
    parsed.set(key, components);
  }
  // A copy: the context is the app's to read and extend, the cached entry is shared.
  return Object.keys(components).length === 0 ? undefined : { ...components };
}
