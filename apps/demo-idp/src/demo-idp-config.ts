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

export const demoAccountSchema = z.object({
  id: z.string().min(1).max(128),
  password: z.string().min(1).max(256),
  email: z.email().optional(),
  name: z.string().max(200).optional(),
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
    accounts: [
      { id: 'alice', password: 'demo-idp-password', email: 'alice@example.com', name: 'Alice Demo' },
      { id: 'bob', password: 'demo-idp-password', email: 'bob@example.com', name: 'Bob Demo' },
    ],
  };
}
