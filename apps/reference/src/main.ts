/**
 * `pnpm start`: the reference app on its embedded default (PGlite in ./data, in-memory rate limits), or on
 * PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set. SIGTERM and SIGINT drain and close cleanly.
 */
import { loadConfig } from './config.js';
import { DEMO_OAUTH_CLIENT, DEMO_USERS, startReferenceApp } from './reference-app.js';

const config = loadConfig();
const app = await startReferenceApp(config);

const lines = [
  '',
  `SessionKit reference app: ${app.url}`,
  config.COOKIE_SECURE
    ? ''
    : '(plain HTTP for local use: cookies are not Secure; set COOKIE_SECURE=1 behind TLS)',
  'Demo users:',
  ...DEMO_USERS.map(
    (user) =>
      `  ${user.email} / ${user.password}${user.totpSecret ? `  (TOTP secret ${user.totpSecret})` : ''}`,
  ),
  `Introspection client: ${DEMO_OAUTH_CLIENT.id} / ${DEMO_OAUTH_CLIENT.secret}`,
  '',
];
process.stderr.write(`${lines.filter((line) => line !== undefined).join('\n')}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
