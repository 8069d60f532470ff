import type { Redis } from 'ioredis';
import { DeadlineWatch } from './deadline-watch.js';
import type { SecurityEvent, SecurityEventLog, SecuritySummary } from './security-event.js';
import { securityEventSchema, summarize } from './security-event.js';

export interface RedisEventLogOptions {
  redis: Redis;
  prefix?: string;
  /** Events kept per user and per tenant (a capped list each). */
  maxPerScope?: number;
  retentionMs?: number;
  timeoutMs?: number;
}

/** Capped newest-first lists per user and per tenant; summaries are derived when read. */
export class RedisEventLog implements SecurityEventLog {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxPerScope: number;
  readonly #retentionMs: number;
  readonly #deadlines: DeadlineWatch;

  constructor(options: RedisEventLogOptions) {
    this.#redis = options.redis;
    this.#prefix = `${options.prefix ?? 'sk:'}ev:`;
    this.#maxPerScope = options.maxPerScope ?? 200;
    this.#retentionMs = options.retentionMs ?? 30 * 24 * 3_600_000;
    this.#deadlines = new DeadlineWatch(options.timeoutMs ?? 500, 'security event log');
  }

  async record(event: SecurityEvent): Promise<void> {
    const value = JSON.stringify(event);
    const keys = [this.#userKey(event.userId)];
    if (event.tenantId !== undefined) keys.push(this.#tenantKey(event.tenantId));
    await this.#deadlines.track(
      Promise.all(
        keys.map((key) =>
          this.#redis
            .multi()
            .lpush(key, value)
            .ltrim(key, 0, this.#maxPerScope - 1)
            .pexpire(key, this.#retentionMs)
            .exec(),
        ),
      ),
    );
  }

  async summarizeUser(userId: string, options: { now: number; limit?: number }): Promise<SecuritySummary> {
    return summarize(await this.#read(this.#userKey(userId)), options.now, options.limit ?? 50);
  }

  async summarizeTenant(
    tenantId: string,
    options: { now: number; limit?: number },
  ): Promise<SecuritySummary> {
    return summarize(await this.#read(this.#tenantKey(tenantId)), options.now, options.limit ?? 50);
  }

  async #read(key: string): Promise<SecurityEvent[]> {
    const raw = await this.#deadlines.track(this.#redis.lrange(key, 0, -1));
    const events: SecurityEvent[] = [];
    for (const item of raw) {
      // A line that is not one of our events is skipped, not trusted: the summary is advisory.
      let value: unknown;
      try {
        value = JSON.parse(item);
      } catch {
        continue;
      }
      const parsed = securityEventSchema.safeParse(value);
      if (parsed.success) events.push(parsed.data);
    }
    return events;
  }

  #userKey(userId: string): string {
    return `${this.#prefix}u:{${userId}}`;
  }

  #tenantKey(tenantId: string): string {
    return `${this.#prefix}t:{${tenantId}}`;
  }
}
