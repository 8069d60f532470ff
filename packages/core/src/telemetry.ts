import type * as OtelApi from '@opentelemetry/api';
import { SessionKitError } from './errors.js';

/*
 * The one place SessionKit touches OpenTelemetry. `@opentelemetry/api` is an optional peer: loaded once here, and
 * when the application has not installed it every helper below calls straight through, so the code path is the
 * one without telemetry. With the API but no SDK, the API's own no-ops answer.
 */
const api: typeof OtelApi | undefined = await import('@opentelemetry/api').catch(() => undefined);

/** Attribute values SessionKit emits; `undefined` entries are left out. Never a token, secret, IP or e-mail. */
export type TelemetryAttributes = Record<string, string | number | boolean | undefined>;

export interface Counter {
  add(value: number, attributes?: TelemetryAttributes): void;
}

export interface Histogram {
  record(value: number, attributes?: TelemetryAttributes): void;
}

interface InstrumentOptions {
  description: string;
  unit: string;
  /** Histogram bucket boundaries (the SDK's defaults suit neither microsecond validations nor day-long sessions). */
  buckets?: number[];
}

/** `@opentelemetry/api` is installed; whether an SDK is registered may change later (`telemetryOn`). */
export const telemetryInstalled = api !== undefined;

const NOOP_TRACER_PROVIDER = api && new api.ProxyTracerProvider().getDelegate();
let meterProvider: OtelApi.MeterProvider | undefined;
let meterReal = false;

/**
 * Where `@opentelemetry/api` 1.x keeps every global it is given (its `Symbol.for` key). It stays absent until an
 * SDK, or anything else, registers one: then one property read answers "no telemetry" for the common case of
 * an application that installed the API (some dependency wanted it) and no SDK. The API's own getters cost a
 * few calls each, 5 % of a fast-tier validation.
 */
const REGISTERED = Symbol.for('opentelemetry.js.api.1');
const globals = globalThis as { [REGISTERED]?: unknown };

/** True while an SDK's tracer provider is registered. */
export function tracingOn(): boolean {
  if (!api || globals[REGISTERED] === undefined) return false;
  const provider = api.trace.getTracerProvider();
  const delegate = provider instanceof api.ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate !== NOOP_TRACER_PROVIDER;
}

/** True while an SDK's meter provider is registered (the API's own answers with one shared no-op meter). */
export function metricsOn(): boolean {
  if (!api || globals[REGISTERED] === undefined) return false;
  const current = api.metrics.getMeterProvider();
  if (current !== meterProvider) {
    meterProvider = current;
    meterReal = current.getMeter('@sessionkit/core') !== api.createNoopMeter();
  }
  return meterReal;
}

/**
 * Whether anything would be exported: with the API but no SDK, callers skip even the clock reads and attribute
 * objects. Called once per operation and per store call.
 */
export function telemetryOn(): boolean {
  return globals[REGISTERED] !== undefined && (tracingOn() || metricsOn());
}

const NO_COUNTER: Counter = { add() {} };
const NO_HISTOGRAM: Histogram = { record() {} };

function clean(attributes: TelemetryAttributes | undefined): OtelApi.Attributes | undefined {
  if (attributes === undefined) return undefined;
  // Copied only when an entry is undefined: this runs on every record of every instrument.
  for (const key in attributes) {
    if (attributes[key] !== undefined) continue;
    const out: OtelApi.Attributes = {};
    for (const [name, value] of Object.entries(attributes)) if (value !== undefined) out[name] = value;
    return out;
  }
  return attributes as OtelApi.Attributes;
}

/**
 * An instrument bound to the global meter provider of the moment: the API has no proxy meter, and an application
 * often registers its SDK after SessionKit was imported, so the instrument is made again when the provider changes.
 */
function bound<T>(scope: string, make: (meter: OtelApi.Meter) => T): () => T {
  let provider: OtelApi.MeterProvider | undefined;
  let instrument: T | undefined;
  return () => {
    const current = (api as typeof OtelApi).metrics.getMeterProvider();
    if (instrument === undefined || current !== provider) {
      provider = current;
      instrument = make(current.getMeter(scope));
    }
    return instrument;
  };
}

export function counter(scope: string, name: string, options: InstrumentOptions): Counter {
  if (!api) return NO_COUNTER;
  const current = bound(scope, (meter) => meter.createCounter(name, options));
  return { add: (value, attributes) => metricsOn() && current().add(value, clean(attributes)) };
}

export function histogram(scope: string, name: string, options: InstrumentOptions): Histogram {
  if (!api) return NO_HISTOGRAM;
  const { buckets, ...rest } = options;
  const advice = buckets === undefined ? {} : { advice: { explicitBucketBoundaries: buckets } };
  const current = bound(scope, (meter) => meter.createHistogram(name, { ...rest, ...advice }));
  return { record: (value, attributes) => metricsOn() && current().record(value, clean(attributes)) };
}

/**
 * A gauge read at each collection, registered with the meter provider current at the call (register it after the
 * SDK starts). `observe` answers one value per attribute set. Returns the function that unregisters it.
 */
export function observableGauge(
  scope: string,
  name: string,
  options: InstrumentOptions,
  observe: () => Promise<Array<[number, TelemetryAttributes]>> | Array<[number, TelemetryAttributes]>,
): () => void {
  if (!api) return () => {};
  const gauge = api.metrics.getMeter(scope).createObservableGauge(name, options);
  const callback: OtelApi.ObservableCallback = async (result) => {
    for (const [value, attributes] of await observe()) result.observe(value, clean(attributes));
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/** The stable `code` of a SessionKitError, else the error's class name: never its message (it may name a user). */
export function errorType(error: unknown): string {
  if (error instanceof SessionKitError) return error.code;
  return error instanceof Error ? error.name : typeof error;
}

/** Seconds since `start` (a `performance.now()` reading): OTel's unit for durations. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

export interface SpanNotes {
  set(key: string, value: string | number | boolean | undefined): void;
}

const NO_NOTES: SpanNotes = { set() {} };
let tracerProvider: OtelApi.TracerProvider | undefined;
const tracers = new Map<string, OtelApi.Tracer>();

/** Tracers are kept per global provider: a tracer of a provider since replaced would go on exporting to it. */
function tracer(scope: string): OtelApi.Tracer {
  const provider = (api as typeof OtelApi).trace.getTracerProvider();
  if (provider !== tracerProvider) {
    tracerProvider = provider;
    tracers.clear();
  }
  let found = tracers.get(scope);
  if (!found) {
    found = provider.getTracer(scope);
    tracers.set(scope, found);
  }
  return found;
}

/**
 * Runs `fn` inside a span that is active for everything it awaits (store calls become its children). A failure
 * sets status ERROR and `error.type`; the exception itself is not recorded, its message may carry personal data.
 * `client` marks a call to a remote service (a SQL statement), as OTel's database conventions ask.
 */
export function traced<T>(
  scope: string,
  name: string,
  attributes: TelemetryAttributes,
  fn: (notes: SpanNotes) => Promise<T>,
  kind: 'internal' | 'client' = 'internal',
): Promise<T> {
  if (!api || !tracingOn()) return fn(NO_NOTES);
  const otel = api;
  const options = {
    attributes: clean(attributes) ?? {},
    kind: kind === 'client' ? otel.SpanKind.CLIENT : otel.SpanKind.INTERNAL,
  };
  return tracer(scope).startActiveSpan(name, options, async (span) => {
    const notes: SpanNotes = { set: (key, value) => value !== undefined && span.setAttribute(key, value) };
    try {
      return await fn(notes);
    } catch (error) {
      span.setAttribute('error.type', errorType(error));
      span.setStatus({ code: otel.SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A span for work already done synchronously (a cache hit): started and ended at once, under the active span. */
export function recordSpan(
  scope: string,
  name: string,
  attributes: TelemetryAttributes,
  failed = false,
): void {
  if (!api || !tracingOn()) return;
  const span = tracer(scope).startSpan(name, { attributes: clean(attributes) ?? {} });
  if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR });
  span.end();
}
