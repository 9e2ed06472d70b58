import type { CpuShare } from '../lib/cpu.js';
import type { LoadResult } from './closed-loop.js';

/** The one JSON line a load process prints. */
export interface LoadReport extends LoadResult {
  readonly driver: string;
  /** Percent of one core over the measured window; null where /proc is missing. */
  readonly cpu: CpuShare | null;
  /** What the driver counted over the whole run, warm-up included (see Caller.stats). */
  readonly driverStats?: Readonly<Record<string, number>>;
}
