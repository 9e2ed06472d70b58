/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/):
 * `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`. Shared by the
 * gateway edge (protocol/wire.ts), the HTTP API and the SDK; no Node
 * dependencies, so the browser client can use it too.
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  /** Bit 0: sampled. */
  readonly flags: number;
}

/**
 * A traceparent this runtime accepts: version 00, lowercase hex, ids not all
 * zero (the spec makes those invalid). Anything else, including future
 * versions, is not one: the edge ignores it and the call starts its own trace.
 */
export function isTraceparent(v: unknown): v is string {
  if (typeof v !== 'string' || v.length !== 55) return false;
  const m = TRACEPARENT.exec(v);
  return m !== null && m[1] !== ZERO_TRACE && m[2] !== ZERO_SPAN;
}

export function parseTraceparent(v: string): TraceParent | null {
  if (!isTraceparent(v)) return null;
  return { traceId: v.slice(3, 35), spanId: v.slice(36, 52), flags: parseInt(v.slice(53, 55), 16) };
}

export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The trace id of a valid traceparent (for log lines). */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}
