/**
 * The CallTracer on the OpenTelemetry SDK, exporting over OTLP/HTTP (JSON).
 * Loaded with dynamic imports only when --otel-endpoint is set, so a node
 * without it never loads the SDK. The provider is this node's own, never
 * registered globally: several nodes can share a process (tests, embedding)
 * each with its node id on its resource, and an app embedding a node keeps
 * its own global tracer provider.
 */
import type { Context, Span, SpanKind as OtelSpanKind, Tracer } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from '../../protocol/traceparent.js';
import { ATTR, type CallAttributes, type CallSpan, type CallSpanKind, type CallTracer, type SpanName } from './call-tracer.js';

/** How often buffered spans are exported: short, so a trace shows up about a second after its call. */
const EXPORT_DELAY_MS = 1000;

export class TracingStartError extends Error {
  override name = 'TracingStartError';
  readonly code = 'E_TRACING_UNAVAILABLE';
}

type Api = typeof import('@opentelemetry/api');

class OtelSpan implements CallSpan {
  private ended = false;
  private tp: string | null = null;
  constructor(private readonly span: Span, private readonly api: Api) {}

  get traceparent(): string {
    if (this.tp === null) {
      const sc = this.span.spanContext();
      this.tp = formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
    }
    return this.tp;
  }

  fail(code: string, message?: string): void {
    this.span.setAttribute(ATTR.errorCode, code);
    this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: message ?? code });
  }

  end(at?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end(at);
  }
}

export async function createOtelTracer(endpoint: string, nodeId: string): Promise<CallTracer> {
  let api: Api;
  let provider: import('@opentelemetry/sdk-trace-base').BasicTracerProvider;
  try {
    const [otel, base, exporter, resources] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    api = otel;
    provider = new base.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'troupe', 'service.instance.id': nodeId, [ATTR.node]: nodeId }),
      spanProcessors: [new base.BatchSpanProcessor(new exporter.OTLPTraceExporter({ url: endpoint }), { scheduledDelayMillis: EXPORT_DELAY_MS })],
    });
  } catch (err) {
    throw new TracingStartError(`--otel-endpoint is set but the OpenTelemetry SDK could not be loaded (${(err as Error).message}); reinstall troupe's dependencies or unset it`);
  }
  const tracer: Tracer = provider.getTracer('troupe');
  const kinds: Record<CallSpanKind, OtelSpanKind> = { server: api.SpanKind.SERVER, client: api.SpanKind.CLIENT, internal: api.SpanKind.INTERNAL };

  const parentContext = (parent: string | null): Context => {
    const p = parent === null ? null : parseTraceparent(parent);
    if (p === null) return api.ROOT_CONTEXT;
    return api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: p.traceId, spanId: p.spanId, traceFlags: p.flags, isRemote: true });
  };

  return {
    start(name: SpanName, kind: CallSpanKind, parent: string | null, call: CallAttributes, startAt?: number): CallSpan {
      const span = tracer.startSpan(
        name,
        {
          kind: kinds[kind],
          ...(startAt === undefined ? {} : { startTime: startAt }),
          attributes: { [ATTR.type]: call.type, [ATTR.key]: call.key, [ATTR.method]: call.method, [ATTR.node]: nodeId },
        },
        parentContext(parent),
      );
      return new OtelSpan(span, api);
    },
    shutdown: () => provider.shutdown(),
  };
}
