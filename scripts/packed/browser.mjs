// A scripted browser for the packed-install check: keeps cookies per origin (whatever their Secure flag, since
// the examples are reached over plain loopback HTTP), sends the CSRF companion cookie back as X-CSRF-Token the
// way a page's script does, follows no redirect on its own, and checks every status it is told to expect.

export class Browser {
  /** origin → (cookie name → value) */
  #jars = new Map();

  jar(origin) {
    let jar = this.#jars.get(origin);
    if (!jar) {
      jar = new Map();
      this.#jars.set(origin, jar);
    }
    return jar;
  }

  /** One request; `expect` is the status it must answer. Returns { status, headers, body (parsed JSON or text) }. */
  async request(method, url, { expect, json, form } = {}) {
    const target = new URL(url);
    const jar = this.jar(target.origin);
    const headers = { 'sec-fetch-site': 'same-origin' };
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const csrf = [...jar].find(([name]) => name.endsWith('sk_csrf'));
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf[1];
    let body;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(target, { method, headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /;\s*max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    const text = await response.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    if (expect !== undefined && response.status !== expect) {
      throw new Error(
        `${method} ${target.pathname} answered ${response.status}, expected ${expect}: ${text.slice(0, 300)}`,
      );
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }
}
