/**
 * The stored bytes of each record this node last read or wrote, bounded LRU.
 *
 * Version checks use `replace(key, oldBytes, newBytes)`, which needs the bytes
 * currently stored. Keeping the bytes we last saw turns the common case (the
 * owner node writes the record it read or wrote last) into one round trip.
 * The cache is only a hint: an entry is used when its version header equals the
 * write's expected version, and the member still compares the bytes, so a
 * stale or evicted entry costs a read, never a wrong write.
 */
export class LastSeen {
  private readonly entries = new Map<string, Buffer>();

  constructor(private readonly capacity: number) {}

  get(id: string): Buffer | undefined {
    const v = this.entries.get(id);
    if (v !== undefined) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.entries.delete(id);
      this.entries.set(id, v);
    }
    return v;
  }

  set(id: string, stored: Buffer): void {
    this.entries.delete(id);
    this.entries.set(id, stored);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** One string per record address; the length prefix keeps `('a/b', 'c')` and `('a', 'b/c')` apart. */
export function recordId(type: string, key: string): string {
  return `${type.length}:${type}/${key}`;
}
