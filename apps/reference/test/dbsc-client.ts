/**
 * A Device Bound Session Credentials client written from the W3C draft (webappsec-dbsc, 2026-02-17): it reads
 * `Secure-Session-Registration`, makes an ES256 key with WebCrypto, signs `dbsc+jwt` proofs by hand (no JOSE
 * library) and answers `Secure-Session-Challenge` on refresh, keeping cookies as a browser would.
 */
export class DbscBrowser {
  readonly cookies = new Map<string, string>();
  key: CryptoKeyPair | undefined;
  sessionId: string | undefined;
  refreshUrl: string | undefined;

  constructor(readonly origin: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(`${this.origin}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, index);
      const value = (pair ?? '').slice(index + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** The parameters of a `Secure-Session-Registration` header (RFC 9651 list of inner lists, parsed simply). */
  static registration(
    header: string | null,
  ): { algs: string[]; path: string; challenge: string } | undefined {
    const match = header && /^\(([^)]*)\)((?:;[a-z_]+="[^"]*")*)/.exec(header);
    if (!match) return undefined;
    const params = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/;([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    return { algs: (match[1] ?? '').split(' '), path: params.path ?? '', challenge: params.challenge ?? '' };
  }

  async register(header: string | null, key?: CryptoKeyPair): Promise<Response> {
    const registration = DbscBrowser.registration(header);
    if (!registration) throw new Error(`no registration offered: ${header}`);
    this.key =
      key ??
      (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']));
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', this.key.publicKey);
    const proof = await sign(
      this.key.privateKey,
      { typ: 'dbsc+jwt', alg: 'ES256', jwk: { kty, crv, x, y } },
      {
        jti: registration.challenge,
      },
    );
    const response = await this.fetch(registration.path, {
      method: 'POST',
      headers: { 'secure-session-response': proof },
    });
    if (response.status === 200) {
      const config = (await response.clone().json()) as { session_identifier: string; refresh_url: string };
      this.sessionId = config.session_identifier;
      this.refreshUrl = config.refresh_url;
    }
    return response;
  }

  /** The refresh of §"Send request": first without a proof, then signing the challenge of the 403. */
  async refresh(signWith?: CryptoKey): Promise<{ challenged: Response; final: Response }> {
    const headers = { 'sec-secure-session-id': this.sessionId ?? '' };
    const challenged = await this.fetch(this.refreshUrl ?? '', { method: 'POST', headers });
    const challenge = /^"([^"]*)";id="([^"]*)"/.exec(
      challenged.headers.get('secure-session-challenge') ?? '',
    );
    if (challenged.status !== 403 || !challenge) return { challenged, final: challenged };
    const key = signWith ?? this.key?.privateKey;
    if (!key) throw new Error('no key');
    const proof = await sign(key, { typ: 'dbsc+jwt', alg: 'ES256' }, { jti: challenge[1] ?? '' });
    const final = await this.fetch(this.refreshUrl ?? '', {
      method: 'POST',
      headers: { ...headers, 'secure-session-response': proof },
    });
    return { challenged, final };
  }
}

async function sign(key: CryptoKey, header: object, payload: object): Promise<string> {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  // WebCrypto's ECDSA signature is already the raw r||s that JWS ES256 wants.
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
