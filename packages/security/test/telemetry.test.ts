import { trace } from '@opentelemetry/api';
import { ManualClock } from '@sessionkit/core';
import type { OtelSdk } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BruteForceGuard, MemoryLockoutStore, MemoryRateLimiter, RequestRateLimits } from '../src/index.js';

let sdk: OtelSdk;

beforeAll(async () => {
  sdk = await startOtelSdk();
});

afterAll(() => sdk.shutdown());

async function counted(name: string): Promise<Array<[Record<string, unknown>, unknown]>> {
  await sdk.collect();
  return sdk.points(name).map((point) => [point.attributes, point.value]);
}

describe('security checks, with the real OTel SDK', () => {
  it('puts each rate-limit check in a span under the request span and counts refusals', async () => {
    const limits = new RequestRateLimits([
      new MemoryRateLimiter({
        rule: { name: 'login-ip', scope: 'ip', limit: 2, windowMs: 60_000 },
        clock: new ManualClock(),
      }),
    ]);
    await trace.getTracer('test').startActiveSpan('POST /login', async (root) => {
      for (let attempt = 0; attempt < 3; attempt += 1) await limits.check({ ipHash: 'network-hash' });
      root.end();
    });
    const request = sdk.spans().find((span) => span.name === 'POST /login');
    const checks = sdk.spans().filter((span) => span.name === 'sessionkit.security.rate_limit');
    expect(checks.map((span) => span.attributes['sessionkit.outcome'])).toEqual([
      'allowed',
      'allowed',
      'limited',
    ]);
    expect(checks.every((span) => span.parentSpanContext?.spanId === request?.spanContext().spanId)).toBe(
      true,
    );
    expect(await counted('sessionkit.security.rate_limit.rejections')).toEqual([
      [{ 'sessionkit.outcome': 'limited' }, 1],
    ]);
  });

  it('puts each lockout check in a span and counts the attempts it refused', async () => {
    const guard = new BruteForceGuard({
      store: new MemoryLockoutStore(),
      clock: new ManualClock(),
      random: () => 0,
    });
    const attempt = { userId: 'alice', ipHash: 'network-hash' };
    expect((await guard.check(attempt)).allowed).toBe(true);
    for (let failure = 0; failure < 20; failure += 1) await guard.recordFailure(attempt);
    expect((await guard.check(attempt)).allowed).toBe(false);
    const checks = sdk.spans().filter((span) => span.name === 'sessionkit.security.lockout');
    expect(checks.map((span) => span.attributes['sessionkit.outcome'])).toEqual(['allowed', 'locked']);
    expect(await counted('sessionkit.security.lockouts')).toEqual([[{}, 1]]);
  });
});
