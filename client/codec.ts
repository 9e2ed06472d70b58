/**
 * Frames on the wire: one msgpack value per binary frame (a message or an
 * array of them), JSON in text frames. msgpackr's record extension is turned
 * off both ways: it is msgpackr-specific and no other client could read it.
 */
import { Packr, Unpackr } from 'msgpackr';

export class Codec {
  private readonly packr = new Packr({ useRecords: false });
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

  /** One value (a message, or an array for a batch) to bytes. Throws when a value cannot be encoded. */
  encode(value: unknown): Uint8Array {
    // pack() returns a view into packr's buffer; later packs write after it, never over it.
    return this.packr.pack(value);
  }

  /** One frame to its value: binary frames are msgpack, text frames JSON. Throws on a malformed frame. */
  decode(frame: Uint8Array | string): unknown {
    return typeof frame === 'string' ? JSON.parse(frame) : this.unpackr.unpack(frame);
  }
}
