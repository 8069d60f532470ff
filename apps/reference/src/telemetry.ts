import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

/** The standard variables that ask for telemetry; with none of them set the SDK is not loaded at all. */
const ASKING = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
] as const;

/** Probes answer many times a second and tell nothing about users' requests: no span for them. */
const PROBES = new Set(['/healthz', '/readyz']);

export interface Telemetry {
  /** Flushes what is buffered and stops the exporters (the Prometheus endpoint too). */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK from the standard environment (`OTEL_SERVICE_NAME`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER`/`_ARG`, `OTEL_METRICS_EXPORTER=prometheus` with
 * `OTEL_EXPORTER_PROMETHEUS_HOST`/`_PORT` for a `/metrics` endpoint, ...), or does nothing when none asks.
 * Must run before Express and `http` are imported, so the HTTP instrumentation can wrap the server.
 */
export function startTelemetry(env: NodeJS.ProcessEnv = process.env): Telemetry | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || !ASKING.some((name) => env[name])) return undefined;
  // The SDK defaults every signal to OTLP on localhost; without an endpoint, only the signals named are wanted
  // (e.g. OTEL_METRICS_EXPORTER=prometheus alone must not fill the log with failed trace exports).
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    env.OTEL_TRACES_EXPORTER ??= env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none';
    env.OTEL_METRICS_EXPORTER ??= env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ? 'otlp' : 'none';
  }
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => PROBES.has(new URL(request.url ?? '/', 'http://x').pathname),
      }),
    ],
  });
  sdk.start();
  return sdk;
}
