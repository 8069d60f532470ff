import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { DEMO_USERS } from '../src/user-directory.js';
import type { Backend } from './backends.js';
import { embedded, servers } from './backends.js';

const ALICE = DEMO_USERS[0]!;

/**
 * The request-activity middleware wired into the reference app, on both backends: each request of a session
 * lands in its audit timeline as a route pattern, and `GET /api/me/sessions` shows the last one per session.
 */
describe.each([
  { tag: 'embedded', makeBackend: embedded },
  { tag: 'servers', makeBackend: servers },
])('request activity in the reference app ($tag)', ({ makeBackend }) => {
  let backend: Backend;
  let app: RunningApp;

  beforeAll(async () => {
    backend = makeBackend();
    app = await startReferenceApp(
      loadConfig({ PORT: '0', LOG_LEVEL: 'silent', COOKIE_SECURE: '0', ...(await backend.env()) }),
    );
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    await backend?.cleanup();
  });

  async function signIn() {
    const agent = request.agent(app.url);
    const login = await agent
      .post('/api/auth/login')
      .send({ email: ALICE.email, password: ALICE.password })
      .expect(200);
    return { agent, csrf: login.body.csrfToken as string, id: login.body.session.id as string };
  }

  it("shows each device's last request, as the route pattern that answered it", async () => {
    const laptop = await signIn();
    const phone = await signIn();
    // 404 for an id that is not the user's: recorded with its pattern, the id itself nowhere.
    await phone.agent
      .delete('/api/me/sessions/AAAAAAAAAAAAAAAAAAAAAA')
      .set('x-csrf-token', phone.csrf)
      .expect(404);
    const lastOf = async (id: string) => {
      const listed = await laptop.agent.get('/api/me/sessions').expect(200);
      const sessions = listed.body as { id: string; lastActivity?: { request?: Record<string, unknown> } }[];
      return sessions.find((session) => session.id === id)?.lastActivity?.request;
    };
    await expect
      .poll(() => lastOf(phone.id))
      .toMatchObject({
        route: '/api/me/sessions/:id',
        method: 'DELETE',
        status: 404,
        category: 'account',
      });
    await expect.poll(() => lastOf(laptop.id)).toMatchObject({ route: '/api/me/sessions', method: 'GET' });
    const timeline = await phone.agent.get('/api/me/activity?limit=20').expect(200);
    const requests = (timeline.body.entries as { action: string; request?: { route: string } }[]).filter(
      (entry) => entry.action === 'session.request',
    );
    expect(requests.map((entry) => entry.request?.route)).toContain('/api/auth/login');
    expect(JSON.stringify(timeline.body)).not.toContain('AAAAAAAAAAAAAAAAAAAAAA');
  });
});
