import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, PrivatePrometheus } from '@sessionkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../src/user-directory.js';
import type { ReferenceProcess } from './reference-process.js';
import { startReferenceProcess } from './reference-process.js';

const ALICE = DEMO_USERS[0]!;
// The app's Prometheus endpoint, and Prometheus itself: ports the OS handed out.
const [METRICS_PORT = 0, PROMETHEUS_PORT = 0] = await freePorts(2);

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

/** An OTLP/HTTP (JSON) receiver of the test's own: the app's SDK exports its spans here. */
const spans: ExportedSpan[] = [];
const serviceNames = new Set<string>();
let receiver: Server;
const dataDir = mkdtempSync(join(tmpdir(), 'sk-reference-otel-'));
let app: ReferenceProcess;
let prometheus: PrivatePrometheus;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: ExportedSpan[] }[];
          }[];
        };
        for (const resource of body.resourceSpans) {
          const service = resource.resource.attributes.find((attribute) => attribute.key === 'service.name');
          if (service?.value.stringValue) serviceNames.add(service.value.stringValue);
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        }
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;

  app = await startReferenceProcess({
    DATA_DIR: dataDir,
    OTEL_SERVICE_NAME: 'sessionkit-reference-test',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(METRICS_PORT),
  });
  prometheus = new PrivatePrometheus(PROMETHEUS_PORT, `127.0.0.1:${METRICS_PORT}`);
  await prometheus.start();
}, 180_000);

afterAll(async () => {
  expect(await app?.stop()).toBe(0);
  await prometheus?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(`${dataDir}.kek`, { force: true });
});

async function login(): Promise<string> {
  const answer = await fetch(`${app.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ALICE.email, password: ALICE.password, transport: 'bearer' }),
  });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { accessToken: string }).accessToken;
}

async function validate(accessToken: string): Promise<void> {
  const answer = await fetch(`${app.url}/api/me/sessions/current`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  expect(answer.status).toBe(200);
}

describe('reference app observability, from the standard OTel environment', () => {
  it('is scraped by a real Prometheus, which answers the session series through its query API', async () => {
    const logins = 2;
    const validations = 5;
    for (let index = 0; index < logins; index += 1) {
      const token = await login();
      for (let each = 0; each < validations; each += 1) await validate(token);
    }

    const value = async (promql: string) => (await prometheus.query(promql))[0]?.value ?? 0;
    await expect
      .poll(() => value('sum(sessionkit_session_created_total{job="reference"})'), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(logins);
    await expect
      .poll(
        () =>
          value(
            'sum(sessionkit_session_validations_total{job="reference",sessionkit_tier="full",sessionkit_outcome="valid"})',
          ),
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(logins * validations);
    await expect
      .poll(
        () =>
          value(
            // This exporter (0.223) appends `_total` to counters but no unit suffix to histograms.
            'sum(sessionkit_session_operation_duration_count{job="reference",sessionkit_operation="create"})',
          ),
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(logins);
    // The auditor's backlog gauge, one series per stage, is there from the first collection.
    await expect
      .poll(() => value('count(sessionkit_audit_backlog{job="reference"})'), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);
    // The scrape itself is healthy: Prometheus sees the target up.
    expect(await value('up{job="reference"}')).toBe(1);
  }, 240_000);

  it('serves live sessions and the invalidation feed lag, which Prometheus reads back', async () => {
    const kept = await login();
    const ended = await login();
    await validate(kept);
    const logout = await fetch(`${app.url}/api/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ended}` },
    });
    expect(logout.status).toBe(204);

    // The exporter's own names, which docs/observability.md quotes: `_total` on counters, no unit suffix.
    const exposition = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
    expect(exposition).toMatch(/^sessionkit_invalidation_lag_bucket\{.*le="0\.001".*\} \d+/m);
    expect(exposition).toMatch(/^sessionkit_sessions_live(\{[^}]*\})? \d+/m);

    const value = async (promql: string) => (await prometheus.query(promql))[0]?.value ?? 0;
    // The gauge counts at most every 15 s, so the sessions above show within one period and a scrape.
    await expect
      .poll(() => value('sum(sessionkit_sessions_live{job="reference"})'), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);
    // The logout's revocation went out on the PGlite feed, and this instance's own subscription timed it.
    await expect
      .poll(
        () =>
          value(
            'sum(sessionkit_invalidation_lag_count{job="reference",sessionkit_invalidation_kind="revoked"})',
          ),
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(1);
    const p99 =
      'histogram_quantile(0.99, sum by (le) (rate(sessionkit_invalidation_lag_bucket{job="reference"}[5m])))';
    await expect.poll(async () => (await prometheus.query(p99)).length, { timeout: 60_000 }).toBe(1);
  }, 240_000);

  it('writes trace_id and span_id on its log lines, the ids of the exported HTTP server span', async () => {
    const token = await login();
    await validate(token);
    const requestLog = () =>
      app.logs.findLast((line) => line.msg === 'request' && line.path === '/api/me/sessions/current');
    await expect.poll(() => requestLog()?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const line = requestLog()!;
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);

    const server = () => spans.find((span) => span.spanId === line.span_id);
    await expect.poll(() => server()?.traceId, { timeout: 60_000 }).toBe(line.trace_id);
    // SERVER (2): the HTTP instrumentation's span, under which SessionKit's own spans nest.
    expect(server()?.kind).toBe(2);
    await expect
      .poll(() => spans.filter((span) => span.traceId === line.trace_id).map((span) => span.name))
      .toContain('sessionkit.session.validate');
    expect(serviceNames).toContain('sessionkit-reference-test');
  }, 120_000);
});
