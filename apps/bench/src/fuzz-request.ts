import { ROUTE } from './payload.js';

/** A small seeded PRNG (mulberry32): a failing request can be reproduced from the seed and its index. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzMaterial {
  /** Live tokens of the app under test, to be mutated or sent as they are. */
  sessionToken: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const PRINTABLE =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=;,:"\'{}[]()<>@!#$%^&*? \\|`';

export class FuzzGenerator {
  readonly #random: () => number;
  readonly #material: FuzzMaterial;

  constructor(seed: number, material: FuzzMaterial) {
    this.#random = seededRandom(seed);
    this.#material = material;
  }

  #int(max: number): number {
    return Math.floor(this.#random() * max);
  }

  #pick<T>(items: readonly T[]): T {
    return items[this.#int(items.length)] as T;
  }

  #text(max: number, alphabet = PRINTABLE): string {
    const length = this.#int(max + 1);
    let out = '';
    for (let i = 0; i < length; i += 1) out += alphabet[this.#int(alphabet.length)];
    return out;
  }

  /** Flips, deletes, duplicates or truncates characters of a valid value. */
  #mutate(value: string): string {
    const chars = [...value];
    const edits = 1 + this.#int(4);
    for (let i = 0; i < edits && chars.length > 0; i += 1) {
      const at = this.#int(chars.length);
      const kind = this.#int(4);
      if (kind === 0) chars[at] = PRINTABLE[this.#int(PRINTABLE.length)] ?? 'x';
      else if (kind === 1) chars.splice(at, 1);
      else if (kind === 2) chars.splice(at, 0, ...chars.slice(at, at + 1 + this.#int(20)));
      else chars.length = at;
    }
    return chars.join('');
  }

  #token(): string {
    const m = this.#material;
    return this.#pick([
      () => m.sessionToken,
      () => this.#mutate(m.sessionToken),
      () => m.accessToken,
      () => this.#mutate(m.accessToken),
      () => `${m.sessionId}.${this.#text(43)}`,
      () => `${this.#text(22)}.${this.#text(43)}`,
      () => this.#text(200),
      () => 'x'.repeat(3000 + this.#int(3000)),
      // alg none, and a header naming a key URL: both must be refused.
      () =>
        `eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.${Buffer.from(JSON.stringify({ sub: 'u', sid: m.sessionId, exp: 9e9 })).toString('base64url')}.`,
      () =>
        `${Buffer.from('{"alg":"HS256","jku":"http://127.0.0.1:1/"}').toString('base64url')}.${this.#text(40)}.${this.#text(40)}`,
      () => m.accessToken.split('.').reverse().join('.'),
      () => '',
    ])();
  }

  #body(): string | undefined {
    const m = this.#material;
    return this.#pick([
      () => undefined,
      () => '',
      () => JSON.stringify({ userId: this.#text(80) }),
      () => JSON.stringify({ userId: this.#int(1000) }),
      () => JSON.stringify({ refreshToken: this.#mutate(m.refreshToken) }),
      () => JSON.stringify({ refreshToken: m.refreshToken }),
      () => JSON.stringify({ sessionId: this.#pick([m.sessionId, this.#text(30), '../../etc/passwd']) }),
      () => JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: { x: 1 } }, userId: 'p' }),
      () => '{"userId":',
      () => `${'['.repeat(5000)}${']'.repeat(5000)}`,
      () => 'x'.repeat(20_000 + this.#int(20_000)),
      () => this.#text(500),
      () => JSON.stringify({ userId: '\u0000\uffff\ud800' }),
      () => 'userId=a&refreshToken=b',
    ])();
  }

  next(): FuzzRequest {
    const m = this.#material;
    const headers: Record<string, string> = {};
    const path = this.#pick([
      ROUTE,
      ROUTE,
      '/login',
      '/refresh',
      '/admin/revoke',
      '/api/me/sessions',
      `/api/me/sessions/${this.#pick([m.sessionId, this.#text(30, 'abc%2F.'), '%00', '..%2f..%2f'])}`,
      '/api/me/sessions/revoke-others',
      `/${this.#text(40, 'abc/%.?&=')}`,
      `${ROUTE}?token=${encodeURIComponent(m.sessionToken)}`,
    ]);
    const method = this.#pick(['GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD']);
    const auth = this.#int(6);
    if (auth < 3)
      headers.authorization = `${this.#pick(['Bearer ', 'bearer  ', 'Bearer', 'BEARER ', 'Basic ', 'Token '])}${this.#token()}`;
    if (this.#int(3) === 0)
      headers.cookie = this.#pick([
        () => `__Host-sk_session=${this.#token()}`,
        () => `sk_session=${this.#token()}; __Host-sk_session=${this.#token()}`,
        () => `__Host-sk_session=${m.sessionToken}; __Host-sk_csrf=${this.#text(43)}`,
        () => this.#text(300),
        () => Array.from({ length: 200 }, (_, i) => `c${i}=${this.#text(20, 'abc%')}`).join('; '),
        () => `__Host-sk_session="${this.#text(60)}"`,
      ])();
    if (this.#int(3) === 0)
      headers['content-type'] = this.#pick([
        'application/json',
        'application/json; charset=utf-16',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        this.#text(40),
      ]);
    if (this.#int(5) === 0) headers['x-request-id'] = this.#text(200);
    if (this.#int(5) === 0)
      headers.origin = this.#pick(['null', 'http://evil.example', `http://127.0.0.1`, this.#text(50)]);
    if (this.#int(5) === 0)
      headers['sec-fetch-site'] = this.#pick(['cross-site', 'same-origin', 'none', this.#text(20)]);
    if (this.#int(5) === 0) headers['x-csrf-token'] = this.#text(80);
    if (this.#int(6) === 0) headers['accept-language'] = this.#text(2000);
    if (this.#int(6) === 0) headers['x-forwarded-for'] = this.#text(100, '0123456789.:, abcdef');
    if (this.#int(6) === 0) headers['user-agent'] = this.#text(3000);
    const body = method === 'GET' || method === 'HEAD' ? undefined : this.#body();
    return { method, path, headers, ...(body === undefined ? {} : { body }) };
  }

  /** Bytes no HTTP client library would send: broken request lines, control characters, bad framing. */
  raw(): string {
    const m = this.#material;
    return this.#pick([
      () => `GET ${ROUTE} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${m.sessionToken}\u0000\r\n\r\n`,
      () =>
        `GET ${ROUTE} HTTP/1.1\r\nHost: x\r\nCookie: __Host-sk_session=\u0001\u0002${this.#text(20)}\r\n\r\n`,
      () =>
        `POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n{"userId":"a"}`,
      () =>
        `POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nzz\r\n`,
      () => `${this.#text(60)}\r\n\r\n`,
      () => `GET / HTTP/9.9\r\n\r\n`,
      () => `GET ${ROUTE} HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(3000)}\r\n`,
    ])();
  }
}
