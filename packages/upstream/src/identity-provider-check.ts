import type { HealthCheck, HealthCheckOptions } from '@sessionkit/core';
import { UpstreamUnavailableError } from './upstream-errors.js';

/**
 * The identity provider answers its discovery document (`/.well-known/openid-configuration`) with 200: what
 * every sign-in through it starts with. Pass the client's `issuer` (or the `OidcClient` itself).
 */
export function identityProviderCheck(
  provider: { readonly issuer: string },
  options: HealthCheckOptions = {},
): HealthCheck {
  const url = `${provider.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  return {
    name: 'identity-provider',
    ...options,
    run: async (signal) => {
      let response: Response;
      try {
        response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal });
      } catch (cause) {
        throw new UpstreamUnavailableError('Identity provider did not answer', { cause });
      }
      await response.body?.cancel();
      if (response.status !== 200) {
        throw new UpstreamUnavailableError(`Identity provider answered ${response.status}`, {
          details: { status: response.status },
        });
      }
      return undefined;
    },
  };
}
