/**
 * Is the broker taking requests? Sends one ApiVersions request (v0: every
 * broker version answers it, it is how clients negotiate) over a raw socket
 * and waits for a well-formed answer. A KRaft broker accepts connections but
 * answers requests only once it has registered with its controller, so an
 * answer means a client can use it. No Kafka client library: the launcher
 * must not depend on the client the runtime happens to use.
 */
import { connect } from 'node:net';

const API_VERSIONS = 18;

export function probeBroker(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const clientId = Buffer.from('troupe-probe');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
    let o = body.writeInt16BE(API_VERSIONS, 0);
    o = body.writeInt16BE(0, o);
    o = body.writeInt32BE(7, o); // correlation id
    o = body.writeInt16BE(clientId.length, o);
    clientId.copy(body, o);
    const frame = Buffer.concat([Buffer.alloc(4), body]);
    frame.writeInt32BE(body.length, 0);

    let got = Buffer.alloc(0);
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const socket = connect({ host, port }, () => socket.write(frame));
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      // size, correlation id, error code: enough to know the broker processed the request.
      if (got.length >= 10) finish(got.readInt32BE(4) === 7 && got.readInt16BE(8) === 0);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}
