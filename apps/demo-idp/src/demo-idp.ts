import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseInput } from '@sessionkit/core';
import { exportJWK, generateKeyPair } from 'jose';
import type { Configuration } from 'oidc-provider';
import Provider from 'oidc-provider';
import type { DemoAccount, DemoIdpConfig } from './demo-idp-config.js';
import { demoIdpConfigSchema } from './demo-idp-config.js';
import { loginPage } from './login-page.js';

export interface DemoIdp {
  issuer: string;
  port: number;
  provider: Provider;
  /**
   * A logout token signed as the provider signs those it POSTs, but naming only `sid` when `sub` is left out
   * (the specification allows either): for testing that a relying party handles the form it does not send.
   */
  logoutToken(options: { clientId: string; sid: string; sub?: string }): Promise<string>;
  stop(): Promise<void>;
}

const MAX_FORM_BYTES = 4096;

/**
 * Starts oidc-provider on loopback with the configured clients and accounts: authorization code + PKCE,
 * refresh tokens (rotated on every use), introspection, revocation, RP-initiated and back-channel logout.
 * State lives in memory and signing keys are generated per start: a demo, not a production provider.
 */
export async function startDemoIdp(input: DemoIdpConfig): Promise<DemoIdp> {
  const config = parseInput(demoIdpConfigSchema, input, 'demo IdP config');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${config.host}:${port}`;
  const accounts = new Map(config.accounts.map((account) => [account.id, account]));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });

  const configuration: Configuration = {
    clients: config.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // Every ID token says when the person authenticated, so a relying party can judge freshness itself.
      require_auth_time: true,
      ...(client.backchannelLogoutUri === undefined
        ? {}
        : { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true }),
    })),
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'demo-idp-rs256', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: config.cookieKeys ?? [randomBytes(32).toString('base64url')] },
    // `acr` and `amr` under `openid`: in every ID token, as many providers do, without the RP asking for them.
    claims: { openid: ['sub', 'acr', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
    acrValues: [...new Set(config.accounts.flatMap((account) => account.acr ?? []))],
    // Put the granted claims in the ID token itself, so the app needs no userinfo call to greet the user.
    conformIdTokenClaims: false,
    findAccount: (_ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          ...(account.email === undefined ? {} : { email: account.email }),
          ...(account.emailVerified === undefined ? {} : { email_verified: account.emailVerified }),
          ...(account.name === undefined ? {} : { name: account.name }),
        }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: config.refreshTokenTtlSeconds,
      Grant: config.refreshTokenTtlSeconds,
      Session: config.refreshTokenTtlSeconds,
      Interaction: 600,
    },
    // Every client gets refresh tokens without the offline_access consent dance: it is a demo.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    // oidc-provider's SSRF guard refuses loopback, which is exactly where the demo app receives logout tokens.
    fetch: (url, init) => {
      const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/interaction/')) {
      callback(req, res);
      return;
    }
    interact(provider, accounts, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('The sign-in request is invalid or has expired. Start again from the application.');
    });
  });

  return {
    issuer,
    port,
    provider,
    logoutToken: async ({ clientId, sid, sub }) => {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      // The same path oidc-provider takes for the logout tokens it sends; its claims filter lets `sub` through.
      const token = new provider.IdToken(sub === undefined ? {} : { sub }, { client });
      Object.assign(token, { mask: { sub: null } });
      token.set('events', { 'http://schemas.openid.net/event/backchannel-logout': {} });
      token.set('jti', randomBytes(16).toString('base64url'));
      token.set('sid', sid);
      return token.issue({ use: 'logout' });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function interact(
  provider: Provider,
  accounts: Map<string, DemoAccount>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const clientId = String(details.params.client_id);
  if (details.prompt.name === 'login') {
    if (req.method === 'POST' && req.url?.endsWith('/login')) {
      const form = new URLSearchParams(await readBody(req));
      const username = form.get('username') ?? '';
      const account = accounts.get(username);
      if (account && samePassword(account.password, form.get('password') ?? '')) {
        await provider.interactionFinished(
          req,
          res,
          {
            login: {
              accountId: account.id,
              ...(account.amr === undefined ? {} : { amr: account.amr }),
              ...(account.acr === undefined ? {} : { acr: account.acr }),
            },
          },
          {
            mergeWithLastSubmission: false,
          },
        );
        return;
      }
      return html(
        res,
        401,
        loginPage({ uid: details.uid, clientId, error: 'Unknown user or wrong password.', username }),
      );
    }
    return html(res, 200, loginPage({ uid: details.uid, clientId }));
  }
  // Consent: the demo's clients are first-party, so what they ask for is granted without a prompt.
  const accountId = details.session?.accountId;
  if (accountId === undefined) throw new Error('consent without a signed-in account');
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId });
  if (!grant) throw new Error('grant expired during the interaction');
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

function samePassword(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
      if (body.length > MAX_FORM_BYTES) req.destroy(new Error('form too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
