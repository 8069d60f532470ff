import type { ActivitySource, SessionConfigInput, SessionStore } from '@sessionkit/core';
import {
  AccessTokenKeyRing,
  ManualClock,
  MemoryStore,
  parseInput,
  randomToken,
  SessionManager,
} from '@sessionkit/core';
import { RedisStore } from '@sessionkit/storage-redis';
import type { Express } from 'express';
import express from 'express';
import { Redis } from 'ioredis';
import type { Response as TestResponse } from 'supertest';
import { z } from 'zod';
import {
  basicClientAuthenticator,
  csrfProtection,
  endSession,
  establishSession,
  introspectionRouter,
  jwksRouter,
  problemHandler,
  requireAal,
  requireFresh,
  requireRole,
  requireSession,
  revocationRouter,
  selfServiceRouter,
  sessionMiddleware,
  stepUpSession,
} from '../src/index.js';
import { openPostgresStore } from './postgres-store.js';

const loginSchema = z.object({
  userId: z.string(),
  aal: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
  roles: z.array(z.string()).optional(),
  bearer: z.boolean().optional(),
});

export type StoreKind = 'memory' | 'redis' | 'postgres';
export const storeKinds: readonly StoreKind[] = ['memory', 'redis'];

export const OAUTH_CLIENT = { id: 'rs', secret: 'rs-secret' };
export const CLIENT_AUTH = `Basic ${Buffer.from(`${OAUTH_CLIENT.id}:${OAUTH_CLIENT.secret}`).toString('base64')}`;
export const SECURE_COOKIE = '__Host-sk_session';
export const CSRF_COOKIE = '__Host-sk_csrf';

export interface TestApp {
  app: Express;
  manager: SessionManager;
  clock: ManualClock;
  store: SessionStore;
  serverErrors: unknown[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  config?: SessionConfigInput;
  accessTokens?: boolean;
  activity?: ActivitySource;
  tier?: 'fast' | 'full';
  /** Routes added after the standard ones, before the problem handler. */
  extend?: (app: Express, manager: SessionManager, clock: ManualClock) => void;
}

/** A real Express app wired the way the README says, over a real store of the given kind. */
export async function testApp(kind: StoreKind, options: TestAppOptions = {}): Promise<TestApp> {
  // Redis expires keys on wall-clock time, so the manual clock starts now and only moves forward.
  const clock = new ManualClock(Date.now());
  const backend = await openStore(kind, clock);
  const accessTokens = options.accessTokens
    ? await AccessTokenKeyRing.generate({ issuer: 'test', audience: 'test', ttlMs: 300_000, clock })
    : undefined;
  const manager = new SessionManager({
    store: backend.store,
    clock,
    config: { ipHashKey: 'k'.repeat(32), ...options.config },
    ...(accessTokens === undefined ? {} : { accessTokens }),
  });
  await manager.start();
  const serverErrors: unknown[] = [];
  const app = express();
  app.use(
    sessionMiddleware({
      manager,
      clock,
      context: { echoRequestId: true },
      ...(options.tier === undefined ? {} : { tier: options.tier }),
    }),
  );
  app.use(express.json({ limit: '8kb' }), express.urlencoded({ extended: false, limit: '8kb' }));
  app.use(csrfProtection());

  app.post('/login', async (req, res) => {
    const body = parseInput(loginSchema, req.body, 'login');
    const issued = await establishSession(
      req,
      res,
      { userId: body.userId, aal: body.aal ?? 1, metadata: { roles: body.roles ?? [] } },
      { transport: body.bearer === true ? 'bearer' : 'cookie' },
    );
    res.json(issued);
  });
  app.post('/step-up', requireSession(), async (req, res) => {
    res.json(await stepUpSession(req, res, { aal: 2 }));
  });
  app.post('/logout', async (req, res) => {
    await endSession(req, res);
    res.status(204).end();
  });
  app.get('/whoami', requireSession(), (req, res) => {
    res.json(req.sessionkit?.session);
  });
  app.get('/whoami/full', requireSession({ tier: 'full' }), (req, res) => {
    res.json(req.sessionkit?.session);
  });
  app.get('/public', (req, res) => {
    res.json({ signedIn: req.sessionkit?.session !== undefined, requestId: req.sessionkit?.requestId });
  });
  app.post('/echo', (req, res) => {
    res.json({ ok: true, body: req.body as unknown });
  });
  app.post('/sensitive', requireAal(2), requireFresh(), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/admin', requireRole('admin'), (_req, res) => {
    res.json({ ok: true });
  });
  app.use('/api/me', selfServiceRouter(options.activity === undefined ? {} : { activity: options.activity }));
  app.use(jwksRouter({ manager }));
  const authenticateClient = basicClientAuthenticator([OAUTH_CLIENT]);
  app.use('/oauth/introspect', introspectionRouter({ manager, authenticateClient, clock }));
  app.use('/oauth/revoke', revocationRouter({ manager, authenticateClient, clock }));
  options.extend?.(app, manager, clock);
  app.use(problemHandler({ onServerError: (error) => serverErrors.push(error) }));

  return {
    app,
    manager,
    clock,
    store: backend.store,
    serverErrors,
    close: async () => {
      await manager.close();
      await backend.close();
    },
  };
}

export async function openStore(
  kind: StoreKind,
  clock: ManualClock,
): Promise<{ store: SessionStore; close(): Promise<void> }> {
  if (kind === 'memory') {
    const store = new MemoryStore({ now: () => clock.now() });
    return { store, close: () => store.close() };
  }
  if (kind === 'postgres') return openPostgresStore();
  const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false, lazyConnect: true });
  await client.connect();
  const prefix = `sk-express-test-${randomToken(6)}`;
  const store = new RedisStore({ client, prefix });
  return {
    store,
    close: async () => {
      await store.close();
      await deleteKeys(client, prefix);
      await client.quit();
    },
  };
}

/** SCAN and UNLINK under our prefix only: the Redis on 6379 is shared with other test runs. */
async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}

/** The cookies a response set, as `name → value` (an empty value means cleared). */
export function setCookies(res: TestResponse): Map<string, { value: string; line: string }> {
  const header = res.headers['set-cookie'] as unknown;
  const lines = Array.isArray(header) ? header.map(String) : typeof header === 'string' ? [header] : [];
  const cookies = new Map<string, { value: string; line: string }>();
  for (const line of lines) {
    const pair = line.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq), { value: decodeURIComponent(pair.slice(eq + 1)), line });
  }
  return cookies;
}

/** A browser's view after a login or step-up: the Cookie header to send and the CSRF token a script reads. */
export function browserOf(res: TestResponse): { cookie: string; csrf: string; token: string } {
  const cookies = setCookies(res);
  const token = cookies.get(SECURE_COOKIE)?.value ?? '';
  const csrf = cookies.get(CSRF_COOKIE)?.value ?? '';
  return { cookie: `${SECURE_COOKIE}=${token}; ${CSRF_COOKIE}=${csrf}`, csrf, token };
}
