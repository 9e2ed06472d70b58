/**
 * The app's active OpenTelemetry span as a W3C traceparent, sent with each
 * call and tell so the node's spans join the app's trace.
 *
 * `@opentelemetry/api` is an optional peer: it is imported by a name held in
 * a variable, so neither TypeScript nor the browser bundler needs it, and an
 * app without it (or a page without an import map for it) simply sends no
 * traceparent. The API keeps its tracer provider and context manager on the
 * global object, so this copy sees the app's spans whichever copy set them up.
 */
import { formatTraceparent } from '../protocol/traceparent.js';

interface SpanContextLike {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

interface OtelApiLike {
  readonly trace: { getActiveSpan(): { spanContext(): SpanContextLike } | undefined };
  readonly isSpanContextValid?: (sc: SpanContextLike) => boolean;
}

const OTEL_API = '@opentelemetry/api';
let api: OtelApiLike | null = null;
let loading: Promise<void> | null = null;

/** Looks for @opentelemetry/api once per process; never rejects. */
export function loadTraceApi(): Promise<void> {
  loading ??= (import(/* optional peer dependency */ OTEL_API) as Promise<OtelApiLike>).then(
    (m) => {
      if (typeof m?.trace?.getActiveSpan === 'function') api = m;
    },
    () => {},
  );
  return loading;
}

/** The active span's traceparent, or undefined (no API, no active span, or an invalid one). Read where the call is made: the active span is the caller's. */
export function activeTraceparent(): string | undefined {
  if (api === null) return undefined;
  const span = api.trace.getActiveSpan();
  if (span === undefined) return undefined;
  const sc = span.spanContext();
  if (api.isSpanContextValid !== undefined && !api.isSpanContextValid(sc)) return undefined;
  return formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
}
