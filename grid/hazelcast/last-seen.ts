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

  /**
   * No re-insert on read: every write that reads an entry sets it again right
   * after (`set` moves it to the end), so recency is kept where it matters
   * without a delete and an insert per write (measured ~3.6% of a busy node).
   */
  get(id: string): Buffer | undefined {
    return this.entries.get(id);
  }

  set(id: string, stored: Buffer): void {
    // A Map iterates in insertion order: re-inserting makes the first key the least recently written.
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
