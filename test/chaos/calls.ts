/** Small call helpers shared by the load and the checks: bounded retries, bounded parallelism. */
import type { TroupeClient } from '../../client/index.js';

/** What a failed call looked like to the client: its code, or E_CLIENT for a non-Troupe error. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'E_CLIENT';
}

export function errorMessage(err: unknown): string {
  return String((err as { message?: unknown } | null)?.message ?? err).split('\n')[0]!;
}

export type CallResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * One call, tried up to `attempts` times while it fails with a code that may
 * pass (timeouts, unavailable, overloaded, client-side failures); an actor's
 * own error is final. Only for calls that are safe to repeat.
 */
export async function callWithRetries<T>(
  client: TroupeClient,
  type: string,
  key: string,
  method: string,
  args: readonly unknown[],
  options: { readonly attempts: number; readonly timeoutMs: number; readonly idem?: string },
): Promise<CallResult<T>> {
  let last: CallResult<T> = { ok: false, code: 'E_CLIENT', message: 'no attempt made' };
  for (let i = 1; i <= options.attempts; i++) {
    try {
      const value = (await client.call(type, key, method, args, {
        timeout: options.timeoutMs,
        ...(options.idem === undefined ? {} : { idem: options.idem }),
      })) as T;
      return { ok: true, value };
    } catch (err) {
      last = { ok: false, code: errorCode(err), message: errorMessage(err) };
      if (last.code === 'E_ACTOR_FAILED') return last;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** i)));
    }
  }
  return last;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

/**
 * A load's closed loop: `workers` lanes, each on a client of its own (round
 * robin), calling `step` with a run-wide sequence number until `stopped()`
 * or `until` (epoch ms).
 */
export async function runLanes(
  o: { readonly workers: number; readonly clients: readonly TroupeClient[]; readonly until: number },
  stopped: () => boolean,
  step: (client: TroupeClient, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: o.workers }, async (_, w) => {
    const client = o.clients[w % o.clients.length]!;
    while (!stopped() && Date.now() < o.until) await step(client, next++);
  }));
}
