import { z } from 'zod';

const loopbackUrl = z.url();

export const demoClientSchema = z.object({
  clientId: z.string().min(1).max(128),
  clientSecret: z.string().min(16).max(256),
  redirectUris: z.array(loopbackUrl).min(1),
  postLogoutRedirectUris: z.array(loopbackUrl).default([]),
  /** Where the provider POSTs logout tokens (OpenID Connect Back-Channel Logout); off when absent. */
  backchannelLogoutUri: loopbackUrl.optional(),
});

/** The `acr` the demo provider puts in ID tokens of accounts that sign in "with a second factor". */
export const DEMO_IDP_MFA_ACR = 'urn:sessionkit:demo-idp:mfa';

export const demoAccountSchema = z.object({
  id: z.string().min(1).max(128),
  password: z.string().min(1).max(256),
  email: z.email().optional(),
  /** The `email_verified` claim; absent when unset, as some providers do, to exercise apps that assume it. */
  emailVerified: z.boolean().optional(),
  name: z.string().max(200).optional(),
  /** RFC 8176 methods the ID token names (`amr`), e.g. `['pwd', 'otp']` for a sign-in with a second factor. */
  amr: z.array(z.string().min(1).max(64)).min(1).optional(),
  /** The ID token's `acr`. */
  acr: z.string().min(1).max(256).optional(),
});

export const demoIdpConfigSchema = z.object({
  /** 0 picks a free port (tests); the standalone server defaults to 4010. */
  port: z.number().int().min(0).max(65_535).default(4010),
  host: z.string().default('127.0.0.1'),
  clients: z.array(demoClientSchema).min(1),
  accounts: z.array(demoAccountSchema).min(1),
  accessTokenTtlSeconds: z.number().int().positive().max(86_400).default(300),
  refreshTokenTtlSeconds: z
    .number()
    .int()
    .positive()
    .default(14 * 86_400),
  /** Keys for the provider's signed cookies; random per start when absent. */
  cookieKeys: z.array(z.string().min(16)).min(1).optional(),
});
export type DemoIdpConfig = z.input<typeof demoIdpConfigSchema>;
export type DemoAccount = z.infer<typeof demoAccountSchema>;

/** The client and accounts the reference app expects when it starts with `DEMO_IDP=1`. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DemoIdpConfig {
  const appOrigin = env.DEMO_IDP_APP_ORIGIN ?? 'http://127.0.0.1:3000';
  const localhostOrigin = appOrigin.replace('127.0.0.1', 'localhost');
  const origins = [...new Set([appOrigin, localhostOrigin])];
  return {
    port: env.DEMO_IDP_PORT === undefined ? 4010 : Number(env.DEMO_IDP_PORT),
    clients: [
      {
        clientId: env.DEMO_IDP_CLIENT_ID ?? 'sessionkit-reference',
        clientSecret: env.DEMO_IDP_CLIENT_SECRET ?? 'demo-idp-client-secret-not-for-production',
        redirectUris: origins.map((origin) => `${origin}/auth/idp/callback`),
        postLogoutRedirectUris: origins.map((origin) => `${origin}/`),
        backchannelLogoutUri:
          env.DEMO_IDP_BACKCHANNEL_LOGOUT_URI ?? `${appOrigin}/auth/idp/backchannel-logout`,
      },
    ],
    accounts: DEMO_IDP_ACCOUNTS.map((account) => ({ ...account, password: DEMO_IDP_PASSWORD })),
  };
}

export const DEMO_IDP_PASSWORD = 'demo-idp-password';

/**
 * The provider's accounts, each showing one thing a relying party must get right: `alice` and `bob` are the
 * local users' provider identities (verified email, password only, so the app still asks Bob for his TOTP);
 * `bob-mfa` and `bob-acr` are Bob signing in with a second factor at the provider (asserted by `amr`, or by
 * `acr`); `mallory` and `eve` claim Bob's address without the provider having verified it (`email_verified`
 * absent, or false), which must not get them Bob's account.
 */
export const DEMO_IDP_ACCOUNTS: readonly Omit<DemoAccount, 'password'>[] = [
  { id: 'alice', email: 'alice@example.com', emailVerified: true, name: 'Alice Demo', amr: ['pwd'] },
  { id: 'bob', email: 'bob@example.com', emailVerified: true, name: 'Bob Demo', amr: ['pwd'] },
  { id: 'bob-mfa', email: 'bob@example.com', emailVerified: true, name: 'Bob Demo', amr: ['pwd', 'otp'] },
  { id: 'bob-acr', email: 'bob@example.com', emailVerified: true, name: 'Bob Demo', acr: DEMO_IDP_MFA_ACR },
  { id: 'mallory', email: 'bob@example.com', name: 'Mallory', amr: ['pwd'] },
  { id: 'eve', email: 'bob@example.com', emailVerified: false, name: 'Eve', amr: ['pwd'] },
];
