import { digestsEqual } from '@sessionkit/core';
import type { AuditRecord } from './audit-record.js';
import { auditRecordSchema } from './audit-record.js';
import type { ChainHead } from './chain.js';
import { EMPTY_HEAD, expectedHash } from './chain.js';
import type { ChainCheckpoint } from './checkpoint.js';
import { checkpointIsAuthentic } from './checkpoint.js';
import type { Keyring } from './keyring.js';

export type ChainFault =
  | 'malformed'
  | 'foreign_chain'
  | 'unknown_key'
  | 'hash_mismatch'
  | 'sequence_gap'
  | 'out_of_order'
  | 'prev_hash_mismatch'
  | 'checkpoint_invalid'
  | 'truncated_tail';

export interface ChainBreak {
  fault: ChainFault;
  /** The sequence number the verifier expected at this point. */
  expectedSeq: number;
  /** The first bad record, as far as it could be read. */
  seq?: number;
  id?: string;
  message: string;
}

export interface ChainVerification {
  chain: string;
  ok: boolean;
  checked: number;
  firstSeq?: number;
  lastSeq?: number;
  firstBad?: ChainBreak;
}

export interface VerifyChainOptions {
  chain: string;
  keys: Keyring;
  /** Where retention left the chain's start; without it the chain must start at sequence 1 from genesis. */
  checkpoint?: ChainCheckpoint;
  /** The head the writer last recorded; with it a deleted tail is caught too. */
  head?: ChainHead;
}

/**
 * Checks records of one chain in the order given, stopping at the first bad one. Feed it in sequence order;
 * `finish` gives the verdict.
 */
export class ChainVerifier {
  readonly #options: VerifyChainOptions;
  #expected: ChainHead;
  #checked = 0;
  #firstSeq: number | undefined;
  #firstBad: ChainBreak | undefined;

  constructor(options: VerifyChainOptions) {
    this.#options = options;
    const checkpoint = options.checkpoint;
    this.#expected = checkpoint ? { seq: checkpoint.seq - 1, hash: checkpoint.prevHash } : EMPTY_HEAD;
    if (
      checkpoint &&
      (checkpoint.chain !== options.chain || !checkpointIsAuthentic(checkpoint, options.keys))
    ) {
      this.#fail({ fault: 'checkpoint_invalid', message: 'The retention checkpoint is not authentic' });
    }
  }

  get broken(): boolean {
    return this.#firstBad !== undefined;
  }

  push(value: unknown): boolean {
    if (this.#firstBad) return false;
    const parsed = auditRecordSchema.safeParse(value);
    if (!parsed.success) {
      return this.#fail(
        { fault: 'malformed', message: 'Record does not match the audit record schema' },
        value,
      );
    }
    const record = parsed.data;
    const { chain, keys } = this.#options;
    if (record.chain !== chain)
      return this.#fail({ fault: 'foreign_chain', message: `Record belongs to ${record.chain}` }, record);
    const expected = expectedHash(record, keys);
    if (expected === undefined) {
      return this.#fail(
        { fault: 'unknown_key', message: `Hash key ${record.hashKeyId} is not in the keyring` },
        record,
      );
    }
    if (!digestsEqual(expected, record.hash)) {
      return this.#fail(
        { fault: 'hash_mismatch', message: 'Record content does not match its hash (edited)' },
        record,
      );
    }
    const nextSeq = this.#expected.seq + 1;
    if (record.seq > nextSeq) {
      return this.#fail(
        {
          fault: 'sequence_gap',
          message: `Records ${nextSeq}..${record.seq - 1} are missing here (deleted or moved)`,
        },
        record,
      );
    }
    if (record.seq < nextSeq) {
      return this.#fail(
        { fault: 'out_of_order', message: `Expected ${nextSeq}, got ${record.seq} (reordered)` },
        record,
      );
    }
    if (!digestsEqual(record.prevHash, this.#expected.hash)) {
      return this.#fail(
        { fault: 'prev_hash_mismatch', message: 'Record does not link to the record before it' },
        record,
      );
    }
    this.#firstSeq ??= record.seq;
    this.#expected = { seq: record.seq, hash: record.hash };
    this.#checked += 1;
    return true;
  }

  finish(): ChainVerification {
    const head = this.#options.head;
    if (!this.#firstBad && head && head.seq > this.#expected.seq) {
      this.#fail({
        fault: 'truncated_tail',
        message: `The chain head is at ${head.seq} but records end at ${this.#expected.seq}`,
      });
    } else if (!this.#firstBad && head && head.seq === this.#expected.seq && head.seq > 0) {
      if (!digestsEqual(head.hash, this.#expected.hash)) {
        this.#fail({
          fault: 'hash_mismatch',
          message: 'The last record does not match the recorded chain head',
        });
      }
    }
    return {
      chain: this.#options.chain,
      ok: this.#firstBad === undefined,
      checked: this.#checked,
      ...(this.#firstSeq === undefined ? {} : { firstSeq: this.#firstSeq }),
      ...(this.#expected.seq === 0 ? {} : { lastSeq: this.#expected.seq }),
      ...(this.#firstBad === undefined ? {} : { firstBad: this.#firstBad }),
    };
  }

  #fail(fault: Omit<ChainBreak, 'expectedSeq'>, record?: unknown): false {
    const known = record as Partial<AuditRecord> | undefined;
    this.#firstBad = {
      ...fault,
      expectedSeq: this.#expected.seq + 1,
      ...(typeof known?.seq === 'number' ? { seq: known.seq } : {}),
      ...(typeof known?.id === 'string' ? { id: known.id } : {}),
    };
    return false;
  }
}

/** Verifies a whole chain from any source: an array, a log file's parsed lines, a stream, a SQL cursor. */
export async function verifyChain(
  records: Iterable<unknown> | AsyncIterable<unknown>,
  options: VerifyChainOptions,
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(options);
  for await (const record of records) {
    if (!verifier.push(record)) break;
  }
  return verifier.finish();
}
