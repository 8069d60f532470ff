import { DEMO_IDP_PASSWORD } from '@sessionkit/demo-idp';

/**
 * A browser in miniature for the identity-provider flow over plain HTTP: one cookie jar (app and provider are
 * both on 127.0.0.1, and cookies do not separate ports), redirects followed by hand, the provider's login form
 * filled in like a person would.
 */
export class IdpAgent {
  readonly cookies = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async json(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await this.request(url, {
      method,
      headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  /**
   * "Sign in with the demo IdP" as the provider account `username`, up to and including the app's callback.
   * Returns the callback's own answer: a redirect into the app, or a problem document.
   */
  async signInWithProvider(appUrl: string, username: string): Promise<Response> {
    let next = new URL('/auth/idp/login', appUrl);
    for (let hop = 0; hop < 12; hop += 1) {
      if (next.origin === new URL(appUrl).origin && next.pathname === '/auth/idp/callback') {
        return this.request(next.href);
      }
      const response = await this.request(next.href);
      const location = response.headers.get('location');
      if (location !== null) {
        await response.body?.cancel();
        next = new URL(location, next);
        continue;
      }
      const page = await response.text();
      const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
      if (action === undefined) throw new Error(`no login form at ${next.href}: ${response.status} ${page}`);
      const submitted = await this.request(new URL(action, next).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password: DEMO_IDP_PASSWORD }),
      });
      const after = submitted.headers.get('location');
      if (after === null) throw new Error(`the provider refused ${username}: ${submitted.status}`);
      next = new URL(after, next);
    }
    throw new Error('too many redirects');
  }
}
