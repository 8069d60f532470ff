import type {
  ActivityEntry,
  ActivityPage,
  ActivitySource,
  RequestActivity,
  RequestActivityRecorder,
} from '@sessionkit/core';
import { ManualClock, SessionManager, SessionNotFoundError } from '@sessionkit/core';
import type { Express } from 'express';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { asyncHandler } from '../src/async-handler.js';
import type { RequestActivityOptions } from '../src/index.js';
import {
  establishSession,
  problemHandler,
  requestActivity,
  selfServiceRouter,
  sessionMiddleware,
} from '../src/index.js';
import type { SessionListing } from '../src/self-service-router.js';
import type { StoreKind } from './harness.js';
import { browserOf, openStore, storeKinds } from './harness.js';

/** Keeps what the middleware recorded, and answers `lastRequests` from it as an activity source would. */
class RecordedActivity implements RequestActivityRecorder, ActivitySource {
  readonly recorded: RequestActivity[] = [];

  recordRequest(activity: RequestActivity): void {
    this.recorded.push(activity);
  }

  async listActivity(): Promise<ActivityPage> {
    return { entries: [] };
  }

  async lastRequests(userId: string, sessionIds: readonly string[]): Promise<Map<string, ActivityEntry>> {
    const last = new Map<string, ActivityEntry>();
    for (const [index, activity] of this.recorded.entries()) {
      if (activity.userId !== userId || !sessionIds.includes(activity.sessionId)) continue;
      const { route, method, status, durationMs, category } = activity;
      last.set(activity.sessionId, {
        id: String(index),
        action: 'session.request',
        at: activity.at,
        sessionId: activity.sessionId,
        outcome: status >= 400 ? 'failure' : 'success',
        request: { route, method, status, durationMs, category },
      });
    }
    return last;
  }
}

type AppFactory = typeof express | typeof express4;

describe.each(storeKinds)('request-activity middleware (%s store)', (kind: StoreKind) => {
  let close: () => Promise<void>;
  afterEach(async () => {
    await close();
  });

  async function start(options: Partial<RequestActivityOptions> = {}, make: AppFactory = express) {
    const clock = new ManualClock(Date.now());
    const backend = await openStore(kind, clock);
    const manager = new SessionManager({
      store: backend.store,
      clock,
      config: { ipHashKey: 'k'.repeat(32) },
    });
    await manager.start();
    close = async () => {
      await manager.close();
      await backend.close();
    };
    const activity = new RecordedActivity();
    const app = make() as Express;
    app.use(sessionMiddleware({ manager, clock }));
    app.use(requestActivity({ recorder: activity, now: () => clock.now(), ...options }));
    app.use(express.json());
    app.post(
      '/login',
      asyncHandler(async (req, res) => {
        await establishSession(req, res, { userId: 'alice' });
        res.status(204).end();
      }),
    );
    const things = express.Router();
    things.get('/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    things.delete('/:id', () => {
      throw new SessionNotFoundError();
    });
    app.use('/api/things', things);
    app.use('/api/me', selfServiceRouter({ activity }));
    app.use(problemHandler());
    return { app, activity };
  }

  async function signIn(app: Express) {
    return browserOf(await request(app).post('/login').expect(204)).cookie;
  }

  it('records the route pattern, never the URL, with method, status, duration and category', async () => {
    const { app, activity } = await start();
    const jar = await signIn(app);
    await request(app).get('/api/things/bob%40example.com?secret=s3cr3t').set('cookie', jar).expect(200);
    // An error leaves the router before the answer: the pattern still carries the router's mount path.
    await request(app).delete('/api/things/42').set('cookie', jar).expect(404);
    await request(app).get('/nowhere/alice').set('cookie', jar).expect(404);
    await expect.poll(() => activity.recorded.length).toBe(4);
    const [login, read, failed, unmatched] = activity.recorded;
    expect(login).toMatchObject({ route: '/login', method: 'POST', status: 204, category: 'write' });
    expect(read).toMatchObject({
      userId: 'alice',
      route: '/api/things/:id',
      method: 'GET',
      status: 200,
      category: 'read',
    });
    expect(read?.durationMs).toBeGreaterThanOrEqual(0);
    expect(failed).toMatchObject({ route: '/api/things/:id', method: 'DELETE', status: 404 });
    expect(unmatched).toMatchObject({ route: '(unmatched)', status: 404 });
    expect(activity.recorded.map((entry) => entry.route)).toEqual([
      '/login',
      '/api/things/:id',
      '/api/things/:id',
      '(unmatched)',
    ]);
    expect(new Set(activity.recorded.map((entry) => entry.sessionId)).size).toBe(1);
  });

  it('records nothing for anonymous requests, nothing at sample rate 0, and the chosen share at 0.5', async () => {
    const anonymous = await start();
    await request(anonymous.app).get('/api/things/1').expect(200);
    expect(anonymous.activity.recorded).toEqual([]);
    await close();

    const none = await start({ sampleRate: 0 });
    const cookie = await signIn(none.app);
    await request(none.app).get('/api/things/1').set('cookie', cookie).expect(200);
    expect(none.activity.recorded).toEqual([]);
    await close();

    const draws = [0.1, 0.9, 0.2, 0.7, 0.4];
    const half = await start({ sampleRate: 0.5, random: () => draws.shift() ?? 1 });
    const jar = await signIn(half.app);
    for (const id of ['a', 'b', 'c', 'd'])
      await request(half.app).get(`/api/things/${id}`).set('cookie', jar);
    // Draws 0.1 (the login), 0.9, 0.2, 0.7, 0.4: the login and two of the four reads are kept.
    await expect.poll(() => half.activity.recorded.length).toBe(3);
  });

  it('never lets a failing recorder touch the answer, and reports it', async () => {
    const errors: unknown[] = [];
    const { app } = await start({
      recorder: {
        recordRequest: () => {
          throw new Error('recorder down');
        },
      },
      onError: (error) => errors.push(error),
    });
    const jar = await signIn(app);
    await request(app).get('/api/things/1').set('cookie', jar).expect(200);
    await expect.poll(() => errors.length).toBe(2);
  });

  it('shows each session its last recorded request in the device list', async () => {
    const { app } = await start({
      categorize: (_req, route) => (route.startsWith('/api/me') ? 'account' : 'api'),
    });
    const laptop = await signIn(app);
    const phone = await signIn(app);
    await request(app).get('/api/things/7').set('cookie', phone).expect(200);
    await request(app).get('/api/me/sessions').set('cookie', laptop).expect(200);
    const listed = await request(app).get('/api/me/sessions').set('cookie', laptop).expect(200);
    const sessions = listed.body as SessionListing[];
    const mine = sessions.find((session) => session.current);
    const other = sessions.find((session) => !session.current);
    expect(mine?.lastActivity?.request).toMatchObject({ route: '/api/me/sessions', category: 'account' });
    expect(other?.lastActivity?.request).toMatchObject({ route: '/api/things/:id', category: 'api' });
  });

  it('captures the full pattern on Express 4 too', async () => {
    const { app, activity } = await start({}, express4);
    const jar = await signIn(app);
    await request(app).delete('/api/things/9').set('cookie', jar).expect(404);
    await expect.poll(() => activity.recorded.at(-1)?.route).toBe('/api/things/:id');
  });
});
