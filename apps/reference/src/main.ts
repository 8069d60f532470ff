/**
 * `pnpm start`: the reference app on its embedded default (PGlite in ./data, in-memory rate limits), or on
 * PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set. SIGTERM and SIGINT drain and close cleanly.
 * OpenTelemetry starts from the standard OTEL_* variables (telemetry.ts), before anything else is imported.
 */
import { startTelemetry } from './telemetry.js';

const telemetry = startTelemetry();
// Imported once the SDK runs, so its HTTP instrumentation wraps the server Express creates.
const { loadConfig } = await import('./config.js');
const { DEMO_USERS, startReferenceApp } = await import('./reference-app.js');

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
  // A generated secret is shown here, to the operator at the console, and never in the JSON log stream: it is
  // the only way to learn it short of reading the database. One set in the environment is already known.
  config.INTROSPECTION_CLIENT_SECRET === undefined
    ? `Introspection client: ${app.oauthClient.id} / ${app.oauthClient.secret}  (generated; set INTROSPECTION_CLIENT_SECRET to choose it)`
    : `Introspection client: ${app.oauthClient.id} / (INTROSPECTION_CLIENT_SECRET)`,
  ...(app.generatedKek === undefined
    ? []
    : [
        `Key-encryption key, generated in ${app.generatedKek.file} (shown this once): ${app.generatedKek.key}`,
        '  It unlocks every secret in the database: in production, move it to SESSIONKIT_KEK or SESSIONKIT_KEK_FILE.',
      ]),
  '',
];
process.stderr.write(`${lines.filter((line) => line !== undefined).join('\n')}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app
      .shutdown()
      .then(() => telemetry?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          app.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  });
}
