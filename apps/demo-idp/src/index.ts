export type { DemoIdp } from './demo-idp.js';
export { startDemoIdp } from './demo-idp.js';
export type { DemoAccount, DemoIdpConfig } from './demo-idp-config.js';
export { configFromEnv, demoIdpConfigSchema } from './demo-idp-config.js';
