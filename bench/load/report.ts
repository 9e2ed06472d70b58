import type { CpuShare } from '../lib/cpu.js';
import type { LoadResult } from './closed-loop.js';

/** The one JSON line a load process prints. */
export interface LoadReport extends LoadResult {
  readonly driver: string;
  /** Percent of one core over the measured window; null where /proc is missing. */
  readonly cpu: CpuShare | null;
}
