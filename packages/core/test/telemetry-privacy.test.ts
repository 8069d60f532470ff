import { trace } from '@opentelemetry/api';
import type { OtelSdk } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, harness } from './helpers.js';

let sdk: OtelSdk;
beforeEach(async () => {
  sdk = await startOtelSdk();
});
afterEach(() => sdk.shutdown());

const EMAIL = 'alice.liddell@example.com';
const IP = '203.0.113.77';
const SECRET = 'server-secret-'.padEnd(40, 'x');

/** Every string the exporters would send: span names, attribute values, event names and their attributes. */
function exportedStrings(): string[] {
  const out: string[] = [];
  const values = (attributes: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(attributes)) out.push(key, String(value));
  };
  for (const span of sdk.spans()) {
    out.push(span.name, span.status.message ?? '');
    values(span.attributes);
    for (const event of span.events) {
      out.push(event.name);
      values(event.attributes ?? {});
    }
  }
  for (const name of [
    'sessionkit.session.validations',
    'sessionkit.session.operation.duration',
    'sessionkit.session.created',
    'sessionkit.session.revocations',
    'sessionkit.token.rejections',
    'db.client.operation.duration',
  ]) {
    for (const point of sdk.points(name)) values(point.attributes);
  }
  return out;
}

describe('telemetry privacy, with the real SDK', () => {
  it('exports no token, secret, raw IP or e-mail through a full login, validate, refresh, step-up, revoke flow', async () => {
    const { manager } = await harness({ secret: SECRET }, { withAccessTokens: true });
    const context = { ip: IP, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };
    const sensitive: string[] = [EMAIL, IP, SECRET];
    const keep = (...values: (string | undefined)[]) => {
      for (const value of values) {
        if (value === undefined) continue;
        sensitive.push(value);
        // The secret half of `<id>.<secret>` tokens on its own as well.
        const secretPart = value.split('.').at(-1);
        if (secretPart !== undefined && secretPart.length >= 16) sensitive.push(secretPart);
      }
    };
    await trace.getTracer('test').startActiveSpan('POST /login', async (root) => {
      const login = await manager.create({ userId: EMAIL, tenantId: 'acme', context });
      keep(login.token, login.refreshToken, login.accessToken);
      await manager.validate(login.token, { tier: 'full', context });
      await manager.validate(login.accessToken, { tier: 'fast', context });
      await manager.validate(login.accessToken, { tier: 'full', context });
      const refreshed = await manager.refresh(login.refreshToken, { context });
      keep(refreshed.refreshToken, refreshed.accessToken);
      const stepped = await manager.stepUp(login.session.id, { aal: 2, context });
      keep(stepped.token, stepped.refreshToken, stepped.accessToken);
      const transfer = await manager.createTransferCode(login.session.id, { mode: 'fork', context });
      keep(transfer.code);
      expect(await codeOf(manager.validate(login.token, { tier: 'full', context }))).toBe('token.invalid');
      expect(await codeOf(manager.validate(`${login.session.id}.${'A'.repeat(43)}`, { context }))).toBe(
        'token.invalid',
      );
      expect(await codeOf(manager.refresh(login.refreshToken, { context }))).toBe('token.reuse_detected');
      await manager.revokeAllForUser(EMAIL, { context });
      root.end();
    });
    await sdk.collect();

    const exported = exportedStrings();
    expect(sdk.spans().length).toBeGreaterThan(20);
    for (const value of sensitive) {
      const leaks = exported.filter((candidate) => candidate.includes(value));
      expect(leaks, `exported telemetry contains ${value.slice(0, 12)}...`).toEqual([]);
    }
  });
});
