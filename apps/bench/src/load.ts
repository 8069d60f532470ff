/**
 * The load generator, run in its own process (pinned to its own core by the orchestrator): one autocannon run
 * against one URL, printing its result as one JSON line.
 */
import autocannon from 'autocannon';

const [url, headerJson, durationSeconds, connections] = process.argv.slice(2);
if (!url || !headerJson) throw new Error('usage: load.ts <url> <headers-json> [seconds] [connections]');

const result = await autocannon({
  url,
  headers: JSON.parse(headerJson) as Record<string, string>,
  duration: Number(durationSeconds ?? 10),
  connections: Number(connections ?? 50),
  pipelining: 1,
});
const summary = {
  requestsPerSec: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  total: result.requests.total,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
