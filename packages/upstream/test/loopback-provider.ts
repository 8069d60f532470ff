import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'sessionkit-test';
export const CLIENT_SECRET = 'test-client-secret-with-enough-entropy-0123456789';
export const REDIRECT_URI = 'http://127.0.0.1/callback';
export const POST_LOGOUT_URI = 'http://127.0.0.1/logged-out';

export interface LoopbackProviderOptions {
  accessTokenTtlSeconds?: number;
  backchannelLogoutUri?: string;
}

/**
 * A real oidc-provider on 127.0.0.1 and a free port, with one confidential client and a scripted user agent
 * for its interactions: whoever is in `account` logs in and consents to what the client asked for.
 */
export class LoopbackProvider {
  readonly provider: Provider;
  readonly issuer: string;
  readonly port: number;
  account = 'alice';
  /** Refresh-token grants the provider completed, counted from its own events. */
  refreshGrants = 0;
  /** Requests seen per path, e.g. `/token/introspection`. */
  readonly hits = new Map<string, number>();
  #server: Server;
  #failures: { count: number; status: number } = { count: 0, status: 503 };

  private constructor(provider: Provider, server: Server, port: number) {
    this.provider = provider;
    this.issuer = provider.issuer;
    this.port = port;
    this.#server = server;
    provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
      if (ctx.oidc.params?.grant_type === 'refresh_token') this.refreshGrants += 1;
    });
  }

  static async start(options: LoopbackProviderOptions = {}): Promise<LoopbackProvider> {
    const server = createServer();
    await listen(server, 0);
    const port = (server.address() as AddressInfo).port;
    const issuer = `http://127.0.0.1:${port}`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const configuration: Configuration = {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [REDIRECT_URI],
          post_logout_redirect_uris: [POST_LOGOUT_URI],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          ...(options.backchannelLogoutUri === undefined
            ? {}
            : {
                backchannel_logout_uri: options.backchannelLogoutUri,
                backchannel_logout_session_required: true,
              }),
        },
      ],
      jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test-rsa', alg: 'RS256', use: 'sig' }] },
      cookies: { keys: ['loopback-provider-cookie-key'] },
      findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
      features: {
        devInteractions: { enabled: false },
        introspection: { enabled: true, allowedPolicy: async () => true },
        revocation: { enabled: true, allowedPolicy: async () => true },
        backchannelLogout: { enabled: true },
        rpInitiatedLogout: { enabled: true },
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      ttl: {
        AccessToken: options.accessTokenTtlSeconds ?? 600,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 86_400,
        Grant: 86_400,
        Session: 86_400,
        Interaction: 600,
      },
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: true,
      // The SSRF guard refuses loopback, which is exactly where the test's logout receiver listens.
      fetch: (url, init) => {
        const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
        return fetch(url, rest);
      },
    };
    const provider = new Provider(issuer, configuration);
    const loopback = new LoopbackProvider(provider, server, port);
    server.on('request', loopback.#handle);
    return loopback;
  }

  /** Stops answering: open connections are cut, new ones refused. */
  async stop(): Promise<void> {
    const server = this.#server;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Answers again on the same port, with the same provider state (grants, tokens, sessions). */
  async restart(): Promise<void> {
    const server = createServer(this.#handle);
    await listen(server, this.port);
    this.#server = server;
  }

  /** The next `count` token-endpoint requests answer `status` instead of reaching the provider. */
  failTokenRequests(count: number, status = 503): void {
    this.#failures = { count, status };
  }

  #handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    if (path === '/token' && this.#failures.count > 0) {
      this.#failures.count -= 1;
      res.writeHead(this.#failures.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'temporarily_unavailable' }));
      return;
    }
    if (req.url?.startsWith('/interaction/')) {
      this.#interact(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    this.provider.callback()(req, res);
  };

  async #interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await this.provider.interactionFinished(req, res, { login: { accountId: this.account } });
      return;
    }
    const grant = details.grantId
      ? await this.provider.Grant.find(details.grantId)
      : new this.provider.Grant({ accountId: this.account, clientId: String(details.params.client_id) });
    if (!grant) throw new Error('grant vanished during the interaction');
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await this.provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
