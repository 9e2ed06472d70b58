import type { RecordKey } from '../grid.js';
import type { WakeEntry, WakeIndex, WakeMark } from '../wake-index.js';
import { newMark } from '../wake-mark.js';

/** The wake index of the embedded grid, in this process: by shard, then type, then key. */
export class EmbeddedWakeIndex implements WakeIndex {
  private readonly shards = new Map<number, Map<string, Map<string, WakeMark>>>();

  constructor(private readonly checkOpen: () => void) {}

  private entries(shard: number, type: string, create: boolean): Map<string, WakeMark> | undefined {
    let byType = this.shards.get(shard);
    if (byType === undefined) {
      if (!create) return undefined;
      this.shards.set(shard, (byType = new Map()));
    }
    let byKey = byType.get(type);
    if (byKey === undefined && create) byType.set(type, (byKey = new Map()));
    return byKey;
  }

  async lower(shard: number, actor: RecordKey, due: number): Promise<WakeMark> {
    this.checkOpen();
    const byKey = this.entries(shard, actor.type, true)!;
    const existing = byKey.get(actor.key);
    const { mark } = newMark(existing === undefined ? due : Math.min(existing.due, due));
    byKey.set(actor.key, mark);
    return mark;
  }

  async removeIf(shard: number, actor: RecordKey, mark: WakeMark): Promise<boolean> {
    this.checkOpen();
    const byKey = this.entries(shard, actor.type, false);
    const existing = byKey?.get(actor.key);
    if (existing === undefined || existing.tag !== mark.tag || existing.due !== mark.due) return false;
    byKey!.delete(actor.key);
    return true;
  }

  async scan(shards: ReadonlySet<number>): Promise<WakeEntry[]> {
    this.checkOpen();
    const out: WakeEntry[] = [];
    for (const shard of shards) {
      for (const [type, byKey] of this.shards.get(shard) ?? []) {
        for (const [key, mark] of byKey) out.push({ shard, type, key, mark });
      }
    }
    return out;
  }
}
