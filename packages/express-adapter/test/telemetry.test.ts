import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, trace } from '@opentelemetry/api';
import { randomToken, SessionManager } from '@sessionkit/core';
import { RedisStore } from '@sessionkit/storage-redis';
import type { OtelSdk, ReadableSpan } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionMiddleware } from '../src/index.js';

let sdk: OtelSdk;
const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const prefix = `sk-otel-express-${randomToken(6)}`;
let manager: SessionManager;
let server: Server;
let base: string;

beforeAll(async () => {
  sdk = await startOtelSdk();
  await client.connect();
  manager = new SessionManager({
    store: new RedisStore({ client, prefix }),
    config: { secret: 'otel-express-test-secret'.padEnd(40, '-'), validationCache: { enabled: true } },
  });
  await manager.start();
  const app = express();
  for (const tier of ['fast', 'full'] as const) {
    // What the route sees as the active span: the request's server span, not SessionKit's finished ones.
    app.get(`/${tier}`, sessionMiddleware({ manager, tier }), (req, res) => {
      res.json({
        active: trace.getActiveSpan()?.spanContext().spanId,
        valid: req.sessionkit?.session !== undefined,
      });
    });
  }
  // The server span an HTTP instrumentation would start, made by hand: active for the whole request.
  const tracer = trace.getTracer('http-server');
  server = createServer((req, res) =>
    tracer.startActiveSpan(`GET ${req.url}`, { kind: SpanKind.SERVER }, (span) => {
      res.on('finish', () => span.end());
      app(req, res);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await manager.close();
  await manager.store.close();
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
  await sdk.shutdown();
});

async function get(
  path: string,
  token: string,
): Promise<{ active: string; valid: boolean; server: ReadableSpan }> {
  sdk.resetSpans();
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { active: string; valid: boolean };
  // The server span ends on `finish`, after the answer may have reached us.
  await expect.poll(() => sdk.spans().some((span) => span.kind === SpanKind.SERVER)).toBe(true);
  const server = sdk.spans().find((span) => span.kind === SpanKind.SERVER);
  if (!server) throw new Error('no server span');
  return { ...body, server };
}

const childrenOf = (parent: ReadableSpan) =>
  sdk.spans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('sessionMiddleware under an HTTP server span, with the real OTel SDK', () => {
  it('nests the validation and its Redis call under the server span and hands the route that span', async () => {
    const issued = await manager.create({ userId: 'alice' });
    const answer = await get('/full', issued.token);
    expect(answer.valid).toBe(true);
    expect(answer.active).toBe(answer.server.spanContext().spanId);
    const [validate] = childrenOf(answer.server);
    expect(validate?.name).toBe('sessionkit.session.validate');
    expect(validate?.attributes).toMatchObject({
      'sessionkit.tier': 'full',
      'sessionkit.store': 'RedisStore',
    });
    const storeCalls = validate ? childrenOf(validate) : [];
    expect(storeCalls.map((span) => [span.name, span.attributes['db.system.name']])).toContainEqual([
      'sessionkit.store.get',
      'redis',
    ]);
  });

  it('does the same for a fast-tier request answered from the local cache, with no store call', async () => {
    const issued = await manager.create({ userId: 'bob' });
    await get('/fast', issued.token);
    const answer = await get('/fast', issued.token);
    expect(answer.valid).toBe(true);
    expect(answer.active).toBe(answer.server.spanContext().spanId);
    const [validate] = childrenOf(answer.server);
    expect(validate?.attributes).toMatchObject({ 'sessionkit.tier': 'fast', 'sessionkit.cache': 'hit' });
    expect(validate ? childrenOf(validate) : []).toEqual([]);
  });
});
