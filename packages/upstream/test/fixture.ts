import type { Clock, SessionEvent } from '@sessionkit/core';
import { MemoryStore, SessionManager, systemClock } from '@sessionkit/core';
import type { UpstreamLogEntry, UpstreamTokenVaultConfig } from '../src/index.js';
import { OidcClient, UpstreamTokenVault, VaultKeyRing } from '../src/index.js';
import type { LoopbackProvider } from './loopback-provider.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } from './loopback-provider.js';
import { UserAgent } from './user-agent.js';

export const KEY_A = { id: 'key-a', secret: VaultKeyRing.generateSecret() };
export const KEY_B = { id: 'key-b', secret: VaultKeyRing.generateSecret() };

export interface App {
  clock: Clock;
  store: MemoryStore;
  manager: SessionManager;
  client: OidcClient;
  vault: UpstreamTokenVault;
  events: SessionEvent[];
  logs: UpstreamLogEntry[];
}

/** One app instance: its own manager, client and vault over a store that several instances may share. */
export async function startApp(
  idp: LoopbackProvider,
  options: {
    clock?: Clock;
    store?: MemoryStore;
    keys?: VaultKeyRing;
    vault?: UpstreamTokenVaultConfig & { random?: () => number; sleep?: (ms: number) => Promise<void> };
  } = {},
): Promise<App> {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? new MemoryStore({ now: () => clock.now() });
  const manager = new SessionManager({ store, clock, config: { ipHashKey: 'k'.repeat(32) } });
  const events: SessionEvent[] = [];
  manager.events.subscribe((event) => events.push(event));
  await manager.start();
  const client = await OidcClient.discover({
    issuer: idp.issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    clock,
    timeoutMs: 2000,
  });
  const logs: UpstreamLogEntry[] = [];
  const vault = new UpstreamTokenVault({
    manager,
    client,
    keys: options.keys ?? (await VaultKeyRing.create({ keys: [KEY_A] })),
    clock,
    log: (entry) => logs.push(entry),
    ...options.vault,
  });
  return { clock, store, manager, client, vault, events, logs };
}

/**
 * The real sign-in: authorization code with PKCE through the provider's redirects, the callback checked and
 * the code redeemed, then a session created with the provider's `sid` recorded and the tokens sealed into it.
 */
export async function signIn(app: App, idp: LoopbackProvider, account = 'alice', agent = new UserAgent()) {
  idp.account = account;
  const { url, pending } = app.client.authorizationRequest({ scope: 'openid' });
  const callback = await agent.follow(url, REDIRECT_URI);
  const { tokens, claims } = await app.client.handleCallback(callback.searchParams, pending);
  const issued = await app.manager.create({
    userId: claims.sub,
    metadata: claims.sid === undefined ? {} : { idpSid: claims.sid },
  });
  await app.vault.save(issued.session.id, tokens);
  return { sessionId: issued.session.id, tokens, claims, agent };
}
