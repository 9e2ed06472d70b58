/** The grid layer's public entry: the interface and the engine factory. */
export type { WakeIndex, WakeEntry, WakeMark } from './wake-index.js';
export { wakeId, parseWakeId } from './wake-index.js';
export type { Grid, GridMap, GridCounter, GridLockHandle, GridHealth, GridDurability, LostRecord, RecordKey, RecordRead, RecordWrite, VersionedRecord, WriteOutcome } from './grid.js';
export { isLost } from './grid.js';
export { createGrid, GRID_ENGINES } from './engines.js';
export type { GridConfig, GridEngineName } from './engines.js';
