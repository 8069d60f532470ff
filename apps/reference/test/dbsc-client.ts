/**
 * A Device Bound Session Credentials client written from the W3C draft (webappsec-dbsc, commit d346811 of
 * 2026-02-17): it reads `Secure-Session-Registration` (challenge and authorization), makes an ES256 key with
 * WebCrypto, signs `dbsc+jwt` proofs by hand (no JOSE library; `jti` the challenge, `authorization` copied,
 * `jwk` in the header on registration only), sends the draft's sf-string headers (`Secure-Session-Response`,
 * `Sec-Secure-Session-Id`, and `Authorization` when offered), answers `Secure-Session-Challenge` on refresh
 * and drops its session on `continue: false`, keeping cookies as a browser would. `bare: true` sends the two
 * sf-string headers unquoted, as Chromium does.
 */
export class DbscBrowser {
  readonly cookies = new Map<string, string>();
  key: CryptoKeyPair | undefined;
  sessionId: string | undefined;
  refreshUrl: string | undefined;
  /** The challenge of the last `Secure-Session-Challenge` for this session (the draft's cached challenge). */
  cachedChallenge: string | undefined;

  constructor(
    readonly origin: string,
    readonly options: { bare?: boolean } = {},
  ) {}

  #sf(value: string): string {
    return this.options.bare ? value : `"${value.replace(/[\\"]/g, '\\$&')}"`;
  }

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
  ): { algs: string[]; path: string; challenge: string; authorization?: string } | undefined {
    const match = header && /^\(([^)]*)\)((?:;[a-z_]+="[^"]*")*)/.exec(header);
    if (!match) return undefined;
    const params = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/;([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    return {
      algs: (match[1] ?? '').split(' '),
      path: params.path ?? '',
      challenge: params.challenge ?? '',
      ...(params.authorization === undefined ? {} : { authorization: params.authorization }),
    };
  }

  #remember(response: Response): void {
    const challenge = /^"([^"]*)";id="([^"]*)"/.exec(response.headers.get('secure-session-challenge') ?? '');
    if (challenge && challenge[2] === this.sessionId) this.cachedChallenge = challenge[1];
  }

  /**
   * Registration (§"Process session registration", §"Send request"). `tamper` lets a test change the
   * claims or headers the draft prescribes, to check that the server refuses each deviation.
   */
  async register(
    header: string | null,
    key?: CryptoKeyPair,
    tamper: {
      claims?: (claims: Record<string, unknown>) => Record<string, unknown>;
      headers?: (headers: Record<string, string>) => Record<string, string>;
    } = {},
  ): Promise<Response> {
    const registration = DbscBrowser.registration(header);
    if (!registration) throw new Error(`no registration offered: ${header}`);
    this.key =
      key ??
      (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']));
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', this.key.publicKey);
    const claims: Record<string, unknown> = { jti: registration.challenge };
    if (registration.authorization !== undefined) claims.authorization = registration.authorization;
    const proof = await sign(
      this.key.privateKey,
      { typ: 'dbsc+jwt', alg: 'ES256', jwk: { kty, crv, x, y } },
      tamper.claims ? tamper.claims(claims) : claims,
    );
    const headers: Record<string, string> = { 'secure-session-response': this.#sf(proof) };
    if (registration.authorization !== undefined) headers.authorization = registration.authorization;
    const response = await this.fetch(registration.path, {
      method: 'POST',
      headers: tamper.headers ? tamper.headers(headers) : headers,
    });
    if (response.status === 200) {
      const config = (await response.clone().json()) as { session_identifier: string; refresh_url: string };
      this.sessionId = config.session_identifier;
      this.refreshUrl = config.refresh_url;
      this.#remember(response);
    }
    return response;
  }

  /**
   * The refresh of §"Send request" without a cached challenge: first without a proof, then signing the
   * challenge of the 403. `header` adds to the refresh proof's JWS header (the draft forbids `jwk` there).
   */
  async refresh(
    signWith?: CryptoKey,
    header: Record<string, unknown> = {},
  ): Promise<{ challenged: Response; final: Response }> {
    const headers = { 'sec-secure-session-id': this.#sf(this.sessionId ?? '') };
    const challenged = await this.fetch(this.refreshUrl ?? '', { method: 'POST', headers });
    const challenge = /^"([^"]*)";id="([^"]*)"/.exec(
      challenged.headers.get('secure-session-challenge') ?? '',
    );
    if (challenged.status !== 403 || !challenge) {
      await this.#ended(challenged);
      return { challenged, final: challenged };
    }
    const key = signWith ?? this.key?.privateKey;
    if (!key) throw new Error('no key');
    const proof = await sign(key, { typ: 'dbsc+jwt', alg: 'ES256', ...header }, { jti: challenge[1] ?? '' });
    const final = await this.fetch(this.refreshUrl ?? '', {
      method: 'POST',
      headers: { ...headers, 'secure-session-response': this.#sf(proof) },
    });
    if (final.status === 200) this.#remember(final);
    await this.#ended(final);
    return { challenged, final };
  }

  /** A refresh signing the cached challenge straight away, as the draft's browser does once it has one. */
  async refreshWithCachedChallenge(): Promise<Response> {
    if (!this.cachedChallenge || !this.key) throw new Error('no cached challenge');
    const proof = await sign(
      this.key.privateKey,
      { typ: 'dbsc+jwt', alg: 'ES256' },
      { jti: this.cachedChallenge },
    );
    const response = await this.fetch(this.refreshUrl ?? '', {
      method: 'POST',
      headers: {
        'sec-secure-session-id': this.#sf(this.sessionId ?? ''),
        'secure-session-response': this.#sf(proof),
      },
    });
    if (response.status === 200) this.#remember(response);
    await this.#ended(response);
    return response;
  }

  /** §"Create session": `continue: false` (or any 4xx but 403) terminates the session. */
  async #ended(response: Response): Promise<void> {
    const terminated =
      (response.status >= 400 && response.status < 500 && response.status !== 403) ||
      (response.status === 200 &&
        ((await response.clone().json()) as { continue?: boolean }).continue === false);
    if (terminated) {
      this.sessionId = undefined;
      this.refreshUrl = undefined;
      this.cachedChallenge = undefined;
    }
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
