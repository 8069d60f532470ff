import { randomUUID } from 'node:crypto';
import type { KeyPair } from 'dpop';
import { generateProof } from 'dpop';
import { exportJWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';

/** The origin clients address: both instances sit "behind one load balancer" named by PUBLIC_ORIGIN. */
export const ORIGIN = 'https://api.example.test';

/** Sends `${ORIGIN}/path` to one instance's real address, as the load balancer would. */
export function viaInstance(instanceUrl: string, forwardedFor: string) {
  return (url: string | URL, init?: RequestInit): Promise<Response> => {
    const target = new URL(url);
    const headers = new Headers(init?.headers);
    headers.set('x-forwarded-for', forwardedFor);
    return fetch(`${instanceUrl}${target.pathname}${target.search}`, { ...init, headers });
  };
}

export interface DpopLogin {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  setCookie: string | null;
}

/** POST with a proof from panva's `dpop`, retrying once with the nonce the server asks for (RFC 9449 §8). */
export async function postWithProof(
  send: ReturnType<typeof viaInstance>,
  keyPair: KeyPair,
  path: string,
  body: unknown,
): Promise<{ first: Response; final: Response }> {
  const post = async (nonce?: string) =>
    send(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        dpop: await generateProof(keyPair, `${ORIGIN}${path}`, 'POST', nonce),
      },
      body: JSON.stringify(body),
    });
  const first = await post();
  const nonce = first.headers.get('dpop-nonce');
  if (first.status !== 401 || nonce === null) return { first, final: first };
  return { first, final: await post(nonce) };
}

/** A GET through oauth4webapi's protected-resource request, with its DPoP handle and its nonce retry. */
export async function resourceGet(
  send: ReturnType<typeof viaInstance>,
  handle: oauth.DPoPHandle,
  accessToken: string,
  path: string,
): Promise<Response> {
  const request = () =>
    oauth.protectedResourceRequest(accessToken, 'GET', new URL(`${ORIGIN}${path}`), new Headers(), null, {
      DPoP: handle,
      [oauth.customFetch]: (target, options) => send(target, options as RequestInit),
    });
  try {
    return await request();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return request();
    if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response;
    throw error;
  }
}

export interface ProofParts {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * A proof built by hand, valid unless `change` spoils it: for the negative cases of RFC 9449 §4.3, which no
 * client library will produce.
 */
export async function handMadeProof(
  keyPair: CryptoKeyPair,
  input: { method: string; url: string; nonce: string; accessToken: string },
  change: (parts: ProofParts) => void = () => {},
  signWith: CryptoKey = keyPair.privateKey,
): Promise<string> {
  const { kty, crv, x, y } = await exportJWK(keyPair.publicKey);
  const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(input.accessToken)));
  const parts: ProofParts = {
    header: { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } },
    payload: {
      jti: randomUUID(),
      htm: input.method,
      htu: input.url,
      iat: Math.floor(Date.now() / 1000),
      nonce: input.nonce,
      ath: ath.toString('base64url'),
    },
  };
  change(parts);
  const { alg, ...rest } = parts.header;
  return new SignJWT(parts.payload).setProtectedHeader({ alg: String(alg), ...rest }).sign(signWith);
}
