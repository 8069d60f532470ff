import type { RunningApp } from '../src/reference-app.js';

/** HTTP Basic credentials of the running app's introspection client. */
export const basicFor = (app: RunningApp) =>
  `Basic ${Buffer.from(`${app.oauthClient.id}:${app.oauthClient.secret}`).toString('base64')}`;

let devices = 0;
/** A new device's address (TEST-NET-2), so per-IP limits see distinct clients. */
export function nextIp(): string {
  devices += 1;
  return `198.51.${Math.floor(devices / 250)}.${(devices % 250) + 1}`;
}

/** What the API answers, as the tests read it. */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface CookieLoginAnswer {
  session: { id: string; userId: string; aal: number };
  expiresAt: number;
  csrfToken: string;
}

export interface BearerLoginAnswer {
  session: { id: string; userId: string; aal: number };
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}
