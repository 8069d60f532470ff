import type { SessionStore } from '@sessionkit/core';
import { ManualClock, METADATA_MAX_BYTES } from '@sessionkit/core';
import express from 'express';
import type { SessionData, Store } from 'express-session';
import session from 'express-session';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionKitStore } from '../src/express-session-store.js';
import type { StoreKind } from './harness.js';
import { openStore, storeKinds } from './harness.js';

declare module 'express-session' {
  interface SessionData {
    views?: number;
    user?: string;
  }
}

function call<T>(run: (callback: (error: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    run((error, value) => (error ? reject(error) : resolve(value)));
  });
}

function sessionData(extra: Partial<SessionData> = {}, maxAgeMs = 60_000): SessionData {
  return {
    cookie: {
      originalMaxAge: maxAgeMs,
      expires: new Date(Date.now() + maxAgeMs),
      httpOnly: true,
      path: '/',
    },
    ...extra,
  } as SessionData;
}

const BUCKETS = 4;

describe.each(storeKinds)('express-session Store adapter (%s store)', (kind: StoreKind) => {
  let backend: { store: SessionStore; close(): Promise<void> };
  afterEach(async () => {
    await backend.close();
  });

  async function setup(): Promise<SessionKitStore> {
    backend = await openStore(kind, new ManualClock(Date.now()));
    return new SessionKitStore({ store: backend.store, partition: 'app-under-test', buckets: BUCKETS });
  }

  async function storedRecords() {
    const buckets = Array.from({ length: BUCKETS }, (_, bucket) => `app-under-test/${bucket}`);
    return (await Promise.all(buckets.map((userId) => backend.store.listByUser(userId)))).flat();
  }

  it('get/set/destroy round-trip the session, and never store the sid', async () => {
    const store = await setup();
    const sid = 'a'.repeat(32);
    expect(await call<SessionData | null>((cb) => store.get(sid, cb))).toBeNull();
    await call((cb) => store.set(sid, sessionData({ views: 1, user: 'alice' }), cb));
    const loaded = await call<SessionData | null>((cb) => store.get(sid, cb));
    expect(loaded).toMatchObject({ views: 1, user: 'alice', cookie: { path: '/', httpOnly: true } });
    await call((cb) => store.set(sid, sessionData({ views: 2, user: 'alice' }), cb));
    expect(await call<SessionData | null>((cb) => store.get(sid, cb))).toMatchObject({ views: 2 });
    const records = await storedRecords();
    expect(JSON.stringify(records)).not.toContain(sid);
    await call((cb) => store.destroy(sid, cb));
    expect(await call<SessionData | null>((cb) => store.get(sid, cb))).toBeNull();
  });

  it('a set or touch racing a destroy never brings the session back (express-session #632)', async () => {
    const store = await setup();
    const sid = 'b'.repeat(32);
    await call((cb) => store.set(sid, sessionData({ views: 1 }), cb));
    await call((cb) => store.destroy(sid, cb));
    await call((cb) => store.set(sid, sessionData({ views: 99 }), cb));
    await call<void>((cb) => store.touch(sid, sessionData({ views: 99 }), () => cb(null)));
    expect(await call<SessionData | null>((cb) => store.get(sid, cb))).toBeNull();
  });

  it('two racing sets of a new sid both succeed and leave one record', async () => {
    const store = await setup();
    const sid = 'r'.repeat(32);
    await Promise.all([
      call((cb) => store.set(sid, sessionData({ views: 1 }), cb)),
      call((cb) => store.set(sid, sessionData({ views: 2 }), cb)),
    ]);
    expect([1, 2]).toContain((await call<SessionData | null>((cb) => store.get(sid, cb)))?.views);
    expect(await call<number>((cb) => store.length(cb))).toBe(1);
  });

  it('touch extends the expiry without rewriting the data; an expired session reads as absent', async () => {
    const store = await setup();
    const sid = 'c'.repeat(32);
    // Long enough that the touch lands before this first expiry even on a loaded machine.
    await call((cb) => store.set(sid, sessionData({ views: 1 }, 2000), cb));
    await call<void>((cb) => store.touch(sid, sessionData({ views: 5 }, 60_000), () => cb(null)));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await call<SessionData | null>((cb) => store.get(sid, cb))).toMatchObject({ views: 1 });
    const short = 'd'.repeat(32);
    await call((cb) => store.set(short, sessionData({ views: 1 }, 30), cb));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await call<SessionData | null>((cb) => store.get(short, cb))).toBeNull();
  });

  it('all, length and clear cover the live sessions of the partition only', async () => {
    const store = await setup();
    const other = new SessionKitStore({ store: backend.store, partition: 'another-app' });
    for (const sid of ['s1', 's2', 's3']) await call((cb) => store.set(sid, sessionData({ user: sid }), cb));
    // The sessions are spread over the partition's buckets, not piled under one synthetic user.
    expect(new Set((await storedRecords()).map((record) => record.userId)).size).toBeGreaterThan(1);
    await call((cb) => other.set('o1', sessionData({ user: 'o1' }), cb));
    await call((cb) => store.destroy('s3', cb));
    expect(await call<number>((cb) => store.length(cb))).toBe(2);
    const all = (await call<SessionData[] | null>((cb) => store.all(cb))) ?? [];
    expect(all.map((data) => data.user).sort()).toEqual(['s1', 's2']);
    await call((cb) => store.clear(cb));
    expect(await call<number>((cb) => store.length(cb))).toBe(0);
    expect(await call<number>((cb) => other.length(cb))).toBe(1);
  });

  it("refuses data over core's metadata bound with input.invalid instead of storing it", async () => {
    const store = await setup();
    const error = await call((cb) =>
      store.set('big', sessionData({ user: 'x'.repeat(METADATA_MAX_BYTES) }), cb),
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'input.invalid' });
    expect(await call<SessionData | null>((cb) => store.get('big', cb))).toBeNull();
  });

  it('runs an unchanged express-session app: counter, regenerate and destroy', async () => {
    const store: Store = await setup();
    const app = express();
    app.use(session({ store, secret: 'test-secret', resave: false, saveUninitialized: false, name: 'sid' }));
    app.get('/peek', (req, res) => {
      res.json({ views: req.session.views ?? 0 });
    });
    app.get('/count', (req, res) => {
      req.session.views = (req.session.views ?? 0) + 1;
      res.json({ views: req.session.views });
    });
    app.post('/login', (req, res, next) => {
      req.session.regenerate((error) => {
        if (error) return next(error);
        req.session.user = 'alice';
        res.json({ ok: true });
      });
    });
    app.post('/logout', (req, res, next) => {
      req.session.destroy((error) => (error ? next(error) : res.json({ ok: true })));
    });
    const agent = request.agent(app);
    await agent.get('/count').expect(200, { views: 1 });
    await agent.get('/count').expect(200, { views: 2 });
    const before = (await agent.get('/count')).headers['set-cookie'];
    expect(before).toBeUndefined();
    // An unmodified session is only touched (express-session calls Store#touch): the data stays, the expiry moves.
    const [record] = await storedRecords();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await agent.get('/peek').expect(200, { views: 3 });
    const touched = await backend.store.get(record?.id ?? '');
    expect(touched?.lastSeenAt).toBeGreaterThan(record?.lastSeenAt ?? Number.POSITIVE_INFINITY);
    expect(touched?.metadata).toEqual(record?.metadata);
    const login = await agent.post('/login').expect(200);
    expect(String(login.headers['set-cookie'])).toMatch(/^sid=/);
    await agent.get('/count').expect(200, { views: 1 });
    await agent.post('/logout').expect(200);
    await agent.get('/count').expect(200, { views: 1 });
    expect(await call<number>((cb) => (store as SessionKitStore).length(cb))).toBe(1);
  });
});
