import type { PGliteInterface } from '@electric-sql/pglite';
import { parseInput } from '@sessionkit/core';
import type { InvalidationFeed, InvalidationListener, InvalidationMessage } from '@sessionkit/core/store';
import { toStoreError } from './database-errors.js';
import { channelForSchema, channelSchema, dispatch, encodeMessage } from './invalidation-message.js';
import { DEFAULT_SCHEMA } from './migrations.js';

export interface PGliteInvalidationFeedOptions {
  /** The schema of the store it serves (default `sessionkit`); the channel is `<schema>_invalidation`. */
  schema?: string;
  /** Overrides the channel derived from `schema`. */
  channel?: string;
  /** Told about payloads that fail validation and listeners that throw; defaults to nothing. */
  onError?: (error: unknown) => void;
}

/**
 * LISTEN/NOTIFY on an embedded PGlite instance. PGlite is one process, so this feed reaches every store
 * sharing the instance (several SessionManagers in one process, tests), not other machines.
 */
export class PGliteInvalidationFeed implements InvalidationFeed {
  readonly #pglite: PGliteInterface;
  /** The schema whose store this feed serves: KyselyStore refuses a feed for another one. */
  readonly schema: string | undefined;
  readonly #channel: string;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Set<InvalidationListener>();
  #listening: Promise<() => Promise<void>> | undefined;

  constructor(pglite: PGliteInterface, options: PGliteInvalidationFeedOptions = {}) {
    this.#pglite = pglite;
    // An explicit channel without a schema: the caller chose the channel, so no schema is claimed.
    this.schema = options.schema ?? (options.channel === undefined ? DEFAULT_SCHEMA : undefined);
    this.#channel = parseInput(channelSchema, options.channel ?? channelForSchema(options.schema), 'channel');
    this.#onError = options.onError ?? (() => {});
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const payload = encodeMessage(message);
    try {
      await this.#pglite.query('select pg_notify($1, $2)', [this.#channel, payload]);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async subscribe(listener: InvalidationListener): Promise<() => Promise<void>> {
    const entry: InvalidationListener = (message) => listener(message);
    this.#listeners.add(entry);
    try {
      this.#listening ??= this.#pglite.listen(this.#channel, (payload) =>
        dispatch(payload, this.#listeners, this.#onError),
      );
      await this.#listening;
    } catch (error) {
      this.#listening = undefined;
      this.#listeners.delete(entry);
      throw toStoreError(error);
    }
    return async () => {
      this.#listeners.delete(entry);
      if (this.#listeners.size === 0) await this.close();
    };
  }

  /** Stops listening; subscribing again starts over. */
  async close(): Promise<void> {
    this.#listeners.clear();
    const listening = this.#listening;
    this.#listening = undefined;
    if (listening) await (await listening)();
  }
}
