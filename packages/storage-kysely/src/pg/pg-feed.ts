import { parseInput, StoreUnavailableError } from '@sessionkit/core';
import type {
  InvalidationFeed,
  InvalidationListener,
  InvalidationMessage,
  InvalidationSubscribeOptions,
} from '@sessionkit/core/store';
import pg from 'pg';
import { toStoreError } from '../database-errors.js';
import { channelForSchema, channelSchema, dispatch, encodeMessage } from '../invalidation-message.js';
import { DEFAULT_SCHEMA } from '../migrations.js';

export interface PgInvalidationFeedOptions {
  /** Publishes through it (NOTIFY needs no dedicated connection). */
  pool: pg.Pool;
  /** Settings of the dedicated LISTEN connection; defaults to the pool's. */
  connection?: pg.ClientConfig;
  /** The schema of the store it serves (default `sessionkit`); the channel is `<schema>_invalidation`. */
  schema?: string;
  /** Overrides the channel derived from `schema`. */
  channel?: string;
  /** Reconnect backoff after the LISTEN connection is lost: doubles from min to max, with jitter. */
  reconnectDelayMs?: { min: number; max: number };
  /** Told when the LISTEN connection is lost or a reconnect fails, and about bad payloads or throwing listeners. */
  onError?: (error: unknown) => void;
  /**
   * Called once the feed listens again after an outage. Messages published meanwhile were not delivered, so
   * whoever caches what the feed invalidates should drop that cache now.
   */
  onReconnect?: () => void;
}

/**
 * Invalidations over PostgreSQL LISTEN/NOTIFY. Listening holds one dedicated connection (a pooled one could be
 * handed to someone else with our LISTEN still on it); when it drops, e.g. on a server restart, the feed
 * reconnects with backoff and LISTENs again for as long as anyone is subscribed.
 */
export class PgInvalidationFeed implements InvalidationFeed {
  readonly #pool: pg.Pool;
  readonly #connection: pg.ClientConfig;
  /** The schema whose store this feed serves: KyselyStore refuses a feed for another one. */
  readonly schema: string | undefined;
  readonly #channel: string;
  readonly #delay: { min: number; max: number };
  readonly #onError: (error: unknown) => void;
  readonly #onReconnect: () => void;
  readonly #listeners = new Set<InvalidationListener>();
  /** Each subscriber's gap callback: told after a reconnect, since NOTIFY does not queue. */
  readonly #gapListeners = new Map<InvalidationListener, () => void>();
  /** The connection currently listening; set only once its LISTEN succeeded. */
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: PgInvalidationFeedOptions) {
    this.#pool = options.pool;
    this.#connection = options.connection ?? options.pool.options;
    // An explicit channel without a schema: the caller chose the channel, so no schema is claimed.
    this.schema = options.schema ?? (options.channel === undefined ? DEFAULT_SCHEMA : undefined);
    this.#channel = parseInput(channelSchema, options.channel ?? channelForSchema(options.schema), 'channel');
    this.#delay = options.reconnectDelayMs ?? { min: 100, max: 5000 };
    this.#onError = options.onError ?? (() => {});
    this.#onReconnect = options.onReconnect ?? (() => {});
  }

  /** Whether the LISTEN connection is up (for readiness checks). */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const payload = encodeMessage(message);
    try {
      await this.#pool.query('select pg_notify($1, $2)', [this.#channel, payload]);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async subscribe(
    listener: InvalidationListener,
    options: InvalidationSubscribeOptions = {},
  ): Promise<() => Promise<void>> {
    const entry: InvalidationListener = (message) => listener(message);
    this.#listeners.add(entry);
    if (options.onGap) this.#gapListeners.set(entry, options.onGap);
    const unsubscribe = async () => {
      this.#listeners.delete(entry);
      this.#gapListeners.delete(entry);
      if (this.#listeners.size === 0) await this.close();
    };
    try {
      await this.#listen();
    } catch (error) {
      await unsubscribe();
      throw toStoreError(error);
    }
    return unsubscribe;
  }

  /** Drops every subscription and the LISTEN connection; subscribing again starts over. */
  async close(): Promise<void> {
    this.#listeners.clear();
    this.#gapListeners.clear();
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #listen(): Promise<void> {
    if (this.#client) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#connection);
    // Errors during connect() arrive as its rejection; afterwards only the current client's losses matter.
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () =>
      this.#lost(client, new StoreUnavailableError('Invalidation feed connection ended')),
    );
    client.on('notification', (notification) => {
      if (notification.channel === this.#channel && notification.payload !== undefined) {
        dispatch(notification.payload, this.#listeners, this.#onError);
      }
    });
    try {
      await client.connect();
      await client.query(`listen "${this.#channel}"`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#listeners.size === 0) {
      // Everyone unsubscribed while we were connecting.
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.Client, error: unknown): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#onError(error);
    this.#reconnect(0);
  }

  #reconnect(attempt: number): void {
    if (this.#listeners.size === 0) return;
    const ceiling = Math.min(this.#delay.max, this.#delay.min * 2 ** attempt);
    // Full jitter between half and all of the ceiling, so instances restarted together do not reconnect in step.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#listen().then(
        () => {
          if (!this.#client) return;
          this.#onReconnect();
          for (const onGap of this.#gapListeners.values()) onGap();
        },
        (error: unknown) => {
          this.#onError(error);
          this.#reconnect(attempt + 1);
        },
      );
    }, delay);
    this.#retry.unref();
  }
}
