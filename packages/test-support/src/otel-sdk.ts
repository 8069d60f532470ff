import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
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

export type { DataPoint, Histogram, MetricData, ReadableSpan };

/** The real OTel SDK registered globally, as an application registers it, with in-memory exporters. */
export interface OtelSdk {
  spans(): ReadableSpan[];
  /** Forgets the spans finished so far, so that `spans` answers about what follows. */
  resetSpans(): void;
  /** Reads the metrics recorded so far; `metric` and `points` answer from the last collection. */
  collect(): Promise<void>;
  metric(name: string): MetricData | undefined;
  /** The data points of a metric whose attributes include `attributes`. */
  points(name: string, attributes?: Record<string, string>): DataPoint<unknown>[];
  /** The points of a histogram at a fresh collection. */
  histogram(name: string): Promise<DataPoint<Histogram>[]>;
  shutdown(): Promise<void>;
}

// OTel's globals take one registration per process: start one SDK per test file (or per test, shutting it down
// before the next), never two at once.
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
    resetSpans: () => spanExporter.reset(),
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
    async histogram(name) {
      await sdk.collect();
      return sdk.points(name) as DataPoint<Histogram>[];
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
