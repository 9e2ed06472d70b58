/**
 * Writes a pool task (protocol.ts: `Task`, its `TaskGroup`s and their
 * `TurnMessage`s) as msgpack straight from the scheduler's groups, without
 * building the tuples first. The worker reads it with msgpackr as before:
 * the bytes decode to exactly what `packr.pack([keepUntil, groups])` of
 * those tuples decodes to.
 *
 * Why: at 1000 calls in flight the tuples were ~17% of the main thread's
 * allocations (a message tuple, a messages array and a group tuple per call,
 * all garbage once packed), and msgpackr's generic pack of them ~8% of its
 * time. The shapes are fixed and mostly small integers and short ASCII
 * strings, which this writes in a few byte stores each. Anything else (a
 * non-ASCII or long string, arguments that are not a short list of numbers,
 * short strings, booleans and nulls) goes through msgpackr itself, so its
 * encoding of every other value (undefined, dates, maps, typed arrays) is
 * unchanged.
 */
import { Packr } from 'msgpackr';

/** The same options as the pool's own encoder (turn-pool.ts) and the worker's decoder. */
const packr = new Packr({ useRecords: false, moreTypes: true });

const INITIAL_BYTES = 64 * 1024;
/** A buffer grown past this for one large task is given back after it. */
const KEEP_BYTES = 1024 * 1024;
/** Strings shorter than this are tried as ASCII in a byte loop (a fixstr); longer ones go to msgpackr. */
const SHORT_STRING = 32;
/** Argument lists up to this long are tried element by element (a fixarray). */
const SHORT_ARGS = 15;

export class TaskWriter {
  private buf = new Uint8Array(INITIAL_BYTES);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private groupsAt = 0;
  private groups = 0;
  /** The open group's trailing parts, written by endGroup(). */
  private acked: readonly number[] | null = null;
  private fresh = false;

  /** Starts a task: [keepUntil, groups...]. */
  start(keepUntil: number): void {
    this.pos = 0;
    this.groups = 0;
    this.ensure(16);
    this.buf[this.pos++] = 0x92;
    this.number(keepUntil);
    // The group count is known only at the end: an array32 head, patched by finish().
    this.groupsAt = this.pos;
    this.buf[this.pos] = 0xdd;
    this.pos += 5;
  }

  /**
   * Starts a group: [id, type, key, data, messages, acked?, fresh?]. Its
   * `messages` messages follow, then endGroup() (the trailing parts come
   * after the messages).
   */
  group(id: number, type: string, key: string, data: Uint8Array | null, messages: number, acked: readonly number[] | null, fresh: boolean): void {
    this.groups++;
    this.ensure(8);
    // Trailing parts only when they hold something, as the scheduler's tuples had them.
    this.buf[this.pos++] = fresh ? 0x97 : acked !== null ? 0x96 : 0x95;
    this.number(id);
    this.string(type);
    this.string(key);
    if (data === null) this.nil();
    else this.bytes(data);
    this.arrayHead(messages);
    this.acked = acked;
    this.fresh = fresh;
  }

  /** Ends the group its messages were written for. */
  endGroup(): void {
    const acked = this.acked;
    if (this.fresh || acked !== null) {
      if (acked === null) this.nil();
      else {
        this.arrayHead(acked.length);
        for (let i = 0; i < acked.length; i++) this.number(acked[i]!);
      }
    }
    if (this.fresh) this.literal(0xc3);
    this.acked = null;
    this.fresh = false;
  }

  /** One message of the current group: [method, args, idem, caller, turn, ack?, traceparent?]. */
  message(method: string, args: readonly unknown[], idem: string | null, caller: string | null, turn: number, ack: number, traceparent: string | null): void {
    this.ensure(1);
    this.buf[this.pos++] = traceparent !== null ? 0x97 : ack < 0 ? 0x95 : 0x96;
    this.string(method);
    this.args(args);
    this.stringOrNil(idem);
    this.stringOrNil(caller);
    this.number(turn);
    if (traceparent !== null || ack >= 0) this.number(ack);
    if (traceparent !== null) this.string(traceparent);
  }

  /** The task's bytes, in a buffer of their own (they are transferred to the worker). */
  finish(): Uint8Array {
    this.view.setUint32(this.groupsAt + 1, this.groups);
    const out = this.buf.slice(0, this.pos);
    if (this.buf.length > KEEP_BYTES) this.grow(INITIAL_BYTES, 0);
    this.pos = 0;
    return out;
  }

  private args(args: readonly unknown[]): void {
    const n = args.length;
    if (n > SHORT_ARGS) return this.generic(args);
    const mark = this.pos;
    this.ensure(1);
    this.buf[this.pos++] = 0x90 | n;
    for (let i = 0; i < n; i++) {
      const v = args[i];
      if (typeof v === 'number') this.number(v);
      else if (typeof v === 'string' && this.shortAscii(v)) continue;
      else if (typeof v === 'boolean') this.literal(v ? 0xc3 : 0xc2);
      else if (v === null) this.nil();
      else {
        // Anything else: the whole list through msgpackr, written over what this wrote of it.
        this.pos = mark;
        return this.generic(args);
      }
    }
  }

  private stringOrNil(s: string | null): void {
    if (s === null) this.nil();
    else this.string(s);
  }

  private string(s: string): void {
    if (!this.shortAscii(s)) this.generic(s);
  }

  /** Writes `s` as a fixstr if it is short and ASCII; false (nothing written) if not. */
  private shortAscii(s: string): boolean {
    const n = s.length;
    if (n >= SHORT_STRING) return false;
    this.ensure(1 + n);
    const b = this.buf;
    let p = this.pos + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      b[p++] = c;
    }
    b[this.pos] = 0xa0 | n;
    this.pos = p;
    return true;
  }

  private number(v: number): void {
    this.ensure(9);
    const b = this.buf;
    let p = this.pos;
    if ((v | 0) === v) {
      if (v >= 0) {
        if (v < 0x80) b[p++] = v;
        else if (v < 0x100) {
          b[p++] = 0xcc;
          b[p++] = v;
        } else if (v < 0x10000) {
          b[p++] = 0xcd;
          b[p++] = v >> 8;
          b[p++] = v & 0xff;
        } else {
          b[p++] = 0xce;
          this.view.setUint32(p, v);
          p += 4;
        }
      } else if (v >= -32) {
        b[p++] = v & 0xff;
      } else if (v >= -0x80) {
        b[p++] = 0xd0;
        b[p++] = v & 0xff;
      } else if (v >= -0x8000) {
        b[p++] = 0xd1;
        this.view.setInt16(p, v);
        p += 2;
      } else {
        b[p++] = 0xd2;
        this.view.setInt32(p, v);
        p += 4;
      }
    } else if (v >>> 0 === v) {
      b[p++] = 0xce;
      this.view.setUint32(p, v);
      p += 4;
    } else {
      // Everything else exactly: epoch-ms deadlines, fractions, NaN, infinities.
      b[p++] = 0xcb;
      this.view.setFloat64(p, v);
      p += 8;
    }
    this.pos = p;
  }

  private bytes(data: Uint8Array): void {
    const n = data.byteLength;
    this.ensure(5 + n);
    const b = this.buf;
    if (n < 0x100) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    b.set(data, this.pos);
    this.pos += n;
  }

  private arrayHead(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xdc;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  private nil(): void {
    this.literal(0xc0);
  }

  private literal(byte: number): void {
    this.ensure(1);
    this.buf[this.pos++] = byte;
  }

  /** A value msgpackr encodes, copied in (it may throw: arguments it cannot encode). */
  private generic(v: unknown): void {
    const encoded = packr.pack(v);
    this.ensure(encoded.length);
    this.buf.set(encoded, this.pos);
    this.pos += encoded.length;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(Math.max(this.buf.length * 2, this.pos + n), this.pos);
  }

  private grow(size: number, keep: number): void {
    const next = new Uint8Array(size);
    if (keep > 0) next.set(this.buf.subarray(0, keep));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
