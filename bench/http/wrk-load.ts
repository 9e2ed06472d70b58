/**
 * wrk as the load generator of `npm run bench:http`: a C program in a process
 * of its own, so the servers, not the load generator, set the figures (autocannon
 * in the bench's process topped out near 48k requests/s here, where wrk drove a
 * trivial uWebSockets.js server to 122k).
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface HttpLoadResult { requestsPerSecond: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number }

/** Whether `wrk` runs here (Debian: `apt-get install wrk`). */
export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1: it ran.
    return (err as { status?: number }).status === 1;
  }
}

/** wrk's latency with its unit ("812.00us", "1.23ms", "2.01s") in ms. */
function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) throw new Error(`wrk printed a latency I cannot read: ${text}`);
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

export function parseWrk(out: string): HttpLoadResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (rps === null || p50 === null || p99 === null) throw new Error(`wrk's output has no rate or latency:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { requestsPerSecond: Math.round(Number(rps[1])), p50Ms: ms(p50[1]!), p99Ms: ms(p99[1]!), errors, non2xx };
}

export function wrkLoad(root: string, port: number, o: { seconds: number; connections: number }): Promise<HttpLoadResult> {
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '-s', join(root, 'bench/http/post-add.lua'), `http://127.0.0.1:${port}`];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (o.seconds + 30) * 1000 }, (err, stdout) => {
      if (err !== null) reject(new Error(`wrk failed: ${err.message}`));
      else {
        try {
          resolve(parseWrk(stdout));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}
