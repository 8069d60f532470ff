import { PrivatePostgres, PrivateRedis } from '@sessionkit/test-support';

/**
 * The bench's own Redis, so fault scripts can stop it without touching the shared one on 6379: append-only
 * persistence keeps sessions across a stop, as a production Redis would. Stop it with `SIGTERM` (Redis flushes
 * its append-only file and exits), as an operator would.
 */
export function benchRedis(port: number): PrivateRedis {
  return new PrivateRedis(port, { appendOnly: true, args: ['--save', ''] });
}

/** The bench's own PostgreSQL 15 cluster, with room for every pool the multi-instance scripts open. */
export function benchPostgres(port: number): PrivatePostgres {
  return new PrivatePostgres(port, { settings: { max_connections: '200' } });
}
