/**
 * Frames on the wire: one msgpack value per binary frame (a message or an
 * array of them), JSON in text frames. msgpackr's record extension is turned
 * off both ways: it is msgpackr-specific and no other client could read it.
 */
import { Packr, Unpackr } from 'msgpackr';


export class Codec {
  private readonly packr = new Packr({ useRecords: false });
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  /**
   * One value (a message, or an array for a batch) to bytes. Throws when a value
   * cannot be encoded. No `useBuffer` scratch here: msgpackr's write buffer is
   * shared by every encoder in the process, and rewinding it would overwrite
   * bytes other code (a node in the same process) still holds.
   */
  encode(value: unknown): Uint8Array {
    return this.packr.pack(value);
  }

  /** One frame to its value: binary frames are msgpack, text frames JSON. Throws on a malformed frame. */
  decode(frame: Uint8Array | string): unknown {
    return typeof frame === 'string' ? JSON.parse(frame) : this.unpackr.unpack(frame);
  }
}
