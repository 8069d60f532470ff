import pg from 'pg';

export interface PgPoolOptions extends pg.PoolConfig {
  /**
   * Bounds every step of a store operation: waiting for a connection, and each statement (server-side
   * `statement_timeout`, with a client-side `query_timeout` a little later for a server that stopped answering).
   * Past it the operation fails with `store.unavailable`. Default 2000 ms.
   */
  timeoutMs?: number;
  /** Told when an idle or checked-out connection dies (server restart, network): the pool then replaces it. */
  onError?: (error: Error) => void;
}

/**
 * A pg.Pool set up the way the store needs: bounded waits, TCP keepalive, and an `error` listener on the pool
 * and on every connection, because pg emits `error` for a connection that dies while no query is running on
 * it and an unhandled `error` event ends the process.
 */
export function createPgPool(options: PgPoolOptions = {}): pg.Pool {
  const { timeoutMs = 2000, onError = () => {}, ...config } = options;
  const pool = new pg.Pool({
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1000,
    keepAlive: true,
    ...config,
  });
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}
