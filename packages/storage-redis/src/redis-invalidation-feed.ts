import { parseInput, StoreCorruptError } from '@sessionkit/core';
import type {
  InvalidationFeed,
  InvalidationListener,
  InvalidationMessage,
  InvalidationSubscribeOptions,
} from '@sessionkit/core/store';
import { z } from 'zod';
import type { CommandGuard } from './command-guard.js';
import { beforeDeadline, toStoreError } from './command-guard.js';
import type { RedisClient } from './redis-client.js';
import { isCluster } from './redis-client.js';

const invalidationMessageSchema = z.object({
  sessionId: z.string().min(1).max(128),
  kind: z.enum(['revoked', 'changed']),
  expiresAt: z.number().int().nonnegative(),
  authenticatedAt: z.number().int().nonnegative().optional(),
  // Optional: instances of earlier versions send none, and a rolling upgrade has both kinds talking.
  sentAt: z.number().int().nonnegative().optional(),
});

/** The subscriber keeps reconnecting (and ioredis re-subscribes) however long Redis is away. */
function subscriberBackoff(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}

/**
 * The invalidation feed over Redis pub/sub: PUBLISH/SUBSCRIBE on one node, sharded SPUBLISH/SSUBSCRIBE on
 * Cluster (a message then travels only within the channel's shard). Subscribing needs a connection of its own,
 * so the feed duplicates the store's client once, on the first subscription, and closes it after the last.
 * Messages are delivered at most once: a message published while a subscriber is reconnecting is lost, which
 * is why the local denylist it feeds is a cache in front of the store, never the only record of a revocation,
 * and why every subscriber's `onGap` is called once the subscriber connection is ready again.
 */
export class RedisInvalidationFeed implements InvalidationFeed {
  readonly #client: RedisClient;
  readonly #channel: string;
  readonly #guard: CommandGuard;
  readonly #onError: (error: Error) => void;
  readonly #listeners = new Set<InvalidationListener>();
  readonly #gapListeners = new Map<InvalidationListener, () => void>();
  #subscriber: RedisClient | undefined;
  #subscribing: Promise<void> | undefined;

  constructor(client: RedisClient, channel: string, guard: CommandGuard, onError: (error: Error) => void) {
    this.#client = client;
    this.#channel = channel;
    this.#guard = guard;
    this.#onError = onError;
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const payload = JSON.stringify(parseInput(invalidationMessageSchema, message, 'invalidation message'));
    const client = this.#client;
    await this.#guard.call(() =>
      isCluster(client) ? client.spublish(this.#channel, payload) : client.publish(this.#channel, payload),
    );
  }

  async subscribe(
    listener: InvalidationListener,
    options: InvalidationSubscribeOptions = {},
  ): Promise<() => Promise<void>> {
    // Each subscription is its own entry so one listener can subscribe twice and unsubscribe once.
    const entry: InvalidationListener = (message) => listener(message);
    this.#listeners.add(entry);
    if (options.onGap) this.#gapListeners.set(entry, options.onGap);
    try {
      this.#subscribing ??= this.#openSubscriber();
      await this.#subscribing;
    } catch (error) {
      this.#listeners.delete(entry);
      this.#gapListeners.delete(entry);
      throw error;
    }
    return async () => {
      this.#listeners.delete(entry);
      this.#gapListeners.delete(entry);
      if (this.#listeners.size === 0) await this.close();
    };
  }

  /** Ends the subscription connection; later subscriptions open a new one. */
  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#subscribing = undefined;
    if (subscriber) subscriber.disconnect();
  }

  async #openSubscriber(): Promise<void> {
    const client = this.#client;
    const subscriber = isCluster(client)
      ? client.duplicate([], {
          shardedSubscribers: true,
          enableOfflineQueue: true,
          lazyConnect: true,
          clusterRetryStrategy: subscriberBackoff,
        })
      : client.duplicate({
          enableOfflineQueue: true,
          lazyConnect: true,
          autoResubscribe: true,
          retryStrategy: subscriberBackoff,
        });
    subscriber.on('error', (error: Error) => this.#onError(error));
    const onMessage = (channel: string, payload: string) => {
      if (channel === this.#channel) this.#deliver(payload);
    };
    subscriber.on(isCluster(subscriber) ? 'smessage' : 'message', onMessage);
    this.#subscriber = subscriber;
    let connectedBefore = false;
    subscriber.on('ready', () => {
      // Every `ready` after the first follows an outage during which messages were lost.
      if (connectedBefore) for (const onGap of this.#gapListeners.values()) onGap();
      connectedBefore = true;
    });
    const deadline = Date.now() + this.#guard.timeoutMs;
    try {
      await beforeDeadline(subscriber.connect(), deadline, this.#guard.timeoutMs);
      await beforeDeadline(
        isCluster(subscriber) ? subscriber.ssubscribe(this.#channel) : subscriber.subscribe(this.#channel),
        deadline,
        this.#guard.timeoutMs,
      );
    } catch (error) {
      await this.close();
      throw toStoreError(error);
    }
  }

  #deliver(payload: string): void {
    let message: InvalidationMessage;
    try {
      message = invalidationMessageSchema.parse(JSON.parse(payload));
    } catch (cause) {
      this.#onError(new StoreCorruptError('Ignored a malformed invalidation message', { cause }));
      return;
    }
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (error) {
        this.#onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
