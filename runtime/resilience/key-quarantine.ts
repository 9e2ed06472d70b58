/**
 * Poison keys: one actor whose turns keep killing their worker thread (a
 * record that crashes its decoder, a handler that exits the process for
 * some input) must not take its whole actor type down with it. Such a key
 * is quarantined on its own: its calls fail fast with E_UNAVAILABLE for a
 * while (doubling each time it comes back), while the type keeps serving.
 * The type's breaker sees only each key's first failure in a window, so it
 * opens only when many keys fail: a fault of the type's code, not of one
 * actor's data.
 */

/** Worker failures of one key within WINDOW_MS before it is quarantined. */
const FAILURES_TO_QUARANTINE = 2;
const WINDOW_MS = 60_000;
const FIRST_QUARANTINE_MS = 10_000;
const MAX_QUARANTINE_MS = 300_000;
/** Keys tracked at once; the oldest are forgotten first. */
const MAX_TRACKED = 10_000;

interface KeyRecord {
  failures: number;
  firstAt: number;
  until: number;
  /** Quarantines so far: each lasts twice as long as the last. */
  strikes: number;
}

export class KeyQuarantine {
  private readonly keys = new Map<string, KeyRecord>();

  constructor(private readonly onQuarantine: (type: string, key: string, ms: number) => void = () => {}) {}

  /** Until when the key is quarantined (epoch ms), or 0. */
  quarantinedUntil(type: string, key: string, now = Date.now()): number {
    if (this.keys.size === 0) return 0;
    const r = this.keys.get(`${type}\u0000${key}`);
    return r !== undefined && r.until > now ? r.until : 0;
  }

  /**
   * A worker thread died (or was ended) running this key's turns alone.
   * Returns whether it is the key's first failure in the window: only those
   * count against the actor type's breaker.
   */
  failed(type: string, key: string, now = Date.now()): boolean {
    const id = `${type}\u0000${key}`;
    let r = this.keys.get(id);
    if (r === undefined || now - r.firstAt > WINDOW_MS) {
      const strikes = r?.strikes ?? 0;
      r = { failures: 0, firstAt: now, until: 0, strikes };
      this.keys.delete(id);
      this.keys.set(id, r);
      if (this.keys.size > MAX_TRACKED) this.keys.delete(this.keys.keys().next().value!);
    }
    r.failures++;
    if (r.failures >= FAILURES_TO_QUARANTINE && r.until <= now) {
      const ms = Math.min(MAX_QUARANTINE_MS, FIRST_QUARANTINE_MS * 2 ** r.strikes);
      r.strikes++;
      r.until = now + ms;
      r.failures = 0;
      r.firstAt = now;
      this.onQuarantine(type, key, ms);
    }
    return r.failures === 1 && r.strikes === 0;
  }
}
