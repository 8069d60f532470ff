/**
 * A minimal browser for driving the provider over HTTP: follows redirects by hand and keeps cookies, so the
 * provider's own session (and with it RP-initiated logout) works as it would for a person.
 */
export class UserAgent {
  readonly #cookies = new Map<string, string>();

  /** Follows redirects from `url` until one points under `stopAt`; returns that URL. */
  async follow(url: string, stopAt: string): Promise<URL> {
    let next = new URL(url);
    for (let hop = 0; hop < 12; hop += 1) {
      const response = await this.request(next.href);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) {
        throw new Error(
          `expected a redirect from ${next.pathname}, got ${response.status}: ${await response.text()}`,
        );
      }
      await response.body?.cancel();
      next = new URL(location, next);
      if (next.href.startsWith(stopAt)) return next;
    }
    throw new Error('too many redirects');
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) {
      headers.set('cookie', [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }

  /** RP-initiated logout the way a browser does it: the confirmation page, then its form. */
  async endSession(endSessionUrl: string, stopAt: string): Promise<URL> {
    const page = await this.request(endSessionUrl);
    const html = await page.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    const action = /action="([^"]+)"/.exec(html)?.[1];
    if (xsrf === undefined || action === undefined) throw new Error(`no logout form: ${page.status} ${html}`);
    const confirm = await this.request(new URL(action, endSessionUrl).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    const location = confirm.headers.get('location');
    if (location === null) throw new Error(`logout confirmation answered ${confirm.status}`);
    const landed = new URL(location, endSessionUrl);
    if (!landed.href.startsWith(stopAt)) throw new Error(`logout ended at ${landed.href}`);
    return landed;
  }
}
