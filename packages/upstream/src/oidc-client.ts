import type { Clock } from '@sessionkit/core';
import {
  digestsEqual,
  InvalidTokenError,
  parseInput,
  randomToken,
  sha256,
  systemClock,
  TokenExpiredError,
} from '@sessionkit/core';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { UpstreamRejectedError, UpstreamUnavailableError } from './upstream-errors.js';
import type { UpstreamTokens } from './upstream-tokens.js';

export type FetchFunction = typeof fetch;

const clientOptionsSchema = z.object({
  issuer: z.url(),
  clientId: z.string().min(1).max(256),
  /** Sent with `client_secret_basic`; without it the client is public and sends `client_id` in the body. */
  clientSecret: z.string().min(1).max(1024).optional(),
  redirectUri: z.url().optional(),
  /** Per request; a provider that does not answer in time counts as unavailable. */
  timeoutMs: z.number().int().positive().max(60_000).default(5000),
  idTokenAlgorithms: z.array(z.string().min(1)).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
  /** Used when a token response has no `expires_in` (it is only RECOMMENDED by RFC 6749). */
  assumedAccessTokenTtlMs: z.number().int().positive().default(300_000),
});
export type OidcClientOptions = z.input<typeof clientOptionsSchema> & {
  fetch?: FetchFunction;
  clock?: Clock;
};

const providerMetadataSchema = z.object({
  issuer: z.string().min(1),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  introspection_endpoint: z.url().optional(),
  revocation_endpoint: z.url().optional(),
  end_session_endpoint: z.url().optional(),
});
export type ProviderMetadata = z.infer<typeof providerMetadataSchema>;

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().min(1),
  expires_in: z.number().nonnegative().optional(),
  refresh_token: z.string().min(1).optional(),
  id_token: z.string().min(1).optional(),
  scope: z.string().optional(),
});

/** RFC 7662 section 2.2: only `active` is required; the rest is kept as the provider sent it. */
export const introspectionResponseSchema = z
  .object({
    active: z.boolean(),
    sub: z.string().optional(),
    sid: z.string().optional(),
    client_id: z.string().optional(),
    exp: z.number().optional(),
    token_type: z.string().optional(),
  })
  .loose();
export type IntrospectionResponse = z.infer<typeof introspectionResponseSchema>;

const oauthErrorSchema = z.object({ error: z.string().min(1).max(128) });

/** What the caller keeps (server side, e.g. in a short-lived signed cookie) between redirect and callback. */
export interface PendingAuthorization {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface IdTokenClaims extends JWTPayload {
  sub: string;
  sid?: string;
}

/**
 * The few OpenID Connect relying-party calls SessionKit needs: authorization code with PKCE (S256), refresh,
 * RFC 7662 introspection, RFC 7009 revocation and the end-session URL. It classifies every failure:
 * `UpstreamUnavailableError` (network, timeout, 429, 5xx: worth a retry) or `UpstreamRejectedError`
 * (an OAuth error: never retried).
 */
export class OidcClient {
  readonly metadata: ProviderMetadata;
  readonly clientId: string;
  readonly jwks: JWTVerifyGetKey;
  readonly #options: z.output<typeof clientOptionsSchema>;
  readonly #fetch: FetchFunction;
  readonly #clock: Clock;

  private constructor(
    options: z.output<typeof clientOptionsSchema>,
    metadata: ProviderMetadata,
    fetchFn: FetchFunction,
    clock: Clock,
  ) {
    this.#options = options;
    this.metadata = metadata;
    this.clientId = options.clientId;
    this.#fetch = fetchFn;
    this.#clock = clock;
    this.jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: options.timeoutMs,
      [customFetch]: fetchFn,
    });
  }

  /** Reads `/.well-known/openid-configuration` and insists its `issuer` is exactly the configured one. */
  static async discover(input: OidcClientOptions): Promise<OidcClient> {
    const { fetch: fetchFn = fetch, clock = systemClock, ...rest } = input;
    const options = parseInput(clientOptionsSchema, rest, 'OpenID client options');
    const url = `${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const body = await send(
      fetchFn,
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      options.timeoutMs,
    );
    const metadata = providerMetadataSchema.safeParse(body);
    if (!metadata.success || metadata.data.issuer !== options.issuer) {
      throw new UpstreamRejectedError('invalid_provider_metadata', 200);
    }
    return new OidcClient(options, metadata.data, fetchFn, clock);
  }

  get issuer(): string {
    return this.metadata.issuer;
  }

  /** The URL to send the browser to, and what the callback needs to finish the flow. */
  authorizationRequest(options: { scope?: string; redirectUri?: string; prompt?: string } = {}) {
    const redirectUri = options.redirectUri ?? this.#options.redirectUri;
    if (redirectUri === undefined) throw new InvalidTokenError('No redirect URI configured');
    const pending: PendingAuthorization = {
      state: randomToken(16),
      nonce: randomToken(16),
      codeVerifier: randomToken(32),
      redirectUri,
    };
    const url = new URL(this.metadata.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.clientId,
      redirect_uri: redirectUri,
      scope: options.scope ?? 'openid',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: sha256(pending.codeVerifier),
      code_challenge_method: 'S256',
      ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    }).toString();
    return { url: url.href, pending };
  }

  /**
   * Finishes the flow from the callback's query: checks `state` (and `iss`, RFC 9207, when present), redeems
   * the code with the PKCE verifier and verifies the ID token (signature, iss, aud, exp, nonce).
   */
  async handleCallback(
    params: URLSearchParams,
    pending: PendingAuthorization,
  ): Promise<{ tokens: UpstreamTokens; claims: IdTokenClaims }> {
    const state = params.get('state') ?? '';
    if (!digestsEqual(sha256(state), sha256(pending.state))) throw new InvalidTokenError('State mismatch');
    const iss = params.get('iss');
    if (iss !== null && iss !== this.issuer) throw new InvalidTokenError('Issuer mismatch in callback');
    const error = params.get('error');
    if (error !== null) throw new UpstreamRejectedError(error.slice(0, 128), 400);
    const code = params.get('code');
    if (!code) throw new InvalidTokenError('Callback carries no code');
    const tokens = await this.#tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.codeVerifier,
    });
    if (tokens.idToken === undefined) throw new InvalidTokenError('Token response carries no ID token');
    const claims = await this.verifyIdToken(tokens.idToken, pending.nonce);
    return { tokens, claims };
  }

  async verifyIdToken(idToken: string, nonce?: string): Promise<IdTokenClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.issuer,
        audience: this.clientId,
        algorithms: this.#options.idTokenAlgorithms,
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['sub', 'iat', 'exp'],
      }));
    } catch (error) {
      throw mapJoseError(error, 'ID token');
    }
    if (nonce !== undefined && payload.nonce !== nonce)
      throw new InvalidTokenError('ID token nonce mismatch');
    return payload as IdTokenClaims;
  }

  async refresh(refreshToken: string): Promise<UpstreamTokens> {
    return this.#tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  async introspect(token: string, hint?: 'access_token' | 'refresh_token'): Promise<IntrospectionResponse> {
    const endpoint = this.metadata.introspection_endpoint;
    if (endpoint === undefined) throw new UpstreamRejectedError('introspection_unsupported', 0);
    const body = await this.#post(endpoint, {
      token,
      ...(hint === undefined ? {} : { token_type_hint: hint }),
    });
    const parsed = introspectionResponseSchema.safeParse(body);
    if (!parsed.success) throw new UpstreamRejectedError('invalid_introspection_response', 200);
    return parsed.data;
  }

  /** RFC 7009: the provider forgets the token (and, for a refresh token, usually its grant). */
  async revoke(token: string, hint?: 'access_token' | 'refresh_token'): Promise<void> {
    const endpoint = this.metadata.revocation_endpoint;
    if (endpoint === undefined) throw new UpstreamRejectedError('revocation_unsupported', 0);
    await this.#post(endpoint, { token, ...(hint === undefined ? {} : { token_type_hint: hint }) }, false);
  }

  /** RP-initiated logout: where to send the browser so the provider ends its own session too. */
  endSessionUrl(
    options: { idTokenHint?: string | undefined; postLogoutRedirectUri?: string; state?: string } = {},
  ) {
    const endpoint = this.metadata.end_session_endpoint;
    if (endpoint === undefined) return undefined;
    const url = new URL(endpoint);
    url.searchParams.set('client_id', this.clientId);
    if (options.idTokenHint !== undefined) url.searchParams.set('id_token_hint', options.idTokenHint);
    if (options.postLogoutRedirectUri !== undefined)
      url.searchParams.set('post_logout_redirect_uri', options.postLogoutRedirectUri);
    if (options.state !== undefined) url.searchParams.set('state', options.state);
    return url.href;
  }

  async #tokenRequest(params: Record<string, string>): Promise<UpstreamTokens> {
    const requestedAt = this.#clock.now();
    const parsed = tokenResponseSchema.safeParse(await this.#post(this.metadata.token_endpoint, params));
    if (!parsed.success) throw new UpstreamRejectedError('invalid_token_response', 200);
    const body = parsed.data;
    const ttlMs =
      body.expires_in === undefined
        ? this.#options.assumedAccessTokenTtlMs
        : Math.floor(body.expires_in * 1000);
    return {
      accessToken: body.access_token,
      tokenType: body.token_type,
      // Counted from when we asked, not when the answer came, so slow answers never overstate the lifetime.
      expiresAt: requestedAt + ttlMs,
      issuedAt: requestedAt,
      ...(body.refresh_token === undefined ? {} : { refreshToken: body.refresh_token }),
      ...(body.id_token === undefined ? {} : { idToken: body.id_token }),
      ...(body.scope === undefined ? {} : { scope: body.scope }),
    };
  }

  async #post(url: string, params: Record<string, string>, expectJson = true): Promise<unknown> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    const body = new URLSearchParams(params);
    const secret = this.#options.clientSecret;
    if (secret === undefined) {
      body.set('client_id', this.clientId);
    } else {
      // RFC 6749 section 2.3.1: id and secret are form-encoded before the Basic encoding.
      const user = encodeURIComponent(this.clientId);
      headers.authorization = `Basic ${Buffer.from(`${user}:${encodeURIComponent(secret)}`).toString('base64')}`;
    }
    return send(this.#fetch, url, { method: 'POST', headers, body }, this.#options.timeoutMs, expectJson);
  }
}

async function send(
  fetchFn: FetchFunction,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  expectJson = true,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw new UpstreamUnavailableError('Identity provider did not answer', { cause });
  }
  if (response.status >= 500 || response.status === 429) {
    await response.body?.cancel();
    throw new UpstreamUnavailableError(`Identity provider answered ${response.status}`, {
      details: { status: response.status },
    });
  }
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = oauthErrorSchema.safeParse(body);
    throw new UpstreamRejectedError(
      error.success ? error.data.error : `http_${response.status}`,
      response.status,
    );
  }
  if (expectJson && body === undefined) throw new UpstreamRejectedError('invalid_response', response.status);
  return body;
}

/** Verification failures are `token.invalid`/`token.expired`; a JWKS that cannot be fetched is an outage. */
export function mapJoseError(error: unknown, what: string): Error {
  if (error instanceof joseErrors.JWTExpired) return new TokenExpiredError(`${what} has expired`);
  // ERR_JOSE_GENERIC is what jose throws for a JWKS endpoint that answered but not with 200.
  if (
    error instanceof joseErrors.JWKSTimeout ||
    !(error instanceof joseErrors.JOSEError) ||
    error.code === 'ERR_JOSE_GENERIC'
  ) {
    return new UpstreamUnavailableError('Identity provider keys could not be fetched', { cause: error });
  }
  return new InvalidTokenError(`${what} is invalid`);
}
