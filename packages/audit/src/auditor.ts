import type { Clock, SessionEvents } from '@sessionkit/core';
import { InvalidInputError, parseInput, randomToken, systemClock } from '@sessionkit/core';
import type { z } from 'zod';
import type { AuditAction } from './actions.js';
import { auditActions } from './actions.js';
import { countDrop, observeBacklog } from './audit-metrics.js';
import type { AuditEntry } from './audit-record.js';
import type { AuditorConfigInput } from './auditor-config.js';
import { auditorConfigSchema } from './auditor-config.js';
import { BoundedQueue } from './bounded-queue.js';
import { entryFromEvent } from './event-mapping.js';
import type { IpPrivacyInput } from './ip-hasher.js';
import { IpHasher } from './ip-hasher.js';
import type { AuditLedger } from './ledger.js';
import type { PersonalDataVault } from './personal-data.js';
import type { RawEntry } from './raw-entry.js';
import type { AuditRecordInput } from './record-input.js';
import { parseRecordInput } from './record-input.js';
import { redactJson, redactText } from './redaction.js';
import type { AuditSink } from './sink.js';
import type { DropNotice, OutletStats } from './sink-outlet.js';
import { SinkOutlet } from './sink-outlet.js';
import { sleep } from './timing.js';
import { UserAgentParser } from './user-agent.js';

export interface AuditorOptions extends AuditorConfigInput {
  ledger: AuditLedger;
  sinks?: AuditSink[];
  clock?: Clock;
  /** Called when a stage starts dropping (once per episode, not per record). */
  onDrop?: (notice: DropNotice) => void;
  /** Called for each failed ledger write (the batch is kept and retried). */
  onLedgerError?: (error: unknown) => void;
  /** Seals each record's personal details under its user's key before chaining (crypto-shredding). */
  personalData?: PersonalDataVault;
}

export interface AuditorStats {
  recorded: number;
  written: number;
  pending: number;
  dropped: number;
  ledgerFailures: number;
  sinks: Record<string, OutletStats>;
}

interface DropTally {
  count: number;
  since: number;
  until: number;
}

/**
 * Records who did what to which session, when and from where. `record()` and the engine listener only
 * validate and queue; hashing, parsing, redaction, chaining and writing happen in batches in the background,
 * so a slow or failing ledger or sink costs the request path nothing but a bounded queue.
 */
export class Auditor {
  readonly #config: z.output<typeof auditorConfigSchema>;
  readonly #ledger: AuditLedger;
  readonly #outlets: SinkOutlet[];
  readonly #observers: AuditSink[];
  readonly #clock: Clock;
  readonly #ipHasher: IpHasher;
  readonly #agents = new UserAgentParser();
  readonly #queue: BoundedQueue<RawEntry>;
  readonly #onDrop: ((notice: DropNotice) => void) | undefined;
  readonly #onLedgerError: ((error: unknown) => void) | undefined;
  readonly #personalData: PersonalDataVault | undefined;
  readonly #detach = new Set<() => void>();
  readonly #stopBacklog: () => void;
  readonly #tallies = new Map<string, DropTally>();
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retrying: AuditEntry[] | undefined;
  #lastReportAt = Number.NEGATIVE_INFINITY;
  #abandoned = false;
  #closed = false;
  #finalReport = false;
  #recorded = 0;
  #written = 0;
  #dropped = 0;
  #ledgerFailures = 0;
  /** Record ids: a random per-auditor prefix (96 bits) and a counter, unique without a CSPRNG call each. */
  readonly #idPrefix = randomToken(12);
  #nextId = 0;

  constructor(options: AuditorOptions) {
    const { ledger, sinks, clock, onDrop, onLedgerError, personalData, ...config } = options;
    this.#config = parseInput(auditorConfigSchema, config, 'auditor config');
    const names = (sinks ?? []).map((sink) => sink.name);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated !== undefined) {
      // Stats, drop notices and drop records name sinks; two of one name could not be told apart.
      throw new InvalidInputError(`Two sinks are named ${repeated}`, [
        { path: 'sinks', message: 'names must be unique' },
      ]);
    }
    this.#ledger = ledger;
    this.#clock = clock ?? systemClock;
    this.#ipHasher = new IpHasher(this.#config.ip as IpPrivacyInput);
    this.#queue = new BoundedQueue(this.#config.buffer.maxRecords);
    this.#onDrop = onDrop;
    this.#onLedgerError = onLedgerError;
    this.#personalData = personalData;
    this.#outlets = (sinks ?? []).map(
      (sink) => new SinkOutlet(sink, this.#config.sinkBuffer, (notice) => this.#noteDrop(notice)),
    );
    this.#observers = (sinks ?? []).filter((sink) => sink.observe !== undefined);
    this.#stopBacklog = observeBacklog(() => this.stats);
  }

  /** Subscribes to a session manager's events (`manager.events`); returns the unsubscribe function. */
  attach(events: SessionEvents): () => void {
    const unsubscribe = events.subscribe((event) => this.#enqueue(entryFromEvent(event)));
    const detach = () => {
      unsubscribe();
      this.#detach.delete(detach);
    };
    this.#detach.add(detach);
    return detach;
  }

  /**
   * Records something the engine does not see: failed logins, MFA, rate limits, lockouts, admin actions.
   * Throws `input.invalid` on bad input; never throws or waits because of a sink.
   */
  record<A extends AuditAction>(action: A, input: AuditRecordInput<A>): void {
    this.#enqueue(parseRecordInput(action, input, this.#clock.now()));
  }

  /** The keyed hashes of an address under every key, to look up its records across key rotations. */
  ipDigests(address: string): { keyId: string; hash: string }[] {
    return this.#ipHasher.digests(address);
  }

  get stats(): AuditorStats {
    return {
      recorded: this.#recorded,
      written: this.#written,
      pending: this.#queue.size + (this.#retrying?.length ?? 0),
      dropped: this.#dropped,
      ledgerFailures: this.#ledgerFailures,
      sinks: Object.fromEntries(this.#outlets.map((outlet) => [outlet.sink.name, outlet.stats])),
    };
  }

  /** Writes out everything recorded so far; false if the ledger or a sink could not finish in time. */
  async flush(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (
        Date.now() < deadline &&
        (this.#queue.size > 0 || this.#retrying || this.#loop || this.#reportDue())
      ) {
        this.#start();
        await Promise.race([this.#loop, sleep(Math.max(1, deadline - Date.now()))]);
      }
      const drained = this.#queue.size === 0 && !this.#retrying && !this.#loop;
      const sinksIdle = Promise.all(this.#outlets.map((outlet) => outlet.idle())).then(() => true);
      const idle = await Promise.race([
        sinksIdle,
        sleep(Math.max(1, deadline - Date.now())).then(() => false),
      ]);
      // A sink that dropped while we waited owes the trail a drop record; go round once more to write it.
      if (!drained || !idle || !this.#reportDue()) return drained && idle;
    }
  }

  /**
   * Detaches, flushes for up to `timeoutMs`, then gives up on what is left: it is counted as dropped, and a
   * ledger write still failing is not retried again.
   */
  async close(timeoutMs = 5000): Promise<boolean> {
    for (const detach of [...this.#detach]) detach();
    this.#stopBacklog();
    this.#closed = true;
    this.#finalReport = true;
    const flushed = await this.flush(timeoutMs);
    clearTimeout(this.#timer);
    if (!flushed) {
      this.#abandoned = true;
      const left = this.#queue.take(this.#queue.size).length;
      if (left > 0) this.#noteDrop({ stage: 'intake', count: left, cause: 'shutdown' });
      // The loop is at most one backoff away from noticing; a write that hangs is the driver's timeout's to end.
      await Promise.race([this.#loop, sleep(this.#config.ledgerRetry.maxDelayMs + 1000)]);
    }
    return flushed;
  }

  #enqueue(entry: RawEntry): void {
    if (this.#closed) return;
    this.#recorded += 1;
    const spec = auditActions[entry.action];
    const observation = {
      action: entry.action,
      category: spec.category,
      severity: spec.severity,
      outcome: entry.outcome ?? spec.outcome,
    };
    for (const sink of this.#observers) {
      try {
        sink.observe?.(observation);
      } catch {
        // Observation is best effort; the record itself still goes through the buffer.
      }
    }
    if (!this.#queue.push(entry)) {
      this.#noteDrop({ stage: 'intake', count: 1, cause: 'overflow' });
      return;
    }
    this.#schedule();
  }

  /**
   * A full batch is written at once; a partial one waits up to `flushIntervalMs` for company. Writing each
   * trickle as soon as the previous write returns would mean many small transactions, whose fixed cost
   * (round trips, commit) would dominate what a record costs.
   */
  #schedule(): void {
    if (this.#loop) return;
    if (this.#queue.size >= this.#config.buffer.batchSize) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      setImmediate(() => this.#start());
    } else if (!this.#timer && (this.#queue.size > 0 || this.#reportDue())) {
      this.#timer = setTimeout(() => this.#start(), this.#config.buffer.flushIntervalMs).unref();
    }
  }

  #start(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#loop) return;
    if (this.#queue.size === 0 && !this.#retrying && !this.#reportDue()) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      this.#schedule();
    });
  }

  /** Writes what is queued now (retrying a failed batch first), then full batches while there are any. */
  async #run(): Promise<void> {
    let delay = this.#config.ledgerRetry.initialDelayMs;
    let first = true;
    while (
      this.#retrying ||
      (first && (this.#queue.size > 0 || this.#reportDue())) ||
      this.#queue.size >= this.#config.buffer.batchSize
    ) {
      const batch = this.#retrying ?? (await this.#sealed(this.#nextBatch()));
      first = false;
      if (batch.length === 0) continue;
      try {
        const records = await this.#ledger.append(batch, { retry: this.#retrying === batch });
        this.#retrying = undefined;
        this.#written += records.length;
        delay = this.#config.ledgerRetry.initialDelayMs;
        for (const outlet of this.#outlets) outlet.push(records);
      } catch (error) {
        this.#ledgerFailures += 1;
        this.#onLedgerError?.(error);
        if (this.#abandoned) {
          this.#retrying = undefined;
          this.#noteDrop({ stage: 'ledger', count: batch.length, cause: 'shutdown', error });
          return;
        }
        this.#retrying = batch;
        await sleep(delay);
        delay = Math.min(delay * 2, this.#config.ledgerRetry.maxDelayMs);
      }
    }
  }

  /**
   * Entries whose personal details cannot be sealed (the key store is down) are dropped and counted: they are
   * never written in the clear, and a retry later would find the same store down with more waiting behind it.
   */
  async #sealed(entries: AuditEntry[]): Promise<AuditEntry[]> {
    const vault = this.#personalData;
    if (!vault) return entries;
    try {
      return await Promise.all(entries.map((entry) => vault.seal(entry)));
    } catch (error) {
      this.#noteDrop({ stage: 'personal-data', count: entries.length, cause: 'write_failed', error });
      return [];
    }
  }

  #nextBatch(): AuditEntry[] {
    const raw = [...this.#dropReports(), ...this.#queue.take(this.#config.buffer.batchSize)];
    return raw.map((entry) => this.#normalise(entry));
  }

  /** Drops become records in the trail itself, so a gap in what was recorded is on the record. */
  #reportDue(): boolean {
    if (this.#tallies.size === 0) return false;
    return this.#finalReport || this.#clock.now() - this.#lastReportAt >= this.#config.dropReportIntervalMs;
  }

  #dropReports(): RawEntry[] {
    if (!this.#reportDue()) return [];
    const now = this.#clock.now();
    // On close the last tally is written once, whatever the interval; drops that report causes are not chased.
    this.#finalReport = false;
    this.#lastReportAt = now;
    const reports = [...this.#tallies].map(
      ([stage, tally]): RawEntry => ({
        action: 'audit.records_dropped',
        at: now,
        actor: { type: 'system' },
        reason: `${tally.count} audit records dropped at ${stage}`,
        details: { stage, count: tally.count, since: tally.since, until: tally.until },
      }),
    );
    this.#tallies.clear();
    return reports;
  }

  #noteDrop(notice: DropNotice): void {
    countDrop(notice);
    this.#dropped += notice.count;
    const now = this.#clock.now();
    const tally = this.#tallies.get(notice.stage);
    if (tally) {
      tally.count += notice.count;
      tally.until = now;
      return;
    }
    this.#tallies.set(notice.stage, { count: notice.count, since: now, until: now });
    try {
      this.#onDrop?.(notice);
    } catch {
      // A failing alert hook must not turn a drop into a request failure.
    }
  }

  #normalise(raw: RawEntry): AuditEntry {
    const spec = auditActions[raw.action];
    const base =
      this.#config.chainBy === 'tenant' && raw.tenantId !== undefined ? `tenant:${raw.tenantId}` : 'global';
    const ip =
      raw.ip !== undefined
        ? this.#ipHasher.fromAddress(raw.ip)
        : raw.engineIpHash === undefined
          ? undefined
          : this.#ipHasher.fromEngineHash(raw.engineIpHash);
    const label = raw.deviceLabel === undefined ? undefined : redactText(raw.deviceLabel).slice(0, 200);
    const device = this.#agents.describe(raw.userAgent, label);
    // Absent fields stay undefined rather than missing: every writer treats both alike, and building one
    // literal is much cheaper than spreading optional parts.
    return {
      v: 1,
      id: `${this.#idPrefix}${(this.#nextId++).toString(36)}`,
      at: raw.at,
      chain: this.#ledger.scope === undefined ? base : `${this.#ledger.scope}/${base}`,
      action: raw.action,
      category: spec.category,
      severity: spec.severity,
      outcome: raw.outcome ?? spec.outcome,
      actor: raw.actor,
      userId: raw.userId,
      sessionId: raw.sessionId,
      tenantId: raw.tenantId,
      requestId: raw.requestId,
      reason: raw.reason === undefined ? undefined : redactText(raw.reason).slice(0, 200),
      ip,
      device,
      details: redactJson(raw.details) as AuditEntry['details'],
    };
  }
}
