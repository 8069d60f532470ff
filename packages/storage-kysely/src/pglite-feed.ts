import type { PGliteInterface } from '@electric-sql/pglite';
import { parseInput } from '@sessionkit/core';
import type { InvalidationFeed, InvalidationListener, InvalidationMessage } from '@sessionkit/core/store';
import { toStoreError } from './database-errors.js';
import { channelSchema, DEFAULT_CHANNEL, dispatch, encodeMessage } from './invalidation-message.js';

export interface PGliteInvalidationFeedOptions {
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
  readonly #channel: string;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Set<InvalidationListener>();
  #listening: Promise<() => Promise<void>> | undefined;

  constructor(pglite: PGliteInterface, options: PGliteInvalidationFeedOptions = {}) {
    this.#pglite = pglite;
    this.#channel = parseInput(channelSchema, options.channel ?? DEFAULT_CHANNEL, 'channel');
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
