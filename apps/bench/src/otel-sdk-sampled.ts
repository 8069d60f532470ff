/**
 * The OTel SDK as a production application would run it, for the bench: AsyncLocalStorage context, 10 % of traces
 * sampled (parent-based), spans batched, metrics collected every 10 s. Exporters count and drop what they get,
 * so the figures are SessionKit's and the SDK's cost, not a collector's.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';

export const exported = { spans: 0, metricBatches: 0 };

const spanExporter: SpanExporter = {
  export(spans, done) {
    exported.spans += spans.length;
    done({ code: 0 });
  },
  shutdown: async () => {},
};
const metricExporter: PushMetricExporter = {
  export(_metrics, done) {
    exported.metricBatches += 1;
    done({ code: 0 });
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};

export function startSampledSdk(ratio: number): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
      spanProcessors: [new BatchSpanProcessor(spanExporter)],
    }),
  );
  metrics.setGlobalMeterProvider(
    new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 10_000 }),
      ],
    }),
  );
}
