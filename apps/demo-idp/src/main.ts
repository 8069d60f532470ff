import { startDemoIdp } from './demo-idp.js';
import { configFromEnv } from './demo-idp-config.js';

const idp = await startDemoIdp(configFromEnv());
console.log(`demo IdP listening: issuer ${idp.issuer}`);
console.log(`discovery: ${idp.issuer}/.well-known/openid-configuration`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    idp.stop().then(() => process.exit(0));
  });
}
