/**
 * Delivers one record's call until it has a final answer: ok, or an error
 * retrying cannot change (the actor threw, the method is unknown). Retryable
 * errors are sent again after a growing, jittered backoff: the idempotency key
 * makes a resend safe even when the first try was applied and only its answer
 * was lost (E_TIMEOUT). Nothing is dropped: the loop ends only with an answer
 * or because the intake stops (then the record is not committed and is read
 * again later).
 */
import type { ErrorCode, ErrorData } from '../../protocol/errors.js';
import { RETRYABLE_CODES } from '../../protocol/errors.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest } from '../router.js';

/** Besides the protocol's retryable codes: a timeout (the answer may have been lost) and fencing (the owner moved). */
const RESEND: ReadonlySet<ErrorCode> = new Set<ErrorCode>([...RETRYABLE_CODES, 'E_TIMEOUT', 'E_FENCED']);

export type Delivered = { readonly ok: true } | { readonly ok: false; readonly error: ErrorData } | { readonly stopped: true };

export interface DeliveryHooks {
  call(req: CallRequest): Promise<TurnResult>;
  /** True once the intake stops: give up, uncommitted. */
  stopped(): boolean;
  /** Each retryable answer, before the backoff: backpressure pauses the partition on E_OVERLOADED. */
  onRetry(code: ErrorCode): void;
}

const FIRST_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 2_000;

export async function deliver(req: CallRequest, hooks: DeliveryHooks): Promise<Delivered> {
  let backoff = FIRST_BACKOFF_MS;
  for (;;) {
    if (hooks.stopped()) return { stopped: true };
    const result = await hooks.call(req);
    if (result[0] === 1) return { ok: true };
    const error = result[1] as ErrorData;
    if (!RESEND.has(error.code)) return { ok: false, error };
    hooks.onRetry(error.code);
    await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * backoff));
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  }
}
