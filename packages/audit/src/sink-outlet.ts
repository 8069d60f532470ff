import type { AuditRecord } from './audit-record.js';
import { BoundedQueue } from './bounded-queue.js';
import type { AuditSink } from './sink.js';
import { sleep, withTimeout } from './timing.js';

export interface OutletOptions {
  maxRecords: number;
  batchSize: number;
  maxAttempts: number;
  retryDelayMs: number;
  writeTimeoutMs: number;
}

export interface DropNotice {
  /** `intake` (the auditor's buffer), `ledger`, or a sink's name. */
  stage: string;
  count: number;
  cause: 'overflow' | 'write_failed' | 'shutdown';
  error?: unknown;
}

export interface OutletStats {
  written: number;
  dropped: number;
  failures: number;
  pending: number;
}

/** One sink's own buffer and writer, so a slow sink holds up nobody but itself. */
export class SinkOutlet {
  readonly sink: AuditSink;
  readonly #options: OutletOptions;
  readonly #queue: BoundedQueue<AuditRecord>;
  readonly #onDrop: (notice: DropNotice) => void;
  #pumping: Promise<void> | undefined;
  #written = 0;
  #dropped = 0;
  #failures = 0;

  constructor(sink: AuditSink, options: OutletOptions, onDrop: (notice: DropNotice) => void) {
    this.sink = sink;
    this.#options = options;
    this.#queue = new BoundedQueue(options.maxRecords);
    this.#onDrop = onDrop;
  }

  get stats(): OutletStats {
    return {
      written: this.#written,
      dropped: this.#dropped,
      failures: this.#failures,
      pending: this.#queue.size,
    };
  }

  push(records: readonly AuditRecord[]): void {
    let overflow = 0;
    for (const record of records) if (!this.#queue.push(record)) overflow += 1;
    if (overflow > 0) this.#drop({ stage: this.sink.name, count: overflow, cause: 'overflow' });
    this.#start();
  }

  /** Resolves once everything queued so far has been written or dropped. */
  async idle(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  #start(): void {
    if (this.#pumping || this.#queue.size === 0) return;
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
      this.#start();
    });
  }

  async #pump(): Promise<void> {
    while (this.#queue.size > 0) await this.#deliver(this.#queue.take(this.#options.batchSize));
  }

  async #deliver(batch: AuditRecord[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#options.maxAttempts; attempt += 1) {
      try {
        await withTimeout(this.sink.write(batch), this.#options.writeTimeoutMs, `${this.sink.name} write`);
        this.#written += batch.length;
        return;
      } catch (error) {
        this.#failures += 1;
        lastError = error;
        if (attempt < this.#options.maxAttempts) await sleep(this.#options.retryDelayMs * 2 ** (attempt - 1));
      }
    }
    this.#drop({ stage: this.sink.name, count: batch.length, cause: 'write_failed', error: lastError });
  }

  #drop(notice: DropNotice): void {
    this.#dropped += notice.count;
    this.#onDrop(notice);
  }
}
