import { deepFreeze } from './deep-freeze.js';
import { RecentMap } from './recent-map.js';
import type { SessionRecord } from './session-record.js';
import { isInUse } from './session-record.js';

/**
 * For store authors: the last stored value read for each session id and the record it decoded to. Decoding and
 * validating with core's schema is a pure function of the stored value (and the key it was read under), so a
 * read that returns the very same text may reuse the validated record instead of parsing it again; any other
 * text is decoded and validated in full. Records are frozen before they are shared between callers, so no
 * caller can change what another one reads.
 */
export class DecodedRecordCache {
  readonly #entries: RecentMap<string, { raw: string; record: SessionRecord }>;
  readonly #keeps: boolean;

  constructor(capacity: number) {
    this.#entries = new RecentMap(capacity);
    this.#keeps = capacity > 0;
  }

  get(id: string, raw: string): SessionRecord | undefined {
    const entry = this.#entries.get(id);
    return entry !== undefined && entry.raw === raw ? entry.record : undefined;
  }

  remember(id: string, raw: string, record: SessionRecord): SessionRecord {
    this.#entries.delete(id);
    // Only sessions in use are kept: a revoked or expired one is read about once more, when its token comes
    // back, and keeping it would fill the cache with sessions nobody reads.
    if (!this.#keeps || !isInUse(record.state)) return record;
    const frozen = deepFreeze(record);
    this.#entries.set(id, { raw, record: frozen });
    return frozen;
  }

  forget(id: string): void {
    this.#entries.delete(id);
  }
}
