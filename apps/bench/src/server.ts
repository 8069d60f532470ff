/**
 * One variant's server, run by the orchestrator in its own process: `server.ts <variant-key> <port>`. Prints one
 * JSON line once it listens: the headers the load must carry. SIGTERM closes it.
 */
import type { AddressInfo } from 'node:net';
import { VARIANTS } from './variants.js';

const [key, port] = process.argv.slice(2);
const variant = VARIANTS[key ?? ''];
if (!variant) throw new Error(`unknown variant ${key}; known: ${Object.keys(VARIANTS).join(', ')}`);

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const started = await variant.start(redisUrl, databaseUrl);
const server = started.app.listen(Number(port ?? 0), '127.0.0.1', () => {
  const { port: actual } = server.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ port: actual, headers: started.headers, login: started.login })}\n`,
  );
});
server.keepAliveTimeout = 60_000;
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  started.close().finally(() => process.exit(0));
});
