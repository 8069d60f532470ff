import { context, trace } from '@opentelemetry/api';

/**
 * pino `mixin`: the active span's ids on every log line written inside a traced request, so a log line leads
 * to its trace and back. Nothing when no span is active (no SDK, or outside a request).
 */
export function traceFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const span = trace.getSpan(context.active());
  const ids = span?.spanContext();
  if (!ids || !trace.isSpanContextValid(ids)) return {};
  return { trace_id: ids.traceId, span_id: ids.spanId, trace_flags: `0${ids.traceFlags.toString(16)}` };
}
