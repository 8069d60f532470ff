import type { OtelSdk } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditSink } from '../src/index.js';
import { Auditor, MemoryLedger } from '../src/index.js';
import { integrityKeys, ipKeys } from './support/keys.js';

let sdk: OtelSdk;

beforeAll(async () => {
  sdk = await startOtelSdk();
});

afterAll(() => sdk.shutdown());

async function points(name: string): Promise<Array<[unknown, unknown]>> {
  await sdk.collect();
  return sdk.points(name).map((point) => [point.attributes, point.value]);
}

describe('audit metrics, with the real OTel SDK', () => {
  it('reports the backlog of a stuck sink and counts the records it had to drop', async () => {
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sink: AuditSink = { name: 'slow', write: () => stuck };
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys }),
      sinks: [sink],
      ip: { keys: ipKeys },
      sinkBuffer: { maxRecords: 3, batchSize: 1 },
    });
    for (let i = 0; i < 6; i += 1) auditor.record('auth.login_failed', { userId: `user-${i}` });
    await expect
      .poll(async () => (await points('sessionkit.audit.dropped')).length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await points('sessionkit.audit.dropped')).toEqual([
      [{ 'sessionkit.audit.stage': 'slow', 'sessionkit.audit.cause': 'overflow' }, 3],
    ]);
    const waiting = auditor.stats.sinks.slow?.pending;
    expect(waiting).toBeGreaterThan(0);
    expect(await points('sessionkit.audit.backlog')).toContainEqual([
      { 'sessionkit.audit.stage': 'slow' },
      waiting,
    ]);
    release();
    expect(await auditor.close()).toBe(true);
  });
});
