import { describe, expect, it } from 'vitest';
import { DecodedRecordCache } from '../src/decoded-record-cache.js';
import { sampleRecord } from '../src/store-kit/sample-record.js';

describe('DecodedRecordCache', () => {
  it('answers only for the very same text, with a deeply frozen record', () => {
    const cache = new DecodedRecordCache(10);
    const record = sampleRecord();
    const kept = cache.remember(record.id, 'text-1', record);
    expect(cache.get(record.id, 'text-1')).toBe(kept);
    expect(cache.get(record.id, 'text-2')).toBeUndefined();
    expect(Object.isFrozen(kept) && Object.isFrozen(kept.device) && Object.isFrozen(kept.metadata)).toBe(
      true,
    );
    cache.forget(record.id);
    expect(cache.get(record.id, 'text-1')).toBeUndefined();
  });

  it('stays within its capacity, dropping the least recently remembered id, and keeps nothing at 0', () => {
    const cache = new DecodedRecordCache(2);
    const [a, b, c] = [sampleRecord(), sampleRecord(), sampleRecord()];
    cache.remember(a.id, 'a', a);
    cache.remember(b.id, 'b', b);
    cache.remember(a.id, 'a', a);
    cache.remember(c.id, 'c', c);
    expect(cache.get(b.id, 'b')).toBeUndefined();
    expect(cache.get(a.id, 'a')).toBeDefined();
    expect(cache.get(c.id, 'c')).toBeDefined();
    const none = new DecodedRecordCache(0);
    expect(none.remember(a.id, 'a', a)).toBe(a);
    expect(none.get(a.id, 'a')).toBeUndefined();
  });

  it('keeps only sessions in use: a revoked record is decoded afresh and drops what was kept for its id', () => {
    const cache = new DecodedRecordCache(10);
    const record = sampleRecord();
    cache.remember(record.id, 'live', record);
    const revoked = { ...record, state: 'revoked' as const, revokedAt: record.createdAt + 1, version: 2 };
    expect(cache.remember(record.id, 'revoked', revoked)).toBe(revoked);
    expect(cache.get(record.id, 'revoked')).toBeUndefined();
    expect(cache.get(record.id, 'live')).toBeUndefined();
  });
});
