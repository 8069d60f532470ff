import { digestsEqual, parseInput, sha256 } from '@sessionkit/core';
import type { Request } from 'express';
import { z } from 'zod';
import type { ClientAuthenticator } from './oauth-endpoint.js';

/** The client id and secret of RFC 6749 §2.3.1 HTTP Basic client authentication, decoded. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** A client allowed to call the OAuth endpoints, as the app registered it. */
export interface RegisteredClient {
  id: string;
  secret: string;
}

// Real credentials take a few hundred bytes; a longer header is refused before anything decodes it.
const MAX_HEADER_LENGTH = 1024;
// RFC 9110 §11.4: a case-insensitive scheme, one or more spaces, a token68 (RFC 7617: standard base64).
const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2})$/i;
// RFC 7617 §2 forbids control characters in either part (C1 controls are no better).
const CONTROL = /\p{Cc}/u;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const clientsSchema = z.array(
  z.object({ id: z.string().min(1).max(256), secret: z.string().min(1).max(1024) }),
);

/**
 * The HTTP Basic client credentials of the request, or undefined for anything else: no header, another
 * scheme, several Authorization headers, bad base64, bytes that are not UTF-8, no colon, a bad
 * percent-encoding, control characters. It never throws, so a malformed header is a failed authentication
 * (401), never a server error.
 */
export function basicClientCredentials(req: Request): ClientCredentials | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  // Node keeps only the first of several; a proxy in front may have judged another. Ambiguous: refused.
  if (authorizationHeaderCount(req) !== 1) return undefined;
  const encoded = BASIC.exec(header)?.[1];
  if (encoded === undefined) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  // Node's decoder skips what is not base64; only a value that re-encodes to itself was clean base64.
  if (bytes.toString('base64') !== encoded) return undefined;
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const clientId = formDecoded(decoded.slice(0, colon));
  const clientSecret = formDecoded(decoded.slice(colon + 1));
  if (clientId === undefined || clientId === '' || clientSecret === undefined) return undefined;
  if (CONTROL.test(clientId) || CONTROL.test(clientSecret)) return undefined;
  return { clientId, clientSecret };
}

/**
 * A `ClientAuthenticator` for HTTP Basic client authentication against a fixed list of clients. Secrets are
 * compared as SHA-256 digests in constant time, so neither their content nor their length leaks.
 */
export function basicClientAuthenticator(clients: readonly RegisteredClient[]): ClientAuthenticator {
  const digests = new Map(
    parseInput(clientsSchema, clients, 'OAuth clients').map((client) => [client.id, sha256(client.secret)]),
  );
  return (req) => {
    const presented = basicClientCredentials(req);
    if (!presented) return false;
    const expected = digests.get(presented.clientId);
    return expected !== undefined && digestsEqual(expected, sha256(presented.clientSecret));
  };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined with the colon. */
function formDecoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function authorizationHeaderCount(req: Request): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === 'authorization') count += 1;
  }
  return count;
}
