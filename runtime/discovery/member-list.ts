/**
 * What both engines share: member validation, a canonical (sorted, frozen)
 * form, and the deduplicating fan-out to `onChange` listeners.
 */
import type { Logger, Member } from './discovery.js';

const ID_PATTERN = /^[A-Za-z0-9_.:[\]-]{1,128}$/;
// Consul's own rules for service meta keys, applied to every engine so that
// switching engines never turns a valid member into an invalid one.
const META_KEY_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const RESERVED_META_KEYS: ReadonlySet<string> = new Set(['linkPort', 'zone']);
const MAX_META_PAIRS = 62; // Consul allows 64; linkPort and zone take two.
const MAX_META_VALUE = 512;

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;
}

/**
 * Checks a member where it enters (`start(self)`, a parsed peer list) and
 * returns its canonical frozen form. Throws a TypeError naming the field.
 */
export function validateMember(member: Member, what = 'member'): Member {
  if (typeof member !== 'object' || member === null) throw new TypeError(`${what} must be an object`);
  if (typeof member.id !== 'string' || !ID_PATTERN.test(member.id)) {
    throw new TypeError(`${what}.id must be 1-128 characters of letters, digits and _ . : [ ] - (got ${JSON.stringify(member.id)})`);
  }
  if (typeof member.address !== 'string' || member.address.length === 0 || /[\s/[\]]/.test(member.address)) {
    throw new TypeError(`${what}.address must be a host name or IP address without brackets or spaces (got ${JSON.stringify(member.address)})`);
  }
  if (!isPort(member.port)) throw new TypeError(`${what}.port must be an integer port 1-65535 (got ${String(member.port)})`);
  if (!isPort(member.linkPort)) throw new TypeError(`${what}.linkPort must be an integer port 1-65535 (got ${String(member.linkPort)})`);
  if (member.zone !== undefined && (typeof member.zone !== 'string' || member.zone.length === 0 || member.zone.length > MAX_META_VALUE)) {
    throw new TypeError(`${what}.zone must be a non-empty string of at most ${MAX_META_VALUE} characters when set`);
  }
  if (member.meta !== undefined) {
    if (typeof member.meta !== 'object' || member.meta === null) throw new TypeError(`${what}.meta must be an object of strings`);
    const entries = Object.entries(member.meta);
    if (entries.length > MAX_META_PAIRS) throw new TypeError(`${what}.meta has ${entries.length} keys; at most ${MAX_META_PAIRS} are allowed`);
    for (const [key, value] of entries) {
      if (!META_KEY_PATTERN.test(key) || key.startsWith('consul-')) {
        throw new TypeError(`${what}.meta key ${JSON.stringify(key)} must be letters, digits, _ and - (and not start with consul-)`);
      }
      if (RESERVED_META_KEYS.has(key)) throw new TypeError(`${what}.meta key ${JSON.stringify(key)} is reserved; use the member field instead`);
      if (typeof value !== 'string' || value.length > MAX_META_VALUE) {
        throw new TypeError(`${what}.meta.${key} must be a string of at most ${MAX_META_VALUE} characters`);
      }
    }
  }
  return canonicalMember(member);
}

/** Frozen copy with only the known fields, empty `meta` and absent `zone` dropped, so equal members compare equal. */
export function canonicalMember(member: Member): Member {
  const meta = member.meta !== undefined && Object.keys(member.meta).length > 0
    ? Object.freeze(Object.fromEntries(Object.entries(member.meta).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
    : undefined;
  return Object.freeze({
    id: member.id,
    address: member.address,
    port: member.port,
    linkPort: member.linkPort,
    ...(member.zone === undefined ? {} : { zone: member.zone }),
    ...(meta === undefined ? {} : { meta }),
  });
}

export function sameMember(a: Member, b: Member): boolean {
  if (a.id !== b.id || a.address !== b.address || a.port !== b.port || a.linkPort !== b.linkPort || a.zone !== b.zone) return false;
  const am = a.meta ?? {};
  const bm = b.meta ?? {};
  const keys = Object.keys(am);
  if (keys.length !== Object.keys(bm).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(bm, k) && am[k] === bm[k]);
}

function byId(a: Member, b: Member): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The current member list and its listeners. `set()` takes canonical members
 * in any order and notifies only when the sorted list differs from the last one.
 */
export class MemberList {
  #current: readonly Member[] = Object.freeze([]);
  readonly #listeners = new Set<(members: readonly Member[]) => void>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get current(): readonly Member[] {
    return this.#current;
  }

  /** Replaces the list; returns true (and notifies) when it changed. */
  set(members: readonly Member[]): boolean {
    const next = [...members].sort(byId);
    const prev = this.#current;
    if (next.length === prev.length && next.every((m, i) => sameMember(m, prev[i]))) return false;
    const frozen = Object.freeze(next);
    this.#current = frozen;
    // Snapshot the listeners: one that unsubscribes during the fan-out must not skip another.
    for (const listener of [...this.#listeners]) {
      try {
        listener(frozen);
      } catch (err) {
        this.#log.log('error', 'discovery.listener_failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
    return true;
  }

  subscribe(listener: (members: readonly Member[]) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onChange listener must be a function');
    // Wrapped so that subscribing the same function twice gives two independent subscriptions.
    const entry = (members: readonly Member[]) => listener(members);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Empties the list without notifying, and drops every listener (used by `close()`). */
  clear(): void {
    this.#listeners.clear();
    this.#current = Object.freeze([]);
  }
}
