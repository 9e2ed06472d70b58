/**
 * Reads the common client message, a plain call or tell, straight from its
 * msgpack bytes into fields: no decoded map, no parsed message object, the
 * actor type and method names taken from a small cache instead of decoded
 * anew. Anything else (another op, a key it does not know, a non-ASCII or
 * odd-typed value, a duplicate key, a value the edge would refuse) it
 * declines, and the message is decoded the general way (msgpackr, then
 * parseClientMessage), which gives the same call or the precise error.
 *
 * Why: at 1000 calls in flight decoding client maps was ~8% of the main
 * thread and about a third of its allocations (a map object, five strings
 * and a parsed copy per call).
 *
 * Only for bytes the scanner (msgpack-scan.ts) has accepted: sizes, depth
 * and extensions are already within the edge's limits.
 */
import { Unpackr } from 'msgpackr';
import { MAX_TIMEOUT_MS, RESERVED_IDEM_PREFIX } from '../../protocol/wire.js';
import { MsgpackScanner } from './msgpack-scan.js';

// The same options as the general decoder (frame-codec.ts): binary args must outlive the frame.
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: true });

const scanner = new MsgpackScanner();

export const CALL = 1;
export const TELL = 2;

// Field bits, to decline a map that names one twice (an object would keep the last).
const F_OP = 1, F_ID = 2, F_ACTOR = 4, F_KEY = 8, F_METHOD = 16, F_ARGS = 32, F_IDEM = 64, F_TIMEOUT = 128;

/** Names seen before, by their bytes: actor types and methods repeat across nearly every call. */
class NameCache {
  private readonly bytes: Uint8Array[] = [];
  private readonly names: string[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  /** The string for ASCII bytes b[start, end). */
  get(b: Uint8Array, start: number, end: number): string {
    const n = end - start;
    for (let i = 0; i < this.bytes.length; i++) {
      const c = this.bytes[i]!;
      if (c.length !== n) continue;
      let j = 0;
      while (j < n && c[j] === b[start + j]) j++;
      if (j === n) return this.names[i]!;
    }
    const name = ascii(b, start, end);
    // Bounded: a client sending many names only makes later ones miss.
    const slot = this.bytes.length < this.size ? this.bytes.length : this.next++ % this.size;
    this.bytes[slot] = b.slice(start, end);
    this.names[slot] = name;
    return name;
  }
}

const fcc = String.fromCharCode;

/** ASCII bytes as a string, eight characters per call (a native slice costs ~130 ns to enter; a string per character more). */
function ascii(b: Uint8Array, start: number, end: number): string {
  let s = '';
  let i = start;
  for (; end - i >= 8; i += 8) s += fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
  switch (end - i) {
    case 1: return s + fcc(b[i]!);
    case 2: return s + fcc(b[i]!, b[i + 1]!);
    case 3: return s + fcc(b[i]!, b[i + 1]!, b[i + 2]!);
    case 4: return s + fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    case 5: return s + fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!);
    case 6: return s + fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!);
    case 7: return s + fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!);
    default: return s;
  }
}

export class CallReader {
  op = 0;
  id: number | string = 0;
  actor = '';
  key = '';
  method = '';
  args: readonly unknown[] = [];
  idem: string | null = null;
  timeout: number | undefined = undefined;

  private b: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private strStart = 0;
  private strEnd = 0;
  private readonly types = new NameCache(16);
  private readonly methods = new NameCache(64);

  /**
   * Reads the message at b[start, end): true with the fields set when it is
   * a plain, valid call or tell (no traceparent); false to decode it the
   * general way. `maxKey` is the edge's limit on names and keys.
   */
  read(b: Uint8Array, start: number, end: number, maxKey: number): boolean {
    this.b = b;
    this.pos = start;
    let n: number;
    const t = b[this.pos++]!;
    if (t >= 0x80 && t <= 0x8f) n = t & 0x0f;
    else if (t === 0xde) {
      // msgpackr writes an object's map as map16 whatever its size.
      n = (b[this.pos]! << 8) | b[this.pos + 1]!;
      this.pos += 2;
    } else return false;
    if (n > 8) return false; // more entries than a plain call has fields
    let seen = 0;
    this.op = 0;
    this.idem = null;
    this.timeout = undefined;
    let hasId = false;
    for (let i = 0; i < n; i++) {
      if (!this.str()) return false;
      const field = this.field();
      if (field === 0 || (seen & field) !== 0) return false;
      seen |= field;
      // msgpackr writes a property holding undefined as its undefined extension: for these fields, absent.
      if (b[this.pos] === 0xd4 && b[this.pos + 1] === 0x00 && b[this.pos + 2] === 0x00) {
        if (field !== F_IDEM && field !== F_TIMEOUT && field !== F_ARGS) return false;
        this.pos += 3;
        if (field === F_ARGS) seen &= ~F_ARGS;
        continue;
      }
      switch (field) {
        case F_OP: {
          if (!this.str() || this.strEnd - this.strStart !== 4) return false;
          const s = this.strStart;
          // "call" / "tell"
          if (b[s] === 0x63 && b[s + 1] === 0x61 && b[s + 2] === 0x6c && b[s + 3] === 0x6c) this.op = CALL;
          else if (b[s] === 0x74 && b[s + 1] === 0x65 && b[s + 2] === 0x6c && b[s + 3] === 0x6c) this.op = TELL;
          else return false;
          break;
        }
        case F_ID: {
          const v = this.number();
          if (v !== undefined) {
            this.id = v;
          } else {
            if (!this.asciiStr() || this.strEnd - this.strStart > maxKey) return false;
            this.id = ascii(b, this.strStart, this.strEnd);
          }
          hasId = true;
          break;
        }
        case F_ACTOR:
          if (!this.asciiStr() || this.strEnd === this.strStart || this.strEnd - this.strStart > maxKey) return false;
          this.actor = this.types.get(b, this.strStart, this.strEnd);
          break;
        case F_METHOD:
          if (!this.asciiStr() || this.strEnd === this.strStart || this.strEnd - this.strStart > maxKey) return false;
          this.method = this.methods.get(b, this.strStart, this.strEnd);
          break;
        case F_KEY:
          if (!this.asciiStr() || this.strEnd - this.strStart > maxKey) return false;
          this.key = ascii(b, this.strStart, this.strEnd);
          break;
        case F_IDEM:
          if (!this.asciiStr() || this.strEnd === this.strStart || this.strEnd - this.strStart > maxKey) return false;
          if (b[this.strStart] === RESERVED_IDEM_PREFIX.charCodeAt(0)) return false;
          this.idem = ascii(b, this.strStart, this.strEnd);
          break;
        case F_TIMEOUT: {
          const v = this.number();
          if (v === undefined || !(v > 0 && v <= MAX_TIMEOUT_MS)) return false;
          this.timeout = v;
          break;
        }
        case F_ARGS:
          if (!this.argList(end)) return false;
          break;
      }
    }
    // Absent args are an empty list, one of its own (as parseClientMessage gives).
    if ((seen & F_ARGS) === 0) this.args = [];
    if (this.pos !== end || this.op === 0 || (seen & (F_ACTOR | F_KEY | F_METHOD)) !== (F_ACTOR | F_KEY | F_METHOD)) return false;
    // A call needs a usable id; a tell's is ignored.
    if (this.op === CALL && !hasId) return false;
    return true;
  }

  /** Which field the string just read names; 0 for none of them. */
  private field(): number {
    const b = this.b;
    const s = this.strStart;
    switch (this.strEnd - s) {
      case 2:
        if (b[s] === 0x6f && b[s + 1] === 0x70) return F_OP; // op
        if (b[s] === 0x69 && b[s + 1] === 0x64) return F_ID; // id
        return 0;
      case 3:
        return b[s] === 0x6b && b[s + 1] === 0x65 && b[s + 2] === 0x79 ? F_KEY : 0; // key
      case 4:
        if (b[s] === 0x61 && b[s + 1] === 0x72 && b[s + 2] === 0x67 && b[s + 3] === 0x73) return F_ARGS; // args
        if (b[s] === 0x69 && b[s + 1] === 0x64 && b[s + 2] === 0x65 && b[s + 3] === 0x6d) return F_IDEM; // idem
        return 0;
      case 5:
        return b[s] === 0x61 && b[s + 1] === 0x63 && b[s + 2] === 0x74 && b[s + 3] === 0x6f && b[s + 4] === 0x72 ? F_ACTOR : 0; // actor
      case 6:
        return b[s] === 0x6d && b[s + 1] === 0x65 && b[s + 2] === 0x74 && b[s + 3] === 0x68 && b[s + 4] === 0x6f && b[s + 5] === 0x64 ? F_METHOD : 0; // method
      case 7:
        return b[s] === 0x74 && b[s + 1] === 0x69 && b[s + 2] === 0x6d && b[s + 3] === 0x65 && b[s + 4] === 0x6f && b[s + 5] === 0x75 && b[s + 6] === 0x74 ? F_TIMEOUT : 0; // timeout
      default:
        return 0;
    }
  }

  /** A str8-or-shorter string at pos: its bytes in [strStart, strEnd). False (pos unchanged) if the value is not one. */
  private str(): boolean {
    const b = this.b;
    const t = b[this.pos]!;
    let len: number;
    let head: number;
    if (t >= 0xa0 && t <= 0xbf) {
      len = t & 0x1f;
      head = 1;
    } else if (t === 0xd9) {
      len = b[this.pos + 1]!;
      head = 2;
    } else if (t === 0xda) {
      len = (b[this.pos + 1]! << 8) | b[this.pos + 2]!;
      head = 3;
    } else {
      return false;
    }
    this.strStart = this.pos + head;
    this.strEnd = this.strStart + len;
    this.pos = this.strEnd;
    return true;
  }

  /** A string of ASCII bytes only (the general decoder handles the rest, replacement characters and all). */
  private asciiStr(): boolean {
    if (!this.str()) return false;
    const b = this.b;
    for (let i = this.strStart; i < this.strEnd; i++) if (b[i]! >= 0x80) return false;
    return true;
  }

  /** A number at pos (ints of up to 32 bits, float64), or undefined (pos unchanged) for anything else. */
  private number(): number | undefined {
    const b = this.b;
    const p = this.pos;
    const t = b[p]!;
    if (t < 0x80) {
      this.pos = p + 1;
      return t;
    }
    if (t >= 0xe0) {
      this.pos = p + 1;
      return t - 0x100;
    }
    switch (t) {
      case 0xcc:
        this.pos = p + 2;
        return b[p + 1]!;
      case 0xcd:
        this.pos = p + 3;
        return (b[p + 1]! << 8) | b[p + 2]!;
      case 0xce:
        this.pos = p + 5;
        return b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
      case 0xd0:
        this.pos = p + 2;
        return (b[p + 1]! << 24) >> 24;
      case 0xd1:
        this.pos = p + 3;
        return (((b[p + 1]! << 8) | b[p + 2]!) << 16) >> 16;
      case 0xd2:
        this.pos = p + 5;
        return (b[p + 1]! << 24) | (b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!;
      case 0xcb: {
        const v = new DataView(b.buffer, b.byteOffset + p + 1, 8).getFloat64(0);
        // A request id must be finite (requestId); a timeout is checked by its range.
        if (!Number.isFinite(v)) return undefined;
        this.pos = p + 9;
        return v;
      }
      default:
        return undefined;
    }
  }

  /**
   * The args: a short list of small integers, ASCII strings, booleans and
   * nulls is built here; any other array through msgpackr, as the general
   * decoder would; anything but an array declines.
   */
  private argList(end: number): boolean {
    const b = this.b;
    const t = b[this.pos]!;
    if (t < 0x90 || t > 0x9f) {
      if (t !== 0xdc && t !== 0xdd) return false;
      return this.generalArgs(end);
    }
    const n = t & 0x0f;
    const start = this.pos;
    this.pos++;
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = b[this.pos]!;
      if (v < 0x80) {
        out[i] = v;
        this.pos++;
      } else if (v >= 0xe0) {
        out[i] = v - 0x100;
        this.pos++;
      } else if (v === 0xc0 || v === 0xc2 || v === 0xc3) {
        out[i] = v === 0xc0 ? null : v === 0xc3;
        this.pos++;
      } else if (v >= 0xa0 && v <= 0xbf) {
        if (!this.asciiStr()) {
          this.pos = start;
          return this.generalArgs(end);
        }
        out[i] = ascii(b, this.strStart, this.strEnd);
      } else {
        this.pos = start;
        return this.generalArgs(end);
      }
    }
    this.args = out;
    return true;
  }

  private generalArgs(end: number): boolean {
    const stop = scanner.skip(this.b, this.pos);
    if (stop < 0 || stop > end) return false;
    try {
      const v = unpackr.unpack(this.b.subarray(this.pos, stop)) as unknown;
      if (!Array.isArray(v)) return false;
      this.args = v;
    } catch {
      return false;
    }
    this.pos = stop;
    return true;
  }
}

