/**
 * Checks msgpack bytes against the edge's limits before they are decoded: one
 * pass over the tokens, no allocation, an explicit stack instead of recursion,
 * stopping at the first violation. Decoding only what passed is what makes it
 * safe: msgpackr decodes recursively (a 200 KB frame can nest 100,000 levels,
 * past any thread's stack), and it decodes its own extensions (records,
 * bundled strings, shared references that can form cycles or expand
 * exponentially, errors, regular expressions) that no other client sends.
 *
 * Accepted extensions are the two a plain msgpack client (and our SDK)
 * produces: timestamps (type -1, 4, 8 or 12 bytes) and msgpackr's undefined
 * (type 0, one byte). Any other extension is refused here.
 */
import { Errors, type ErrorData } from '../../protocol/errors.js';
import type { WireLimits } from '../../protocol/limits.js';

/** `value()` results other than an end position. */
export const MALFORMED = -1;
export const REFUSED = -2;

const TIMESTAMP = 0xff;
const UNDEFINED = 0;

const UNLIMITED: WireLimits = Object.freeze({ maxDepth: Infinity, maxKey: Infinity, maxString: Infinity, maxCollection: Infinity });

export class MsgpackScanner {
  /** Why the last `value()` returned REFUSED. */
  error: ErrorData | null = null;
  /** Values still to read in each open container; grows to the deepest nesting seen (bounded by the limits or the frame). */
  private left: Int32Array = new Int32Array(64);

  /**
   * Checks the one value starting at `pos`: returns where it ends, MALFORMED
   * (not msgpack, or truncated), or REFUSED (within msgpack but past a limit;
   * `error` says which).
   */
  value(b: Uint8Array, pos: number, limits: WireLimits): number {
    return this.scan(b, pos, limits, true);
  }

  /** Where the value at `pos` ends, whatever it holds (MALFORMED if it does not). */
  skip(b: Uint8Array, pos: number): number {
    return this.scan(b, pos, UNLIMITED, false);
  }

  /** Room for deeper nesting (only `skip` goes past the limits' depth). */
  private grow(): Int32Array {
    const bigger = new Int32Array(this.left.length * 2);
    bigger.set(this.left);
    return (this.left = bigger);
  }

  private refuse(error: { toData(): ErrorData }): number {
    this.error = error.toData();
    return REFUSED;
  }

  private scan(b: Uint8Array, pos: number, l: WireLimits, strict: boolean): number {
    const end = b.length;
    let left = this.left;
    const maxString = l.maxString;
    let open = 0;
    for (;;) {
      if (pos >= end) return MALFORMED;
      const t = b[pos++]!;
      // The common tokens first, inline: fixint, fixstr, fixmap, fixarray.
      if (t < 0x80 || t >= 0xe0) {
        // a whole value
      } else if (t >= 0xa0 && t < 0xc0) {
        const n = t & 0x1f;
        pos += n;
        if (pos > end) return MALFORMED;
        if (n > maxString) return this.refuse(Errors.stringTooLong(n, maxString, 'bytes'));
      } else {
        // A container's header (count of values inside it), or a value whose payload is skipped.
        let items: number;
        let entries: number;
        if (t < 0x90) {
          entries = t & 0x0f;
          items = entries * 2;
        } else if (t < 0xa0) {
          entries = items = t & 0x0f;
        } else {
          // Header bytes after the type byte: all of them must be there before any is read.
          const head = HEAD[t - 0xc0]!;
          if (head < 0 || pos + head > end) return MALFORMED;
          let payload = 0;
          items = -1;
          entries = 0;
          switch (t) {
            case 0xc4: case 0xd9: payload = b[pos]!; break;
            case 0xc5: case 0xda: payload = u16(b, pos); break;
            case 0xc6: case 0xdb: payload = u32(b, pos); break;
            case 0xc7: payload = b[pos]!; break;
            case 0xc8: payload = u16(b, pos); break;
            case 0xc9: payload = u32(b, pos); break;
            case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: payload = FIXEXT[t - 0xd4]!; break;
            case 0xdc: entries = items = u16(b, pos); break;
            case 0xdd: entries = items = u32(b, pos); break;
            case 0xde: entries = u16(b, pos); items = entries * 2; break;
            case 0xdf: entries = u32(b, pos); items = entries * 2; break;
            default: break; // nil, booleans, numbers: the header is the whole payload
          }
          // A length the rest of the frame cannot hold is a lie: malformed before it is too large.
          if (pos + head + payload > end) return MALFORMED;
          if ((t >= 0xc4 && t <= 0xc6) || (t >= 0xd9 && t <= 0xdb)) {
            if (payload > maxString) return this.refuse(Errors.stringTooLong(payload, maxString, 'bytes'));
          } else if (strict && ((t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8))) {
            // The extension's type is the header's last byte.
            const type = b[pos + head - 1]!;
            if (!extensionOk(type, payload)) return this.refuse(Errors.extensionRefused(type > 127 ? type - 256 : type));
          }
          pos += head + payload;
        }
        if (items >= 0) {
          // Every value takes at least a byte: a count the rest of the frame cannot hold is a lie, refused before any decoder allocates for it.
          if (items > end - pos) return MALFORMED;
          if (open >= l.maxDepth) return this.refuse(Errors.tooDeep(l.maxDepth));
          if (entries > l.maxCollection) return this.refuse(Errors.collectionTooLarge(entries, l.maxCollection));
          if (items > 0) {
            if (open === left.length) left = this.grow();
            left[open++] = items;
            continue;
          }
        }
      }
      // A whole value ends here: close every container it completes.
      for (;;) {
        if (open === 0) return pos;
        if (--left[open - 1]! > 0) break;
        open--;
      }
    }
  }

  /**
   * The `id` of the message (a map) at `pos`, found without decoding the
   * rest of it: for answering a refused message with its id. Null when there
   * is none that a scalar read can give.
   */
  findId(b: Uint8Array, pos: number, decodeScalar: (bytes: Uint8Array) => unknown): unknown {
    const t = b[pos];
    let n: number;
    if (t === undefined) return null;
    if (t >= 0x80 && t < 0x90) {
      n = t & 0x0f;
      pos += 1;
    } else if (t === 0xde && pos + 3 <= b.length) {
      n = u16(b, pos + 1);
      pos += 3;
    } else if (t === 0xdf && pos + 5 <= b.length) {
      n = u32(b, pos + 1);
      pos += 5;
    } else {
      return null;
    }
    for (let i = 0; i < n; i++) {
      const isId = b[pos] === 0xa2 && b[pos + 1] === 0x69 && b[pos + 2] === 0x64; // fixstr "id"
      const keyEnd = this.skip(b, pos);
      if (keyEnd < 0) return null;
      const valueEnd = this.skip(b, keyEnd);
      if (valueEnd < 0) return null;
      if (isId) {
        const v = b[keyEnd]!;
        // Only scalars: ints, floats and strings (a string id is bounded by the caller's check on its length).
        const scalar = v < 0x80 || v >= 0xe0 || (v >= 0xa0 && v < 0xc0) || (v >= 0xca && v <= 0xd3) || (v >= 0xd9 && v <= 0xdb);
        return scalar ? decodeScalar(b.subarray(keyEnd, valueEnd)) : null;
      }
      pos = valueEnd;
    }
    return null;
  }
}

/** Bytes of header after each type byte 0xc0..0xdf (length fields, ext type, fixed payloads); -1: never valid. */
const HEAD = [
  0, -1, 0, 0, // c0 nil, c1 unused, c2 false, c3 true
  1, 2, 4, // c4-c6 bin 8/16/32: length
  2, 3, 5, // c7-c9 ext 8/16/32: length + type
  4, 8, // ca float32, cb float64
  1, 2, 4, 8, // cc-cf uint
  1, 2, 4, 8, // d0-d3 int
  1, 1, 1, 1, 1, // d4-d8 fixext: type
  1, 2, 4, // d9-db str 8/16/32: length
  2, 4, // dc-dd array 16/32: count
  2, 4, // de-df map 16/32: count
];

/** Payload bytes of fixext 1, 2, 4, 8, 16. */
const FIXEXT = [1, 2, 4, 8, 16];

function extensionOk(type: number, length: number): boolean {
  if (type === TIMESTAMP) return length === 4 || length === 8 || length === 12;
  return type === UNDEFINED && length === 1;
}

function u16(b: Uint8Array, pos: number): number {
  return (b[pos]! << 8) | b[pos + 1]!;
}

function u32(b: Uint8Array, pos: number): number {
  return b[pos]! * 0x1000000 + ((b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!);
}
