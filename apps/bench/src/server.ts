/**
 * One variant's server, run by the orchestrator in its own process: `server.ts <variant-key> <port>`. Prints one
 * JSON line once it listens: the headers the load must carry and the port of a separate stats endpoint that
 * answers this process's CPU time and requests served, so the orchestrator can compute CPU per request.
 * SIGTERM closes it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VARIANTS } from './variants.js';

const [key, port] = process.argv.slice(2);
const variant = VARIANTS[key ?? ''];
if (!variant) throw new Error(`unknown variant ${key}; known: ${Object.keys(VARIANTS).join(', ')}`);

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const started = await variant.start(redisUrl, databaseUrl);
let served = 0;
// Not an Express route: it must neither count as load nor share the variant's middleware.
const stats = createServer((_req, res) => {
  const cpu = process.cpuUsage();
  res.end(JSON.stringify({ cpuMicros: cpu.user + cpu.system, served }));
});
await new Promise<void>((resolve) => stats.listen(0, '127.0.0.1', resolve));
const server = started.app.listen(Number(port ?? 0), '127.0.0.1', () => {
  const { port: actual } = server.address() as AddressInfo;
  const statsPort = (stats.address() as AddressInfo).port;
  process.stdout.write(
    `${JSON.stringify({ port: actual, statsPort, headers: started.headers, login: started.login })}\n`,
  );
});
server.on('request', () => {
  served += 1;
});
server.keepAliveTimeout = 60_000;
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  stats.close();
  started.close().finally(() => process.exit(0));
});
