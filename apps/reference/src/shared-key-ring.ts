import type { AccessTokenClaims, AccessTokenIssuerOptions } from '@sessionkit/core';
import { AccessTokenKeyRing, InvalidTokenError } from '@sessionkit/core';
import { z } from 'zod';

const headerSchema = z.object({ kid: z.string().min(1).max(128) });

/**
 * A key ring other instances rotate through the database: a token signed with a key this instance has not
 * loaded yet (another one just rotated) triggers one reload before it is refused. Reloads are rate-limited,
 * so tokens with made-up key ids cannot turn into a stream of database reads.
 */
export class SharedKeyRing extends AccessTokenKeyRing {
  readonly #reload: () => Promise<void>;
  readonly #now: () => number;
  readonly #minReloadIntervalMs: number;
  #known = new Set<string>();
  #lastReloadAt = Number.NEGATIVE_INFINITY;

  constructor(options: AccessTokenIssuerOptions, reload: () => Promise<void>, minReloadIntervalMs: number) {
    super(options);
    this.#reload = reload;
    this.#now = () => options.clock.now();
    this.#minReloadIntervalMs = minReloadIntervalMs;
  }

  override async load(jwks: readonly unknown[]): Promise<void> {
    await super.load(jwks);
    this.#known = new Set(
      (await this.jwks()).keys.flatMap((key) => (key.kid === undefined ? [] : [key.kid])),
    );
  }

  override async verify(token: string): Promise<AccessTokenClaims> {
    try {
      return await super.verify(token);
    } catch (error) {
      if (!(error instanceof InvalidTokenError) || !this.#reloadFor(token)) throw error;
      // A failed reload (database away) leaves the token refused as it was; the periodic reload reports it.
      await this.#reload().catch(() => {
        throw error;
      });
      return super.verify(token);
    }
  }

  #reloadFor(token: string): boolean {
    const now = this.#now();
    if (now - this.#lastReloadAt < this.#minReloadIntervalMs) return false;
    const kid = headerKid(token);
    if (kid === undefined || this.#known.has(kid)) return false;
    this.#lastReloadAt = now;
    return true;
  }
}

function headerKid(token: string): string | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    return headerSchema.safeParse(header).data?.kid;
  } catch {
    return undefined;
  }
}
