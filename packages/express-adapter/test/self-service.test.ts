import type { ActivityEntry, ActivityPage, ActivitySource, SessionEvent } from '@sessionkit/core';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionListing } from '../src/self-service-router.js';
import type { StoreKind, TestApp } from './harness.js';
import { browserOf, SECURE_COOKIE, setCookies, storeKinds, testApp } from './harness.js';

/** An activity source fed by the manager's own events: the shape @sessionkit/audit plugs in. */
class EventActivity implements ActivitySource {
  readonly entries: (ActivityEntry & { userId: string })[] = [];

  record(event: SessionEvent): void {
    if (!('session' in event)) return;
    this.entries.unshift({
      id: String(this.entries.length + 1),
      userId: event.session.userId,
      action: event.type,
      at: event.at,
      sessionId: event.session.id,
      outcome: 'success',
    });
  }

  async listActivity(userId: string, options: { limit: number; cursor?: string }): Promise<ActivityPage> {
    const mine = this.entries.filter((entry) => entry.userId === userId);
    const start = options.cursor === undefined ? 0 : Number(options.cursor);
    const page = mine.slice(start, start + options.limit).map(({ userId: _user, ...entry }) => entry);
    const next = start + options.limit;
    return { entries: page, ...(next < mine.length ? { nextCursor: String(next) } : {}) };
  }
}

describe.each(storeKinds)('self-service router (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  async function login(userId: string) {
    return browserOf(await request(t.app).post('/login').send({ userId }));
  }

  it('lists my live sessions with the current one flagged, and shows the current one', async () => {
    t = await testApp(kind);
    const laptop = await login('alice');
    await login('alice');
    await login('bob');
    const list = await request(t.app).get('/api/me/sessions').set('cookie', laptop.cookie).expect(200);
    expect(list.headers['cache-control']).toBe('no-store');
    const sessions = list.body as SessionListing[];
    expect(sessions).toHaveLength(2);
    expect(sessions.every((session) => session.userId === 'alice')).toBe(true);
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    expect(JSON.stringify(sessions)).not.toMatch(/secretHash|refresh|firstIpHash/);
    const current = await request(t.app)
      .get('/api/me/sessions/current')
      .set('cookie', laptop.cookie)
      .expect(200);
    const currentId = sessions.find((session) => session.current)?.id;
    expect(current.body).toMatchObject({ session: { id: currentId, current: true } });
  });

  it("answers 404 for someone else's session, an unknown id and a malformed id alike, and revokes nothing", async () => {
    t = await testApp(kind);
    const alice = await login('alice');
    const bobLogin = await request(t.app).post('/login').send({ userId: 'bob' });
    const bob = browserOf(bobLogin);
    const bobId = (bobLogin.body as { session: { id: string } }).session.id;
    const del = (id: string) =>
      request(t.app)
        .delete(`/api/me/sessions/${id}`)
        .set('cookie', alice.cookie)
        .set('x-csrf-token', alice.csrf);
    const foreign = await del(bobId).expect(404);
    const unknown = await del('A'.repeat(22)).expect(404);
    const malformed = await del('nope').expect(404);
    for (const res of [foreign, unknown, malformed])
      expect(res.body).toMatchObject({ code: 'session.not_found' });
    await request(t.app).get('/whoami').set('cookie', bob.cookie).expect(200);
  });

  it('revokes one of my other sessions (204) and my current one, clearing its cookie', async () => {
    t = await testApp(kind);
    const phone = await request(t.app).post('/login').send({ userId: 'alice' });
    const phoneId = (phone.body as { session: { id: string } }).session.id;
    const laptopLogin = await request(t.app).post('/login').send({ userId: 'alice' });
    const laptop = browserOf(laptopLogin);
    const laptopId = (laptopLogin.body as { session: { id: string } }).session.id;
    const del = (id: string) =>
      request(t.app)
        .delete(`/api/me/sessions/${id}`)
        .set('cookie', laptop.cookie)
        .set('x-csrf-token', laptop.csrf);
    await del(phoneId).expect(204);
    await request(t.app).get('/whoami').set('cookie', browserOf(phone).cookie).expect(401);
    const self = await del(laptopId).expect(204);
    expect(setCookies(self).get(SECURE_COOKIE)?.value).toBe('');
    await request(t.app).get('/whoami').set('cookie', laptop.cookie).expect(401);
  });

  it('revokes all my other sessions and says how many', async () => {
    t = await testApp(kind);
    const others = [await login('alice'), await login('alice'), await login('alice')];
    const bob = await login('bob');
    const me = await login('alice');
    const res = await request(t.app)
      .post('/api/me/sessions/revoke-others')
      .set('cookie', me.cookie)
      .set('x-csrf-token', me.csrf)
      .expect(200);
    expect(res.body).toEqual({ revoked: 3 });
    for (const other of others) await request(t.app).get('/whoami').set('cookie', other.cookie).expect(401);
    await request(t.app).get('/whoami').set('cookie', me.cookie).expect(200);
    await request(t.app).get('/whoami').set('cookie', bob.cookie).expect(200);
  });

  it('serves my recent activity, paged, when an activity source is wired', async () => {
    const activity = new EventActivity();
    t = await testApp(kind, { activity });
    t.manager.events.subscribe((event) => activity.record(event));
    const me = await login('alice');
    await login('bob');
    const stepped = browserOf(
      await request(t.app).post('/step-up').set('cookie', me.cookie).set('x-csrf-token', me.csrf),
    );
    const first = await request(t.app)
      .get('/api/me/activity?limit=1')
      .set('cookie', stepped.cookie)
      .expect(200);
    const page = first.body as ActivityPage;
    expect(page.entries).toEqual([expect.objectContaining({ action: 'session.stepped_up' })]);
    expect(page.nextCursor).toBe('1');
    const second = await request(t.app)
      .get(`/api/me/activity?limit=5&cursor=${page.nextCursor}`)
      .set('cookie', stepped.cookie)
      .expect(200);
    expect((second.body as ActivityPage).entries.map((entry) => entry.action)).toEqual(['session.created']);
    const bad = await request(t.app)
      .get('/api/me/activity?limit=1000')
      .set('cookie', stepped.cookie)
      .expect(400);
    expect(bad.body).toMatchObject({ code: 'input.invalid' });
  });

  it('has no activity route without an activity source, and needs a session everywhere', async () => {
    t = await testApp(kind);
    const me = await login('alice');
    await request(t.app).get('/api/me/activity').set('cookie', me.cookie).expect(404);
    await request(t.app).get('/api/me/sessions').expect(401);
  });
});
