/**
 * What the runtime asks of tracing: spans for the stages a call goes
 * through, linked by W3C traceparent strings. The runtime never sees the
 * OpenTelemetry API: a node without --otel-endpoint has no CallTracer at
 * all (null), and every place that would make a span tests that one field
 * first, so an untraced call pays a branch, not an allocation.
 *
 * Parents travel as traceparent strings everywhere (the envelope, the link
 * frame, the worker's turn message), the same form they have on the wire,
 * so a context crosses threads and nodes without a conversion.
 */

/** The spans this runtime makes. */
export type SpanName = 'gateway' | 'forward' | 'turn' | 'commit';

/** OpenTelemetry span kinds, as this runtime uses them. */
export type CallSpanKind = 'server' | 'client' | 'internal';

/** What every span says about its call. */
export interface CallAttributes {
  readonly type: string;
  readonly key: string;
  readonly method: string;
}

/** Attribute names on the exported spans. */
export const ATTR = {
  type: 'troupe.actor.type',
  key: 'troupe.actor.key',
  method: 'troupe.method',
  node: 'troupe.node.id',
  errorCode: 'troupe.error.code',
} as const;

export interface CallSpan {
  /** This span as the parent of what it leads to. */
  readonly traceparent: string;
  /** The call failed at this stage with this error code (recorded as the span's error status). */
  fail(code: string, message?: string): void;
  /** Ends the span, now or at `at` (performance.now() milliseconds). Ending twice keeps the first. */
  end(at?: number): void;
}

export interface CallTracer {
  /**
   * Starts a span under `parent` (a traceparent; null: a new trace), now or
   * at `startAt` (performance.now() milliseconds).
   */
  start(name: SpanName, kind: CallSpanKind, parent: string | null, call: CallAttributes, startAt?: number): CallSpan;
  /** Exports what is still buffered and stops. */
  shutdown(): Promise<void>;
}
