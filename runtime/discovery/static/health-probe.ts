import { request } from 'node:http';

/**
 * One `GET http://host:port/path` with a hard deadline: true on a 2xx answer,
 * false on anything else (refused, reset, timed out, non-2xx, aborted).
 *
 * A fresh connection per probe (`agent: false`): a pooled keep-alive socket to
 * a frozen peer would hide nothing, but a fresh connect also catches a peer
 * whose listener is gone while old sockets linger, and leaves no idle socket
 * that could keep the process alive after `close()`.
 */
export function probeHealth(address: string, port: number, path: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(ok);
    };
    const onAbort = () => finish(false);
    const req = request({ host: address, port, path, method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
      res.resume();
      finish(ok);
    });
    // The whole exchange (connect + answer) must fit in timeoutMs, like Consul's HTTP check timeout.
    const deadline = setTimeout(() => finish(false), timeoutMs);
    req.on('error', () => finish(false));
    signal.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
