import { SessionKitError, StoreCorruptError, StoreUnavailableError } from '@sessionkit/core';
import type { RedisClient } from './redis-client.js';

/** Replies a primary or cluster gives while it changes role or loads its data: the write was not applied. */
const TRANSIENT_REPLIES = ['READONLY', 'LOADING', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN'];
const RETRY_PAUSE_MS = 25;

/**
 * Runs one Redis command with the store's failure policy: a command is only sent while the client is ready (so
 * none waits in ioredis' offline queue), every command answers or fails with `store.unavailable` within the
 * timeout, and failover replies (READONLY, LOADING, ...) are retried inside that same budget.
 */
export class CommandGuard {
  readonly #client: RedisClient;
  readonly #timeoutMs: number;

  constructor(client: RedisClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * A ready client, the common case, costs one promise around the command's own; waiting for readiness and
   * retrying a failover reply take the long way.
   */
  call<T>(command: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#timeoutMs;
    if (this.#client.status !== 'ready') return this.#callLater(command, deadline);
    return this.#withinDeadline(command, deadline);
  }

  async #callLater<T>(command: () => Promise<T>, deadline: number): Promise<T> {
    if (this.#client.status !== 'ready') await this.#ready(deadline);
    return this.#withinDeadline(command, deadline);
  }

  /**
   * Settles with the command's reply, or rejects with `store.unavailable` once `deadline` passes. A failover
   * reply (READONLY, LOADING, ...) is retried inside the same budget.
   */
  #withinDeadline<T>(command: () => Promise<T>, deadline: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // A timer per command measured as cheap as none; a shared set of calls in flight, swept by one timer, made
      // every young-generation GC several times slower (it tied young promises to a long-lived table).
      const timer = setTimeout(
        () => reject(noAnswerWithin(this.#timeoutMs)),
        Math.max(0, deadline - Date.now()),
      );
      let reply: Promise<T>;
      try {
        reply = command();
      } catch (error) {
        reply = Promise.reject(error);
      }
      reply.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          const transient = transientReply(error);
          if (transient === undefined || Date.now() + RETRY_PAUSE_MS >= deadline) {
            reject(toStoreError(error));
            return;
          }
          // A primary demoted to replica answers READONLY; reconnecting reaches whatever the address (or the
          // Sentinel) now names as primary. Only the first caller to see it reconnects.
          if (transient === 'READONLY' && !this.#client.isCluster && this.#client.status === 'ready') {
            this.#client.disconnect(true);
          }
          sleep(RETRY_PAUSE_MS)
            .then(() => this.#callLater(command, deadline))
            .then(resolve, reject);
        },
      );
    });
  }

  async #ready(deadline: number): Promise<void> {
    const client = this.#client;
    if (client.status === 'end') throw new StoreUnavailableError('Redis connection has ended');
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          client.off('ready', onReady);
          reject(
            new StoreUnavailableError(
              `Redis is not connected (${client.status}) after ${this.#timeoutMs} ms`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      client.once('ready', onReady);
    });
  }
}

/** Settles with `promise`, or rejects with `store.unavailable` once `deadline` passes. */
export async function beforeDeadline<T>(
  promise: Promise<T>,
  deadline: number,
  timeoutMs: number,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(noAnswerWithin(timeoutMs)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function noAnswerWithin(timeoutMs: number): StoreUnavailableError {
  // `timeoutMs` marks it as a timeout for the store-timeout metric (core's traced-store.ts).
  return new StoreUnavailableError(`Redis did not answer within ${timeoutMs} ms`, { details: { timeoutMs } });
}

function transientReply(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return undefined;
  return TRANSIENT_REPLIES.find((prefix) => error.message.startsWith(prefix));
}

export function toStoreError(error: unknown): SessionKitError {
  if (error instanceof SessionKitError) return error;
  if (error instanceof Error && /^(WRONGTYPE|SKCORRUPT)/.test(error.message)) {
    return new StoreCorruptError('A stored session value is corrupt or of another type', { cause: error });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`Redis command failed: ${reason}`, { cause: error });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
