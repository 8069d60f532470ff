import { timestampSchema } from '@sessionkit/core/store';
import { z } from 'zod';

/** What the vault seals for a session: the provider's tokens, never shown outside the engine. */
export const upstreamTokensSchema = z.object({
  accessToken: z.string().min(1).max(8192),
  tokenType: z.string().min(1).max(64).default('Bearer'),
  /** Epoch ms after which the access token is no longer accepted by the provider's resource servers. */
  expiresAt: timestampSchema,
  /** When the access token was obtained; lets the vault scale its refresh window to short lifetimes. */
  issuedAt: timestampSchema.optional(),
  refreshToken: z.string().min(1).max(8192).optional(),
  idToken: z.string().min(1).max(8192).optional(),
  scope: z.string().max(2048).optional(),
});
export type UpstreamTokens = z.output<typeof upstreamTokensSchema>;
export type UpstreamTokensInput = z.input<typeof upstreamTokensSchema>;
