import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, SessionManager } from '@sessionkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { Auditor, loggerSink, MemoryLedger, verifyChain } from '../src/index.js';
import { integrityKeys, ipKeys } from './support/keys.js';

const directory = await mkdtemp(join(tmpdir(), 'sk-audit-log-'));

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function linesOf(path: string) {
  const text = await readFile(path, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('logger sink', () => {
  it('writes pino-compatible JSON lines with session ids as salted hashes', async () => {
    const path = join(directory, 'audit.log');
    const stream = createWriteStream(path);
    const ledger = new MemoryLedger({ keys: integrityKeys, scope: 'node-a' });
    const auditor = new Auditor({
      ledger,
      sinks: [loggerSink({ stream, sessionIdSalt: 'salt-for-tests' })],
      ip: { keys: ipKeys },
    });
    const manager = new SessionManager({ store: new MemoryStore() });
    auditor.attach(manager.events);
    const issued = await manager.create({ userId: 'alice', context: { ip: '203.0.113.7' } });
    await manager.revoke(issued.session.id, { by: 'admin', reason: 'suspicious' });
    auditor.record('security.locked_out', { userId: 'alice', details: { until: 1, failures: 10 } });
    await auditor.close();
    await new Promise<void>((resolve) => stream.end(resolve));

    const lines = await linesOf(path);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [30, 'session.created'],
      [40, 'session.revoked_by_admin'],
      [50, 'security.locked_out'],
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({
        time: expect.any(Number),
        pid: process.pid,
        hostname: expect.any(String),
      });
    }
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(issued.session.id);
    expect(text).not.toContain('203.0.113.7');
    expect(lines[0].audit.sessionId).toMatch(/^h:/);
    expect(lines[1].audit.sessionId).toBe(lines[0].audit.sessionId);
    expect(lines[1].audit).toMatchObject({ actor: { type: 'admin' }, reason: 'suspicious', seq: 2 });
  });

  it('in clear mode the log alone verifies with verifyChain', async () => {
    const path = join(directory, 'clear.log');
    const stream = createWriteStream(path);
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys, scope: 'node-b' }),
      sinks: [loggerSink({ stream, sessionIds: 'clear' })],
      ip: { keys: ipKeys },
    });
    for (let index = 0; index < 5; index += 1)
      auditor.record('auth.mfa_failed', { userId: 'carol', sessionId: `s${index}` });
    await auditor.close();
    await new Promise<void>((resolve) => stream.end(resolve));
    const records = (await linesOf(path)).map((line) => line.audit);
    expect(await verifyChain(records, { chain: 'node-b/global', keys: integrityKeys })).toMatchObject({
      ok: true,
      checked: 5,
    });
    records.splice(2, 1);
    expect(
      (await verifyChain(records, { chain: 'node-b/global', keys: integrityKeys })).firstBad,
    ).toMatchObject({
      fault: 'sequence_gap',
      seq: 4,
    });
  });
});
