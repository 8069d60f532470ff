import { parseInput } from '@sessionkit/core';
import { z } from 'zod';

/**
 * RFC 8176 method values that name a factor beyond a password: `mfa` (multiple factors), `otp` (one-time
 * code), `hwk`/`swk` (proof of possession of a hardware- or software-secured key, e.g. a passkey).
 */
export const SECOND_FACTOR_AMR: readonly string[] = ['mfa', 'otp', 'hwk', 'swk'];

const assuranceOptionsSchema = z.object({
  /** `amr` values that count as a second factor. */
  secondFactorAmr: z.array(z.string().min(1).max(64)).default([...SECOND_FACTOR_AMR]),
  /** `acr` values this provider uses for a multi-factor sign-in; provider-specific, so none by default. */
  aal2Acr: z.array(z.string().min(1).max(256)).default([]),
});
export type IdTokenAssuranceOptions = z.input<typeof assuranceOptionsSchema>;

// Verified claims still come from another party: a claim of the wrong shape counts as absent, never as a yes.
const assuranceClaimsSchema = z.object({
  email: z.email().max(254).optional().catch(undefined),
  email_verified: z.literal(true).optional().catch(undefined),
  amr: z.array(z.string().max(64)).max(32).optional().catch(undefined),
  acr: z.string().max(256).optional().catch(undefined),
  auth_time: z.number().int().nonnegative().optional().catch(undefined),
});

export interface IdTokenAssurance {
  /** The `email` claim when it is a well-formed address, verified or not. */
  email: string | undefined;
  /** True only for an email the provider marks `email_verified: true` (the boolean, not "true"). */
  emailVerified: boolean;
  /** 2 when the provider asserts a second factor through `amr` or a configured `acr`, else 1. */
  aal: 1 | 2;
  /**
   * When the person authenticated at the provider (`auth_time`, in ms), if it says. A session started from
   * the provider's sign-in is as fresh as that sign-in, not as the callback: an `amr` from hours ago must not
   * pass a fifteen-minute freshness check.
   */
  authenticatedAt: number | undefined;
}

/**
 * What verified ID-token claims assert about the person: whether the email may be trusted to link accounts,
 * and which assurance level the provider's sign-in reached. Anything absent or malformed reads as the weaker
 * answer, since an account link or a skipped second factor cannot be taken back once granted.
 */
export function idTokenAssurance(
  claims: Record<string, unknown>,
  options: IdTokenAssuranceOptions = {},
): IdTokenAssurance {
  const config = parseInput(assuranceOptionsSchema, options, 'ID token assurance options');
  const parsed = assuranceClaimsSchema.parse(claims);
  const secondFactor =
    (parsed.amr ?? []).some((method) => config.secondFactorAmr.includes(method)) ||
    (parsed.acr !== undefined && config.aal2Acr.includes(parsed.acr));
  return {
    email: parsed.email,
    emailVerified: parsed.email !== undefined && parsed.email_verified === true,
    aal: secondFactor ? 2 : 1,
    authenticatedAt: parsed.auth_time === undefined ? undefined : parsed.auth_time * 1000,
  };
}
