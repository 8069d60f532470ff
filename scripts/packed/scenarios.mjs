// What each README example demonstrates, played over real HTTP against the running program. Each scenario gets
// the example's base URL and a fresh Browser, and throws on the first answer that is not the expected one.

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Cookie session: login → authenticated request → logout → the same cookie jar is refused. */
export async function cookieSession(base, browser, { login = { userId: 'alice' }, paths = {} } = {}) {
  const { loginPath = '/login', mePath = '/me', logoutPath = '/logout' } = paths;
  await browser.request('GET', `${base}${mePath}`, { expect: 401 });
  const signedIn = await browser.request('POST', `${base}${loginPath}`, { json: login, expect: 200 });
  assert(signedIn.body.session !== undefined, 'login answered no session');
  await browser.request('GET', `${base}${mePath}`, { expect: 200 });
  await browser.request('POST', `${base}${logoutPath}`, { expect: 204 });
  await browser.request('GET', `${base}${mePath}`, { expect: 401 });
}

/** @sessionkit/core alone: bearer tokens, a bad body, refresh rotation, logout. */
export async function bearerSession(base, browser) {
  await browser.request('POST', `${base}/login`, { json: { userId: '' }, expect: 400 });
  const { body } = await browser.request('POST', `${base}/login`, { json: { userId: 'alice' }, expect: 200 });
  const auth = { authorization: `Bearer ${body.token}` };
  const me = await fetch(`${base}/me`, { headers: auth });
  assert(me.status === 200, `GET /me with the bearer token answered ${me.status}`);
  const refreshed = await browser.request('POST', `${base}/refresh`, {
    json: { refreshToken: body.refreshToken },
    expect: 200,
  });
  assert(refreshed.body.refreshToken !== body.refreshToken, 'refresh did not rotate the refresh token');
  const logout = await fetch(`${base}/logout`, { method: 'POST', headers: auth });
  assert(logout.status === 204, `POST /logout answered ${logout.status}`);
  const after = await fetch(`${base}/me`, { headers: auth });
  assert(after.status === 401, `GET /me after logout answered ${after.status}`);
}

/** The Express adapter's full wiring: device list, AAL 2 + fresh route, step-up, logout. */
export async function adapterWiring(base, browser) {
  await browser.request('POST', `${base}/api/auth/login`, { json: { userId: 'alice' }, expect: 200 });
  const sessions = await browser.request('GET', `${base}/api/me/sessions`, { expect: 200 });
  assert(
    JSON.stringify(sessions.body).includes('"current":true'),
    'the device list does not mark the current session',
  );
  await browser.request('POST', `${base}/api/me/sensitive`, { expect: 403 });
  await browser.request('POST', `${base}/api/auth/step-up`, { expect: 200 });
  await browser.request('POST', `${base}/api/me/sensitive`, { expect: 200 });
  await browser.request('POST', `${base}/api/auth/logout`, { expect: 204 });
  await browser.request('GET', `${base}/api/me/sessions`, { expect: 401 });
}

/** Security: a wrong password is refused and counted; the owner then signs in, is recorded, and logs out. */
export async function guardedLogin(base, browser) {
  const email = 'ada@example.com';
  await browser.request('POST', `${base}/login`, { json: { email, password: 'guess' }, expect: 401 });
  await cookieSession(base, browser, { login: { email, password: 'correct horse battery staple' } });
}

/** Audit: a failed login and a session's events reach the ledger and come back as the user's activity. */
export async function auditedSession(base, browser) {
  await browser.request('POST', `${base}/login`, { json: { userId: 'alice', password: 'x' }, expect: 401 });
  const login = { userId: 'alice', password: 'correct horse battery staple' };
  await browser.request('POST', `${base}/login`, { json: login, expect: 200 });
  const deadline = Date.now() + 20_000;
  let entries = [];
  // Audit writes in the background: poll until the session's creation is in the table.
  while (entries.length === 0 && Date.now() < deadline) {
    const { body } = await browser.request('GET', `${base}/api/me/activity`, { expect: 200 });
    entries = body.entries ?? [];
    if (entries.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert(entries.length > 0, 'no activity reached the audit table');
  await browser.request('POST', `${base}/logout`, { expect: 204 });
  await browser.request('GET', `${base}/api/me/activity`, { expect: 401 });
}

/** Upstream: sign in at the demo OpenID provider (code + PKCE), use the sealed token, back-channel, logout. */
export async function providerSignIn(base, browser, { username, password }) {
  let response = await browser.request('GET', `${base}/auth/idp/login`, { expect: 302 });
  let next = new URL(response.headers.get('location'), base);
  for (let hop = 0; hop < 12 && next.origin !== new URL(base).origin; hop += 1) {
    response = await browser.request('GET', next.href);
    if (response.status === 200) {
      response = await browser.request('POST', `${next.href}/login`, { form: { username, password } });
    }
    next = new URL(response.headers.get('location') ?? '', next);
  }
  assert(next.pathname === '/auth/idp/callback', `sign-in ended at ${next.href}`);
  const callback = await browser.request('GET', next.href, { expect: 302 });
  assert(callback.headers.get('location') === '/me', 'the callback did not redirect to /me');
  const me = await browser.request('GET', `${base}/me`, { expect: 200 });
  assert(
    me.body.userId === username && me.body.upstreamAccessToken === true,
    `GET /me: ${JSON.stringify(me.body)}`,
  );
  const forged = await fetch(`${base}/auth/idp/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'logout_token=not-a-jwt',
  });
  assert(forged.status === 400, `a forged logout token was answered ${forged.status}`);
  await browser.request('POST', `${base}/logout`, { expect: 204 });
  await browser.request('GET', `${base}/me`, { expect: 401 });
}
