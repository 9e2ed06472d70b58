/**
 * Frames on the wire: one msgpack value per binary frame (a message or an
 * array of them), JSON in text frames. msgpackr's record extension is turned
 * off both ways: it is msgpackr-specific and no other client could read it.
 */
import { Packr, Unpackr } from 'msgpackr';

/** Frames up to this size are encoded into one reused buffer; larger ones get a fresh one from msgpackr. */
const SCRATCH_BYTES = 64 * 1024;

export class Codec {
  private readonly packr = new Packr({ useRecords: false });
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  // msgpackr writes long strings with Buffer#utf8Write when Buffer exists (Node), so it needs a Buffer there.
  private readonly scratch: Uint8Array =
    typeof globalThis.Buffer === 'function' ? globalThis.Buffer.allocUnsafeSlow(SCRATCH_BYTES) : new Uint8Array(SCRATCH_BYTES);

  /**
   * One value (a message, or an array for a batch) to bytes. Throws when a value
   * cannot be encoded. The bytes are valid only until the next encode(): both
   * transports copy a frame inside send() (ws masks it into a new buffer, and
   * WebSocket.send copies by specification), so reusing one buffer saves an
   * allocation per frame.
   */
  encode(value: unknown): Uint8Array {
    this.packr.useBuffer(this.scratch);
    return this.packr.pack(value);
  }

  /** One frame to its value: binary frames are msgpack, text frames JSON. Throws on a malformed frame. */
  decode(frame: Uint8Array | string): unknown {
    return typeof frame === 'string' ? JSON.parse(frame) : this.unpackr.unpack(frame);
  }
}
