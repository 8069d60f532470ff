import { randomToken } from '@sessionkit/core';
import type { AuditEntry, AuditRecord } from './audit-record.js';
import type { ChainHead } from './chain.js';
import { EMPTY_HEAD, linkEntry } from './chain.js';
import type { Keyring } from './keyring.js';

/**
 * Numbers and links entries into their chains and persists them. It is the one authority on a chain's head,
 * so it must serialise appends per chain: in the process, and across processes when it is shared.
 */
export interface AuditLedger {
  /** Prefixed to chain names by the auditor, for ledgers whose chains are private to one process. */
  readonly scope?: string;
  /**
   * `retry`: the same batch failed before, possibly after it was stored (a lost reply); a ledger that persists
   * must then return what it stored instead of linking the entries again.
   */
  append(entries: readonly AuditEntry[], options?: AppendOptions): Promise<AuditRecord[]>;
}

export interface AppendOptions {
  retry?: boolean;
}

export interface MemoryLedgerOptions {
  keys: Keyring;
  /** Defaults to a random id: several processes feeding one log then write distinct chains, never a fork. */
  scope?: string;
}

/**
 * Links in process memory and keeps only the heads. For deployments whose durable copy is a log or a stream;
 * each process is then its own chain (see `scope`).
 */
export class MemoryLedger implements AuditLedger {
  readonly scope: string;
  readonly #keys: Keyring;
  readonly #heads = new Map<string, ChainHead>();

  constructor(options: MemoryLedgerOptions) {
    this.#keys = options.keys;
    this.scope = options.scope ?? `proc-${randomToken(6)}`;
  }

  head(chain: string): ChainHead {
    return this.#heads.get(chain) ?? EMPTY_HEAD;
  }

  // Synchronous inside: no other append can interleave, which is the per-chain serialisation.
  async append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    return entries.map((entry) => {
      const record = linkEntry(entry, this.head(entry.chain), this.#keys);
      this.#heads.set(entry.chain, { seq: record.seq, hash: record.hash });
      return record;
    });
  }
}
