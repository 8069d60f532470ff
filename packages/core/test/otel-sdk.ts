import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { DataPoint, MetricData } from '@opentelemetry/sdk-metrics';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The real OTel SDK registered globally, as an application registers it, with in-memory exporters. */
export interface OtelSdk {
  spans(): ReadableSpan[];
  /** Reads the metrics recorded so far; `metric` and `points` answer from the last collection. */
  collect(): Promise<void>;
  metric(name: string): MetricData | undefined;
  /** The data points of a metric whose attributes include `attributes`. */
  points(name: string, attributes?: Record<string, string>): DataPoint<unknown>[];
  shutdown(): Promise<void>;
}

export async function startOtelSdk(): Promise<OtelSdk> {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  let collected: MetricData[] = [];
  const sdk: OtelSdk = {
    spans: () => spanExporter.getFinishedSpans(),
    async collect() {
      metricExporter.reset();
      await reader.forceFlush();
      collected = metricExporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics.flatMap((s) => s.metrics));
    },
    metric: (name) => collected.find((metric) => metric.descriptor.name === name),
    points(name, attributes = {}) {
      return (sdk.metric(name)?.dataPoints ?? []).filter((point) =>
        Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
      ) as DataPoint<unknown>[];
    },
    async shutdown() {
      trace.disable();
      metrics.disable();
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
  return sdk;
}
