export type { OtelSinkOptions } from './otel-sink.js';
export { AUDIT_COUNTER, otelSink } from './otel-sink.js';
