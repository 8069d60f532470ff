import { hmacSha256 } from '@sessionkit/core';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/index.js';
import { Auditor, MemoryLedger, sealInput, verifyChain } from '../src/index.js';
import { collectingSink } from './support/collecting-sink.js';
import { integrityKeys, ipKeys } from './support/keys.js';

async function chainOf(count: number, keys = integrityKeys): Promise<AuditRecord[]> {
  const sink = collectingSink();
  const auditor = new Auditor({
    ledger: new MemoryLedger({ keys, scope: 'test' }),
    sinks: [sink],
    ip: { keys: ipKeys },
  });
  for (let index = 0; index < count; index += 1) {
    auditor.record('auth.login_failed', { userId: `u${index}`, details: { failures: index } });
  }
  await auditor.close();
  return sink.records;
}

const options = { chain: 'test/global', keys: integrityKeys };

describe('verifyChain', () => {
  it('accepts an intact chain and links every record to the one before it', async () => {
    const records = await chainOf(6);
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records[0]?.prevHash).toBe('genesis');
    expect(records[3]?.prevHash).toBe(records[2]?.hash);
    expect(await verifyChain(records, options)).toEqual({
      chain: 'test/global',
      ok: true,
      checked: 6,
      firstSeq: 1,
      lastSeq: 6,
    });
  });

  it('names an edited record', async () => {
    const records = await chainOf(6);
    const edited = records.map((record) => (record.seq === 4 ? { ...record, userId: 'mallory' } : record));
    const result = await verifyChain(edited, options);
    expect(result).toMatchObject({
      ok: false,
      checked: 3,
      firstBad: { fault: 'hash_mismatch', seq: 4, id: records[3]?.id },
    });
  });

  it('names the record after a deleted one', async () => {
    const records = await chainOf(6);
    const result = await verifyChain(
      records.filter((record) => record.seq !== 3),
      options,
    );
    expect(result).toMatchObject({ ok: false, firstBad: { fault: 'sequence_gap', seq: 4, expectedSeq: 3 } });
  });

  it('names the first record out of place when records are reordered', async () => {
    const records = await chainOf(6);
    const reordered = [records[0], records[1], records[3], records[2], records[4], records[5]];
    const result = await verifyChain(reordered, options);
    expect(result).toMatchObject({ ok: false, checked: 2, firstBad: { seq: 4, expectedSeq: 3 } });
  });

  it('catches a record renumbered and relinked without the key, and a record under an unknown key', async () => {
    const records = await chainOf(4);
    // The forger deletes record 2 and renumbers the rest, recomputing hashes with a key they made up.
    const forged: AuditRecord[] = [records[0] as AuditRecord];
    for (const record of records.slice(2)) {
      const previous = forged[forged.length - 1] as AuditRecord;
      const body = { ...record, seq: previous.seq + 1, prevHash: previous.hash };
      forged.push({ ...body, hash: hmacSha256('guessed-key-guessed-key-guessed-key!', sealInput(body)) });
    }
    expect((await verifyChain(forged, options)).firstBad).toMatchObject({ fault: 'hash_mismatch', seq: 2 });
    const foreignKey = records.map((record) =>
      record.seq === 2 ? { ...record, hashKeyId: 'stolen' } : record,
    );
    expect((await verifyChain(foreignKey, options)).firstBad).toMatchObject({ fault: 'unknown_key', seq: 2 });
  });

  it('catches a deleted tail when given the recorded head, and malformed input without throwing', async () => {
    const records = await chainOf(5);
    const head = { seq: 5, hash: records[4]?.hash as string };
    expect((await verifyChain(records, { ...options, head })).ok).toBe(true);
    expect((await verifyChain(records.slice(0, 3), { ...options, head })).firstBad).toMatchObject({
      fault: 'truncated_tail',
    });
    expect((await verifyChain([{ nonsense: true }], options)).firstBad).toMatchObject({ fault: 'malformed' });
  });
});
