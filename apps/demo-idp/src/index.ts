export type { DemoIdp } from './demo-idp.js';
export { startDemoIdp } from './demo-idp.js';
export type { DemoAccount, DemoIdpConfig } from './demo-idp-config.js';
export {
  configFromEnv,
  DEMO_IDP_ACCOUNTS,
  DEMO_IDP_MFA_ACR,
  DEMO_IDP_PASSWORD,
  demoIdpConfigSchema,
} from './demo-idp-config.js';
